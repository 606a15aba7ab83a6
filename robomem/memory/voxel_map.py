"""A sparse voxel map: the set of occupied voxels seen so far (dense 3D geometry memory).

Voxels are kept as packed int64 keys in two sorted numpy arrays: a large base and a small
recent run that new keys are merged into, and that is itself merged into the base once it
grows past an eighth of it (a linear merge of two sorted runs). Membership is a binary search
in each, so adding a frame of a few thousand points costs a fraction of a millisecond.

Example:
    >>> import numpy as np
    >>> from robomem.memory.voxel_map import VoxelMap
    >>> vm = VoxelMap(voxel=0.1)
    >>> vm.add(np.array([[0.01, 0.0, 0.0], [0.02, 0.0, 0.0], [0.5, 1.0, -0.3]]))
    2
    >>> len(vm), vm.centers().round(2).tolist()
    (2, [[0.05, 0.05, 0.05], [0.55, 1.05, -0.25]])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["VoxelMap"]

_BITS = 21  # bits per axis in a packed key
_OFFSET = 1 << (_BITS - 1)  # voxel indices in [-2^20, 2^20) fit
_MASK = (1 << _BITS) - 1


def pack(idx: NDArray[np.int64]) -> NDArray[np.int64]:
    """Pack (N, 3) integer voxel indices into (N,) int64 keys (21 bits per axis)."""
    s = (idx + _OFFSET).astype(np.int64)
    return np.asarray((s[:, 0] << (2 * _BITS)) | (s[:, 1] << _BITS) | s[:, 2], np.int64)


def unpack(keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """Inverse of :func:`pack`: (N,) keys to (N, 3) voxel indices."""
    k = np.asarray(keys, np.int64)
    out = np.stack([(k >> (2 * _BITS)) & _MASK, (k >> _BITS) & _MASK, k & _MASK], axis=1)
    return np.asarray(out - _OFFSET, np.int64)


def _merge(a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.int64]:
    """Merge two sorted, disjoint key arrays into one sorted array."""
    if len(a) == 0:
        return np.array(b, np.int64)
    return np.asarray(np.insert(a, np.searchsorted(a, b), b), np.int64)


class VoxelMap:
    """Occupied voxels of a fixed size, deduplicated, capped at ``max_voxels``.

    Args:
        voxel: edge length of a voxel in metres.
        max_voxels: once this many voxels are stored, new ones are dropped (``full`` is set).
    """

    def __init__(self, voxel: float = 0.05, max_voxels: int = 2_000_000) -> None:
        if voxel <= 0:
            raise ValueError(f"voxel must be positive, got {voxel}")
        self.voxel = float(voxel)
        self.max_voxels = int(max_voxels)
        self._base = np.zeros(0, np.int64)
        self._recent = np.zeros(0, np.int64)
        self.full = False

    def __len__(self) -> int:
        return len(self._base) + len(self._recent)

    def reset(self) -> None:
        """Forget every voxel."""
        self._base = np.zeros(0, np.int64)
        self._recent = np.zeros(0, np.int64)
        self.full = False

    def voxel_index(self, points: NDArray[Any]) -> NDArray[np.int64]:
        """(N, 3) integer voxel indices of world points."""
        p = np.asarray(points, np.float64).reshape(-1, 3)
        return np.floor(p / self.voxel).astype(np.int64)

    @staticmethod
    def _member(sorted_keys: NDArray[np.int64], keys: NDArray[np.int64]) -> NDArray[np.bool_]:
        if len(sorted_keys) == 0:
            return np.zeros(len(keys), bool)
        pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
        return np.asarray(sorted_keys[pos] == keys, bool)

    def _has(self, keys: NDArray[np.int64]) -> NDArray[np.bool_]:
        return self._member(self._base, keys) | self._member(self._recent, keys)

    def add(self, points: NDArray[Any]) -> int:
        """Insert (N, 3) world points; returns how many new voxels they created.

        Non-finite points and points beyond the key range (about ±50 km at 5 cm) are ignored.
        """
        p = np.asarray(points, np.float64).reshape(-1, 3)
        if self.full or len(p) == 0:
            return 0
        with np.errstate(invalid="ignore"):
            idx = np.floor(p / self.voxel)
            ok = np.abs(idx).max(axis=1) < _OFFSET  # False for NaN and inf too
        if not ok.all():
            idx = idx[ok]
        keys = np.sort(pack(idx.astype(np.int64)))
        keys = keys[~self._has(keys)]
        if len(keys) == 0:
            return 0
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]  # sorted: drop repeats
        room = self.max_voxels - len(self)
        if len(keys) > room:
            keys, self.full = keys[:room], True
        self._recent = _merge(self._recent, keys)
        if len(self._recent) > max(4096, len(self._base) // 8):
            self._base, self._recent = _merge(self._base, self._recent), np.zeros(0, np.int64)
        return len(keys)

    def keys(self) -> NDArray[np.int64]:
        """All packed voxel keys, sorted."""
        if len(self._recent):
            self._base, self._recent = _merge(self._base, self._recent), np.zeros(0, np.int64)
        return np.array(self._base, np.int64)

    def centers(self) -> NDArray[np.float64]:
        """(K, 3) voxel centres in the world frame, in key order (deterministic)."""
        return np.asarray((unpack(self.keys()) + 0.5) * self.voxel, np.float64)

    def contains(self, points: NDArray[Any]) -> NDArray[np.bool_]:
        """Which (N, 3) points fall in a stored voxel."""
        return self._has(pack(self.voxel_index(points)))

    # ------------------------------------------------------------------ serialisation
    def to_state(self) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
        """Settings (JSON-ready) and arrays to save.

        The one array, ``key_deltas``, holds the sorted packed keys delta-coded (the first
        key, then each key minus the one before): neighbouring voxels differ by small
        steps, so it compresses about ten times better than the keys themselves.
        """
        meta = {"voxel": self.voxel, "max_voxels": self.max_voxels, "full": self.full}
        keys = self.keys()
        return meta, {"key_deltas": np.diff(keys, prepend=np.int64(0)) if len(keys) else keys}

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, NDArray[Any]]) -> VoxelMap:
        """Inverse of :meth:`to_state`.

        Raises:
            ValueError: the deltas are not a 1-D integer array of increasing keys.
        """
        vm = cls(float(meta["voxel"]), int(meta["max_voxels"]))
        deltas = np.asarray(arrays["key_deltas"])
        if deltas.ndim != 1 or deltas.dtype.kind not in "iu" or (
                len(deltas) > 1 and not bool(np.all(deltas[1:] > 0))):
            raise ValueError(f"voxel key deltas must be a 1-D integer array of increasing "
                             f"keys, got shape {deltas.shape} of {deltas.dtype}")
        vm._base = np.cumsum(deltas, dtype=np.int64)
        vm.full = bool(meta["full"])
        return vm

    def to_o3d(self) -> Any:
        """The map as an ``open3d.geometry.VoxelGrid`` (for viewing and export)."""
        import open3d as o3d

        pcd = o3d.geometry.PointCloud()
        centers = self.centers()
        pcd.points = o3d.utility.Vector3dVector(centers)
        if len(centers) == 0:
            return o3d.geometry.VoxelGrid()
        # Anchor the grid on a voxel corner so each centre lands in its own voxel.
        lo = np.floor(centers.min(axis=0) / self.voxel) * self.voxel
        hi = lo + (np.ceil((centers.max(axis=0) - lo) / self.voxel) + 1) * self.voxel
        return o3d.geometry.VoxelGrid.create_from_point_cloud_within_bounds(
            pcd, self.voxel, lo, hi)
