"""Procedural houses: room layout, doors, furniture against walls, objects on receptacles.

Everything is drawn from one ``numpy.random.Generator``, so a seed fixes the house.

Example:
    >>> from robomem.envs.household.generator import generate_house
    >>> h = generate_house(7)
    >>> 2 <= len(h.rooms) <= 6 and any(r.type == "Kitchen" for r in h.rooms)
    True
    >>> generate_house(7).objects.keys() == h.objects.keys()
    True
"""

from __future__ import annotations

import math

import numpy as np

from robomem.envs.household.catalog import (
    KINDS,
    PICKUPABLE_TYPES,
    ROOM_FURNITURE,
    ROOM_TYPES,
    kind,
)
from robomem.envs.household.house import (
    AGENT_RADIUS,
    CAMERA_HEIGHT,
    DOOR_WIDTH,
    GRID,
    WALL_THICKNESS,
    Box,
    Door,
    House,
    Obj,
    Rect,
    Room,
    make_object_id,
    world_size,
)
from robomem.envs.household.navigation import NavGrid, distances_to_rects
from robomem.envs.household.placement import find_spot

# Segmentation ids of structure; objects start after them.
STRUCTURE_LABELS: dict[int, str] = {1: "Floor", 2: "Wall", 3: "Ceiling"}
FIRST_OBJECT_SEG = 4
REACH = 1.4  # generation keeps items within this camera distance of a free cell

# Wall sides of a room -> the facing yaw of furniture standing against them.
SIDES: dict[str, float] = {"south": 0.0, "north": 180.0, "west": 270.0, "east": 90.0}

_GRIDS = {2: [(1, 2)], 3: [(1, 3), (2, 2)], 4: [(2, 2), (1, 4)], 5: [(2, 3)], 6: [(2, 3)]}
MIN_GENERATED_ROOMS = min(_GRIDS)  # procedural houses; a scene spec may have a single room
MAX_ROOMS = max(_GRIDS)  # rooms in any house, procedural or from a spec


class GenerationError(RuntimeError):
    """A house or spec could not be built as asked."""


def _q(v: float) -> float:
    return round(v / GRID) * GRID


def layout_rooms(rng: np.random.Generator, n_rooms: int,
                 types: list[str] | None = None) -> tuple[list[Room], list[Door]]:
    """Rooms on a grid of cells and a connected set of doorways between neighbours."""
    if not MIN_GENERATED_ROOMS <= n_rooms <= MAX_ROOMS:
        raise GenerationError(f"n_rooms must be between {MIN_GENERATED_ROOMS} and {MAX_ROOMS}, "
                              f"got {n_rooms!r}")
    rows, cols = _GRIDS[n_rooms][int(rng.integers(len(_GRIDS[n_rooms])))]
    widths = [_q(rng.uniform(3.0, 5.0)) for _ in range(cols)]
    depths = [_q(rng.uniform(3.0, 4.5)) for _ in range(rows)]
    cells = [(r, c) for r in range(rows) for c in range(cols)]
    while len(cells) > n_rooms:  # drop corner cells; the grid stays connected
        corners = [rc for rc in cells if rc[0] in (0, rows - 1) and rc[1] in (0, cols - 1)]
        cells.remove(corners[int(rng.integers(len(corners)))])
    if types is None:
        extra = [ROOM_TYPES[int(i)] for i in rng.integers(1, len(ROOM_TYPES), n_rooms - 1)]
        pool = (["Kitchen", "LivingRoom", "Bedroom", "Bathroom"][:n_rooms] if n_rooms <= 4
                else ["Kitchen", "LivingRoom", "Bedroom", "Bathroom"] + extra[: n_rooms - 4])
        types = [pool[int(i)] for i in rng.permutation(len(pool))]
    counts: dict[str, int] = {}
    rooms: list[Room] = []
    at: dict[tuple[int, int], Room] = {}
    for (r, c), t in zip(cells, types):
        x0, z0 = sum(widths[:c]), sum(depths[:r])
        rid = f"{t}_{counts.get(t, 0)}"
        counts[t] = counts.get(t, 0) + 1
        room = Room(rid, t, Rect(x0, z0, x0 + widths[c], z0 + depths[r]))
        rooms.append(room)
        at[(r, c)] = room
    # Random spanning tree over neighbouring cells, plus a few extra doorways.
    pairs = [((r, c), (r2, c2)) for (r, c) in cells for (r2, c2) in ((r + 1, c), (r, c + 1))
             if (r2, c2) in at]
    order = [pairs[int(i)] for i in rng.permutation(len(pairs))]
    group = {rc: rc for rc in cells}

    def find(x: tuple[int, int]) -> tuple[int, int]:
        while group[x] != x:
            x = group[x]
        return x

    doors = []
    for a, b in order:
        joined = find(a) != find(b)
        if joined or rng.random() < 0.25:
            group[find(a)] = find(b)
            doors.append(_door(rng, at[a], at[b]))
    return rooms, doors


