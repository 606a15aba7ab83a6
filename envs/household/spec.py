"""Scene specs: houses described in YAML, with furniture and objects optionally pinned.

A spec fixes the rooms and doors; it may pin furniture (against a named wall at an offset)
and objects (on or in a receptacle type); whatever it leaves out is filled from its seed.
The shipped specs live in the top-level ``scenes/`` folder; a path to any YAML file works too.

Specs are untrusted input: the file is read with bounded size, nesting and alias expansion
(:mod:`robomem.untrusted`), every count and coordinate has an upper bound (the ``MAX_*``
constants below), and every error names the file and the field, quoting at most
:data:`~robomem.untrusted.MAX_QUOTE` characters of the bad value.

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
    MAX_ROOMS,
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
from robomem.untrusted import MAX_QUOTE, UntrustedInput, quote, yaml_file

# Bounds on a spec. The shipped scenes use at most: a 13.5 m house, 6 rooms, 5 doors,
# 8 pinned pieces of furniture, 5 pinned objects and fill_objects 18.
MAX_HOUSE_EXTENT = 30.0  # metres: every corner lies within this of the origin, and the
#                          house spans at most this along x and along z
MIN_ROOM_SIDE = 2.0  # metres
MAX_DOORS = 15  # as many as 6 rooms have pairs
MAX_FURNITURE = 40  # pinned pieces
MAX_OBJECTS = 40  # pinned objects
MAX_FILL_OBJECTS = 100
MAX_SEED = 2**63 - 1
MAX_ID_CHARS = 64  # room ids and the house name
MAX_SPEC_BYTES = 65_536  # the YAML file (the shipped ones are under 2 KB)
MAX_SPEC_VALUES = 10_000  # YAML scalars, lists and mappings after alias expansion
MAX_SPEC_DEPTH = 8  # YAML nesting (a spec needs 5)

SPEC_KEYS = ("name", "description", "seed", "rooms", "doors", "furniture", "objects",
             "fill_furniture", "fill_objects")

# Fixtures that come with a piece of furniture and so cannot be pinned on their own.
ATTACHMENT_TYPES: dict[str, list[str]] = {}
for _k in KINDS.values():
    for _a in _k.attachments:
        ATTACHMENT_TYPES.setdefault(_a, []).append(_k.name)


class SpecError(ValueError):
    """A scene spec that cannot be read or built; the message names the bad value."""


@dataclass
class SceneSpec:
    """A parsed scene spec (see ``docs/household.md`` for the YAML format).

    ``source`` is the file (or label) the spec came from; build errors name it.
    """

    name: str
    rooms: list[Room]
    doors: list[dict[str, Any]]
    furniture: list[dict[str, Any]] = field(default_factory=list)
    objects: list[dict[str, Any]] = field(default_factory=list)
    seed: int = 0
    fill_furniture: bool = True
    fill_objects: int = 12
    source: str = ""


def _scenes_dir() -> Path:
    return Path(str(resources.files("robomem.scenes")))


def list_scenes() -> list[str]:
    """Names of the shipped scene specs."""
    return sorted(p.stem for p in _scenes_dir().glob("*.yaml"))


def _clip(text: str, limit: int = MAX_QUOTE) -> str:
    """``text`` cut to ``limit`` characters (an error message from a parser, say)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


