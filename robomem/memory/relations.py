"""Vectorised geometry behind the scene graph: supports, nearness and stale-belief checks.

Boxes are passed as (N, 6) arrays ``[lo_x, lo_y, lo_z, hi_x, hi_y, hi_z]``.

Example:
    >>> import numpy as np
    >>> from robomem.memory.relations import supports
    >>> table = [0.0, 0.0, 0.0, 1.0, 0.75, 1.0]
    >>> cabinet = [2.0, 0.0, 0.0, 2.8, 0.9, 0.5]
    >>> mug = [0.4, 0.75, 0.4, 0.5, 0.85, 0.5]
    >>> cup = [2.3, 0.3, 0.1, 2.4, 0.42, 0.2]
    >>> supports(np.array([mug, cup]), np.array([table, cabinet]), np.array([False, True]))
    [(0, 'on'), (1, 'in')]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["box_distances", "near_pairs", "stale_mask", "supports"]

Boxes = NDArray[np.float64]


def supports(objs: Boxes, hosts: Boxes, container: NDArray[np.bool_], on_tol: float = 0.08,
             grow: float = 0.05, inside_tol: float = 0.02,
             exclude: NDArray[np.bool_] | None = None) -> list[tuple[int, str]]:
    """The receptacle each object rests in or on.

    An object is **on** a host when its centre lies over the host's footprint (grown by
    ``grow``) and its bottom is within ``on_tol`` of the host's top. It is **in** a
    container host when the host's box (grown by ``inside_tol``) contains its centre. When
    both fit, the smaller of the best "in" and best "on" hosts wins (a microwave on a
    counter holds what is inside it; an open fridge's door-widened box does not swallow the
    counter beside it).

    Args:
        objs: (N, 6) object boxes.
        hosts: (M, 6) receptacle boxes.
        container: (M,) whether each host holds things inside (else on top).
        on_tol: bottom-to-top tolerance in metres.
        grow: footprint growth in metres.
        inside_tol: volume growth in metres for "in".
        exclude: optional (N, M) pairs that may not support each other (an object itself).

    Returns:
        Per object ``(host index, "in" | "on")``, or ``(-1, "")`` when nothing supports it.
    """
    if len(objs) == 0:
        return []
    if len(hosts) == 0:
        return [(-1, "")] * len(objs)
    c = (objs[:, None, :3] + objs[:, None, 3:]) / 2  # (N, 1, 3)
    bottom = objs[:, None, 1]
    lo, hi = hosts[None, :, :3], hosts[None, :, 3:]
    over = ((c[..., 0] >= lo[..., 0] - grow) & (c[..., 0] <= hi[..., 0] + grow)
            & (c[..., 2] >= lo[..., 2] - grow) & (c[..., 2] <= hi[..., 2] + grow))
    gap = np.abs(bottom - hi[..., 1])
    on = over & (gap <= on_tol)
    inside = ((c >= lo - inside_tol) & (c <= hi + inside_tol)).all(axis=2) & container[None, :]
    if exclude is not None:
        on &= ~exclude
        inside &= ~exclude
    vol = np.prod(hosts[:, 3:] - hosts[:, :3], axis=1)
    out: list[tuple[int, str]] = []
    for i in range(len(objs)):
        best_in = int(np.argmin(np.where(inside[i], vol, np.inf))) if inside[i].any() else -1
        best_on = int(np.argmin(np.where(on[i], gap[i] + 1e-3 * vol, np.inf))) \
            if on[i].any() else -1
        if best_in >= 0 and (best_on < 0 or vol[best_in] <= vol[best_on]):
            out.append((best_in, "in"))
        elif best_on >= 0:
            out.append((best_on, "on"))
        else:
            out.append((-1, ""))
    return out


def box_distances(a: Boxes, b: Boxes) -> NDArray[np.float64]:
    """(N, M) Euclidean distances between boxes (0 when they overlap)."""
    gap = np.maximum(np.maximum(a[:, None, :3] - b[None, :, 3:], b[None, :, :3] - a[:, None, 3:]),
                     0.0)
    return np.asarray(np.linalg.norm(gap, axis=2), np.float64)


def near_pairs(a: Boxes, b: Boxes, dist: float) -> list[tuple[int, int]]:
    """Index pairs ``(i, k)`` of boxes ``a[i]``, ``b[k]`` at most ``dist`` apart."""
    if len(a) == 0 or len(b) == 0:
        return []
    ii, kk = np.nonzero(box_distances(a, b) <= dist)
    return [(int(i), int(k)) for i, k in zip(ii, kk)]


def stale_mask(boxes: Boxes, camera_pose: NDArray[np.float64], intrinsics: NDArray[np.float64],
               depth: NDArray[np.float32], max_range: float = 3.0, occlusion_tol: float = 0.03,
               border: float = 0.02, min_pixels: int = 20,
               min_fraction: float = 0.5) -> NDArray[np.bool_]:
    """Which boxes the camera should have seen: their spot is in view, close and unoccluded.

    Every pixel whose ray passes through a box (within the image, less a ``border``
    fraction per side) is *open* when the observed depth there is not in front of the
    box's surface along that ray by more than ``occlusion_tol`` (no depth, 0, counts as
    open): had the object been there, it would have shown in that pixel. A box qualifies
    when its centre is within ``max_range`` metres and at least ``min_pixels`` of its
    pixels, and ``min_fraction`` of them, are open. Small, thin or far objects (which a
    detector may miss) never qualify, so beliefs about them are kept.

    Args:
        boxes: (N, 6) boxes.
        camera_pose: (4, 4) camera-to-world (OpenCV axes).
        intrinsics: (3, 3) pinhole matrix.
        depth: (H, W) z-depth of the frame.
        max_range: metres.
        occlusion_tol: metres.
        border: fraction of the image size ignored along each edge.
        min_pixels: open pixels needed.
        min_fraction: open share of the box's pixels needed.

    Returns:
        (N,) bool.
    """
    n = len(boxes)
    out = np.zeros(n, bool)
    if n == 0 or depth.size == 0:
        return out
    h, w = depth.shape
    rot, cam = camera_pose[:3, :3], camera_pose[:3, 3]
    centers = (boxes[:, :3] + boxes[:, 3:]) / 2
    close = np.linalg.norm(centers - cam, axis=1) <= max_range
    corners = np.where(_CORNERS[None] == 0, boxes[:, None, :3], boxes[:, None, 3:])  # (N, 8, 3)
    pc = (corners - cam) @ rot  # camera frame (rot is orthonormal)
    z = pc[..., 2]
    front = (z > 0.05).all(axis=1)
    zs = np.where(z > 0.05, z, 1.0)
    fx, fy, cx, cy = intrinsics[0, 0], intrinsics[1, 1], intrinsics[0, 2], intrinsics[1, 2]
    u, v = fx * pc[..., 0] / zs + cx, fy * pc[..., 1] / zs + cy
    u0 = np.ceil(np.maximum(u.min(axis=1), border * w)).astype(np.int64)
    u1 = np.floor(np.minimum(u.max(axis=1), (1 - border) * w - 1)).astype(np.int64)
    v0 = np.ceil(np.maximum(v.min(axis=1), border * h)).astype(np.int64)
    v1 = np.floor(np.minimum(v.max(axis=1), (1 - border) * h - 1)).astype(np.int64)
    area = np.maximum(u1 - u0 + 1, 0) * np.maximum(v1 - v0 + 1, 0)
    for k in np.flatnonzero(front & close & (area >= min_pixels)):
        vv, uu = np.mgrid[v0[k]:v1[k] + 1, u0[k]:u1[k] + 1]
        rays = np.stack([(uu - cx) / fx, (vv - cy) / fy, np.ones(uu.shape)], axis=-1) @ rot.T
        entry = _ray_box_entry(cam, rays, boxes[k, :3], boxes[k, 3:])  # z-depth, inf: miss
        hit = np.isfinite(entry)
        d = depth[v0[k]:v1[k] + 1, u0[k]:u1[k] + 1]
        open_px = int((hit & ((d <= 0) | (d >= entry - occlusion_tol))).sum())
        out[k] = open_px >= min_pixels and open_px >= min_fraction * hit.sum()
    return out


def _ray_box_entry(origin: NDArray[np.float64], rays: NDArray[np.float64],
                   lo: NDArray[np.float64], hi: NDArray[np.float64]) -> NDArray[np.float64]:
    """Ray parameter where each ray ``origin + t * ray`` enters the box (inf when it misses)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (lo - origin) / rays, (hi - origin) / rays
    t1, t2 = np.nan_to_num(t1, nan=-np.inf), np.nan_to_num(t2, nan=np.inf)
    t_in = np.minimum(t1, t2).max(axis=-1)
    t_out = np.maximum(t1, t2).min(axis=-1)
    return np.where((t_out >= np.maximum(t_in, 0.0)) & (t_out > 0), np.maximum(t_in, 0.0), np.inf)


_CORNERS = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], np.int64)