def _door(rng: np.random.Generator, a: Room, b: Room) -> Door:
    axis, at, lo, hi = shared_wall(a, b)
    lo_c, hi_c = lo + DOOR_WIDTH / 2 + 0.5, hi - DOOR_WIDTH / 2 - 0.5
    center = _q(rng.uniform(lo_c, hi_c)) if hi_c > lo_c else _q((lo + hi) / 2)
    return Door((a.id, b.id), axis, at, center)


def shared_wall(a: Room, b: Room) -> tuple[str, float, float, float]:
    """The wall two rooms share: ``(axis, at, lo, hi)``, the span ``lo..hi`` along ``axis``."""
    ra, rb = a.rect, b.rect
    if abs(ra.z1 - rb.z0) < 1e-6 or abs(rb.z1 - ra.z0) < 1e-6:
        axis, at = "x", ra.z1 if abs(ra.z1 - rb.z0) < 1e-6 else ra.z0
        lo, hi = max(ra.x0, rb.x0), min(ra.x1, rb.x1)
    elif abs(ra.x1 - rb.x0) < 1e-6 or abs(rb.x1 - ra.x0) < 1e-6:
        axis, at = "z", ra.x1 if abs(ra.x1 - rb.x0) < 1e-6 else ra.x0
        lo, hi = max(ra.z0, rb.z0), min(ra.z1, rb.z1)
    else:
        raise GenerationError(f"rooms {a.id} and {b.id} share no wall; a door needs one")
    if hi - lo <= 0:
        raise GenerationError(f"rooms {a.id} and {b.id} share no wall (they meet at most at a "
                              "corner); a door needs one")
    return axis, at, lo, hi


def door_between(a: Room, b: Room, center: float | None = None) -> Door:
    """A doorway in the wall shared by rooms ``a`` and ``b`` (centred unless ``center``)."""
    axis, at, lo, hi = shared_wall(a, b)
    if hi - lo < DOOR_WIDTH + 0.2:
        raise GenerationError(f"the wall shared by {a.id} and {b.id} is {hi - lo:.2f} m long; "
                              f"a {DOOR_WIDTH} m door needs at least {DOOR_WIDTH + 0.2} m")
    c = (lo + hi) / 2 if center is None else center
    if not lo + DOOR_WIDTH / 2 <= c <= hi - DOOR_WIDTH / 2:
        raise GenerationError(f"door centre {c} between {a.id} and {b.id} must lie in "
                              f"[{lo + DOOR_WIDTH / 2}, {hi - DOOR_WIDTH / 2}]")
    return Door((a.id, b.id), axis, at, c)


def next_seg_id(house: House) -> int:
    """The next free segmentation id."""
    return max([FIRST_OBJECT_SEG - 1] + [o.seg_id for o in house.objects.values()]) + 1


def add_object(house: House, type_: str, box: Box, room: str, facing: float = 0.0,
               parent: str | None = None) -> Obj:
    """Create an object, give it an id and a segmentation id, and put it in the house."""
    oid = make_object_id(type_, box.center)
    n = 1
    while oid in house.objects:  # same type at the same spot: disambiguate
        oid = f"{make_object_id(type_, box.center)}|{n}"
        n += 1
    obj = Obj(oid, type_, next_seg_id(house), box, room, facing, parent)
    house.objects[oid] = obj
    return obj


def _door_zones(house: House, room: Room) -> list[Rect]:
    zones = []
    for d in house.doors:
        if room.id not in d.rooms:
            continue
        g = d.gap
        if d.axis == "x":
            zones.append(Rect(g.x0 - 0.3, g.z0 - 1.0, g.x1 + 0.3, g.z1 + 1.0))
        else:
            zones.append(Rect(g.x0 - 1.0, g.z0 - 0.3, g.x1 + 1.0, g.z1 + 0.3))
    return zones


def _wall_box(room: Room, type_: str, side: str, offset: float) -> Box:
    k = kind(type_)
    facing = SIDES[side]
    sx, sy, sz = world_size(k, facing)
    r = room.rect.grow(-WALL_THICKNESS / 2 - 0.01)
    if side in ("south", "north"):
        x0 = r.x0 + offset
        z0 = r.z0 if side == "south" else r.z1 - sz
        return Box((x0, 0.0, z0), (x0 + sx, sy, z0 + sz))
    z0 = r.z0 + offset
    x0 = r.x0 if side == "west" else r.x1 - sx
    return Box((x0, 0.0, z0), (x0 + sx, sy, z0 + sz))


