"""Scene specs: houses described in YAML, with furniture and objects optionally pinned.

A spec fixes the rooms and doors; it may pin furniture (against a named wall at an offset)
and objects (on or in a receptacle type); whatever it leaves out is filled from its seed.
The shipped specs live in the top-level ``scenes/`` folder; a path to any YAML file works too.

Example:
    >>> from robomem.envs.household.spec import list_scenes, load_scene
    >>> "FloorPlan1" in list_scenes()
    True
    >>> house = load_scene("FloorPlan1")
    >>> house.name
    'FloorPlan1'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from robomem.envs.household.catalog import KINDS, PICKUPABLE_TYPES, ROOM_TYPES
from robomem.envs.household.generator import (
    SIDES,
    GenerationError,
    add_object,
    connected,
    door_between,
    furnish,
    item_reachable,
    place_furniture,
    populate,
    reachable_cells,
)
from robomem.envs.household.house import GRID, House, Rect, Room
from robomem.envs.household.placement import find_spot

# Fixtures that come with a piece of furniture and so cannot be pinned on their own.
ATTACHMENT_TYPES: dict[str, list[str]] = {}
for _k in KINDS.values():
    for _a in _k.attachments:
        ATTACHMENT_TYPES.setdefault(_a, []).append(_k.name)


class SpecError(ValueError):
    """A scene spec that cannot be read or built; the message names the bad value."""


@dataclass
class SceneSpec:
    """A parsed scene spec (see ``docs/household.md`` for the YAML format)."""

    name: str
    rooms: list[Room]
    doors: list[dict[str, Any]]
    furniture: list[dict[str, Any]] = field(default_factory=list)
    objects: list[dict[str, Any]] = field(default_factory=list)
    seed: int = 0
    fill_furniture: bool = True
    fill_objects: int = 12


def _scenes_dir() -> Path:
    return Path(str(resources.files("robomem.scenes")))


def list_scenes() -> list[str]:
    """Names of the shipped scene specs."""
    return sorted(p.stem for p in _scenes_dir().glob("*.yaml"))


def _require(d: dict[str, Any], key: str, where: str) -> Any:
    if key not in d:
        raise SpecError(f"{where}: missing required key {key!r}")
    return d[key]


def parse_spec(data: Any, source: str = "<spec>") -> SceneSpec:
    """Validate a spec dict and return a :class:`SceneSpec`."""
    if not isinstance(data, dict):
        raise SpecError(f"{source}: a scene spec must be a mapping, got {type(data).__name__}")
    unknown = set(data) - {"name", "rooms", "doors", "furniture", "objects", "seed",
                           "fill_furniture", "fill_objects", "description"}
    if unknown:
        raise SpecError(f"{source}: unknown keys {sorted(unknown)}; allowed: name, rooms, doors, "
                        "furniture, objects, seed, fill_furniture, fill_objects, description")
    rooms = []
    per_type: dict[str, int] = {}
    for i, r in enumerate(_require(data, "rooms", source)):
        where = f"{source}: rooms[{i}]"
        t = _require(r, "type", where)
        if t not in ROOM_TYPES:
            raise SpecError(f"{where}: unknown room type {t!r}; known: {', '.join(ROOM_TYPES)}")
        rect = _require(r, "rect", where)
        if not (isinstance(rect, list) and len(rect) == 4):
            raise SpecError(f"{where}: rect must be [x0, z0, x1, z1], got {rect!r}")
        x0, z0, x1, z1 = (float(v) for v in rect)
        if x1 - x0 < 2.0 or z1 - z0 < 2.0:
            raise SpecError(f"{where}: rooms must be at least 2 m on each side, got {rect}")
        if any(abs(v / GRID - round(v / GRID)) > 1e-6 for v in (x0, z0, x1, z1)):
            raise SpecError(f"{where}: rect corners must be multiples of {GRID} m, got {rect}")
        n = per_type.get(t, 0)
        per_type[t] = n + 1  # default ids count per type, as generated houses do: Bedroom_1
        rooms.append(Room(str(r.get("id", f"{t}_{n}")), t, Rect(x0, z0, x1, z1)))
    if not 1 <= len(rooms) <= 6:
        raise SpecError(f"{source}: a house has 1 to 6 rooms, got {len(rooms)}")
    ids = [r.id for r in rooms]
    if len(set(ids)) != len(ids):
        raise SpecError(f"{source}: room ids must be unique, got {ids}")
    for a in rooms:
        for b in rooms:
            if a.id < b.id and a.rect.intersects(b.rect, -1e-6):
                raise SpecError(f"{source}: rooms {a.id} and {b.id} overlap")
    doors = list(data.get("doors", []))
    for i, d in enumerate(doors):
        between = _require(d, "between", f"{source}: doors[{i}]")
        if not (isinstance(between, list) and len(between) == 2):
            raise SpecError(f"{source}: doors[{i}] between must list two room ids, got "
                            f"{between!r}")
        for rid in between:
            if rid not in ids:
                raise SpecError(f"{source}: doors[{i}] names room {rid!r}; rooms are {ids}")
    for i, f in enumerate(data.get("furniture", [])):
        t = _require(f, "type", f"{source}: furniture[{i}]")
        if t not in KINDS or KINDS[t].pickupable:
            raise SpecError(f"{source}: furniture[{i}] type {t!r} is not furniture; known: "
                            f"{', '.join(sorted(k for k in KINDS if not KINDS[k].pickupable))}")
        if _require(f, "room", f"{source}: furniture[{i}]") not in ids:
            raise SpecError(f"{source}: furniture[{i}] room {f['room']!r} is not one of {ids}")
        if "wall" in f and f["wall"] not in SIDES:
            raise SpecError(f"{source}: furniture[{i}] wall {f['wall']!r}; use one of "
                            f"{', '.join(SIDES)}")
        k = KINDS[t]
        if t in ATTACHMENT_TYPES:
            raise SpecError(f"{source}: furniture[{i}] {t} cannot be pinned: every "
                            f"{' / '.join(ATTACHMENT_TYPES[t])} comes with one")
        if k.stands_on and ("wall" in f or "offset" in f):
            raise SpecError(f"{source}: furniture[{i}] {t} stands on a "
                            f"{' or '.join(k.stands_on)}; 'wall' and 'offset' do not apply")
        off = f.get("offset")
        if off is not None and (isinstance(off, bool) or not isinstance(off, (int, float))
                                or off < 0):
            raise SpecError(f"{source}: furniture[{i}] offset must be a number of metres >= 0, "
                            f"got {off!r}")
    for i, o in enumerate(data.get("objects", [])):
        if isinstance(o, dict) and True in o:  # YAML 1.1 reads a bare `on:` key as True
            o["on"] = o.pop(True)
        t = _require(o, "type", f"{source}: objects[{i}]")
        if t not in PICKUPABLE_TYPES:
            raise SpecError(f"{source}: objects[{i}] type {t!r} is not pickupable; known: "
                            f"{', '.join(PICKUPABLE_TYPES)}")
        host = o.get("in", o.get("on"))
        if host not in KINDS or KINDS[host].pickupable or not KINDS[host].receptacle:
            raise SpecError(f"{source}: objects[{i}] needs 'in' or 'on' naming a receptacle "
                            f"type, got {host!r}")
        if o.get("dirty") and not KINDS[t].dirtyable:
            raise SpecError(f"{source}: objects[{i}] {t} cannot be dirty; dirtyable types: "
                            f"{', '.join(k for k in PICKUPABLE_TYPES if KINDS[k].dirtyable)}")
    return SceneSpec(str(data.get("name", Path(source).stem)), rooms, doors,
                     list(data.get("furniture", [])), list(data.get("objects", [])),
                     int(data.get("seed", 0)), bool(data.get("fill_furniture", True)),
                     int(data.get("fill_objects", 12)))


def read_spec(name_or_path: str) -> SceneSpec:
    """Read a shipped spec by name, or any YAML file by path."""
    p = Path(name_or_path)
    if p.suffix not in (".yaml", ".yml"):
        p = _scenes_dir() / f"{name_or_path}.yaml"
        if not p.exists():
            raise SpecError(f"unknown scene {name_or_path!r}; known: {', '.join(list_scenes())} "
                            "(or give a path to a .yaml spec)")
    if not p.exists():
        raise SpecError(f"scene spec file {str(p)!r} does not exist")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        raise SpecError(f"{p}: not valid YAML: {e}") from None
    return parse_spec(data, str(p))


def build_house(spec: SceneSpec, seed: int | None = None) -> House:
    """Build a house from a spec; unpinned furniture and objects come from the seed."""
    rng = np.random.default_rng(spec.seed if seed is None else seed)
    by_id = {r.id: r for r in spec.rooms}
    doors = []
    for i, d in enumerate(spec.doors):
        a, b = d["between"]
        try:
            doors.append(door_between(by_id[a], by_id[b], d.get("center")))
        except GenerationError as e:
            raise SpecError(f"{spec.name}: doors[{i}]: {e}") from None
    house = House(spec.name, list(spec.rooms), doors, seed=spec.seed)
    ok, _, _ = connected(house)
    if not ok:
        raise SpecError(f"{spec.name}: some rooms cannot be reached; add doors between them")
    for i, f in enumerate(spec.furniture):
        obj = place_furniture(house, rng, by_id[f["room"]], f["type"], f.get("wall"),
                              f.get("offset"))
        if obj is None:
            raise SpecError(f"{spec.name}: furniture[{i}] ({f['type']} in {f['room']}"
                            f"{' on the ' + f['wall'] + ' wall' if 'wall' in f else ''}"
                            f"{' at offset ' + str(f['offset']) if 'offset' in f else ''}) does "
                            "not fit: it overlaps a doorway or another piece, leaves the room, "
                            "or blocks the way")
    if spec.fill_furniture:
        try:
            furnish(house, rng, skip_required=set())
        except GenerationError as e:
            raise SpecError(f"{spec.name}: {e}") from None
    cells = np.array(sorted(reachable_cells(house)), dtype=np.float64) * GRID
    for i, o in enumerate(spec.objects):
        host_type = o.get("in", o.get("on"))
        hosts = [h for h in house.objects.values() if h.type == host_type]
        if not hosts:
            raise SpecError(f"{spec.name}: objects[{i}] ({o['type']}) goes on a {host_type}, "
                            "but the house has none")
        placed = False
        for h in hosts:
            for _ in range(6):
                box = find_spot(house, h, o["type"], rng)
                if box is not None and item_reachable(box, cells):
                    obj = add_object(house, o["type"], box, h.room, 0.0, h.object_id)
                    obj.is_dirty = bool(o.get("dirty", False))
                    if h.kind.cold_source:
                        obj.temperature = "Cold"
                    placed = True
                    break
            if placed:
                break
        if not placed:
            raise SpecError(f"{spec.name}: objects[{i}] ({o['type']}) finds no free, reachable "
                            f"spot on any {host_type}")
    populate(house, rng, spec.fill_objects)
    return house


def load_scene(name_or_path: str, seed: int | None = None) -> House:
    """Read and build a scene spec in one call."""
    return build_house(read_spec(name_or_path), seed)
