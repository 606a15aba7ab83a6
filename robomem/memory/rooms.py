"""Rooms from the occupancy grid: known space split at doorways, and a type guess per room.

:meth:`RoomMap.segment` erodes the known space (free floor and furniture) by a disc a bit
wider than half a doorway, measured from *structure* only (tall obstacles: walls), so that
the 1 m doorways disconnect while room interiors stay whole however furnished; the pieces
left (room cores) are labelled, tiny ones dropped, and the labels grown back over all known
space (geodesic growth; a nearest-label fallback covers what it does not reach). Room ids
are kept stable across segmentations by overlap with the previous map.

Example:
    >>> import numpy as np
    >>> from robomem.memory.occupancy import OccupancyGrid
    >>> from robomem.memory.rooms import RoomMap
    >>> xs, zs = np.meshgrid(np.arange(0, 8, 0.05), np.arange(0, 4, 0.05), indexing="ij")
    >>> floor = np.stack([xs.ravel(), np.zeros(xs.size), zs.ravel()], axis=1)
    >>> wall = floor[(np.abs(floor[:, 0] - 4) < 0.05) & (np.abs(floor[:, 2] - 2) > 0.5)]
    >>> g = OccupancyGrid()
    >>> g.update(np.vstack([floor, wall + [0, 1.6, 0]]))
    >>> rooms = RoomMap.segment(g)
    >>> rooms.room_ids(), rooms.room_of(1.0, 1.0), rooms.room_of(7.0, 3.0)
    (['room_0', 'room_1'], 'room_0', 'room_1')
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from robomem.memory.occupancy import FREE, OCCUPIED, UNKNOWN, OccupancyGrid
from robomem.memory.view import SceneView
from robomem.ontology import Ontology, default_ontology

__all__ = ["RoomMap", "guess_room_type"]

_CROSS = ndimage.generate_binary_structure(2, 1)


def _grow(lab: NDArray[np.int32], space: NDArray[np.bool_], max_iter: int) -> NDArray[np.int32]:
    """Grow labels over ``space`` one 4-neighbour step at a time (geodesic growth).

    Contested cells take the larger label. Cells not reached within ``max_iter`` steps stay 0
    (the caller gives them the nearest label in a straight line).
    """
    lab = lab.copy()
    grown = np.empty_like(lab)
    for _ in range(max_iter):
        pending = space & (lab == 0)
        grown[:] = 0
        np.maximum(grown[1:], lab[:-1], out=grown[1:])
        np.maximum(grown[:-1], lab[1:], out=grown[:-1])
        np.maximum(grown[:, 1:], lab[:, :-1], out=grown[:, 1:])
        np.maximum(grown[:, :-1], lab[:, 1:], out=grown[:, :-1])
        pending &= grown > 0
        if not pending.any():
            break
        lab[pending] = grown[pending]
    return lab


def guess_room_type(labels: set[str], ontology: Ontology | None = None) -> str:
    """A room type from the furniture types seen in it; ``"Unknown"`` when unsure.

    The ontology's room rules decide (default: the default embodiment's).
    """
    return (ontology or default_ontology()).room_type(labels)


class RoomMap:
    """A room label for every cell of an occupancy grid.

    Attributes:
        labels: per grid cell, the index into ``ids`` of the nearest room cell plus one
            (0: no room at all).
        dist: per grid cell, metres to that room cell (0 on room cells).
        ids: room ids (``"room_0"`` ...), by label - 1.
    """

    def __init__(self, labels: NDArray[np.int32] | None = None,
                 dist: NDArray[np.float64] | None = None,
                 origin: NDArray[np.int64] | None = None, resolution: float = 0.05,
                 ids: list[str] | None = None, next_id: int = 0, max_dist: float = 1.5) -> None:
        self.labels = np.zeros((0, 0), np.int32) if labels is None else labels
        self.dist = np.zeros((0, 0)) if dist is None else dist
        self.origin = np.zeros(2, np.int64) if origin is None else origin
        self.resolution = resolution
        self.ids = list(ids or [])
        self.next_id = next_id
        self.max_dist = max_dist

    # ------------------------------------------------------------------ building
    @classmethod
    def segment(cls, grid: OccupancyGrid, doorway: float = 1.0, min_area: float = 1.0,
                hole_area: float = 0.25, previous: RoomMap | None = None,
                max_dist: float = 1.5, max_iter: int = 30,
                structure_height: float = 1.4) -> RoomMap:
        """Split the grid's free space into rooms.

        Args:
            grid: the occupancy grid.
            doorway: doorway width in metres; cores are cells farther than
                ``doorway / 2 + 0.05`` from any structure.
            structure_height: occupied cells whose obstacle reaches this high (walls, tall
                cupboards) are structure; lower ones are furniture, which rooms contain
                rather than being split by (a bedroom full of furniture stays one room).
                When no cell is that tall, every occupied cell counts as structure.
            min_area: cores smaller than this (m²) are dropped.
            hole_area: unknown gaps smaller than this (m²) inside free space count as free.
            previous: an earlier map whose room ids are carried over by overlap.
            max_dist: :meth:`room_of` answers None farther than this from any room cell.
            max_iter: cap on geodesic growth steps (one cell each); free cells farther
                along free space from every core take the nearest room in a straight line.

        Returns:
            The new map.
        """
        res = grid.resolution
        nxt = previous.next_id if previous else 0
        free = grid.grid == FREE
        if not free.any():
            return cls(resolution=res, max_dist=max_dist, next_id=nxt)
        # Work on the free space's bounding box plus room for room_of's reach.
        m = int(np.ceil(max_dist / res)) + 1
        (a0, b0), (a1, b1) = np.argwhere(free).min(axis=0) - m, np.argwhere(free).max(axis=0) + m
        a0, b0 = max(int(a0), 0), max(int(b0), 0)
        win = (slice(a0, int(a1) + 1), slice(b0, int(b1) + 1))
        state, space = grid.grid[win], free[win]
        occupied = state == OCCUPIED
        tall = occupied & (grid.height[win] >= structure_height)
        if not tall.any():
            tall = occupied
        space = space | (occupied & ~tall)
        lab, n = ndimage.label(state == UNKNOWN)
        if n:
            small = np.bincount(lab.ravel()) < hole_area / res ** 2
            small[0] = False
            space = space | small[lab]
        clear = ndimage.distance_transform_edt(~tall) * res if tall.any() else np.inf
        core = space & (clear > doorway / 2 + 0.05)
        lab, n = ndimage.label(core, structure=_CROSS)
        if n:
            big = np.bincount(lab.ravel()) >= min_area / res ** 2
            big[0] = False
            keep = np.flatnonzero(big)
            remap = np.zeros(n + 1, np.int32)
            remap[keep] = np.arange(1, len(keep) + 1, dtype=np.int32)
            lab, n = remap[lab], len(keep)
        lab = _grow(lab.astype(np.int32), space, max_iter) if n else lab.astype(np.int32)
        origin = grid.origin + np.array([a0, b0], np.int64)
        ids, nxt = cls._name(lab, n, origin, res, previous)
        if n:
            dist, (ii, jj) = ndimage.distance_transform_edt(lab == 0, return_indices=True)
            full = lab[ii, jj]
            dist[space & (lab == 0)] = 0.0  # free but beyond the growth: nearest room
        else:
            dist, full = np.full(lab.shape, np.inf), lab
        return cls(full.astype(np.int32), np.asarray(dist, np.float64) * res, origin, res, ids,
                   nxt, max_dist)

    @staticmethod
    def _name(lab: NDArray[np.int32], n: int, origin: NDArray[np.int64], res: float,
              previous: RoomMap | None) -> tuple[list[str], int]:
        """Room ids for labels 1..n: the previous id with most overlap, else a fresh one."""
        next_id = previous.next_id if previous else 0
        ids: list[str | None] = [None] * n
        if previous is not None and previous.ids and n:
            ij = np.argwhere(lab > 0)
            xz = np.asarray((ij + origin) * res, np.float64)
            old = previous._label_at(xz, exact=True)
            both = old > 0
            hist = np.zeros((n + 1, len(previous.ids) + 1), np.int64)
            np.add.at(hist, (lab[ij[both, 0], ij[both, 1]], old[both]), 1)
            taken: set[int] = set()
            for flat in np.argsort(-hist, axis=None, kind="stable"):
                k, o = np.unravel_index(flat, hist.shape)
                if hist[k, o] == 0:
                    break
                if ids[k - 1] is None and int(o) not in taken:
                    ids[k - 1] = previous.ids[o - 1]
                    taken.add(int(o))
        out: list[str] = []
        for rid in ids:
            if rid is None:
                rid, next_id = f"room_{next_id}", next_id + 1
            out.append(rid)
        return out, next_id

    # ------------------------------------------------------------------ queries
    def _label_at(self, xz: NDArray[np.float64], exact: bool = False) -> NDArray[np.int32]:
        ij = np.rint(np.asarray(xz, np.float64).reshape(-1, 2) / self.resolution).astype(
            np.int64) - self.origin
        ok = (ij >= 0).all(axis=1) & (ij < np.array(self.labels.shape)).all(axis=1)
        out = np.zeros(len(ij), np.int32)
        if self.labels.size:
            lab = self.labels[ij[ok, 0], ij[ok, 1]]
            d = self.dist[ij[ok, 0], ij[ok, 1]]
            out[ok] = np.where(d <= (0.0 if exact else self.max_dist), lab, 0)
        return out

    def room_of(self, x: float, z: float) -> str | None:
        """The id of the room at (or nearest to, within ``max_dist``) world point (x, z)."""
        k = int(self._label_at(np.array([[x, z]]))[0])
        return self.ids[k - 1] if k > 0 else None

    def rooms_of(self, xz: NDArray[np.float64]) -> list[str | None]:
        """:meth:`room_of` for (N, 2) points."""
        return [self.ids[k - 1] if k > 0 else None for k in self._label_at(xz).tolist()]

    def room_ids(self) -> list[str]:
        """All room ids, sorted."""
        return sorted(self.ids)

    def areas(self) -> dict[str, float]:
        """Free area (m²) of each room."""
        counts = np.bincount(self.labels[self.dist == 0].ravel(), minlength=len(self.ids) + 1)
        return {rid: float(counts[k + 1]) * self.resolution ** 2 for k, rid in enumerate(self.ids)}

    def room_types(self, graph: SceneView, ontology: Ontology | None = None) -> dict[str, str]:
        """A type guess for every room from the furniture the scene graph puts in it.

        ``graph`` is read only (any :class:`~robomem.memory.view.SceneView`, such as a
        :class:`~robomem.memory.scene_graph.SceneGraph`), so rooms do not depend on it.
        """
        seen: dict[str, set[str]] = {rid: set() for rid in self.ids}
        for node in graph.nodes():
            if node.room in seen and not node.pickupable:
                seen[node.room].add(node.label)
        onto = ontology or default_ontology()
        return {rid: onto.room_type(labels) for rid, labels in sorted(seen.items())}

    # ------------------------------------------------------------------ serialisation
    def to_state(self) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
        """Settings and ids (JSON-ready) and arrays (``labels``, ``dist``, ``origin``)."""
        meta = {"resolution": self.resolution, "ids": list(self.ids), "next_id": self.next_id,
                "max_dist": self.max_dist}
        arrays = {"labels": self.labels.copy(), "dist": self.dist.copy(),
                  "origin": np.asarray(self.origin, np.int64).copy()}
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, NDArray[Any]]) -> RoomMap:
        """Inverse of :meth:`to_state`.

        Raises:
            ValueError: arrays of the wrong shape, or labels that name no room id.
        """
        ids = [str(i) for i in meta["ids"]]
        labels, dist = np.asarray(arrays["labels"]), np.asarray(arrays["dist"])
        origin = np.asarray(arrays["origin"])
        if labels.ndim != 2 or dist.shape != labels.shape or origin.shape != (2,):
            raise ValueError(f"room map arrays do not fit: labels {labels.shape}, dist "
                             f"{dist.shape}, origin {origin.shape}")
        if labels.size and (labels.min() < 0 or labels.max() > len(ids)):
            raise ValueError(f"room labels must be 0..{len(ids)} (the {len(ids)} room ids), "
                             f"got {int(labels.min())}..{int(labels.max())}")
        return cls(labels.astype(np.int32), dist.astype(np.float64), origin.astype(np.int64),
                   float(meta["resolution"]), ids, int(meta["next_id"]), float(meta["max_dist"]))

    def image(self) -> NDArray[np.uint8]:
        """(H, W, 3) uint8 top view (same orientation as ``OccupancyGrid.image``)."""
        rng = np.random.default_rng(0)
        colors = np.vstack([[0, 0, 0], rng.integers(60, 255, (max(len(self.ids), 1), 3))])
        img = colors[np.where(self.dist == 0, self.labels, 0)].astype(np.uint8)
        return np.asarray(img.transpose(1, 0, 2)[::-1, ::-1], np.uint8)

