"""Procedural houses and navigation: layout, furniture, item placement, reachability."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from robomem.envs.household.catalog import (
    CLEANABLE_TYPES,
    COOLABLE_TYPES,
    FURNITURE_TYPES,
    HEATABLE_TYPES,
    KINDS,
    PICKUPABLE_TYPES,
    ROOM_FURNITURE,
    ROOM_TYPES,
    kind,
)
from robomem.envs.household.generator import (
    FIRST_OBJECT_SEG,
    GenerationError,
    generate_house,
    layout_rooms,
)
from robomem.envs.household.house import (
    AGENT_RADIUS,
    CAMERA_HEIGHT,
    DOOR_WIDTH,
    GRID,
    WALL_THICKNESS,
    Rect,
)
from robomem.envs.household.navigation import NavGrid, cell_of, obstacle_rects
from robomem.envs.household.placement import surface
from robomem.envs.household.world import VISIBILITY_DISTANCE

SEEDS = range(10)
EPS = 1e-6


@pytest.fixture(scope="module")
def houses():
    return {s: generate_house(s) for s in SEEDS}


@pytest.fixture(scope="module")
def navs(houses):
    return {s: NavGrid(h) for s, h in houses.items()}


def _door_cell(d):
    x, z = (d.center, d.at) if d.axis == "x" else (d.at, d.center)
    return cell_of(x, z)


def _reach(house, nav):
    """Cells reachable from the first doorway (BFS over the free grid)."""
    start = _door_cell(house.doors[0])
    assert start in nav, f"{house.name}: doorway cell {start} is not free"
    return nav.reachable_from(start)


def _floor_furniture(house):
    return [o for o in house.objects.values() if not o.kind.pickupable and o.parent is None]


# ------------------------------------------------------------------------------- catalog
def test_catalog_has_enough_pickupable_types():
    assert len(set(PICKUPABLE_TYPES)) >= 20
    assert all(KINDS[t].pickupable for t in PICKUPABLE_TYPES)
    assert not set(PICKUPABLE_TYPES) & set(FURNITURE_TYPES)


def test_catalog_is_consistent():
    for t in PICKUPABLE_TYPES:
        k = kind(t)
        assert k.usual_places, t
        for p in k.usual_places:
            assert KINDS[p].receptacle and not KINDS[p].pickupable, (t, p)
        assert k.mass > 0 and k.materials and min(k.size) > 0
    assert set(HEATABLE_TYPES) | set(COOLABLE_TYPES) <= set(PICKUPABLE_TYPES)
    assert all(KINDS[t].dirtyable for t in CLEANABLE_TYPES) and CLEANABLE_TYPES
    for room, pieces in ROOM_FURNITURE.items():
        assert room in ROOM_TYPES
        assert all(t in FURNITURE_TYPES for t, _ in pieces)
    with pytest.raises(KeyError, match=r"Spaceship.*known"):
        kind("Spaceship")


# -------------------------------------------------------------------------------- rooms
def test_room_count_and_a_kitchen(houses):
    for s, h in houses.items():
        assert 2 <= len(h.rooms) <= 6, s
        assert any(r.type == "Kitchen" for r in h.rooms), s
        assert all(r.type in ROOM_TYPES for r in h.rooms)
        assert len({r.id for r in h.rooms}) == len(h.rooms)
        assert h.seed == s


def test_rooms_tile_without_overlap(houses):
    for h in houses.values():
        for a, b in itertools.combinations(h.rooms, 2):
            assert not a.rect.intersects(b.rect, -EPS), (h.name, a.id, b.id)
        for r in h.rooms:
            assert r.rect.width >= 2.9 and r.rect.depth >= 2.9
            for v in (r.rect.x0, r.rect.z0, r.rect.x1, r.rect.z1):
                assert abs(v / GRID - round(v / GRID)) < EPS


def test_doors_sit_in_shared_walls(houses):
    for h in houses.values():
        assert h.doors
        for d in h.doors:
            a, b = (h.room(r) for r in d.rooms)
            assert d.width == DOOR_WIDTH
            g = d.gap
            # The doorway touches both rooms and lies within their shared wall.
            for r in (a, b):
                assert r.rect.grow(WALL_THICKNESS).contains(g), (h.name, d)
            assert a.rect.grow(EPS).intersects(b.rect.grow(EPS))


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_room_count_can_be_asked_for(n):
    h = generate_house(100 + n, n_rooms=n)
    assert len(h.rooms) == n and any(r.type == "Kitchen" for r in h.rooms)


def test_bad_room_count_is_rejected():
    with pytest.raises(GenerationError, match="between 2 and 6"):
        layout_rooms(np.random.default_rng(0), 7)
    with pytest.raises(GenerationError, match="between 2 and 6"):
        generate_house(0, n_rooms=1)


def test_generation_is_deterministic(houses):
    for s in (0, 7):
        again = generate_house(s)
        h = houses[s]
        assert again.rooms == h.rooms and again.doors == h.doors
        assert list(again.objects) == list(h.objects)
        for oid, o in h.objects.items():
            p = again.objects[oid]
            assert (p.box, p.parent, p.seg_id, p.is_dirty, p.temperature) == \
                (o.box, o.parent, o.seg_id, o.is_dirty, o.temperature)
    assert set(houses[0].objects) != set(houses[1].objects)


# -------------------------------------------------------------------------- reachability
def test_every_room_and_door_is_reachable(houses, navs):
    for s, h in houses.items():
        reach = _reach(h, navs[s])
        for d in h.doors:
            assert _door_cell(d) in reach, (s, d)
        for r in h.rooms:
            inner = r.rect.grow(-EPS)
            assert any(inner.contains_point(i * GRID, j * GRID) for i, j in reach), (s, r.id)


def test_free_cells_keep_the_agent_clear_of_obstacles(houses, navs):
    for s, h in houses.items():
        obstacles = obstacle_rects(h)
        rooms = [r.rect for r in h.rooms]
        for i, j in navs[s].free_points():
            x, z = i * GRID, j * GRID
            assert any(r.contains_point(x, z) for r in rooms)
            assert min(o.distance_to(x, z) for o in obstacles) >= AGENT_RADIUS - EPS


def test_shortest_paths_step_between_free_neighbours(houses, navs):
    for s in (0, 3, 6):
        h, nav = houses[s], navs[s]
        reach = sorted(_reach(h, nav))
        start, goal = reach[0], reach[-1]
        path = nav.shortest_path(start, {goal})
        assert path is not None and path[0] == start and path[-1] == goal
        for a, b in itertools.pairwise(path):
            assert abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1 and b in nav
        assert len(path) - 1 >= abs(goal[0] - start[0]) + abs(goal[1] - start[1])
        assert nav.shortest_path(start, {(10_000, 10_000)}) is None


def test_furniture_is_accessible(houses, navs):
    """Every floor-standing piece has a reachable cell near its footprint."""
    for s, h in houses.items():
        pts = np.array(sorted(_reach(h, navs[s])), dtype=float) * GRID
        for o in _floor_furniture(h):
            fp = o.box.footprint
            d = min(fp.distance_to(x, z) for x, z in pts)
            assert d <= AGENT_RADIUS + 0.45 + EPS, (s, o.object_id, d)


def test_every_item_is_within_reach_of_a_reachable_cell(houses, navs):
    for s, h in houses.items():
        pts = np.array(sorted(_reach(h, navs[s])), dtype=float) * GRID
        for o in h.objects.values():
            if o.kind.pickupable:
                d = min(o.box.distance_to((x, CAMERA_HEIGHT, z)) for x, z in pts)
                assert d <= VISIBILITY_DISTANCE, (s, o.object_id, d)


# ----------------------------------------------------------------------------- furniture
def test_floor_furniture_footprints_do_not_overlap(houses):
    for s, h in houses.items():
        pieces = _floor_furniture(h)
        assert pieces
        for a, b in itertools.combinations(pieces, 2):
            assert not a.box.footprint.intersects(b.box.footprint), (s, a.object_id,
                                                                     b.object_id)


def test_floor_furniture_stands_in_its_room_clear_of_doors(houses):
    for s, h in houses.items():
        for o in _floor_furniture(h):
            room = h.room(o.room)
            inner = room.rect.grow(-WALL_THICKNESS / 2)
            assert inner.contains(o.box.footprint, tol=EPS), (s, o.object_id)
            assert o.box.lo[1] == 0.0
            for d in h.doors:
                assert not o.box.footprint.intersects(d.gap), (s, o.object_id, d)


def test_required_furniture_is_present(houses):
    for s, h in houses.items():
        for r in h.rooms:
            present = {o.type for o in h.objects.values() if o.room == r.id}
            for t, required in ROOM_FURNITURE[r.type]:
                if required:
                    assert t in present, (s, r.id, t)


def test_furniture_on_furniture_rests_on_its_host(houses):
    for s, h in houses.items():
        for o in h.objects.values():
            if o.kind.pickupable or o.parent is None:
                continue
            host = h.objects[o.parent]
            assert abs(o.box.lo[1] - host.box.hi[1]) < EPS, (s, o.object_id)
            assert host.box.footprint.contains(o.box.footprint, tol=EPS), (s, o.object_id)
            if o.type == "Faucet":
                assert o.attached_to == host.object_id and host.type == "SinkBasin"
            else:
                assert host.type in o.kind.stands_on, (s, o.object_id, host.type)
        for sink in h.of_type("SinkBasin"):
            assert any(f.attached_to == sink.object_id for f in h.of_type("Faucet"))


# --------------------------------------------------------------------------------- items
def test_items_rest_on_receptacle_surfaces(houses):
    for s, h in houses.items():
        items = [o for o in h.objects.values() if o.kind.pickupable]
        assert len(items) >= 10
        for o in items:
            assert o.parent in h.objects, (s, o.object_id)
            host = h.objects[o.parent]
            assert host.kind.receptacle
            surf = surface(host)
            assert surf is not None
            assert abs(o.box.lo[1] - surf.y) < EPS, (s, o.object_id, o.box.lo[1], surf.y)
            assert surf.rect.contains(o.box.footprint, tol=EPS), (s, o.object_id)
            assert o.box.size[1] <= surf.max_h + EPS
            assert sorted(o.box.size) == pytest.approx(sorted(o.kind.size))
            assert not o.is_picked_up and o.room == host.room
            assert o.temperature == ("Cold" if host.kind.cold_source else "RoomTemp")
            assert not o.is_dirty or o.kind.dirtyable


def test_items_on_one_receptacle_do_not_overlap(houses):
    for s, h in houses.items():
        for host in h.objects.values():
            kids = h.children(host.object_id)
            for a, b in itertools.combinations(kids, 2):
                assert not a.box.footprint.intersects(b.box.footprint), (s, a.object_id,
                                                                         b.object_id)


def test_items_go_to_their_usual_places(houses):
    for h in houses.values():
        for o in h.objects.values():
            if o.kind.pickupable:
                assert h.objects[o.parent].type in o.kind.usual_places, o.object_id


def test_houses_show_a_variety_of_items(houses):
    types = {o.type for h in houses.values() for o in h.objects.values() if o.kind.pickupable}
    assert len(types) >= 20


# ------------------------------------------------------------------------------ identity
def test_ids_and_segmentation_ids_are_unique(houses):
    num = r"[+-]\d{2}\.\d{2}"
    pattern = re.compile(rf"^[A-Za-z]+\|{num}\|{num}\|{num}(\|\d+)?$")
    for h in houses.values():
        segs = [o.seg_id for o in h.objects.values()]
        assert len(set(segs)) == len(segs) and min(segs) >= FIRST_OBJECT_SEG
        assert segs == sorted(segs)  # objects are kept in segmentation-id order
        for oid, o in h.objects.items():
            assert oid == o.object_id and pattern.match(oid), oid
            assert oid.split("|")[0] == o.type


def test_rect_helpers():
    r = Rect(0, 0, 2, 1)
    assert r.intersects(Rect(1.5, 0.5, 3, 2)) and not r.intersects(Rect(2, 0, 3, 1))
    assert r.intersects(Rect(2, 0, 3, 1), margin=0.01)
    assert r.contains(Rect(0.5, 0.2, 1, 0.8)) and not r.contains(Rect(1.5, 0.5, 3, 2))
    assert r.distance_to(3, 1) == pytest.approx(1.0) and r.distance_to(1, 0.5) == 0.0
    with pytest.raises(ValueError):
        Rect(1, 0, 0, 1)
