"""Small geometry records shared by perception and memory (numpy only, no simulator types).

Example:
    >>> import numpy as np
    >>> from robomem.geometry import AABB
    >>> a = AABB.from_points(np.array([[0, 0, 0], [1, 2, 1]], float))
    >>> a.center.tolist(), a.contains(np.array([0.5, 1.0, 0.5]))
    ([0.5, 1.0, 0.5], True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Vec3 = NDArray[np.float64]


@dataclass(frozen=True)
class AABB:
    """An axis-aligned 3D box in the world frame (metres)."""

    lo: Vec3
    hi: Vec3

    @classmethod
    def from_points(cls, pts: NDArray[Any]) -> AABB:
        """The tight box around (N, 3) points (N >= 1)."""
        p = np.asarray(pts).reshape(-1, 3)
        if len(p) == 0:
            raise ValueError("AABB.from_points needs at least one point")
        # argmin/argmax: numpy runs these far faster than min(axis=0) on an (N, 3) array.
        cols = np.arange(3)
        return cls(p[p.argmin(axis=0), cols].astype(np.float64),
                   p[p.argmax(axis=0), cols].astype(np.float64))

    @classmethod
    def from_center_size(cls, center: NDArray[Any] | list[float],
                         size: NDArray[Any] | list[float]) -> AABB:
        """Box from centre and extents."""
        c, s = np.asarray(center, np.float64), np.asarray(size, np.float64)
        return cls(c - s / 2, c + s / 2)

    @property
    def center(self) -> Vec3:
        """Centre point."""
        return (self.lo + self.hi) / 2

    @property
    def size(self) -> Vec3:
        """Extents along x, y, z."""
        return self.hi - self.lo

    def contains(self, p: NDArray[Any], tol: float = 0.0) -> bool:
        """Whether point ``p`` lies inside (grown by ``tol``)."""
        q = np.asarray(p, np.float64)
        return bool(np.all(q >= self.lo - tol) and np.all(q <= self.hi + tol))

    def distance_to(self, p: NDArray[Any] | tuple[float, float, float]) -> float:
        """Euclidean distance from ``p`` to the box (0 inside)."""
        q = np.asarray(p, np.float64)
        d = np.maximum(np.maximum(self.lo - q, 0.0), q - self.hi)
        return float(np.linalg.norm(d))

    def union(self, o: AABB) -> AABB:
        """The box around both."""
        return AABB(np.minimum(self.lo, o.lo), np.maximum(self.hi, o.hi))

    def iou(self, o: AABB) -> float:
        """Intersection over union of volumes (0 when disjoint)."""
        inter = np.clip(np.minimum(self.hi, o.hi) - np.maximum(self.lo, o.lo), 0, None).prod()
        vol = self.size.prod() + o.size.prod() - inter
        return float(inter / vol) if vol > 0 else 0.0

    def to_dict(self) -> dict[str, list[float]]:
        """JSON-friendly ``{"lo": [...], "hi": [...]}``."""
        return {"lo": [float(v) for v in self.lo], "hi": [float(v) for v in self.hi]}

    @classmethod
    def from_dict(cls, d: dict[str, list[float]]) -> AABB:
        """Inverse of :meth:`to_dict`."""
        return cls(np.asarray(d["lo"], np.float64), np.asarray(d["hi"], np.float64))


def pinhole_intrinsics(width: int, height: int, fov_deg: float) -> NDArray[np.float64]:
    """Pinhole matrix for a vertical field of view ``fov_deg`` (AI2-THOR's convention).

    OpenCV's pixel convention: pixel ``(u, v)`` (column, row) has its centre at integer
    coordinates, so the principal point of a centred camera is ``((W - 1) / 2, (H - 1) / 2)``
    and a pixel back-projects as ``[(u - cx) d / fx, (v - cy) d / fy, d]``.
    """
    f = (height / 2) / math.tan(math.radians(fov_deg) / 2)
    return np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])


def camera_to_world(position: tuple[float, float, float], yaw: float,
                    horizon: float) -> NDArray[np.float64]:
    """Camera-to-world 4x4 (OpenCV camera axes: x right, y down, z forward).

    For a camera at ``position`` with robomem's yaw (0 faces +z, 90 faces -x) and pitch
    (positive looking down).
    """
    t, p = math.radians(yaw), math.radians(horizon)
    fwd = np.array([-math.sin(t) * math.cos(p), -math.sin(p), math.cos(t) * math.cos(p)])
    right = np.array([-math.cos(t), 0.0, -math.sin(t)])
    down = np.cross(fwd, right)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = right, down, fwd, position
    return m