class _Checker:
    """Raises :class:`SpecError` as ``SOURCE: FIELD: problem``."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> SpecError:
        return SpecError(f"{self.source}: {where}: {problem}" if where
                         else f"{self.source}: {problem}")

    def mapping(self, value: Any, where: str) -> dict[Any, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a mapping, got {type(value).__name__} "
                                   f"{quote(value)}")
        return value

    def entries(self, data: dict[Any, Any], key: str, limit: int) -> list[Any]:
        value = data.get(key, [])
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list, got {type(value).__name__} {quote(value)}")
        if len(value) > limit:
            raise self.fail(key, f"has {len(value)} entries; the limit is {limit}")
        return value

    def require(self, d: dict[Any, Any], key: str, where: str) -> Any:
        if key not in d:
            raise self.fail(where, f"missing required key {key!r}")
        return d[key]

    def text(self, value: Any, where: str, limit: int | None = None) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f"must be a string, got {type(value).__name__} "
                                   f"{quote(value)}")
        if limit is not None and not 1 <= len(value) <= limit:
            raise self.fail(where, f"must be 1 to {limit} characters, got {quote(value)}")
        return value

    def choice(self, value: Any, where: str, what: str, known: Any) -> str:
        if not isinstance(value, str) or value not in known:
            raise self.fail(where, f"{what} {quote(value)}; known: {', '.join(known)}")
        return value

    def number(self, value: Any, where: str, low: float, high: float,
               unit: str = " of metres") -> float:
        """A finite real number in ``[low, high]`` (bools and strings are refused)."""
        if not _in_range(value, low, high):
            raise self.fail(where, f"must be a number{unit} in [{low:g}, {high:g}], got "
                                   f"{quote(value)}")
        return float(value)

    def integer(self, value: Any, where: str, low: int, high: int) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self.fail(where, f"must be an integer in [{low}, {high}], got {quote(value)}")
        return value

    def flag(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, f"must be true or false, got {quote(value)}")
        return value


def _in_range(value: Any, low: float, high: float) -> bool:
    """Whether ``value`` is an int or float (not a bool) in ``[low, high]``; NaN is not."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and low <= value <= high)


def _rect(c: _Checker, value: Any, where: str) -> Rect:
    if not (isinstance(value, list) and len(value) == 4):
        raise c.fail(where, f"rect must be [x0, z0, x1, z1] (four numbers), got {quote(value)}")
    if not all(_in_range(v, -MAX_HOUSE_EXTENT, MAX_HOUSE_EXTENT) for v in value):
        raise c.fail(where, f"corners must be numbers of metres in [{-MAX_HOUSE_EXTENT:g}, "
                            f"{MAX_HOUSE_EXTENT:g}], got {quote(value)}")
    x0, z0, x1, z1 = (float(v) for v in value)
    if x1 - x0 < MIN_ROOM_SIDE or z1 - z0 < MIN_ROOM_SIDE:
        raise c.fail(where, f"rooms must be at least {MIN_ROOM_SIDE:g} m on each side, got "
                            f"{quote(value)}")
    if any(abs(v / GRID - round(v / GRID)) > 1e-6 for v in (x0, z0, x1, z1)):
        raise c.fail(where, f"rect corners must be multiples of {GRID} m, got {quote(value)}")
    return Rect(x0, z0, x1, z1)


def _rooms(c: _Checker, data: dict[Any, Any]) -> list[Room]:
    c.require(data, "rooms", "")
    raw = c.entries(data, "rooms", MAX_ROOMS)
    if not raw:
        raise c.fail("rooms", f"a house has 1 to {MAX_ROOMS} rooms, got 0")
    rooms = []
    per_type: dict[str, int] = {}
    for i, r in enumerate(raw):
        where = f"rooms[{i}]"
        r = c.mapping(r, where)
        t = c.choice(c.require(r, "type", where), f"{where}.type", "unknown room type",
                     ROOM_TYPES)
        rect = _rect(c, c.require(r, "rect", where), f"{where}.rect")
        n = per_type.get(t, 0)
        per_type[t] = n + 1  # default ids count per type, as generated houses do: Bedroom_1
        rid = c.text(r["id"], f"{where}.id", MAX_ID_CHARS) if "id" in r else f"{t}_{n}"
        rooms.append(Room(rid, t, rect))
    ids = [r.id for r in rooms]
    if len(set(ids)) != len(ids):
        raise c.fail("rooms", f"room ids must be unique, got {quote(ids)}")
    for a in rooms:
        for b in rooms:
            if a.id < b.id and a.rect.intersects(b.rect, -1e-6):
                raise c.fail("rooms", f"rooms {a.id} and {b.id} overlap")
    x0, z0 = min(r.rect.x0 for r in rooms), min(r.rect.z0 for r in rooms)
    x1, z1 = max(r.rect.x1 for r in rooms), max(r.rect.z1 for r in rooms)
    if max(x1 - x0, z1 - z0) > MAX_HOUSE_EXTENT:
        raise c.fail("rooms", f"the house spans {x1 - x0:g} m along x and {z1 - z0:g} m along "
                              f"z; the limit is {MAX_HOUSE_EXTENT:g} m")
    return rooms


