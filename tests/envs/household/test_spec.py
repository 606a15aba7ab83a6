"""Scene specs: every shipped scene builds as written, and bad specs fail with clear errors."""

from __future__ import annotations

import copy
import itertools
import re
from importlib import resources
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import yaml

import robomem.envs  # noqa: F401  (registers robomem/Household-v0)
from robomem.envs.household.catalog import KINDS, ROOM_TYPES
from robomem.envs.household.generator import SIDES
from robomem.envs.household.house import GRID, WALL_THICKNESS, Box, House
from robomem.envs.household.placement import surface
from robomem.envs.household.spec import (
    SceneSpec,
    SpecError,
    build_house,
    list_scenes,
    load_scene,
    parse_spec,
    read_spec,
)
from robomem.envs.household.tasks import FAMILIES, sample_task

SCENES = [f"FloorPlan{i}" for i in range(1, 11)]
# Pinned furniture stands 1 cm off the inner face of its wall.
WALL_GAP = WALL_THICKNESS / 2 + 0.01
TOL = 1e-6


@pytest.fixture(scope="module")
def houses() -> dict[str, House]:
    return {name: load_scene(name) for name in SCENES}


@pytest.fixture(scope="module")
def specs() -> dict[str, SceneSpec]:
    return {name: read_spec(name) for name in SCENES}


def test_shipped_scenes_are_listed() -> None:
    assert list_scenes() == sorted(SCENES)


# ---------------------------------------------------------------- shipped scenes


@pytest.mark.parametrize("name", SCENES)
def test_scene_follows_the_shipping_conventions(name: str) -> None:
    raw = yaml.safe_load((resources.files("robomem.scenes") / f"{name}.yaml").read_text())
    assert raw.get("description"), f"{name} has no description"
    spec = read_spec(name)
    assert spec.name == name
    assert 2 <= len(spec.rooms) <= 6
    assert "Kitchen" in {r.type for r in spec.rooms}
    for r in spec.rooms:
        for v in (r.rect.x0, r.rect.z0, r.rect.x1, r.rect.z1):
            assert v / GRID == pytest.approx(round(v / GRID))
        assert 3.0 <= r.rect.width <= 5.5 and 3.0 <= r.rect.depth <= 5.5, r
    assert spec.furniture and spec.objects, f"{name} pins nothing"


@pytest.mark.parametrize("name", SCENES)
def test_scene_is_deterministic(name: str, houses: dict[str, House]) -> None:
    again = load_scene(name)
    first = houses[name]
    assert list(again.objects) == list(first.objects)
    for oid, o in first.objects.items():
        a = again.objects[oid]
        assert (a.type, a.box, a.room, a.parent, a.seg_id) == (o.type, o.box, o.room, o.parent,
                                                               o.seg_id)
        assert (a.is_dirty, a.temperature) == (o.is_dirty, o.temperature)


def wall_face(b: Box, wall: str) -> float:
    """The coordinate of the box face that backs onto ``wall``."""
    return float({"south": b.lo[2], "north": b.hi[2], "west": b.lo[0], "east": b.hi[0]}[wall])


def start_along(b: Box, wall: str) -> float:
    """Where the box starts along ``wall`` (from its west or south end)."""
    return float(b.lo[0] if wall in ("south", "north") else b.lo[2])


@pytest.mark.parametrize("name", SCENES)
def test_pinned_furniture_stands_where_the_spec_says(
        name: str, houses: dict[str, House], specs: dict[str, SceneSpec]) -> None:
    house = houses[name]
    for f in specs[name].furniture:
        room = house.room(f["room"])
        if "wall" not in f or "offset" not in f:
            assert any(o.room == room.id for o in house.of_type(f["type"])), f
            continue
        q = room.rect
        wall_at = {"south": q.z0 + WALL_GAP, "north": q.z1 - WALL_GAP,
                   "west": q.x0 + WALL_GAP, "east": q.x1 - WALL_GAP}[f["wall"]]
        # The offset runs along the wall from its low-coordinate end (west or south).
        along = (q.x0 if f["wall"] in ("south", "north") else q.z0) + WALL_GAP + f["offset"]
        hits = [o for o in house.of_type(f["type"])
                if o.room == room.id and o.parent is None and o.facing == SIDES[f["wall"]]
                and wall_face(o.box, f["wall"]) == pytest.approx(wall_at, abs=TOL)
                and start_along(o.box, f["wall"]) == pytest.approx(along, abs=TOL)]
        assert len(hits) == 1, f"{name}: pinned {f} not found"
        assert hits[0].box.lo[1] == 0.0


