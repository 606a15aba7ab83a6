"""Depth images to world points, and the small point-cloud operations the preprocessor needs.

Conventions (docs/household.md): depth is z-depth in metres with 0 where nothing was hit;
pixel ``(u, v)`` (column, row) back-projects to ``[(u - cx) d / fx, (v - cy) d / fy, d]`` in
OpenCV camera axes; ``camera_pose`` is camera-to-world.

Example:
    >>> import numpy as np
    >>> from robomem.preprocess.pointcloud import backproject, voxel_downsample
    >>> K = np.array([[2.0, 0, 1.5], [0, 2.0, 1.5], [0, 0, 1]])
    >>> depth = np.full((4, 4), 2.0, np.float32); depth[0, 0] = 0.0  # one pixel saw nothing
    >>> pts = backproject(depth, K, np.eye(4))
    >>> pts.shape, pts.dtype.name, float(pts[:, 2].max())
    ((15, 3), 'float32', 2.0)
    >>> len(voxel_downsample(pts + 5.0, 10.0))  # all within one 10 m voxel
    1
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import open3d as o3d
from numpy.typing import NDArray

from robomem.geometry import AABB

Points = NDArray[np.float32]

# Statistical outlier removal needs enough neighbours to estimate a spread.
MIN_POINTS_FOR_OUTLIERS = 20
# Voxel coordinates are packed 21 bits per axis around this bias (+-1M voxels: 50 km at 5 cm).
_BIAS = np.int64(1 << 20)
_HASH_MULTS = (np.int64(0x165667B19E3779F9), np.int64(0x27D4EB2F165667C5),
               np.int64(0x5851F42D4C957F2D), np.int64(0x2545F4914F6CDD1D))


@lru_cache(maxsize=32)
def _grid(height: int, width: int, fx: float, fy: float, cx: float, cy: float,
          stride: int) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Per (strided) pixel, flat and read-only: ray x and y at z = 1, and the ray length."""
    u = ((np.arange(0, width, stride, dtype=np.float64) - cx) / fx).astype(np.float32)
    v = ((np.arange(0, height, stride, dtype=np.float64) - cy) / fy).astype(np.float32)
    rx = np.ascontiguousarray(np.broadcast_to(u[None, :], (len(v), len(u)))).reshape(-1)
    ry = np.ascontiguousarray(np.broadcast_to(v[:, None], (len(v), len(u)))).reshape(-1)
    length = np.sqrt(rx * rx + ry * ry + np.float32(1.0))
    for a in (rx, ry, length):
        a.setflags(write=False)
    return rx, ry, length