def _doors(c: _Checker, data: dict[Any, Any], ids: list[str]) -> list[dict[str, Any]]:
    doors = []
    for i, d in enumerate(c.entries(data, "doors", MAX_DOORS)):
        where = f"doors[{i}]"
        d = c.mapping(d, where)
        between = c.require(d, "between", where)
        if not (isinstance(between, list) and len(between) == 2):
            raise c.fail(f"{where}.between", f"between must list two room ids, got "
                                             f"{quote(between)}")
        for rid in between:
            if not isinstance(rid, str) or rid not in ids:
                raise c.fail(f"{where}.between", f"names room {quote(rid)}; rooms are "
                                                 f"{quote(ids)}")
        if between[0] == between[1]:
            raise c.fail(f"{where}.between", f"a door joins two different rooms, got "
                                             f"{quote(between)}")
        if d.get("center") is not None:
            c.number(d["center"], f"{where}.center", -MAX_HOUSE_EXTENT, MAX_HOUSE_EXTENT)
        doors.append(d)
    return doors


def _furniture(c: _Checker, data: dict[Any, Any], ids: list[str]) -> list[dict[str, Any]]:
    known = sorted(k for k in KINDS if not KINDS[k].pickupable)
    out = []
    for i, f in enumerate(c.entries(data, "furniture", MAX_FURNITURE)):
        where = f"furniture[{i}]"
        f = c.mapping(f, where)
        t = c.require(f, "type", where)
        if not isinstance(t, str) or t not in KINDS or KINDS[t].pickupable:
            raise c.fail(f"{where}.type", f"type {quote(t)} is not furniture; known: "
                                          f"{', '.join(known)}")
        room = c.require(f, "room", where)
        if not isinstance(room, str) or room not in ids:
            raise c.fail(f"{where}.room", f"room {quote(room)} is not one of {quote(ids)}")
        if "wall" in f and (not isinstance(f["wall"], str) or f["wall"] not in SIDES):
            raise c.fail(f"{where}.wall", f"wall {quote(f['wall'])}; use one of "
                                          f"{', '.join(SIDES)}")
        k = KINDS[t]
        if t in ATTACHMENT_TYPES:
            raise c.fail(f"{where}.type", f"{t} cannot be pinned: every "
                                          f"{' / '.join(ATTACHMENT_TYPES[t])} comes with one")
        if k.stands_on and ("wall" in f or "offset" in f):
            raise c.fail(where, f"{t} stands on a {' or '.join(k.stands_on)}; 'wall' and "
                                "'offset' do not apply")
        if f.get("offset") is not None:
            c.number(f["offset"], f"{where}.offset", 0.0, MAX_HOUSE_EXTENT,
                     " of metres along the wall")
        out.append(f)
    return out