@pytest.mark.parametrize("name", SCENES)
def test_pinned_objects_are_in_their_receptacles(
        name: str, houses: dict[str, House], specs: dict[str, SceneSpec]) -> None:
    house = houses[name]
    wanted: dict[tuple[str, str], list[bool]] = {}
    for o in specs[name].objects:
        wanted.setdefault((o["type"], o.get("in", o.get("on"))), []).append(bool(o.get("dirty")))
    for (type_, host), dirty in wanted.items():
        found = [o for o in house.of_type(type_)
                 if o.parent is not None and house.objects[o.parent].type == host]
        assert len(found) >= len(dirty), f"{name}: {type_} on/in {host} missing"
        assert sum(o.is_dirty for o in found) >= sum(dirty), f"{name}: dirty {type_} missing"
        if KINDS[host].cold_source:
            assert all(o.temperature == "Cold" for o in found)


@pytest.mark.parametrize("name", SCENES)
def test_scene_geometry_is_sound(name: str, houses: dict[str, House]) -> None:
    house = houses[name]
    walls = house.wall_rects()
    gaps = [d.gap for d in house.doors]
    floor = [o for o in house.objects.values() if o.parent is None]
    for o in floor:
        fp = o.box.footprint
        assert not o.kind.pickupable, f"{o.object_id} lies on the floor"
        assert o.box.lo[1] == 0.0
        assert house.room(o.room).rect.contains(fp), f"{o.object_id} leaves {o.room}"
        assert not any(fp.intersects(w) for w in walls), f"{o.object_id} is in a wall"
        assert not any(fp.intersects(g.grow(0.3)) for g in gaps), f"{o.object_id} in a doorway"
    for a, b in itertools.combinations(floor, 2):
        assert not a.box.footprint.intersects(b.box.footprint), (a.object_id, b.object_id)
    for o in house.objects.values():
        if o.parent is None:
            continue
        host = house.objects[o.parent]
        if o.kind.pickupable:
            s = surface(host)
            assert s is not None and s.rect.contains(o.box.footprint, TOL), o.object_id
            assert o.box.lo[1] == pytest.approx(s.y), f"{o.object_id} floats"
        else:  # furniture standing on furniture (Microwave, Television, lamps, Faucet)
            assert host.box.footprint.contains(o.box.footprint, TOL), o.object_id
            assert o.box.lo[1] == pytest.approx(host.box.hi[1]), f"{o.object_id} floats"
        siblings = [s for s in house.children(o.parent) if s.object_id != o.object_id]
        assert not any(o.box.footprint.intersects(s.box.footprint) for s in siblings), o.object_id


@pytest.mark.parametrize("name", SCENES)
def test_every_task_family_is_possible(name: str, houses: dict[str, House]) -> None:
    for family in FAMILIES:
        house = copy.deepcopy(houses[name])  # sampling a cleaning task dirties objects
        task = sample_task(house, np.random.default_rng(0), [family])
        assert task.family == family


@pytest.mark.parametrize("name", SCENES)
def test_env_runs_the_scene(name: str) -> None:
    env = gym.make("robomem/Household-v0", scene=name, width=32, height=24)
    try:
        for seed in (0, 1):
            obs, info = env.reset(seed=seed)
            assert info["privileged"]["house"] == name
            assert obs["rgb"].shape == (24, 32, 3)
            assert info["task"]["family"] in FAMILIES
            for action in ("RotateRight", "MoveAhead", "LookDown"):
                obs, _, terminated, truncated, info = env.step(action)
                assert not terminated and not truncated
            assert info["action_name"] == "LookDown"
    finally:
        env.close()


# ---------------------------------------------------------------------- bad specs

BASE: dict[str, Any] = {
    "name": "Tiny",
    "seed": 3,
    "rooms": [
        {"id": "Kitchen_0", "type": "Kitchen", "rect": [0.0, 0.0, 4.0, 4.0]},
        {"id": "LivingRoom_0", "type": "LivingRoom", "rect": [4.0, 0.0, 8.0, 4.0]},
    ],
    "doors": [{"between": ["Kitchen_0", "LivingRoom_0"]}],
    "furniture": [{"type": "Fridge", "room": "Kitchen_0", "wall": "north", "offset": 0.2}],
    "objects": [{"type": "Apple", "in": "Fridge"}],
    "fill_objects": 4,
}