def _camera_grid(height: int, width: int, intrinsics: NDArray[Any], stride: int = 1,
                 ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    k = np.asarray(intrinsics, np.float64)
    return _grid(int(height), int(width), float(k[0, 0]), float(k[1, 1]), float(k[0, 2]),
                 float(k[1, 2]), int(stride))


def pixel_ray_lengths(height: int, width: int, intrinsics: NDArray[Any]) -> NDArray[np.float32]:
    """Per pixel (flat, row-major, read-only): the factor from z-depth to Euclidean distance."""
    return _camera_grid(height, width, intrinsics)[2]


def _to_world(x: NDArray[np.float32], y: NDArray[np.float32], z: NDArray[np.float32],
              camera_pose: NDArray[Any]) -> Points:
    """Camera-frame coordinates (three 1-D arrays) to (N, 3) world points.

    Works on columns: numpy is slow at reductions and broadcasts over a trailing axis of 3,
    so the result is laid out column-major (a transposed (3, N) array), which makes the
    per-axis work downstream (bounds, voxel keys) fast too.
    """
    pose = np.asarray(camera_pose, np.float32)
    out: Points = (pose[:3, :3] @ np.stack([x, y, z]))
    out += pose[:3, 3:4]
    world: Points = out.T
    return world


def to_world(cam_points: NDArray[Any], camera_pose: NDArray[Any]) -> Points:
    """Apply a (4, 4) camera-to-world transform to (N, 3) camera-frame points (float32)."""
    p = np.asarray(cam_points, np.float32).reshape(-1, 3)
    return _to_world(p[:, 0], p[:, 1], p[:, 2], camera_pose)


def bounds(points: NDArray[Any]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(lo, hi)`` corners of the box around (N >= 1, 3) points, as float64.

    Uses ``argmin``/``argmax``, which numpy runs far faster than ``min(axis=0)`` on an
    (N, 3) array.
    """
    box = AABB.from_points(points)
    return box.lo, box.hi


def centroid(points: NDArray[Any]) -> NDArray[np.float64]:
    """Mean of (N >= 1, 3) points, as float64."""
    p = np.asarray(points).reshape(-1, 3)
    return np.array([p[:, c].mean(dtype=np.float64) for c in range(3)])


def backproject_indices(depth: NDArray[Any], intrinsics: NDArray[Any],
                        camera_pose: NDArray[Any], indices: NDArray[np.intp]) -> Points:
    """World points of the pixels at flat ``indices`` (row-major), skipping depth 0.

    Args:
        depth: (H, W) z-depth in metres, 0 where nothing was hit.
        intrinsics: (3, 3) pinhole matrix.
        camera_pose: (4, 4) camera-to-world transform (OpenCV axes).
        indices: flat pixel indices ``v * W + u``.

    Returns:
        (N, 3) float32 world points, N <= len(indices), in the order of ``indices``.
    """
    h, w = depth.shape
    d = np.asarray(depth, np.float32).reshape(-1)[indices]
    keep = d > 0
    if not keep.all():
        indices, d = indices[keep], d[keep]
    rx, ry, _ = _camera_grid(h, w, intrinsics)
    return _to_world(rx[indices] * d, ry[indices] * d, d, camera_pose)


def backproject(depth: NDArray[Any], intrinsics: NDArray[Any], camera_pose: NDArray[Any],
                stride: int = 1, mask: NDArray[np.bool_] | None = None) -> Points:
    """Back-project a depth image (or the masked part of it) to world points.

    Args:
        depth: (H, W) z-depth in metres; pixels with depth 0 (no hit) are skipped.
        intrinsics: (3, 3) pinhole matrix, OpenCV convention (pixel centres at integers).
        camera_pose: (4, 4) camera-to-world transform, OpenCV camera axes.
        stride: keep every ``stride``-th row and column.
        mask: optional (H, W) bool; only pixels where it is true are used.

    Returns:
        (N, 3) float32 world points, row-major pixel order (the array itself is laid out
        column-major; that is invisible to numpy code).
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    h, w = depth.shape
    rx, ry, _ = _camera_grid(h, w, intrinsics, stride)
    d = np.asarray(depth, np.float32)[::stride, ::stride].reshape(-1)
    valid = d > 0
    if mask is not None:
        valid &= np.asarray(mask, bool)[::stride, ::stride].reshape(-1)
    d = d[valid]
    return _to_world(rx[valid] * d, ry[valid] * d, d, camera_pose)


def voxel_downsample(points: NDArray[Any], voxel: float) -> Points:
    """Keep one input point of every occupied ``voxel``-sized cube (input order kept).

    Pure numpy and linear time: voxels are deduplicated through a hash table in a few
    scatter rounds instead of a sort, which beats both ``np.unique`` and open3d's
    ``voxel_down_sample`` on the ~20k points of a frame. Kept points are real input points
    (not voxel centroids), so a box around them never grows.
    """
    p = np.asarray(points, np.float32).reshape(-1, 3)
    n = len(p)
    if voxel <= 0:
        raise ValueError(f"voxel must be positive, got {voxel}")
    if n <= 1:
        single: Points = p.copy()
        return single
    inv = np.float32(1.0 / voxel)
    key = np.zeros(n, np.int64)  # exact voxel id, 21 bits per axis
    for c in range(3):
        q = np.floor(p[:, c] * inv).astype(np.int64)
        q += _BIAS
        key <<= 21
        key |= q
    bits = max(int(n - 1).bit_length() + 3, 6)  # a table 8-16x the points: few collisions
    table = np.empty(1 << bits, np.int64)
    shift, low = np.int64(64 - bits), np.int64((1 << bits) - 1)
    cand = np.arange(n, dtype=np.int64)
    ckey = key
    keep = np.zeros(n, bool)
    with np.errstate(over="ignore"):
        for r in range(64):
            slot = ((ckey + r) * _HASH_MULTS[r % len(_HASH_MULTS)]) >> shift & low
            table[slot] = cand  # the last writer wins each slot
            winner = table[slot]
            keep[cand[winner == cand]] = True
            other = key[winner] != ckey  # lost to another voxel: retry with another hash
            if not other.any():
                break
            cand, ckey = cand[other], ckey[other]
        else:  # pragma: no cover - 64 rounds of collisions do not happen
            keep[np.unique(key, return_index=True)[1]] = True
    out: Points = p[keep]
    return out


def clean_points(points: NDArray[Any], voxel: float = 0.02, nb_neighbors: int = 12,
                 std_ratio: float = 2.0, rescue_radius: float = 0.0) -> Points:
    """Voxel-downsample, then drop statistical outliers (both with open3d).

    Statistical outlier removal judges each point by its mean distance to its
    ``nb_neighbors`` nearest neighbours against the cloud's mean and spread. On a depth
    camera's cloud that also flags real surface points wherever the sampling is sparse
    (far or slanted faces, thin legs): a box then loses the bottom of a cabinet. With
    ``rescue_radius`` > 0, flagged points within that distance of a kept point are kept
    after all (repeatedly, so sparse but connected surfaces survive); what stays flagged
    is detached from the object, as outliers are. Outlier removal is skipped under
    :data:`MIN_POINTS_FOR_OUTLIERS` points, where a neighbourhood spread means little.

    Args:
        points: (N, 3) world points.
        voxel: voxel size in metres (open3d averages each voxel's points into one).
        nb_neighbors: neighbours used to estimate each point's mean distance.
        std_ratio: points farther than ``mean + std_ratio * std`` are flagged.
        rescue_radius: keep flagged points this close to kept ones (0: plain removal).

    Returns:
        (M, 3) float32 points, M <= N.
    """
    p = np.ascontiguousarray(np.asarray(points).reshape(-1, 3), dtype=np.float64)
    if len(p) == 0:
        return np.zeros((0, 3), np.float32)
    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(p))
    if voxel > 0:
        pcd = pcd.voxel_down_sample(voxel)
    n = len(pcd.points)
    if n < MIN_POINTS_FOR_OUTLIERS:
        return np.asarray(pcd.points, dtype=np.float32)
    inliers, kept = pcd.remove_statistical_outlier(nb_neighbors=nb_neighbors,
                                                   std_ratio=std_ratio)
    if rescue_radius <= 0 or len(kept) == n:
        return np.asarray(inliers.points, dtype=np.float32)
    flagged = pcd.select_by_index(kept, invert=True)
    parts = [np.asarray(inliers.points)]
    while len(flagged.points) and len(inliers.points):
        near = np.asarray(flagged.compute_point_cloud_distance(inliers)) <= rescue_radius
        if not near.any():
            break
        idx = np.flatnonzero(near).tolist()
        inliers = flagged.select_by_index(idx)
        parts.append(np.asarray(inliers.points))
        flagged = flagged.select_by_index(idx, invert=True)
    return np.concatenate(parts).astype(np.float32)
