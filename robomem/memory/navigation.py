"""Path planning on the agent's 0.25 m move lattice over an :class:`OccupancyGrid`.

Lattice cell ``(i, j)`` is the floor point ``(0.25 i, 0.25 j)``; the agent (a disc of radius
0.2 m) moves between 4-adjacent cells. A cell is traversable when the occupancy grid says
the disc there touches no occupied cell (unknown space is allowed unless ``unknown_ok`` is
False). Traversability is evaluated for the whole lattice window at once (numpy), so A*
itself is pure bookkeeping.

Example:
    >>> import numpy as np
    >>> from robomem.memory.navigation import astar, cell_of
    >>> from robomem.memory.occupancy import OccupancyGrid
    >>> g = OccupancyGrid()
    >>> wall = np.array([[1.0, 1.0, z] for z in np.arange(-1.0, 1.0, 0.02)])
    >>> g.update(wall)
    >>> path = astar(g, (0.0, 0.0), {cell_of(2.0, 0.0)})
    >>> path[0], path[-1], all(abs(0.25 * i - 1.0) > 0.2 or 0.25 * j >= 1.2 for i, j in path)
    ((0, 0), (8, 0), True)
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from robomem.geometry import AABB
from robomem.memory.occupancy import FREE, OccupancyGrid

__all__ = ["AGENT_RADIUS", "LATTICE", "Cell", "astar", "cell_of", "cell_xz", "sight_clear",
           "viewpoints"]

Cell = tuple[int, int]
LATTICE = 0.25
AGENT_RADIUS = 0.2
_STEPS = ((1, 0), (-1, 0), (0, 1), (0, -1))


def cell_of(x: float, z: float) -> Cell:
    """The lattice cell nearest to world point (x, z)."""
    return (round(x / LATTICE), round(z / LATTICE))


def cell_xz(c: Cell) -> tuple[float, float]:
    """World (x, z) of lattice cell ``c``."""
    return (c[0] * LATTICE, c[1] * LATTICE)


class _Window:
    """Traversability of every lattice cell in a rectangular window, computed at once."""

    def __init__(self, grid: OccupancyGrid, cells: list[Cell], radius: float,
                 unknown_ok: bool, margin: int) -> None:
        x0, z0, x1, z1 = grid.bounds()
        arr = np.array(cells, np.int64).reshape(-1, 2)
        lo = np.minimum(arr.min(axis=0), [int(np.floor(x0 / LATTICE)), int(np.floor(z0 / LATTICE))])
        hi = np.maximum(arr.max(axis=0), [int(np.ceil(x1 / LATTICE)), int(np.ceil(z1 / LATTICE))])
        self.lo = lo - margin
        shape = hi + margin + 1 - self.lo
        ii, jj = np.meshgrid(np.arange(shape[0]) + self.lo[0], np.arange(shape[1]) + self.lo[1],
                             indexing="ij")
        xz = np.stack([ii.ravel(), jj.ravel()], axis=1) * LATTICE
        self.ok = grid.disc_clear(xz, radius, unknown_ok).reshape(ii.shape)
        self.shape = self.ok.shape
        self.outside = unknown_ok  # far outside the grid nothing is known: unknown

    def __call__(self, c: Cell) -> bool:
        i, j = c[0] - int(self.lo[0]), c[1] - int(self.lo[1])
        if 0 <= i < self.shape[0] and 0 <= j < self.shape[1]:
            return bool(self.ok[i, j])
        return self.outside


def astar(grid: OccupancyGrid, start_xz: tuple[float, float], goals: set[Cell],
          blocked_edges: set[tuple[Cell, Cell]] | None = None, unknown_ok: bool = True,
          max_nodes: int = 20000, radius: float = AGENT_RADIUS) -> list[Cell] | None:
    """Shortest 4-connected lattice path from the agent's cell to any of ``goals``.

    Args:
        grid: the occupancy grid.
        start_xz: the agent's (x, z); its cell is always allowed.
        goals: target cells (only traversable ones can be reached).
        blocked_edges: moves known to fail, as ``(from, to)`` pairs (both directions blocked).
        unknown_ok: whether unknown space is traversable.
        max_nodes: expansion budget; None is returned when it runs out.
        radius: agent radius in metres.

    Returns:
        The cells from the start to the reached goal (both included), or None.
    """
    start = cell_of(*start_xz)
    if not goals:
        return None
    if start in goals:
        return [start]
    blocked = blocked_edges or set()
    free = _Window(grid, [start, *goals], radius, unknown_ok, margin=8)
    g_list = sorted(goals)
    g_arr = np.array(g_list, np.int64)

    def h(c: Cell) -> float:
        if len(g_list) <= 16:
            return min(abs(c[0] - i) + abs(c[1] - j) for i, j in g_list) * LATTICE
        return float(np.abs(g_arr - np.array(c)).sum(axis=1).min()) * LATTICE

    tie = itertools.count()
    open_heap: list[tuple[float, float, int, Cell]] = [(h(start), h(start), next(tie), start)]
    came: dict[Cell, Cell | None] = {start: None}
    cost: dict[Cell, float] = {start: 0.0}
    closed: set[Cell] = set()
    while open_heap and len(closed) < max_nodes:
        _, _, _, c = heapq.heappop(open_heap)
        if c in closed:
            continue
        if c in goals:
            path = [c]
            while (prev := came[path[-1]]) is not None:
                path.append(prev)
            return path[::-1]
        closed.add(c)
        for di, dj in _STEPS:
            n = (c[0] + di, c[1] + dj)
            if n in closed or (c, n) in blocked or (n, c) in blocked or not free(n):
                continue
            g = cost[c] + LATTICE
            if g < cost.get(n, np.inf):
                cost[n], came[n] = g, c
                hn = h(n)
                heapq.heappush(open_heap, (g + hn, hn, next(tie), n))
    return None


def sight_clear(grid: OccupancyGrid, cams: NDArray[np.float64], targets: NDArray[np.float64],
                ignore: Sequence[AABB] = (), grow: float = 0.05,
                margin: float = 0.05) -> NDArray[np.bool_]:
    """2.5D line of sight: whether each camera ``cams[k]`` sees point ``targets[k]``.

    The segment is sampled every half cell; a sample is blocked when the top of the obstacle
    recorded in its cell (:meth:`OccupancyGrid.heights`) is above the segment (by more than
    ``margin``). Cells inside the footprints of ``ignore`` boxes (grown by ``grow``) never
    block: the target itself and what holds it.
    """
    n = len(cams)
    if n == 0:
        return np.zeros(0, bool)
    span = np.linalg.norm((targets - cams)[:, [0, 2]], axis=1)
    steps = max(int(np.ceil(span.max() / (0.5 * grid.resolution))), 1)
    t = (np.arange(steps) + 0.5) / steps
    pts = cams[:, None, :] + t[None, :, None] * (targets - cams)[:, None, :]  # (N, S, 3)
    flat = pts.reshape(-1, 3)
    blocked = grid.heights(flat[:, [0, 2]]) > flat[:, 1] + margin
    for b in ignore:
        inside = ((flat[:, 0] >= b.lo[0] - grow) & (flat[:, 0] <= b.hi[0] + grow)
                  & (flat[:, 2] >= b.lo[2] - grow) & (flat[:, 2] <= b.hi[2] + grow))
        blocked &= ~inside
    return np.asarray(~blocked.reshape(n, steps).any(axis=1), bool)


def viewpoints(grid: OccupancyGrid, box: AABB, reach: float = 1.4, camera_height: float = 1.5,
               max_radius: float = 2.0, radius: float = AGENT_RADIUS,
               floor_max: float = 0.05, ignore: Sequence[AABB] = (),
               line_of_sight: bool = True) -> list[Cell]:
    """Lattice cells from which the camera is within ``reach`` of ``box`` and can see it.

    Candidates lie within ``max_radius`` (horizontally) of the box's footprint and must be
    disc-clear (unknown space allowed). When the box stands on the floor (its bottom is at
    most ``floor_max`` high) the agent's disc must also stay out of its footprint. With
    ``line_of_sight``, the segment from the camera to the box's nearest point must pass
    over every obstacle the grid knows, except the box itself and the ``ignore`` boxes
    (pass the receptacle holding it), so a wall between the two rooms rules a cell out;
    when no candidate passes that test, it is dropped rather than returning nothing.

    Returns:
        Cells sorted known-free first, then those clear by an extra half cell, then by
        camera-to-box distance, then by cell.
    """
    lo = box.lo[[0, 2]] - max_radius
    hi = box.hi[[0, 2]] + max_radius
    i0, j0 = np.ceil(lo / LATTICE).astype(int)
    i1, j1 = np.floor(hi / LATTICE).astype(int)
    ii, jj = np.meshgrid(np.arange(i0, i1 + 1), np.arange(j0, j1 + 1), indexing="ij")
    cells = np.stack([ii.ravel(), jj.ravel()], axis=1)
    xz = cells * LATTICE
    cam = np.column_stack([xz[:, 0], np.full(len(xz), camera_height), xz[:, 1]])
    near = np.clip(cam, box.lo, box.hi)
    gap = cam - near
    dist = np.linalg.norm(gap, axis=1)
    flat = np.linalg.norm(gap[:, [0, 2]], axis=1)
    keep = (dist <= reach) & (flat <= max_radius)
    if box.lo[1] <= floor_max:  # it stands on the floor: the agent cannot stand in it
        keep &= flat >= radius - 1e-6
    keep[keep] = grid.disc_clear(xz[keep], radius, unknown_ok=True)
    if line_of_sight and keep.any():
        seen = keep.copy()
        seen[keep] = sight_clear(grid, cam[keep], near[keep], [box, *ignore])
        if seen.any():  # 2.5D sight is conservative (an open cabinet's top hides its inside)
            keep = seen
    unknown = grid.states(xz) != FREE
    # Cells that stay clear with half a cell more margin first: obstacle surfaces are only
    # known to the cell, and the cells nearest to furniture are the ones that may touch it.
    tight = np.ones(len(xz), bool)
    tight[keep] = ~grid.disc_clear(xz[keep], radius + 0.5 * grid.resolution, unknown_ok=True)
    order = np.lexsort((cells[:, 1], cells[:, 0], dist, tight, unknown))
    return [(int(cells[k, 0]), int(cells[k, 1])) for k in order if keep[k]]


def path_length(path: list[Cell]) -> float:
    """Length in metres of a lattice path."""
    return LATTICE * max(len(path) - 1, 0)


def cells_xz(path: list[Cell]) -> NDArray[np.float64]:
    """(N, 2) world (x, z) of a list of cells."""
    return np.array(path, np.float64).reshape(-1, 2) * LATTICE
