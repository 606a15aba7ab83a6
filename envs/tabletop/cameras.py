"""The tabletop's cameras: RLBench's five, rendered by pybullet's TinyRenderer.

The cameras are left_shoulder, right_shoulder, overhead, wrist and front (CPU, no display).

Each render gives rgb (uint8), depth in metres along the optical axis (from the z-buffer:
``far * near / (far - (far - near) * z)``; 0 where no surface was hit) and instance ids
(pybullet's ``body + ((link + 1) << 24)``, remapped to small ids by the env). Poses follow
robomem's convention: camera-to-world with OpenCV axes (x right, y down, z forward), and the
intrinsics are the pinhole of the vertical field of view (:func:`intrinsics`).

Example:
    >>> import numpy as np
    >>> from robomem.envs.tabletop.cameras import CAMERAS, look_at
    >>> [c.name for c in CAMERAS]
    ['left_shoulder', 'right_shoulder', 'overhead', 'wrist', 'front']
    >>> m = look_at((1.0, 0.0, 0.5), (0.0, 0.0, 0.5), (0.0, 0.0, 1.0))
    >>> (m[:3, 2].round(3) + 0.0).tolist(), (m[:3, 1].round(3) + 0.0).tolist()  # along -x, y down
    ([-1.0, 0.0, 0.0], [0.0, 0.0, -1.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from robomem.geometry import pinhole_intrinsics

__all__ = ["CAMERAS", "CAMERA_NAMES", "CameraSpec", "Render", "depth_from_zbuffer", "look_at",
           "render"]

Vec = tuple[float, float, float]


@dataclass(frozen=True)
class CameraSpec:
    """One camera.

    Attributes:
        name: RLBench's name for it.
        eye: where it is (pybullet's frame); for the wrist camera, in the hand's frame.
        target: the point it looks at (same frame as ``eye``).
        up: the world direction that is up in the image.
        fov: vertical field of view (degrees).
        near, far: clipping distances (m), as RLBench's ``{camera}_camera_near``/``_far``.
        on_hand: it rides on the gripper (RLBench's wrist camera).
    """

    name: str
    eye: Vec
    target: Vec
    up: Vec = (0.0, 0.0, 1.0)
    fov: float = 45.0
    near: float = 0.01
    far: float = 3.5
    on_hand: bool = False


CAMERAS: tuple[CameraSpec, ...] = (
    CameraSpec("left_shoulder", (-0.75, 0.55, 0.7), (0.15, 0.05, 0.0)),
    CameraSpec("right_shoulder", (-0.75, -0.55, 0.7), (0.15, -0.05, 0.0)),
    CameraSpec("overhead", (0.05, 0.0, 1.25), (0.05, 0.0, 0.0), up=(1.0, 0.0, 0.0), fov=50.0),
    CameraSpec("wrist", (0.0, 0.0, 0.02), (0.0, 0.0, 0.5), up=(1.0, 0.0, 0.0), fov=60.0,
               on_hand=True),
    CameraSpec("front", (1.15, 0.0, 0.55), (0.0, 0.0, 0.05)),
)
CAMERA_NAMES: tuple[str, ...] = tuple(c.name for c in CAMERAS)


@dataclass
class Render:
    """One camera's images and matrices.

    Attributes:
        rgb: (H, W, 3) uint8.
        depth: (H, W) float32 metres, 0 where nothing was hit.
        segmentation: (H, W) int64 pybullet ids (-1 where nothing was hit).
        intrinsics: (3, 3) OpenCV pinhole.
        pose: (4, 4) camera-to-world (OpenCV axes, pybullet's world frame).
    """

    rgb: NDArray[np.uint8]
    depth: NDArray[np.float32]
    segmentation: NDArray[np.int64]
    intrinsics: NDArray[np.float64]
    pose: NDArray[np.float64]


def look_at(eye: Any, target: Any, up: Any) -> NDArray[np.float64]:
    """Camera-to-world 4x4 (OpenCV axes) of a camera at ``eye`` looking at ``target``."""
    e, t, u = (np.asarray(v, np.float64) for v in (eye, target, up))
    fwd = t - e
    fwd /= np.linalg.norm(fwd)
    right = np.cross(fwd, u)
    n = np.linalg.norm(right)
    if n < 1e-9:
        raise ValueError(f"camera up {u.tolist()} is parallel to its view direction")
    right /= n
    down = np.cross(fwd, right)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = right, down, fwd, e
    return m


def depth_from_zbuffer(z: NDArray[Any], near: float, far: float) -> NDArray[np.float32]:
    """Metric depth along the optical axis of an OpenGL z-buffer in [0, 1]."""
    zb = np.asarray(z, np.float64)
    out: NDArray[np.float32] = (far * near / (far - (far - near) * zb)).astype(np.float32)
    return out


def camera_pose(spec: CameraSpec, hand: NDArray[np.float64]) -> NDArray[np.float64]:
    """The camera's world pose (pybullet's frame); ``hand`` places an on-hand camera."""
    if not spec.on_hand:
        return look_at(spec.eye, spec.target, spec.up)
    local = look_at(spec.eye, spec.target, spec.up)
    return hand @ local


def render(p: Any, cid: int, spec: CameraSpec, width: int, height: int,
           hand: NDArray[np.float64]) -> Render:
    """Render one camera with pybullet's TinyRenderer."""
    pose = camera_pose(spec, hand)
    eye, fwd, down = pose[:3, 3], pose[:3, 2], pose[:3, 1]
    view = p.computeViewMatrix(eye.tolist(), (eye + fwd).tolist(), (-down).tolist())
    proj = p.computeProjectionMatrixFOV(spec.fov, width / height, spec.near, spec.far)
    _, _, rgba, zbuf, seg = p.getCameraImage(
        width, height, view, proj, renderer=p.ER_TINY_RENDERER,
        flags=p.ER_SEGMENTATION_MASK_OBJECT_AND_LINKINDEX, physicsClientId=cid)
    rgb = np.asarray(rgba, np.uint8).reshape(height, width, 4)[:, :, :3].copy()
    seg_a = np.asarray(seg, np.int64).reshape(height, width)
    depth = depth_from_zbuffer(np.asarray(zbuf).reshape(height, width), spec.near, spec.far)
    depth[seg_a < 0] = 0.0
    return Render(rgb, depth, seg_a, intrinsics(width, height, spec.fov), pose)


def intrinsics(width: int, height: int, fov: float) -> NDArray[np.float64]:
    """The OpenCV pinhole of a TinyRenderer image of vertical field of view ``fov``.

    TinyRenderer samples pixel column ``u`` at image-plane x = ``u`` counted from the corner
    (not ``u + 0.5``) and row ``v`` one row lower, so the principal point is
    ``(W / 2, H / 2 - 1)``, not OpenCV's centred ``((W - 1) / 2, (H - 1) / 2)``. Measured:
    with it, every object's back-projected pixels land within 1 mm of its pybullet box at
    any image size (tests/envs/tabletop); the centred one misses by up to half a pixel's
    footprint (2 cm at 48 x 48).
    """
    k = pinhole_intrinsics(width, height, fov)
    k[0, 2], k[1, 2] = width / 2, height / 2 - 1
    return k