def _access_ok(house: House, nav: NavGrid, reach: set[tuple[int, int]]) -> bool:
    """Every floor-standing piece keeps a reachable cell within 0.6 m of its footprint."""
    pts = np.array(sorted(reach), dtype=np.float64) * GRID
    pieces = [o for o in house.objects.values() if not o.kind.pickupable and o.parent is None]
    if not pieces:
        return True
    d = distances_to_rects(pts, np.array([[o.box.footprint.x0, o.box.footprint.z0,
                                           o.box.footprint.x1, o.box.footprint.z1]
                                          for o in pieces]))
    return bool((d.min(axis=0) <= AGENT_RADIUS + 0.45).all())


def _door_cells(house: House, nav: NavGrid) -> list[tuple[int, int]]:
    cells = []
    for d in house.doors:
        cx, cz = (d.center, d.at) if d.axis == "x" else (d.at, d.center)
        cells.append((round(cx / GRID), round(cz / GRID)))
    return cells


def connected(house: House) -> tuple[bool, NavGrid, set[tuple[int, int]]]:
    """Whether every room and door is reachable and every piece of furniture accessible."""
    nav = NavGrid(house)
    doors = _door_cells(house, nav)
    starts = doors or nav.free_points()[:1]
    if not starts or starts[0] not in nav:
        return False, nav, set()
    reach = nav.reachable_from(starts[0])
    if any(c not in reach for c in doors):
        return False, nav, reach
    for r in house.rooms:
        if not any(r.rect.contains_point(i * GRID, j * GRID) for i, j in reach):
            return False, nav, reach
    return _access_ok(house, nav, reach), nav, reach


def place_furniture(house: House, rng: np.random.Generator, room: Room, type_: str,
                    side: str | None = None, offset: float | None = None,
                    tries: int = 30) -> Obj | None:
    """Put one piece of furniture in ``room`` (against a wall, or on its host piece)."""
    k = kind(type_)
    if k.stands_on or type_ == "Faucet":
        return _place_on_host(house, rng, room, type_)
    zones = _door_zones(house, room)
    taken = [o.box.footprint for o in house.objects.values()
             if o.parent is None and not o.kind.pickupable]
    for _ in range(tries):
        s = side or list(SIDES)[int(rng.integers(4))]
        sx, _, sz = world_size(k, SIDES[s])
        length = (room.rect.width if s in ("south", "north") else room.rect.depth) - 0.12
        along = sx if s in ("south", "north") else sz
        if along > length:
            if side is not None:
                return None
            continue
        off = (offset if offset is not None
               else math.floor(rng.uniform(0, length - along) / 0.05) * 0.05)
        box = _wall_box(room, type_, s, off)
        fp = box.footprint
        if not room.rect.contains(fp) or any(fp.intersects(z) for z in zones):
            if offset is not None:
                return None
            continue
        if any(fp.intersects(t, 0.05) for t in taken):
            if offset is not None:
                return None
            continue
        obj = add_object(house, type_, box, room.id, SIDES[s])
        ok, _, _ = connected(house)
        if ok:
            for att in k.attachments:
                _attach(house, obj, att)
            return obj
        del house.objects[obj.object_id]
        if offset is not None:
            return None
    return None


def _attach(house: House, host: Obj, type_: str) -> Obj:
    """A fixture at the back centre of ``host``'s top (a Faucet behind a sink)."""
    w, h, d = kind(type_).size
    b = host.box
    cx, cz = b.center[0], b.center[2]
    f = host.facing
    # The back of the host is opposite its front normal.
    nx, nz = round(-np.sin(np.radians(f))), round(np.cos(np.radians(f)))
    bx = cx - nx * (b.size[0] / 2 - d / 2 - 0.02)
    bz = cz - nz * (b.size[2] / 2 - d / 2 - 0.02)
    box = Box((bx - w / 2, b.hi[1], bz - d / 2), (bx + w / 2, b.hi[1] + h, bz + d / 2))
    obj = add_object(house, type_, box, host.room, f, host.object_id)
    obj.attached_to = host.object_id
    return obj