def _objects(c: _Checker, data: dict[Any, Any]) -> list[dict[str, Any]]:
    dirtyable = ", ".join(k for k in PICKUPABLE_TYPES if KINDS[k].dirtyable)
    out = []
    for i, o in enumerate(c.entries(data, "objects", MAX_OBJECTS)):
        where = f"objects[{i}]"
        o = c.mapping(o, where)
        if True in o:  # YAML 1.1 reads a bare `on:` key as True
            o["on"] = o.pop(True)
        t = c.require(o, "type", where)
        if not isinstance(t, str) or t not in PICKUPABLE_TYPES:
            raise c.fail(f"{where}.type", f"type {quote(t)} is not pickupable; known: "
                                          f"{', '.join(PICKUPABLE_TYPES)}")
        host = o.get("in", o.get("on"))
        if (not isinstance(host, str) or host not in KINDS or KINDS[host].pickupable
                or not KINDS[host].receptacle):
            raise c.fail(where, f"needs 'in' or 'on' naming a receptacle type, got "
                                f"{quote(host)}")
        if "dirty" in o and c.flag(o["dirty"], f"{where}.dirty") and not KINDS[t].dirtyable:
            raise c.fail(f"{where}.dirty", f"{t} cannot be dirty; dirtyable types: "
                                           f"{dirtyable}")
        out.append(o)
    return out


def parse_spec(data: Any, source: str = "<spec>") -> SceneSpec:
    """Validate a spec dict and return a :class:`SceneSpec`.

    Raises:
        SpecError: a value is missing, of the wrong type, unknown or out of bounds; the
            message reads ``SOURCE: FIELD: problem`` and quotes the value (bounded).
    """
    c = _Checker(source)
    if not isinstance(data, dict):
        raise c.fail("", f"a scene spec must be a mapping, got {type(data).__name__}")
    unknown = set(data) - set(SPEC_KEYS)
    if unknown:
        raise c.fail("", f"unknown keys {quote(sorted(unknown, key=repr))}; allowed: "
                         f"{', '.join(SPEC_KEYS)}")
    rooms = _rooms(c, data)
    ids = [r.id for r in rooms]
    doors = _doors(c, data, ids)
    furniture = _furniture(c, data, ids)
    objects = _objects(c, data)
    name = (c.text(data["name"], "name", MAX_ID_CHARS) if "name" in data
            else Path(source).stem[:MAX_ID_CHARS])
    if "description" in data:
        c.text(data["description"], "description")
    seed = c.integer(data.get("seed", 0), "seed", 0, MAX_SEED)
    fill_furniture = c.flag(data.get("fill_furniture", True), "fill_furniture")
    fill_objects = c.integer(data.get("fill_objects", 12), "fill_objects", 0, MAX_FILL_OBJECTS)
    return SceneSpec(name, rooms, doors, furniture, objects, seed, fill_furniture,
                     fill_objects, source)


def read_spec(name_or_path: str) -> SceneSpec:
    """Read a shipped spec by name, or any YAML file by path.

    Raises:
        SpecError: an unknown name, a missing or unreadable file, a file past the bounds of
            :data:`MAX_SPEC_BYTES`, :data:`MAX_SPEC_VALUES` or :data:`MAX_SPEC_DEPTH`, or a
            bad spec (see :func:`parse_spec`).
    """
    if not isinstance(name_or_path, str):
        raise SpecError(f"a scene is a name or a path to a .yaml spec, got "
                        f"{type(name_or_path).__name__} {quote(name_or_path)}")
    p = Path(name_or_path)
    if p.suffix not in (".yaml", ".yml"):
        known = list_scenes()
        if name_or_path not in known:
            raise SpecError(f"unknown scene {quote(name_or_path)}; known: {', '.join(known)} "
                            "(or give a path to a .yaml spec)")
        p = _scenes_dir() / f"{name_or_path}.yaml"
    try:
        exists, regular = p.exists(), p.is_file()
    except (OSError, ValueError) as e:  # a name too long, a NUL byte
        raise SpecError(f"scene spec file {quote(str(p))} cannot be read: "
                        f"{_clip(str(e))}") from None
    if not exists:
        raise SpecError(f"scene spec file {quote(str(p))} does not exist")
    if not regular:  # a FIFO would block, a device never end
        raise SpecError(f"scene spec {quote(str(p))} is not a regular file")
    try:
        data = yaml_file(p, max_bytes=MAX_SPEC_BYTES, max_values=MAX_SPEC_VALUES,
                         max_depth=MAX_SPEC_DEPTH, what="scene spec")
    except UntrustedInput as e:
        raise SpecError(f"{p}: {e}") from None
    except yaml.YAMLError as e:
        raise SpecError(f"{p}: not valid YAML: {_clip(str(e))}") from None
    except OSError as e:
        raise SpecError(f"{p}: cannot be read: {_clip(str(e))}") from None
    return parse_spec(data, str(p))


