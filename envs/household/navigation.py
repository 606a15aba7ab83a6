"""Collision checks and the navigation grid of a house (vectorised with numpy).

The agent is a disc of radius :data:`AGENT_RADIUS` moving on a 0.25 m grid; a position is
free when the disc is inside the house and touches no wall and no floor-standing furniture.

Example:
    >>> from robomem.envs.household.generator import generate_house
    >>> from robomem.envs.household.navigation import NavGrid
    >>> nav = NavGrid(generate_house(0))
    >>> len(nav.reachable_from(nav.free_points()[0])) > 20
    True
"""

from __future__ import annotations

from collections import deque

import numpy as np
from numpy.typing import NDArray

from robomem.envs.household.house import AGENT_RADIUS, GRID, House, Rect

Cell = tuple[int, int]


def rect_array(rects: list[Rect]) -> NDArray[np.float64]:
    """(M, 4) array of ``x0, z0, x1, z1``."""
    if not rects:
        return np.zeros((0, 4))
    return np.array([[r.x0, r.z0, r.x1, r.z1] for r in rects], dtype=np.float64)


def distances_to_rects(pts: NDArray[np.float64], rects: NDArray[np.float64]) -> NDArray[np.float64]:
    """(N, M) distances from (N, 2) points to (M, 4) rectangles (0 inside)."""
    if len(rects) == 0:
        return np.full((len(pts), 0), np.inf)
    x, z = pts[:, :1], pts[:, 1:2]
    dx = np.maximum(np.maximum(rects[None, :, 0] - x, 0.0), x - rects[None, :, 2])
    dz = np.maximum(np.maximum(rects[None, :, 1] - z, 0.0), z - rects[None, :, 3])
    return np.hypot(dx, dz)


def obstacle_rects(house: House, extra: list[Rect] | None = None) -> list[Rect]:
    """Walls plus the footprints of floor-standing furniture."""
    rects = house.wall_rects()
    rects += [o.box.footprint for o in house.objects.values()
              if not o.kind.pickupable and o.parent is None]
    return rects + (extra or [])


class NavGrid:
    """Free grid cells of a house for an agent of radius :data:`AGENT_RADIUS`.

    Cells are integer pairs ``(i, j)`` for the point ``(i * GRID, j * GRID)``.
    """

    def __init__(self, house: House, radius: float = AGENT_RADIUS) -> None:
        self.house = house
        self.radius = radius
        self._rooms = rect_array([r.rect for r in house.rooms])
        self._obstacles = rect_array(obstacle_rects(house))
        b = house.bounds
        i0, i1 = int(np.ceil(b.x0 / GRID)), int(np.floor(b.x1 / GRID))
        j0, j1 = int(np.ceil(b.z0 / GRID)), int(np.floor(b.z1 / GRID))
        ii, jj = np.meshgrid(np.arange(i0, i1 + 1), np.arange(j0, j1 + 1), indexing="ij")
        cells = np.stack([ii.ravel(), jj.ravel()], axis=1)
        free = self.free_mask(cells.astype(np.float64) * GRID)
        self._free: set[Cell] = {(int(i), int(j)) for i, j in cells[free]}

    def free_mask(self, pts: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Which (N, 2) floor points are free for the agent disc."""
        pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        inside = (distances_to_rects(pts, self._rooms) <= 1e-9).any(axis=1)
        clear = (distances_to_rects(pts, self._obstacles) >= self.radius - 1e-6).all(axis=1)
        return np.asarray(inside & clear)

    def is_free(self, x: float, z: float) -> bool:
        """Whether the agent disc fits at (x, z)."""
        return bool(self.free_mask(np.array([[x, z]]))[0])

    def free_points(self) -> list[Cell]:
        """All free cells, sorted."""
        return sorted(self._free)

    def __contains__(self, cell: object) -> bool:
        return cell in self._free

    def neighbours(self, c: Cell) -> list[Cell]:
        """Free 4-neighbours of a cell."""
        i, j = c
        return [n for n in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)) if n in self._free]

    def reachable_from(self, start: Cell) -> set[Cell]:
        """Cells reachable from ``start`` by grid moves."""
        if start not in self._free:
            return set()
        seen = {start}
        q = deque([start])
        while q:
            for n in self.neighbours(q.popleft()):
                if n not in seen:
                    seen.add(n)
                    q.append(n)
        return seen

    def largest_component(self) -> set[Cell]:
        """The biggest connected set of free cells."""
        left = set(self._free)
        best: set[Cell] = set()
        while left:
            comp = self.reachable_from(next(iter(left)))
            left -= comp
            if len(comp) > len(best):
                best = comp
        return best

    def shortest_path(self, start: Cell, goals: set[Cell]) -> list[Cell] | None:
        """Breadth-first shortest path from ``start`` to any cell in ``goals``."""
        if start in goals:
            return [start]
        prev: dict[Cell, Cell | None] = {start: None}
        q = deque([start])
        while q:
            c = q.popleft()
            for n in self.neighbours(c):
                if n in prev:
                    continue
                prev[n] = c
                if n in goals:
                    path = [n]
                    while (p := prev[path[-1]]) is not None:
                        path.append(p)
                    return path[::-1]
                q.append(n)
        return None


def cell_of(x: float, z: float) -> Cell:
    """The grid cell nearest to (x, z)."""
    return (round(x / GRID), round(z / GRID))
