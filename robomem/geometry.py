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


ZUP_TO_YUP = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
"""robomem = ZUP_TO_YUP @ zup, for points and directions.

Worlds with z up (ROS's map frame, pybullet, CoppeliaSim/RLBench) are carried into robomem's
y-up world by the cyclic permutation ``(x, y, z)_robomem = (y, z, x)_zup``: a rotation
(det +1), so right-handedness is kept."""


def zup_to_yup(m: Any) -> NDArray[np.float64]:
    """A z-up world's point (3,), points (N, 3) or pose (4, 4) in robomem's y-up world.

    Example:
        >>> import numpy as np
        >>> zup_to_yup([1.0, 2.0, 3.0]).tolist()
        [2.0, 3.0, 1.0]
        >>> bool(np.allclose(zup_to_yup(np.eye(4))[:3, :3], ZUP_TO_YUP))
        True
    """
    a = np.asarray(m, np.float64)
    if a.shape == (4, 4):
        out = np.eye(4)
        out[:3, :3] = ZUP_TO_YUP @ a[:3, :3]
        out[:3, 3] = ZUP_TO_YUP @ a[:3, 3]
        return out
    return np.asarray(a @ ZUP_TO_YUP.T, np.float64)


def quat_to_rotation(q: Any) -> NDArray[np.float64]:
    """3x3 rotation of a quaternion ``(x, y, z, w)`` (normalised here).

    Raises:
        ValueError: a zero or non-finite quaternion.
    """
    x, y, z, w = (float(v) for v in q)
    n = math.sqrt(x * x + y * y + z * z + w * w)
    if not n or not math.isfinite(n):
        raise ValueError(f"orientation must be a non-zero quaternion, got {[x, y, z, w]!r}")
    x, y, z, w = x / n, y / n, z / n, w / n
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def matrix_to_quat(r: NDArray[np.float64]) -> tuple[float, float, float, float]:
    """``(x, y, z, w)`` of a 3x3 rotation matrix.

    Example:
        >>> import numpy as np
        >>> [round(v, 6) for v in matrix_to_quat(quat_to_rotation((0.0, 0.0, 1.0, 1.0)))]
        [0.0, 0.0, 0.707107, 0.707107]
    """
    t = float(np.trace(r))
    if t > 0:
        s = math.sqrt(t + 1.0) * 2
        return (float(r[2, 1] - r[1, 2]) / s, float(r[0, 2] - r[2, 0]) / s,
                float(r[1, 0] - r[0, 1]) / s, s / 4)
    i = int(np.argmax(np.diag(r)))
    j, k = (i + 1) % 3, (i + 2) % 3
    s = math.sqrt(max(1e-12, 1.0 + r[i, i] - r[j, j] - r[k, k])) * 2
    q = [0.0, 0.0, 0.0, float(r[k, j] - r[j, k]) / s]
    q[i] = s / 4
    q[j] = float(r[j, i] + r[i, j]) / s
    q[k] = float(r[k, i] + r[i, k]) / s
    return (q[0], q[1], q[2], q[3])
