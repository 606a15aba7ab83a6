"""Hostile scene specs: alias bombs, deep nesting, huge values and wrong types fail fast.

Every refusal is a :class:`SpecError` whose message names the file and the field, quotes at
most a bounded part of the bad value, and (for a bound) says the allowed range.
"""

from __future__ import annotations

import copy
import itertools
import re
import time
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from robomem.envs.household.spec import (
    MAX_DOORS,
    MAX_FILL_OBJECTS,
    MAX_FURNITURE,
    MAX_HOUSE_EXTENT,
    MAX_OBJECTS,
    MAX_SPEC_BYTES,
    MAX_SPEC_DEPTH,
    MAX_SPEC_VALUES,
    SpecError,
    build_house,
    list_scenes,
    load_scene,
    parse_spec,
    read_spec,
)
from robomem.untrusted import MAX_QUOTE

MAX_MESSAGE = 1000  # characters: a few bounded quotes plus the file, the field and the range

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


def rooms_with(i: int, **changes: Any) -> list[dict[str, Any]]:
    rooms: list[dict[str, Any]] = copy.deepcopy(BASE["rooms"])
    rooms[i].update(changes)
    return rooms


def write(tmp_path: Path, text: str, name: str = "hostile.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def refused(path: Path) -> str:
    """The message of the SpecError that loading ``path`` raises, checked to be short."""
    with pytest.raises(SpecError) as e:
        load_scene(str(path))
    msg = str(e.value)
    assert len(msg) < MAX_MESSAGE, msg[:2 * MAX_MESSAGE]
    assert path.name in msg, msg
    return msg


def bomb(levels: int) -> str:
    """YAML anchors ``a`` .. whose last one expands to ``10 ** levels`` scalars."""
    names = "abcdefghij"[: levels + 1]
    text = f"{names[0]}: &{names[0]} [x, x, x, x, x, x, x, x, x, x]\n"
    for p, c in itertools.pairwise(names):
        text += f"{c}: &{c} [" + ", ".join([f"*{p}"] * 10) + "]\n"
    return text


SCENES = Path(str(resources.files("robomem.scenes")))
SHIPPED = (SCENES / "FloorPlan1.yaml").read_text()


# ------------------------------------------------------------ 1. size, aliases, nesting


@pytest.mark.parametrize("written", ["rect: [0.0, 0.0, 4.5, 4.0]",
                                     "between: [Kitchen_0, LivingRoom_0]"])
def test_alias_bomb_is_refused_before_it_expands(tmp_path: Path, written: str) -> None:
    # 100,000 scalars from a 300-byte preamble: the old loader built them and echoed them all.
    field = written.split(":")[0]
    assert written in SHIPPED
    msg = refused(write(tmp_path, bomb(5) + SHIPPED.replace(written, f"{field}: *f")))
    assert f"YAML aliases expand to more than {MAX_SPEC_VALUES} values" in msg


def test_deep_nesting_is_refused_without_recursion_error(tmp_path: Path) -> None:
    depth = 20_000  # 40 KB: under the size bound, far past the nesting bound
    msg = refused(write(tmp_path, "rooms: " + "[" * depth + "]" * depth + "\n"))
    assert f"YAML nested deeper than {MAX_SPEC_DEPTH} levels" in msg


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    text = SHIPPED.replace("description: ", "description: " + "x" * MAX_SPEC_BYTES)
    msg = refused(write(tmp_path, text))
    assert f"the limit is {MAX_SPEC_BYTES}" in msg


def test_long_value_is_quoted_bounded_naming_file_and_field(tmp_path: Path) -> None:
    rect = "[" + ", ".join(["0.5"] * 5000) + "]"
    msg = refused(write(tmp_path, SHIPPED.replace("[4.5, 0.0, 9.5, 4.0]", rect)))
    assert re.search(r"hostile\.yaml: rooms\[1\]\.rect: rect must be \[x0, z0, x1, z1\]", msg)
    assert "(5000 items)" in msg


def test_long_string_is_quoted_bounded(tmp_path: Path) -> None:
    door = "x" * 50_000
    msg = refused(write(tmp_path, SHIPPED.replace("between: [Kitchen_0, LivingRoom_0]",
                                                  f"between: [Kitchen_0, {door}]")))
    assert "doors[0].between: names room 'xxx" in msg
    assert "(50000 characters)" in msg


def test_undefined_long_alias_is_reported_short(tmp_path: Path) -> None:
    msg = refused(write(tmp_path, SHIPPED + "x: *" + "a" * 20_000 + "\n"))
    assert "not valid YAML: found undefined alias" in msg


@pytest.mark.parametrize("name", [5, None, "x" * 100_000, "bad\x00name", "../../etc/passwd"])
def test_bad_scene_names_are_refused_short(name: Any) -> None:
    with pytest.raises(SpecError, match=r"unknown scene|a scene is a name") as e:
        read_spec(name)
    assert len(str(e.value)) < MAX_MESSAGE + 20 * len(list_scenes())


def test_a_directory_named_yaml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(SpecError, match="not a regular file"):
        read_spec(str(tmp_path / "dir.yaml"))


# ------------------------------------------------------------------------ 2. upper bounds

BIG = 10**400  # an int YAML reads exactly; float() of it overflows

BOUNDS: list[tuple[dict[str, Any], str]] = [
    ({"fill_objects": 1_000_000_000},
     f"fill_objects: must be an integer in [0, {MAX_FILL_OBJECTS}], got 1000000000"),
    ({"fill_objects": -1}, "fill_objects: must be an integer in [0, "),
    ({"fill_objects": 2.5}, "fill_objects: must be an integer in"),
    ({"fill_objects": "many"}, "fill_objects: must be an integer in"),
    ({"rooms": rooms_with(1, rect=[4.5, 0, 2000, 2000])},
     f"rooms[1].rect: corners must be numbers of metres in [-{MAX_HOUSE_EXTENT:g}, "
     f"{MAX_HOUSE_EXTENT:g}], got [4.5, 0, 2000, 2000]"),
    ({"rooms": rooms_with(1, rect=[4.0, 0.0, float("inf"), 4.0])},
     "rooms[1].rect: corners must be numbers of metres in [-30, 30], got [4.0, 0.0, inf, 4.0]"),
    ({"rooms": rooms_with(1, rect=[4.0, 0.0, float("nan"), 4.0])},
     "rooms[1].rect: corners must be numbers of metres in [-30, 30], got [4.0, 0.0, nan, 4.0]"),
    ({"rooms": rooms_with(1, rect=[4.0, 0.0, BIG, 4.0])}, "rooms[1].rect: corners must be"),
    ({"rooms": rooms_with(1, rect=[4.0, 0.0, "8", 4.0])}, "rooms[1].rect: corners must be"),
    ({"rooms": rooms_with(1, rect=[4.0, 0.0, True, 4.0])}, "rooms[1].rect: corners must be"),
    ({"rooms": [{"id": "A", "type": "Kitchen", "rect": [-30, 0, -26, 4]},
                {"id": "B", "type": "Bedroom", "rect": [26, 0, 30, 4]}], "doors": [],
      "furniture": []},
     "rooms: the house spans 60 m along x and 4 m along z; the limit is 30 m"),
    ({"rooms": 5}, "rooms: must be a list, got int 5"),
    ({"rooms": "Kitchen"}, "rooms: must be a list, got str 'Kitchen'"),
    ({"rooms": [{"type": "Kitchen", "rect": [0, 0, 4, 4]}] * 7},
     "rooms: has 7 entries; the limit is 6"),
    ({"rooms": [7]}, "rooms[0]: must be a mapping, got int 7"),
    ({"rooms": rooms_with(0, type=["Kitchen"])}, "rooms[0].type: unknown room type ['Kitchen']"),
    ({"rooms": rooms_with(0, id=["K"])}, "rooms[0].id: must be a string, got list ['K']"),
    ({"rooms": rooms_with(0, id="K" * 500)}, "rooms[0].id: must be 1 to 64 characters"),
    ({"doors": [{"between": ["Kitchen_0", "LivingRoom_0"], "center": "abc"}]},
     "doors[0].center: must be a number of metres in [-30, 30], got 'abc'"),
    ({"doors": [{"between": ["Kitchen_0", "LivingRoom_0"], "center": float("nan")}]},
     "doors[0].center: must be a number of metres in [-30, 30], got nan"),
    ({"doors": [{"between": ["Kitchen_0", "LivingRoom_0"]}] * (MAX_DOORS + 1)},
     f"doors: has {MAX_DOORS + 1} entries; the limit is {MAX_DOORS}"),
    ({"doors": "Kitchen_0"}, "doors: must be a list, got str 'Kitchen_0'"),
    ({"doors": [["Kitchen_0", "LivingRoom_0"]]}, "doors[0]: must be a mapping, got list"),
    ({"doors": [{"between": [["Kitchen_0"], "LivingRoom_0"]}]},
     "doors[0].between: names room ['Kitchen_0']"),
    ({"doors": [{"between": ["Kitchen_0", "Kitchen_0"]}]},
     "doors[0].between: a door joins two different rooms"),
    ({"furniture": [{"type": "Sofa", "room": "LivingRoom_0"}] * (MAX_FURNITURE + 1)},
     f"furniture: has {MAX_FURNITURE + 1} entries; the limit is {MAX_FURNITURE}"),
    ({"furniture": [{"type": ["Sofa"], "room": "LivingRoom_0"}]},
     "furniture[0].type: type ['Sofa'] is not furniture"),
    ({"furniture": [{"type": "Sofa", "room": {"id": 1}}]},
     "furniture[0].room: room {'id': 1} is not one of"),
    ({"furniture": [{"type": "Sofa", "room": "LivingRoom_0", "wall": ["north"]}]},
     "furniture[0].wall: wall ['north']"),
    ({"furniture": [{"type": "Sofa", "room": "LivingRoom_0", "wall": "north",
                     "offset": float("nan")}]},
     "furniture[0].offset: must be a number of metres along the wall in [0, 30], got nan"),
    ({"furniture": [{"type": "Sofa", "room": "LivingRoom_0", "wall": "north",
                     "offset": 1e300}]},
     "furniture[0].offset: must be a number of metres along the wall in [0, 30], got 1e+300"),
    ({"objects": [{"type": "Apple", "in": "Fridge"}] * (MAX_OBJECTS + 1)},
     f"objects: has {MAX_OBJECTS + 1} entries; the limit is {MAX_OBJECTS}"),
    ({"objects": [{"type": {"Apple": 1}, "in": "Fridge"}]},
     "objects[0].type: type {'Apple': 1} is not pickupable"),
    ({"objects": [{"type": "Apple", "in": ["Fridge"]}]},
     "objects[0]: needs 'in' or 'on' naming a receptacle type, got ['Fridge']"),
    ({"objects": [{"type": "Mug", "on": "CounterTop", "dirty": "yes"}]},
     "objects[0].dirty: must be true or false, got 'yes'"),
    ({"seed": "abc"}, "seed: must be an integer in [0, 9223372036854775807], got 'abc'"),
    ({"seed": -1}, "seed: must be an integer in [0, "),
    ({"seed": BIG}, "seed: must be an integer in [0, "),
    ({"fill_furniture": "no"}, "fill_furniture: must be true or false, got 'no'"),
    ({"name": ["Tiny"]}, "name: must be a string, got list ['Tiny']"),
    ({"description": 5}, "description: must be a string, got int 5"),
    ({5: "x", None: "y"}, "unknown keys [5, None]; allowed: name, description"),
]


@pytest.mark.parametrize(("changes", "message"), BOUNDS,
                         ids=[m.split(":")[0] + f"-{i}" for i, (_, m) in enumerate(BOUNDS)])
def test_out_of_bounds_values_name_the_field_value_and_range(changes: dict[str, Any],
                                                              message: str) -> None:
    d = spec_with()
    d.update(changes)
    with pytest.raises(SpecError, match=re.escape(message)) as e:
        parse_spec(d, "hostile.yaml")
    msg = str(e.value)
    assert msg.startswith("hostile.yaml: "), msg
    assert len(msg) < MAX_MESSAGE, msg[:2 * MAX_MESSAGE]


def test_bounds_are_read_from_files_too(tmp_path: Path) -> None:
    msg = refused(write(tmp_path, SHIPPED.replace("fill_objects: 10",
                                                  "fill_objects: 1000000000")))
    assert "fill_objects: must be an integer in [0, 100], got 1000000000" in msg
    msg = refused(write(tmp_path, SHIPPED.replace("[4.5, 0.0, 9.5, 4.0]", "[4.5, 0, .inf, 4]")))
    assert "rooms[1].rect: corners must be numbers of metres" in msg
    msg = refused(write(tmp_path, SHIPPED.replace("[4.5, 0.0, 9.5, 4.0]", "[4.5, 0, .nan, 4]")))
    assert "rooms[1].rect: corners must be numbers of metres" in msg


@pytest.mark.parametrize("name", list_scenes())
def test_shipped_scenes_are_well_inside_the_bounds(name: str) -> None:
    spec = read_spec(name)
    xs = [v for r in spec.rooms for v in (r.rect.x0, r.rect.x1)]
    zs = [v for r in spec.rooms for v in (r.rect.z0, r.rect.z1)]
    assert max(max(xs) - min(xs), max(zs) - min(zs)) <= MAX_HOUSE_EXTENT / 2
    assert max(abs(v) for v in xs + zs) <= MAX_HOUSE_EXTENT / 2
    assert len(spec.doors) <= MAX_DOORS / 2
    assert len(spec.furniture) <= MAX_FURNITURE / 2
    assert len(spec.objects) <= MAX_OBJECTS / 2
    assert spec.fill_objects <= MAX_FILL_OBJECTS / 2
    assert (SCENES / f"{name}.yaml").stat().st_size <= MAX_SPEC_BYTES / 10


def test_a_spec_at_the_bounds_builds_in_seconds() -> None:
    half = MAX_HOUSE_EXTENT / 2
    rooms = [{"id": f"R{i}", "type": t, "rect": [-half + 10 * (i % 3), -half + 15 * (i // 3),
                                                   -half + 10 * (i % 3 + 1),
                                                   -half + 15 * (i // 3 + 1)]}
             for i, t in enumerate(["Kitchen", "LivingRoom", "Bedroom", "Bathroom",
                                    "LivingRoom", "Bedroom"])]
    doors = [{"between": [a, b]} for a, b in [("R0", "R1"), ("R1", "R2"), ("R0", "R3"),
                                               ("R3", "R4"), ("R4", "R5")]]
    t = time.perf_counter()
    house = build_house(parse_spec(spec_with(rooms=rooms, doors=doors, furniture=[], objects=[],
                                             fill_objects=MAX_FILL_OBJECTS), "big.yaml"))
    assert time.perf_counter() - t < 30.0
    assert sum(o.kind.pickupable for o in house.objects.values()) >= MAX_FILL_OBJECTS // 2


def test_a_spec_without_receptacles_builds_empty() -> None:
    spec = parse_spec(spec_with(furniture=[], objects=[], fill_furniture=False,
                                fill_objects=5), "bare.yaml")
    house = build_house(spec)
    assert not house.objects


def test_build_errors_name_the_file() -> None:
    spec = parse_spec(spec_with(doors=[]), "some/dir/mine.yaml")
    with pytest.raises(SpecError, match=re.escape("some/dir/mine.yaml: some rooms cannot be "
                                                  "reached")):
        build_house(spec)


def test_quote_bound_fits_the_message_bound() -> None:
    # Several quotes (the value, a list of room ids) must fit in one message.
    assert 3 * MAX_QUOTE < MAX_MESSAGE