def build_house(spec: SceneSpec, seed: int | None = None) -> House:
    """Build a house from a spec; unpinned furniture and objects come from the seed.

    Raises:
        SpecError: a door, piece or object that does not fit, or rooms that cannot be
            reached; the message names the spec's source and the entry.
    """
    src = spec.source or spec.name
    rng = np.random.default_rng(spec.seed if seed is None else seed)
    by_id = {r.id: r for r in spec.rooms}
    doors = []
    for i, d in enumerate(spec.doors):
        a, b = d["between"]
        try:
            doors.append(door_between(by_id[a], by_id[b], d.get("center")))
        except GenerationError as e:
            raise SpecError(f"{src}: doors[{i}]: {e}") from None
    house = House(spec.name, list(spec.rooms), doors, seed=spec.seed)
    ok, _, _ = connected(house)
    if not ok:
        raise SpecError(f"{src}: some rooms cannot be reached; add doors between them")
    for i, f in enumerate(spec.furniture):
        obj = place_furniture(house, rng, by_id[f["room"]], f["type"], f.get("wall"),
                              f.get("offset"))
        if obj is None:
            raise SpecError(f"{src}: furniture[{i}] ({f['type']} in {f['room']}"
                            f"{' on the ' + f['wall'] + ' wall' if 'wall' in f else ''}"
                            f"{' at offset ' + str(f['offset']) if 'offset' in f else ''}) does "
                            "not fit: it overlaps a doorway or another piece, leaves the room, "
                            "or blocks the way")
    if spec.fill_furniture:
        try:
            furnish(house, rng, skip_required=set())
        except GenerationError as e:
            raise SpecError(f"{src}: {e}") from None
    cells = _cells(house)
    for i, o in enumerate(spec.objects):
        host_type = o.get("in", o.get("on"))
        hosts = [h for h in house.objects.values() if h.type == host_type]
        if not hosts:
            raise SpecError(f"{src}: objects[{i}] ({o['type']}) goes on a {host_type}, "
                            "but the house has none")
        if not _place_pinned(house, rng, o, hosts, cells):
            raise SpecError(f"{src}: objects[{i}] ({o['type']}) finds no free, reachable "
                            f"spot on any {host_type}")
    populate(house, rng, spec.fill_objects)
    return house


def _cells(house: House) -> np.ndarray:
    """Reachable cell centres in metres, as an (N, 2) array (N may be 0)."""
    return np.array(sorted(reachable_cells(house)), dtype=np.float64).reshape(-1, 2) * GRID


def _place_pinned(house: House, rng: np.random.Generator, o: dict[str, Any], hosts: list[Any],
                  cells: np.ndarray) -> bool:
    for h in hosts:
        for _ in range(6):
            box = find_spot(house, h, o["type"], rng)
            if box is not None and item_reachable(box, cells):
                obj = add_object(house, o["type"], box, h.room, 0.0, h.object_id)
                obj.is_dirty = bool(o.get("dirty", False))
                if h.kind.cold_source:
                    obj.temperature = "Cold"
                return True
    return False


def load_scene(name_or_path: str, seed: int | None = None) -> House:
    """Read and build a scene spec in one call."""
    return build_house(read_spec(name_or_path), seed)
