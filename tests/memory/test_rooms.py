from __future__ import annotations

from collections import Counter

import numpy as np

from robomem.memory import SpatialMemory, SpatialMemoryConfig
from robomem.memory.occupancy import FREE, OccupancyGrid
from robomem.memory.rooms import RoomMap, guess_room_type
from robomem.memory.scene_graph import SceneGraph
from tests.fixtures.household import make_sim
from tests.fixtures.memory import explore, lattice
from tests.memory.conftest import Explored
from tests.memory.test_navigation import wall
from tests.memory.test_occupancy import floor


def house(with_third: bool = False) -> OccupancyGrid:
    """Two 4 x 4 m rooms side by side (door at z in [1.5, 2.5]); optionally a third below."""
    parts = [floor(0, 8, 0, 4), wall(-0.1, -0.1, 8.1, 0.0), wall(-0.1, 4.0, 8.1, 4.1),
             wall(-0.1, -0.1, 0.0, 4.1), wall(8.0, -0.1, 8.1, 4.1),
             wall(3.95, 0, 4.05, 1.5), wall(3.95, 2.5, 4.05, 4)]
    if with_third:  # open the south wall of the first room through a door at x in [1.5, 2.5]
        parts = [floor(0, 8, 0, 4), wall(-0.1, 4.0, 8.1, 4.1), wall(8.0, -4.1, 8.1, 4.1),
                 wall(3.95, 0, 4.05, 1.5), wall(3.95, 2.5, 4.05, 4),
                 floor(0, 4, -4, 0), wall(-0.1, -4.1, 0.0, 4.1), wall(-0.1, -4.1, 4.1, -4.0),
                 wall(4.0, -4.1, 4.1, 0.0), wall(-0.1, -0.05, 1.5, 0.05),
                 wall(2.5, -0.05, 8.1, 0.05)]
    g = OccupancyGrid()
    g.update(np.vstack(parts) * [1, 1.4, 1])  # walls up to 1.68 m: structure
    return g


def test_two_rooms_split_at_the_doorway() -> None:
    rooms = RoomMap.segment(house())
    assert rooms.room_ids() == ["room_0", "room_1"]
    a, b = rooms.room_of(1.0, 1.0), rooms.room_of(7.0, 3.0)
    assert a != b and a is not None and b is not None
    assert rooms.room_of(0.2, 3.8) == a and rooms.room_of(4.3, 0.2) == b
    assert rooms.room_of(4.0, 2.0) in (a, b)  # the doorway itself goes to either side
    assert rooms.room_of(20.0, 20.0) is None
    areas = rooms.areas()
    assert abs(areas[a] - 16) < 1.5 and abs(areas[b] - 16) < 1.5
    assert rooms.rooms_of(np.array([[1.0, 1.0], [7.0, 3.0]])) == [a, b]
    assert rooms.image().shape[2] == 3


def test_furniture_does_not_split_a_room_but_walls_do() -> None:
    g = house()
    # a low bed-like block filling the west room but for 0.4 m gaps along three walls
    bed = wall(0.4, 0.4, 3.6, 3.6) * [1, 0.5, 1]  # up to 0.6 m high
    g.update(np.vstack([floor(0, 4, 0, 4), bed]))
    rooms = RoomMap.segment(g)
    assert len(rooms.room_ids()) == 2
    assert rooms.room_of(0.2, 0.2) == rooms.room_of(0.2, 3.8) == rooms.room_of(2.0, 2.0)
    low = OccupancyGrid()  # only low walls were seen: every obstacle counts as structure
    low.update(np.vstack([floor(0, 8, 0, 4), wall(3.95, 0, 4.05, 1.5), wall(3.95, 2.5, 4.05, 4)]))
    assert len(RoomMap.segment(low).room_ids()) == 2


def test_room_ids_are_stable_across_segmentations() -> None:
    first = RoomMap.segment(house())
    west, east = first.room_of(1.0, 1.0), first.room_of(7.0, 1.0)
    again = RoomMap.segment(house(with_third=True), previous=first)
    assert len(again.room_ids()) == 3
    assert again.room_of(1.0, 1.0) == west and again.room_of(7.0, 1.0) == east
    third = again.room_of(2.0, -2.0)
    assert third not in (west, east) and third == "room_2"


def test_empty_and_furniture_only_grids() -> None:
    assert RoomMap.segment(OccupancyGrid()).room_ids() == []
    assert RoomMap().room_of(0.0, 0.0) is None
    g = OccupancyGrid()
    g.update(floor(0, 0.5, 0, 0.5))  # too small to hold a room core
    assert RoomMap.segment(g).room_ids() == []


def test_guess_room_type() -> None:
    assert guess_room_type({"Fridge", "Cabinet"}) == "Kitchen"
    assert guess_room_type({"SinkBasin", "CounterTop"}) == "Kitchen"
    assert guess_room_type({"SinkBasin", "Toilet"}) == "Bathroom"
    assert guess_room_type({"SinkBasin"}) == "Unknown"
    assert guess_room_type({"Bed", "SideTable"}) == "Bedroom"
    assert guess_room_type({"Sofa"}) == guess_room_type({"Television"}) == "LivingRoom"
    assert guess_room_type(set()) == "Unknown"
    assert RoomMap.segment(house()).room_types(SceneGraph()) == {
        "room_0": "Unknown", "room_1": "Unknown"}


def test_segmentation_of_an_explored_two_room_house(explored: Explored) -> None:
    env, mem = explored.env, explored.memory
    rooms = RoomMap.segment(mem.grid)
    assert len(rooms.room_ids()) == 2
    ij = np.argwhere(mem.grid.grid == FREE)
    xz = mem.grid.cell_centers(ij)
    pred = rooms.rooms_of(xz)
    truth = [getattr(env.house.room_at(x, z), "id", None) for x, z in xz]
    mapping: dict[str | None, str | None] = {}
    for (p, t), _ in Counter(zip(pred, truth)).most_common():
        if p not in mapping and t not in mapping.values():
            mapping[p] = t
    agree = np.mean([mapping.get(p) == t for p, t in zip(pred, truth)])
    assert agree >= 0.9
    types = {env.house.room(mapping[r]).type: mem.graph.rooms[r] for r in rooms.room_ids()}
    assert types == {"Kitchen": "Kitchen", "LivingRoom": "LivingRoom"}


def test_segmentation_of_a_six_room_house() -> None:
    env = make_sim(seed=3, width=64, height=64)
    assert env.house is not None and len(env.house.rooms) == 6
    mem = SpatialMemory(SpatialMemoryConfig(rooms_every=0, use_voxels=False))
    explore(env, mem, lattice(env, every=3))
    rooms = RoomMap.segment(mem.grid)
    assert len(rooms.room_ids()) == 6
    ij = np.argwhere(mem.grid.grid == FREE)
    xz = mem.grid.cell_centers(ij)
    pred = rooms.rooms_of(xz)
    truth = [getattr(env.house.room_at(x, z), "id", None) for x, z in xz]
    pairs = Counter(zip(pred, truth))
    assert sum(max(c for (p, _), c in pairs.items() if p == r) for r in rooms.room_ids()) \
        >= 0.9 * len(xz)