def spec_with(**changes: Any) -> dict[str, Any]:
    d = copy.deepcopy(BASE)
    d.update(changes)
    return d


def build(d: dict[str, Any]) -> House:
    return build_house(parse_spec(d, "test.yaml"))


def test_base_spec_builds() -> None:
    house = build(spec_with())
    assert house.name == "Tiny"
    assert {r.id for r in house.rooms} == {"Kitchen_0", "LivingRoom_0"}


def test_default_room_ids_count_per_type() -> None:
    rooms = [{k: v for k, v in r.items() if k != "id"} for r in BASE["rooms"]]
    rooms.append({"type": "LivingRoom", "rect": [8.0, 0.0, 12.0, 4.0]})
    spec = parse_spec(spec_with(rooms=rooms, doors=[{"between": ["Kitchen_0", "LivingRoom_0"]}],
                                furniture=[]), "test.yaml")
    # As in generated houses: the type and how many of that type came before.
    assert [r.id for r in spec.rooms] == ["Kitchen_0", "LivingRoom_0", "LivingRoom_1"]


def _room(i: int, **kw: Any) -> list[dict[str, Any]]:
    rooms: list[dict[str, Any]] = copy.deepcopy(BASE["rooms"])
    rooms[i].update(kw)
    return rooms


@pytest.mark.parametrize(("changes", "message"), [
    ({"rooms": _room(1, type="Garage")}, "unknown room type 'Garage'"),
    ({"rooms": _room(1, rect=[4.0, 0.0, 8.0])}, "rect must be [x0, z0, x1, z1]"),
    ({"rooms": _room(1, rect=[4.0, 0.0, 8.1, 4.0])}, "multiples of 0.25 m, got [4.0, 0.0, 8.1"),
    ({"rooms": _room(1, rect=[4.0, 0.0, 5.5, 4.0])}, "at least 2 m on each side"),
    ({"rooms": _room(1, rect=[3.0, 0.0, 7.0, 4.0])}, "rooms Kitchen_0 and LivingRoom_0 overlap"),
    ({"rooms": _room(1, id="Kitchen_0")}, "room ids must be unique"),
    ({"rooms": []}, "a house has 1 to 6 rooms, got 0"),
    ({"doors": [{"between": ["Kitchen_0", "Attic_0"]}]}, "names room 'Attic_0'"),
    ({"furniture": [{"type": "Piano", "room": "Kitchen_0"}]}, "type 'Piano' is not furniture"),
    ({"furniture": [{"type": "Apple", "room": "Kitchen_0"}]}, "type 'Apple' is not furniture"),
    ({"furniture": [{"type": "Sofa", "room": "Garden_0"}]}, "room 'Garden_0' is not one of"),
    ({"furniture": [{"type": "Sofa", "room": "LivingRoom_0", "wall": "up"}]}, "wall 'up'"),
    ({"objects": [{"type": "Banana", "on": "CounterTop"}]}, "type 'Banana' is not pickupable"),
    ({"objects": [{"type": "Apple", "on": "Pear"}]}, "naming a receptacle type, got 'Pear'"),
    ({"objects": [{"type": "Apple"}]}, "naming a receptacle type, got None"),
    ({"colour": "red"}, "unknown keys ['colour']"),
])
def test_bad_spec_is_rejected_naming_the_value(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        parse_spec(spec_with(**changes), "test.yaml")


def test_spec_must_be_a_mapping() -> None:
    with pytest.raises(SpecError, match="must be a mapping, got list"):
        parse_spec(["rooms"], "test.yaml")


def test_missing_rooms_key() -> None:
    d = spec_with()
    del d["rooms"]
    with pytest.raises(SpecError, match="missing required key 'rooms'"):
        parse_spec(d, "test.yaml")


@pytest.mark.parametrize("rect", [
    [9.0, 0.0, 13.0, 4.0],  # apart
    [0.0, 5.0, 4.0, 9.0],  # only their wall lines meet (x = 4), at no common stretch
    [8.0, 4.0, 12.0, 8.0],  # touching at a corner
])
def test_door_between_rooms_without_a_shared_wall(rect: list[float]) -> None:
    rooms = copy.deepcopy(BASE["rooms"]) + [{"id": "Bedroom_0", "type": "Bedroom", "rect": rect}]
    doors = BASE["doors"] + [{"between": ["LivingRoom_0", "Bedroom_0"]}]
    with pytest.raises(SpecError, match=re.escape("doors[1]: ")) as e:
        build(spec_with(rooms=rooms, doors=doors))
    assert "LivingRoom_0 and Bedroom_0" in str(e.value)


def test_door_centre_off_the_shared_wall() -> None:
    with pytest.raises(SpecError, match=re.escape("door centre 3.9 ")):
        build(spec_with(doors=[{"between": ["Kitchen_0", "LivingRoom_0"], "center": 3.9}]))


def test_rooms_without_doors_are_unreachable() -> None:
    with pytest.raises(SpecError, match="some rooms cannot be reached"):
        build(spec_with(doors=[]))


def test_furniture_that_does_not_fit() -> None:
    bed = {"type": "Sofa", "room": "LivingRoom_0", "wall": "south", "offset": 3.0}
    with pytest.raises(SpecError, match=re.escape("furniture[0] (Sofa in LivingRoom_0 on the "
                                                  "south wall at offset 3.0) does not fit")):
        build(spec_with(furniture=[bed]))


def test_furniture_in_a_doorway_does_not_fit() -> None:
    # The door is centred on the shared wall (z = 2); a fridge right beside it is refused.
    fridge = {"type": "Fridge", "room": "Kitchen_0", "wall": "east", "offset": 1.5}
    with pytest.raises(SpecError, match=re.escape("(Fridge in Kitchen_0 on the east wall at "
                                                  "offset 1.5) does not fit")):
        build(spec_with(furniture=[fridge]))


def test_object_whose_receptacle_is_missing() -> None:
    with pytest.raises(SpecError, match=re.escape("objects[0] (SoapBottle) goes on a Toilet, "
                                                  "but the house has none")):
        build(spec_with(objects=[{"type": "SoapBottle", "on": "Toilet"}]))


def test_unknown_scene_lists_the_known_ones() -> None:
    with pytest.raises(SpecError, match="unknown scene 'FloorPlan99'") as e:
        read_spec("FloorPlan99")
    assert all(name in str(e.value) for name in SCENES)


def test_missing_yaml_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="does not exist"):
        read_spec(str(tmp_path / "nowhere.yaml"))


