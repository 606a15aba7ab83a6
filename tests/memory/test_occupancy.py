from __future__ import annotations

import numpy as np
import pytest

from robomem.memory.occupancy import FREE, OCCUPIED, UNKNOWN, OccupancyGrid
from tests.fixtures.household import make_sim
from tests.fixtures.memory import explore, free_of, lattice
from tests.memory.conftest import TWO_ROOM_SEED, Explored


def floor(x0: float, x1: float, z0: float, z1: float, step: float = 0.05) -> np.ndarray:
    xs, zs = np.meshgrid(np.arange(x0, x1, step), np.arange(z0, z1, step), indexing="ij")
    return np.stack([xs.ravel(), np.zeros(xs.size), zs.ravel()], axis=1)


def column(x: float, z: float, y0: float = 0.2, y1: float = 1.5) -> np.ndarray:
    ys = np.arange(y0, y1, 0.1)
    return np.stack([np.full_like(ys, x), ys, np.full_like(ys, z)], axis=1)


def test_floor_is_free_obstacles_occupied_rest_unknown() -> None:
    g = OccupancyGrid()
    g.update(np.vstack([floor(0, 2, 0, 2), column(1.0, 1.0),
                        [[0.5, 2.5, 0.5], [0.3, 0.1, 0.3]]]))  # ceiling / low clutter: ignored
    assert g.state(0.5, 0.5) == FREE and g.state(0.3, 0.3) == FREE
    assert g.state(1.0, 1.0) == OCCUPIED  # occupied wins over the floor point in its cell
    assert g.state(5.0, 5.0) == UNKNOWN and g.state(-0.5, 1.0) == UNKNOWN
    assert g.states(np.array([[0.5, 0.5], [1.0, 1.0], [9.0, 9.0]])).tolist() == [
        FREE, OCCUPIED, UNKNOWN]


def test_occupied_persists_until_many_free_sightings() -> None:
    g = OccupancyGrid(occupied_gain=5)
    g.update(np.vstack([floor(0, 1, 0, 1), column(0.5, 0.5)]))
    for _ in range(4):
        g.update(floor(0, 1, 0, 1))
        assert g.state(0.5, 0.5) == OCCUPIED
    g.update(floor(0, 1, 0, 1))
    assert g.state(0.5, 0.5) == FREE


def test_mark_blocked_and_mark_free() -> None:
    g = OccupancyGrid()
    g.update(floor(0, 2, 0, 2))
    g.mark_blocked(1.0, 1.0, radius=0.1)
    assert g.state(1.0, 1.0) == OCCUPIED and g.state(1.05, 1.05) == OCCUPIED
    assert g.state(1.2, 1.0) == FREE
    for _ in range(10):
        g.update(floor(0, 2, 0, 2))
    assert g.state(1.0, 1.0) == OCCUPIED  # a collision outweighs ten free sightings
    g.mark_free(1.0, 1.0, radius=0.15)
    assert g.state(1.0, 1.0) == FREE and g.state(1.1, 1.1) == FREE
    g.mark_blocked(30.0, -30.0)  # far away: the grid grows
    assert g.state(30.0, -30.0) == OCCUPIED


def test_grows_and_keeps_what_it_knew() -> None:
    g = OccupancyGrid()
    g.update(floor(0, 1, 0, 1))
    shape = g.shape
    g.update(np.vstack([floor(10, 11, -8, -7), column(10.5, -7.5)]))
    x0, z0, x1, z1 = g.bounds()
    assert x0 <= 0 and z1 >= 1 and x1 >= 11 and z0 <= -8 and g.shape != shape
    assert g.state(0.5, 0.5) == FREE and g.state(10.2, -7.8) == FREE
    assert g.state(10.5, -7.5) == OCCUPIED


def test_disc_clear_is_vectorised_and_respects_unknown() -> None:
    g = OccupancyGrid()
    g.update(np.vstack([floor(0, 3, 0, 3), column(1.5, 1.5)]))
    pts = np.array([[1.5, 1.5], [1.65, 1.5], [1.7, 1.5], [0.5, 0.5], [2.0, 2.0], [50.0, 50.0]])
    # like the simulator, a disc exactly touching an obstacle (1.7 is 0.2 away) is clear
    assert g.disc_clear(pts, radius=0.2).tolist() == [False, False, True, True, True, True]
    strict = g.disc_clear(pts, radius=0.2, unknown_ok=False).tolist()
    assert strict == [False, False, True, True, True, False]
    assert g.disc_clear(np.array([[1.5, 2.0]]), radius=0.6).tolist() == [False]
    assert OccupancyGrid().disc_clear(pts).all()
    assert not OccupancyGrid().disc_clear(pts, unknown_ok=False).any()


