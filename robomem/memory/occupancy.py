"""A 2D occupancy grid on the floor plane that grows as the agent sees more of the house.

Cells are ``resolution`` metres square and *centred* on multiples of the resolution, so the
0.25 m navigation lattice points fall on cell centres. Floor points (``y <= floor_max``)
are evidence of free floor; points in the obstacle band (the agent's body height) are
evidence of an obstacle. Occupied evidence weighs ``occupied_gain`` free observations, so a
cell once seen occupied needs many later free sightings (with no obstacle point in it)
before it turns free again. Walls seen from one side only leave unknown cells behind them.

Example:
    >>> import numpy as np
    >>> from robomem.memory.occupancy import FREE, OCCUPIED, OccupancyGrid
    >>> g = OccupancyGrid(resolution=0.1)
    >>> xs, zs = np.meshgrid(np.arange(0, 2, 0.05), np.arange(0, 2, 0.05))
    >>> floor = np.stack([xs.ravel(), np.zeros(xs.size), zs.ravel()], axis=1)
    >>> g.update(np.vstack([floor, [[1.0, 0.5, 1.0]]]))
    >>> g.state(0.5, 0.5) == FREE, g.state(1.0, 1.0) == OCCUPIED
    (True, True)
    >>> g.disc_clear(np.array([[0.5, 0.5], [1.1, 1.0]]), radius=0.2).tolist()
    [True, False]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

__all__ = ["FREE", "OCCUPIED", "UNKNOWN", "Frontier", "OccupancyGrid"]

UNKNOWN, FREE, OCCUPIED = 0, 1, 2
_COLORS = np.array([[128, 128, 128], [255, 255, 255], [0, 0, 0]], np.uint8)


@dataclass(frozen=True)
class Frontier:
    """A cluster of free cells bordering unknown space (where exploring pays off).

    Attributes:
        centroid_xz: mean (x, z) of the cluster's cells, in metres.
        size: number of cells.
        cells: (size, 2) world (x, z) centres of the cluster's cells.
    """

    centroid_xz: tuple[float, float]
    size: int
    cells: NDArray[np.float64]


class OccupancyGrid:
    """Free / occupied / unknown floor cells, stored as an int8 array indexed ``[ix, iz]``.

    Args:
        resolution: cell size in metres.
        obstacle_band: (low, high) heights in metres of points that block the agent.
        floor_max: points at or below this height are floor.
        occupied_gain: how many free sightings one occupied sighting outweighs.
        occupied_cap: evidence cap (bounds how long a cell stays occupied).
        pad: metres of margin added whenever the grid grows.
    """

    def __init__(self, resolution: float = 0.05, obstacle_band: tuple[float, float] = (0.15, 1.8),
                 floor_max: float = 0.05, occupied_gain: int = 5, occupied_cap: int = 40,
                 pad: float = 2.0) -> None:
        self.resolution = float(resolution)
        self.obstacle_band = (float(obstacle_band[0]), float(obstacle_band[1]))
        self.floor_max = float(floor_max)
        self.occupied_gain, self.occupied_cap = int(occupied_gain), int(occupied_cap)
        self.pad = max(float(pad), 1.0)
        self.reset()

    # ------------------------------------------------------------------ storage
    def reset(self) -> None:
        """Forget everything (the grid becomes empty)."""
        self.origin = np.zeros(2, np.int64)  # cell index of array element [0, 0]
        self.grid: NDArray[np.int8] = np.zeros((0, 0), np.int8)
        self.evidence: NDArray[np.int16] = np.zeros((0, 0), np.int16)  # > 0: occupied
        self.height: NDArray[np.float32] = np.zeros((0, 0), np.float32)  # top of obstacle
        self.version = 0  # bumped on every change (caches key on it)
        self._cache: dict[str, tuple[int, NDArray[Any]]] = {}

    @property
    def shape(self) -> tuple[int, int]:
        """(nx, nz) cells."""
        return (int(self.grid.shape[0]), int(self.grid.shape[1]))

    def bounds(self) -> tuple[float, float, float, float]:
        """``(x0, z0, x1, z1)`` in metres covered by the array (all zeros when empty)."""
        r = self.resolution
        lo = (self.origin - 0.5) * r
        hi = lo + np.array(self.shape) * r
        return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))

    def cell_index(self, xz: NDArray[Any]) -> NDArray[np.int64]:
        """(N, 2) global cell indices of (N, 2) world (x, z) points."""
        return np.rint(np.asarray(xz, np.float64).reshape(-1, 2) / self.resolution).astype(
            np.int64)

    def cell_centers(self, ij: NDArray[Any]) -> NDArray[np.float64]:
        """World (x, z) centres of (N, 2) *array* indices."""
        return np.asarray((np.asarray(ij).reshape(-1, 2) + self.origin) * self.resolution,
                          np.float64)

    def _ensure(self, cells: NDArray[np.int64]) -> None:
        """Grow the arrays so that global cell indices ``cells`` (N, 2) fit."""
        if len(cells) == 0:
            return
        lo, hi = cells.min(axis=0), cells.max(axis=0)
        n = np.array(self.shape)
        if n.min() > 0 and (lo >= self.origin).all() and (hi < self.origin + n).all():
            return
        m = int(np.ceil(self.pad / self.resolution))
        if n.min() == 0:
            new_lo, new_hi = lo - m, hi + m + 1
        else:
            cur_lo, cur_hi = self.origin, self.origin + n
            new_lo = np.where(lo < cur_lo, lo - m, cur_lo)
            new_hi = np.where(hi >= cur_hi, hi + m + 1, cur_hi)
        size = tuple(int(v) for v in new_hi - new_lo)
        grid, ev = np.zeros(size, np.int8), np.zeros(size, np.int16)
        top = np.zeros(size, np.float32)
        if n.min() > 0:
            o = self.origin - new_lo
            win = (slice(o[0], o[0] + n[0]), slice(o[1], o[1] + n[1]))
            grid[win], ev[win], top[win] = self.grid, self.evidence, self.height
        self.grid, self.evidence, self.height = grid, ev, top
        self.origin = new_lo.astype(np.int64)

    def _local(self, xz: NDArray[Any]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """Array indices of world points and whether each lies inside the array."""
        ij = self.cell_index(xz) - self.origin
        ok = np.asarray((ij >= 0).all(axis=1) & (ij < np.array(self.shape)).all(axis=1), bool)
        return np.asarray(ij, np.int64), ok

    # ------------------------------------------------------------------ updates
    def update(self, points: NDArray[Any]) -> None:
        """Integrate (N, 3) world points of one frame."""
        p = np.asarray(points, np.float64).reshape(-1, 3)
        p = p[np.isfinite(p).all(axis=1)]
        y = p[:, 1]
        floor = y <= self.floor_max
        obst = (y >= self.obstacle_band[0]) & (y <= self.obstacle_band[1])
        keep = floor | obst
        if not keep.any():
            return
        cells = self.cell_index(p[keep][:, [0, 2]])
        self._ensure(cells)
        flat = np.ravel_multi_index((cells - self.origin).T, self.shape)
        is_obst = obst[keep]
        occ = np.unique(flat[is_obst])
        free = np.setdiff1d(flat[~is_obst], occ, assume_unique=False)
        g, ev, top = self.grid.reshape(-1), self.evidence.reshape(-1), self.height.reshape(-1)
        ev[occ] = np.minimum(ev[occ] + self.occupied_gain, self.occupied_cap)
        g[occ] = OCCUPIED
        np.maximum.at(top, flat[is_obst], y[keep][is_obst].astype(np.float32))
        ev[free] = np.maximum(ev[free] - 1, 0)
        g[free] = np.where(ev[free] > 0, OCCUPIED, FREE)
        top[free] = np.where(ev[free] > 0, top[free], 0.0)
        self.version += 1

    def mark_blocked(self, x: float, z: float, radius: float = 0.1) -> None:
        """Mark a disc occupied with full evidence (a collision told us something is there)."""
        self._set_disc(x, z, radius, OCCUPIED)

    def mark_free(self, x: float, z: float, radius: float = 0.15) -> None:
        """Mark a disc free and clear its evidence (the agent's own body stands there)."""
        self._set_disc(x, z, radius, FREE)

    def _set_disc(self, x: float, z: float, radius: float, state: int) -> None:
        r = self.resolution
        k = int(np.ceil(radius / r))
        c = self.cell_index(np.array([[x, z]]))[0]
        di, dj = np.meshgrid(np.arange(-k, k + 1), np.arange(-k, k + 1), indexing="ij")
        near = (di * r) ** 2 + (dj * r) ** 2 <= radius ** 2 + 1e-9
        cells = np.stack([di[near], dj[near]], axis=1) + c
        self._ensure(cells)
        ij = (cells - self.origin).T
        self.grid[ij[0], ij[1]] = state
        self.evidence[ij[0], ij[1]] = self.occupied_cap if state == OCCUPIED else 0
        self.height[ij[0], ij[1]] = self.obstacle_band[1] if state == OCCUPIED else 0.0
        self.version += 1

    # ------------------------------------------------------------------ queries
    def state(self, x: float, z: float) -> int:
        """UNKNOWN, FREE or OCCUPIED at world point (x, z)."""
        return int(self.states(np.array([[x, z]]))[0])

    def states(self, pts_xz: NDArray[Any]) -> NDArray[np.int8]:
        """Cell states of (N, 2) world points (UNKNOWN outside the grid)."""
        ij, ok = self._local(pts_xz)
        out = np.zeros(len(ij), np.int8)
        out[ok] = self.grid[ij[ok, 0], ij[ok, 1]]
        return out

    def heights(self, pts_xz: NDArray[Any]) -> NDArray[np.float32]:
        """Top (m) of the obstacle seen in the cell of each (N, 2) point (0: none known).

        Only the obstacle band is recorded, so walls read as ``obstacle_band[1]``.
        """
        ij, ok = self._local(pts_xz)
        out = np.zeros(len(ij), np.float32)
        out[ok] = self.height[ij[ok, 0], ij[ok, 1]]
        return out

    def _cached(self, name: str, fn: Any) -> NDArray[Any]:
        hit = self._cache.get(name)
        if hit is None or hit[0] != self.version:
            hit = (self.version, fn())
            self._cache[name] = hit
        return hit[1]

    def _edt_to(self, mask: NDArray[np.bool_]) -> NDArray[np.float64]:
        """Distance (m) from every cell centre to the nearest cell where ``mask`` holds."""
        if not mask.any():
            return np.full(mask.shape, np.inf)
        return np.asarray(ndimage.distance_transform_edt(~mask), np.float64) * self.resolution

    def obstacle_distance(self) -> NDArray[np.float64]:
        """Per cell, the distance in metres to the nearest occupied cell centre (cached)."""
        return self._cached("occ", lambda: self._edt_to(self.grid == OCCUPIED))

    def disc_clear(self, pts_xz: NDArray[Any], radius: float = 0.2, unknown_ok: bool = True,
                   tolerance: float = 0.0) -> NDArray[np.bool_]:
        """Whether a disc of ``radius`` at each of (N, 2) points avoids every occupied cell.

        Args:
            pts_xz: world (x, z) disc centres.
            radius: disc radius in metres.
            unknown_ok: if False, the centre must also be within one cell of a free cell.
            tolerance: slack for cell quantisation: an occupied cell counts as touching the
                disc when its centre is closer than ``radius - tolerance``. With 0 (the
                default) a wall face exactly ``radius`` away leaves the disc clear, and a
                surface in the far half of a cell may be missed by up to half a cell
                (a collision the agent then reports with :meth:`mark_blocked`).

        Returns:
            (N,) bool.
        """
        pts = np.asarray(pts_xz, np.float64).reshape(-1, 2)
        out = np.ones(len(pts), bool)
        if self.grid.size == 0:
            return out if unknown_ok else ~out
        ij, ok = self._local(pts)
        d = self.obstacle_distance()
        # Outside the array no occupied cell lies within `pad` (>= 1 m) of the point.
        out[ok] = d[ij[ok, 0], ij[ok, 1]] >= radius - tolerance - 1e-9
        if not unknown_ok:
            near_free = self._cached("free", lambda: self._edt_to(self.grid == FREE))
            out &= ok
            out[ok] &= near_free[ij[ok, 0], ij[ok, 1]] <= 1.5 * self.resolution
        return out

    def frontiers(self, min_size: int = 3, hole_area: float = 0.1) -> list[Frontier]:
        """Clusters of free cells 4-adjacent to unknown space, largest first.

        Unknown holes smaller than ``hole_area`` m² inside seen space (gaps between sparse
        floor points) are not frontiers.
        """
        if self.grid.size == 0:
            return []
        free = self.grid == FREE
        unknown = self.grid == UNKNOWN
        lab, n = ndimage.label(unknown)
        if n:
            sizes = np.bincount(lab.ravel())
            small = sizes < hole_area / self.resolution ** 2
            small[0] = False
            unknown &= ~small[lab]
        pad = np.pad(unknown, 1, constant_values=True)
        border = pad[:-2, 1:-1] | pad[2:, 1:-1] | pad[1:-1, :-2] | pad[1:-1, 2:]
        front = free & border
        lab, n = ndimage.label(front, structure=np.ones((3, 3), bool))
        ij = np.argwhere(lab > 0)
        order = np.argsort(lab[ij[:, 0], ij[:, 1]], kind="stable")
        ij = ij[order]
        counts = np.bincount(lab[ij[:, 0], ij[:, 1]], minlength=n + 1)[1:]
        out: list[Frontier] = []
        for part in np.split(ij, np.cumsum(counts)[:-1]) if n else []:
            if len(part) < min_size:
                continue
            xz = self.cell_centers(part)
            c = xz.mean(axis=0)
            out.append(Frontier((float(c[0]), float(c[1])), len(part), xz))
        out.sort(key=lambda f: (-f.size, f.centroid_xz))
        return out

    # ------------------------------------------------------------------ serialisation
    def to_state(self) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
        """Settings (JSON-ready) and arrays (``origin``, ``grid``, ``evidence``, ``height``)."""
        meta = {"resolution": self.resolution, "obstacle_band": list(self.obstacle_band),
                "floor_max": self.floor_max, "occupied_gain": self.occupied_gain,
                "occupied_cap": self.occupied_cap, "pad": self.pad, "version": self.version}
        arrays = {"origin": self.origin.copy(), "grid": self.grid.copy(),
                  "evidence": self.evidence.copy(), "height": self.height.copy()}
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict[str, Any],
                   arrays: dict[str, NDArray[Any]]) -> OccupancyGrid:
        """Inverse of :meth:`to_state`.

        Raises:
            ValueError: arrays of the wrong shape or cell states outside UNKNOWN..OCCUPIED.
        """
        band = meta["obstacle_band"]
        g = cls(float(meta["resolution"]), (float(band[0]), float(band[1])),
                float(meta["floor_max"]), int(meta["occupied_gain"]), int(meta["occupied_cap"]),
                float(meta["pad"]))
        origin, grid = np.asarray(arrays["origin"]), np.asarray(arrays["grid"])
        evidence, height = np.asarray(arrays["evidence"]), np.asarray(arrays["height"])
        if origin.shape != (2,) or grid.ndim != 2 or evidence.shape != grid.shape or (
                height.shape != grid.shape):
            raise ValueError(f"occupancy arrays do not fit: origin {origin.shape}, grid "
                             f"{grid.shape}, evidence {evidence.shape}, height {height.shape}")
        if grid.size and (grid.min() < UNKNOWN or grid.max() > OCCUPIED):
            raise ValueError(f"occupancy cell states must be {UNKNOWN}..{OCCUPIED}, got "
                             f"{int(grid.min())}..{int(grid.max())}")
        g.origin = origin.astype(np.int64)
        g.grid, g.evidence = grid.astype(np.int8), evidence.astype(np.int16)
        g.height = height.astype(np.float32)
        g.version = int(meta["version"])
        return g

    def image(self) -> NDArray[np.uint8]:
        """(H, W, 3) uint8 top view: unknown grey, free white, occupied black.

        Seen from above: rows run from high z (top) to low z, columns from high x (left) to
        low x (see docs/household.md: with +z up the page, +x points left).
        """
        return np.asarray(_COLORS[self.grid.T[::-1, ::-1]], np.uint8)