def test_invalid_yaml(tmp_path: Path) -> None:
    p = tmp_path / "broken.yaml"
    p.write_text("rooms: [\n  {type: Kitchen, rect: [0, 0, 4, 4]\n")
    with pytest.raises(SpecError, match=re.escape("broken.yaml: not valid YAML")):
        read_spec(str(p))


def test_gym_make_with_unknown_scene_fails_early() -> None:
    with pytest.raises(SpecError, match="known: FloorPlan1"):
        gym.make("robomem/Household-v0", scene="NoSuchScene")


# ------------------------------------------------------------------ spec files


def test_yaml_path_with_bare_on_key(tmp_path: Path) -> None:
    # YAML 1.1 reads a bare `on` key as the boolean True; the loader must still see `on:`.
    p = tmp_path / "mine.yaml"
    p.write_text(
        "seed: 5\n"
        "rooms:\n"
        "  - {id: K, type: Kitchen, rect: [0, 0, 4, 4]}\n"
        "  - {id: B, type: Bathroom, rect: [0, 4, 3, 7]}\n"
        "doors:\n"
        "  - {between: [K, B]}\n"
        "furniture:\n"
        "  - {type: CounterTop, room: K, wall: south, offset: 0.5}\n"
        "objects:\n"
        "  - {type: Mug, on: CounterTop, dirty: true}\n"
        "fill_objects: 0\n")
    house = load_scene(str(p))
    assert house.name == "mine"
    mugs = house.of_type("Mug")
    assert len(mugs) == 1 and mugs[0].is_dirty
    assert mugs[0].parent is not None and house.objects[mugs[0].parent].type == "CounterTop"
    assert {r.type for r in house.rooms} <= set(ROOM_TYPES)


def test_seed_argument_overrides_the_spec_seed() -> None:
    a, b = load_scene("FloorPlan1"), load_scene("FloorPlan1", seed=12345)
    assert list(a.objects) != list(b.objects)
    pinned = [o for o in a.objects.values() if o.type == "Fridge"]
    assert all(o.object_id in b.objects for o in pinned)