def test_frontiers_ring_a_seen_patch() -> None:
    g = OccupancyGrid()
    pts = floor(0, 2, 0, 2)
    holes = (np.abs(pts[:, 0] - 1.0) < 0.06) & (np.abs(pts[:, 2] - 1.0) < 0.06)
    g.update(pts[~holes])  # a small unseen gap inside: not a frontier
    fronts = g.frontiers(min_size=3)
    assert len(fronts) == 1
    f = fronts[0]
    assert f.size == len(f.cells) > 60
    assert abs(f.centroid_xz[0] - 0.975) < 0.1 and abs(f.centroid_xz[1] - 0.975) < 0.1
    d_edge = np.minimum(np.minimum(f.cells[:, 0], 1.95 - f.cells[:, 0]),
                        np.minimum(f.cells[:, 1], 1.95 - f.cells[:, 1]))
    assert (d_edge < 1e-6).all()  # only the patch's border cells
    g.update(floor(0, 2, 3, 3.2))  # a separate thin strip: a smaller second frontier
    sizes = [f.size for f in g.frontiers(min_size=3)]
    assert len(sizes) == 2 and sizes == sorted(sizes, reverse=True)
    assert OccupancyGrid().frontiers() == []


def test_image_is_a_top_view() -> None:
    g = OccupancyGrid(resolution=0.1)
    g.update(np.vstack([floor(0, 1, 0, 1, 0.1), column(0.0, 0.9)]))
    img = g.image()
    nx, nz = g.shape
    assert img.shape == (nz, nx, 3) and img.dtype == np.uint8
    ij = np.argwhere((img == 0).all(axis=2))  # the one occupied cell, black
    assert len(ij) == 1
    row, col = ij[0]
    # high z is up, high x is left: (x=0, z=0.9) sits right of and above the patch centre
    free_rc = np.argwhere((img == 255).all(axis=2)).mean(axis=0)
    assert row < free_rc[0] and col > free_rc[1]
    g.reset()
    assert g.image().shape == (0, 0, 3) and g.state(0.5, 0.5) == UNKNOWN


@pytest.fixture(scope="module")
def one_room_seen() -> tuple:
    env = make_sim(seed=TWO_ROOM_SEED, n_rooms=2, width=80, height=80)
    assert env.house is not None
    first = env.house.rooms[0]
    g = OccupancyGrid()

    class _Mem:
        def write(self, p):  # only the grid
            g.update(p.points)

    explore(env, _Mem(), lattice(env, every=2, room=first.id))
    return env, g


def test_frontier_of_one_explored_room_leads_through_the_doorway(one_room_seen) -> None:
    env, g = one_room_seen
    door = env.house.doors[0]
    gap = door.gap
    cx, cz = gap.center
    fronts = g.frontiers(min_size=5)
    assert fronts
    d = [min(np.hypot(f.cells[:, 0] - cx, f.cells[:, 1] - cz)) for f in fronts]
    assert min(d) < 1.0  # some frontier reaches into the doorway


def test_disc_clear_agrees_with_the_simulator(explored: Explored) -> None:
    env, g = explored.env, explored.memory.grid
    b = env.house.bounds
    pts = np.array([(i, j) for i in range(int(b.x0 / 0.25), int(b.x1 / 0.25) + 1)
                    for j in range(int(b.z0 / 0.25), int(b.z1 / 0.25) + 1)], float) * 0.25
    known = g.states(pts) == FREE
    truth = np.array([free_of(env, x, z) for x, z in pts])
    mine = g.disc_clear(pts, radius=0.2)
    assert not (truth & ~mine).any(), "a truly free lattice point was marked blocked"
    assert (mine[known] == truth[known]).mean() >= 0.9
    assert known[truth].mean() >= 0.95  # exploring saw nearly every free lattice point