def _place_on_host(house: House, rng: np.random.Generator, room: Room, type_: str) -> Obj | None:
    k = kind(type_)
    hosts = [o for o in house.objects.values() if o.room == room.id and o.type in k.stands_on]
    for host in [hosts[int(i)] for i in rng.permutation(len(hosts))]:
        sx, sy, sz = world_size(k, host.facing)
        b = host.box
        if sx > b.size[0] - 0.04 or sz > b.size[2] - 0.04:
            continue
        for _ in range(10):
            x = float(rng.uniform(b.lo[0] + sx / 2 + 0.02, b.hi[0] - sx / 2 - 0.02))
            z = float(rng.uniform(b.lo[2] + sz / 2 + 0.02, b.hi[2] - sz / 2 - 0.02))
            # Keep it against the back so the front stays free for items.
            nx = round(-math.sin(math.radians(host.facing)))
            nz = round(math.cos(math.radians(host.facing)))
            if nx:
                x = b.center[0] - nx * (b.size[0] / 2 - sx / 2 - 0.02)
            else:
                z = b.center[2] - nz * (b.size[2] / 2 - sz / 2 - 0.02)
            fp = Rect(x - sx / 2, z - sz / 2, x + sx / 2, z + sz / 2)
            if any(fp.intersects(c.box.footprint, 0.02) for c in house.children(host.object_id)):
                continue
            box = Box((fp.x0, b.hi[1], fp.z0), (fp.x1, b.hi[1] + sy, fp.z1))
            return add_object(house, type_, box, room.id, host.facing, host.object_id)
    return None


def furnish(house: House, rng: np.random.Generator, skip_required: set[str] | None = None) -> None:
    """Furnish every room from :data:`ROOM_FURNITURE` (required pieces first)."""
    for room in house.rooms:
        have = {o.type for o in house.objects.values() if o.room == room.id}
        for type_, required in ROOM_FURNITURE[room.type]:
            if required and type_ in have and skip_required is not None:
                continue
            if not required and rng.random() < 0.45:
                continue
            obj = place_furniture(house, rng, room, type_)
            if obj is None and required:
                raise GenerationError(f"could not fit a {type_} in {room.id}")
            if obj is not None:
                have.add(type_)


def reachable_cells(house: House) -> set[tuple[int, int]]:
    """Free cells reachable from the first doorway (the agent's world)."""
    _ok, nav, reach = connected(house)
    return reach if reach else nav.largest_component()


def item_reachable(box: Box, cells: np.ndarray) -> bool:
    """Whether some free cell puts the camera within :data:`REACH` of ``box``."""
    c = np.asarray(box.center)
    near = cells[np.hypot(cells[:, 0] - c[0], cells[:, 1] - c[2]) < REACH + 1.0]
    return any(box.distance_to((x, CAMERA_HEIGHT, z)) <= REACH for x, z in near)


def place_item(house: House, rng: np.random.Generator, type_: str, hosts: list[Obj],
               cells: np.ndarray) -> Obj | None:
    """Put an item of ``type_`` on one of ``hosts`` where the agent can reach it."""
    for host in [hosts[int(i)] for i in rng.permutation(len(hosts))]:
        for _ in range(4):
            box = find_spot(house, host, type_, rng)
            if box is not None and item_reachable(box, cells):
                obj = add_object(house, type_, box, host.room, 0.0, host.object_id)
                if host.kind.cold_source:
                    obj.temperature = "Cold"
                return obj
    return None


def populate(house: House, rng: np.random.Generator, n_items: int) -> None:
    """Scatter ``n_items`` pickupables over their usual receptacles (some types twice)."""
    cells = np.array(sorted(reachable_cells(house)), dtype=np.float64).reshape(-1, 2) * GRID
    present = {o.type for o in house.objects.values()}
    types = [t for t in PICKUPABLE_TYPES if any(p in present for p in KINDS[t].usual_places)]
    if not types:  # no receptacle at all (a spec without furniture): nothing can go anywhere
        return
    placed = 0
    for _ in range(n_items * 3):
        if placed >= n_items:
            break
        t = types[int(rng.integers(len(types)))]
        hosts = [o for o in house.objects.values() if o.type in KINDS[t].usual_places]
        obj = place_item(house, rng, t, hosts, cells)
        if obj is None:
            continue
        placed += 1
        if obj.kind.dirtyable and rng.random() < 0.3:
            obj.is_dirty = True
        if placed < n_items and rng.random() < 0.25:  # a second one of the same type
            twin = place_item(house, rng, t, hosts, cells)
            if twin is not None:
                placed += 1


def generate_house(seed: int, n_rooms: int | None = None, n_items: int | None = None) -> House:
    """A random furnished and populated house, fully determined by ``seed``."""
    rng = np.random.default_rng(seed)
    for _ in range(20):
        n = (n_rooms if n_rooms is not None
             else int(rng.integers(MIN_GENERATED_ROOMS, MAX_ROOMS + 1)))
        rooms, doors = layout_rooms(rng, n)
        house = House(f"Procedural_{seed}", rooms, doors, seed=seed)
        try:
            furnish(house, rng)
        except GenerationError:
            continue
        populate(house, rng, n_items if n_items is not None else 6 * n + 4)
        return house
    raise GenerationError(f"could not generate a house for seed {seed} in 20 tries")
