"""RLBench observations -> robomem's :class:`~robomem.types.Observation`, in plain numpy.

What RLBench hands over, from its source (stepjam/RLBench, stepjam/PyRep):

* ``rlbench/backend/observation.py``: per camera (``left_shoulder``, ``right_shoulder``,
  ``overhead``, ``wrist``, ``front``) ``{cam}_rgb``, ``{cam}_depth``, ``{cam}_mask`` and
  ``{cam}_point_cloud``; ``joint_positions``, ``joint_velocities``, ``gripper_open``,
  ``gripper_pose``, ``gripper_joint_positions`` and the dict ``misc``. A camera or value
  that ``ObservationConfig`` switches off is ``None``.
* ``rlbench/backend/scene.py`` (``Scene.get_observation``): rgb is
  ``clip((capture_rgb() * 255).astype(uint8))``; depth is ``capture_depth(depth_in_meters)``,
  in [0, 1] between the clipping planes unless ``depth_in_meters`` (metres are
  ``near + depth * (far - near)``); the point cloud is ``pointcloud_from_depth`` of those
  metres; masks are ``rgb_handles_to_mask(capture_rgb())`` of the colour-coded mask sensor, or
  the raw RGB code when ``masks_as_one_channel`` is False; ``gripper_open`` is 1.0 when the
  gripper is more than 0.9 open, else 0.0; ``gripper_pose`` is the tip's ``get_pose()``
  (x, y, z, qx, qy, qz, qw). ``Scene._get_misc`` stores ``{cam}_camera_extrinsics``
  (``get_matrix()``: the sensor-to-world 4x4), ``{cam}_camera_intrinsics``
  (``get_intrinsic_matrix()``), ``{cam}_camera_near`` and ``{cam}_camera_far``.
* ``rlbench/backend/utils.py`` (``rgb_handles_to_mask``): handle = R + 256 G + 65536 B of the
  colour code scaled to 0..255.
* ``pyrep/objects/vision_sensor.py``: ``get_intrinsic_matrix`` has NEGATIVE focal lengths
  (``-res / (2 tan(angle / 2))``) and the principal point at ``res / 2``;
  ``pointcloud_from_depth_and_camera_params`` inverts ``K [R^T | -R^T C]`` on
  ``(u d, v d, d)``. So a sensor point (x, y, z) lands on column ``u = -f x / z + cx`` and row
  ``v = -f y / z + cy``: CoppeliaSim's sensor looks along +z with x toward the image's left and
  y toward its top. OpenCV's camera frame (robomem's) is that frame turned half a turn about z:
  ``K_opencv = K_pyrep @ diag(-1, -1, 1)`` and ``pose = extrinsics @ diag(-1, -1, 1, 1)``.

CoppeliaSim's world is z up; robomem's is y up (:func:`robomem.geometry.zup_to_yup`).

Example:
    >>> import numpy as np
    >>> k = np.array([[-110.85, 0.0, 64.0], [0.0, -110.85, 64.0], [0.0, 0.0, 1.0]])
    >>> intrinsics_from_pyrep(k)[0].tolist()
    [110.85, 0.0, 64.0]
    >>> depth_from_rlbench(np.array([[0.0, 0.5, 1.0]], np.float32), 0.01, 4.01).tolist()
    [[0.009999999776482582, 2.009999990463257, 0.0]]
    >>> mask_from_rlbench(np.array([[[2, 1, 0]]], np.uint8)).tolist()
    [[258]]
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from robomem.feedback import ActionFeedback
from robomem.geometry import ZUP_TO_YUP, zup_to_yup
from robomem.types import AgentPose, CameraFrame, Observation, Proprioception

__all__ = ["CAMERAS", "FLIP", "SENSORS", "camera_frame", "depth_from_rlbench",
           "depth_to_rlbench", "intrinsics_from_pyrep", "intrinsics_to_pyrep",
           "mask_from_rlbench", "mask_to_rgb_code", "matrix_from_pose7", "observation_from_rlbench",
           "point_cloud_yup", "pose7_from_matrix", "pose_from_pyrep", "pose_to_pyrep",
           "proprio_from_rlbench", "yup_to_zup"]

log = logging.getLogger(__name__)

CAMERAS: tuple[str, ...] = ("left_shoulder", "right_shoulder", "overhead", "wrist", "front")
"""RLBench's cameras, in ``Scene.get_observation``'s order (rlbench/backend/scene.py)."""
SENSORS: dict[str, str] = {"left_shoulder": "cam_over_shoulder_left",
                           "right_shoulder": "cam_over_shoulder_right",
                           "overhead": "cam_overhead", "wrist": "cam_wrist", "front": "cam_front"}
"""Each camera's CoppeliaSim vision sensor (``Scene.__init__``): robomem's ``frame_id``."""
FLIP = np.diag([-1.0, -1.0, 1.0, 1.0])
"""CoppeliaSim sensor frame <-> OpenCV camera frame (half a turn about z; its own inverse)."""
MAX_HANDLE = 2**24 - 1  # three 8-bit channels
_NONE = "is None (RLBench leaves it None when ObservationConfig turns it off)"


def _fail(attr: str, what: str) -> ValueError:
    return ValueError(f"RLBench observation: {attr}: {what}")


def _array(value: Any, attr: str, shape: tuple[int | None, ...], kinds: str,
           kind_text: str, finite: bool = False) -> NDArray[Any]:
    """``value`` as an array of ``shape`` (None: any size) whose dtype kind is in ``kinds``."""
    if value is None:
        raise _fail(attr, _NONE)
    a = np.asarray(value)
    want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
    if a.ndim != len(shape) or any(s is not None and s != g for s, g in zip(shape, a.shape)):
        raise _fail(attr, f"expected shape {want}, got {tuple(a.shape)}")
    if a.dtype.kind not in kinds:
        raise _fail(attr, f"expected {kind_text}, got dtype {a.dtype}")
    if finite and not np.all(np.isfinite(a)):
        raise _fail(attr, "holds NaN or infinite values")
    return a


def _attr(rl: Any, attr: str) -> Any:
    if not hasattr(rl, attr):
        raise _fail(attr, f"missing (a {type(rl).__name__} is not an RLBench Observation)")
    return getattr(rl, attr)


# ------------------------------------------------------------------ frames and matrices
def yup_to_zup(m: ArrayLike) -> NDArray[np.float64]:
    """Inverse of :func:`robomem.geometry.zup_to_yup`: point(s) or a 4x4 pose in a z-up world."""
    a = np.asarray(m, np.float64)
    if a.shape == (4, 4):
        out = np.eye(4)
        out[:3, :3] = ZUP_TO_YUP.T @ a[:3, :3]
        out[:3, 3] = ZUP_TO_YUP.T @ a[:3, 3]
        return out
    res: NDArray[np.float64] = a @ ZUP_TO_YUP
    return res


def intrinsics_from_pyrep(k: ArrayLike, attr: str = "intrinsics") -> NDArray[np.float64]:
    """OpenCV's 3x3 pinhole matrix (positive focal lengths) of PyRep's (negative ones)."""
    a = _array(k, attr, (3, 3), "fi", "a float matrix", finite=True).astype(np.float64)
    if not (a[0, 0] < 0 and a[1, 1] < 0):
        raise _fail(attr, f"PyRep's get_intrinsic_matrix has negative focal lengths, got "
                          f"fx={a[0, 0]:.6g}, fy={a[1, 1]:.6g}")
    out: NDArray[np.float64] = a @ FLIP[:3, :3]
    return out


def intrinsics_to_pyrep(k: ArrayLike) -> NDArray[np.float64]:
    """Inverse of :func:`intrinsics_from_pyrep`."""
    out: NDArray[np.float64] = np.asarray(k, np.float64) @ FLIP[:3, :3]
    return out


def pose_from_pyrep(extrinsics: ArrayLike, attr: str = "extrinsics") -> NDArray[np.float64]:
    """The camera-to-world pose (OpenCV axes, y-up world) of a sensor's ``get_matrix``."""
    e = _array(extrinsics, attr, (4, 4), "fi", "a float matrix", finite=True).astype(np.float64)
    r = e[:3, :3]
    if not np.allclose(e[3], [0, 0, 0, 1], atol=1e-6) or \
            not np.allclose(r.T @ r, np.eye(3), atol=1e-4) or np.linalg.det(r) < 0:
        raise _fail(attr, "not a rigid transform (rotation, translation, last row 0 0 0 1)")
    return zup_to_yup(e @ FLIP)


def pose_to_pyrep(pose: ArrayLike) -> NDArray[np.float64]:
    """Inverse of :func:`pose_from_pyrep`."""
    out: NDArray[np.float64] = yup_to_zup(pose) @ FLIP
    return out


def matrix_from_pose7(pose: ArrayLike, attr: str = "pose") -> NDArray[np.float64]:
    """4x4 of PyRep's ``(x, y, z, qx, qy, qz, qw)`` (the quaternion is normalised)."""
    p = _array(pose, attr, (7,), "fi", "7 floats", finite=True).astype(np.float64)
    x, y, z, w = p[3:]
    n = math.sqrt(x * x + y * y + z * z + w * w)
    if not n > 1e-9:
        raise _fail(attr, "the quaternion (qx, qy, qz, qw) is zero")
    x, y, z, w = x / n, y / n, z / n, w / n
    m = np.eye(4)
    m[:3, :3] = [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                 [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                 [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]
    m[:3, 3] = p[:3]
    return m


def pose7_from_matrix(m: ArrayLike) -> NDArray[np.float64]:
    """Inverse of :func:`matrix_from_pose7` (``qw >= 0``)."""
    a = np.asarray(m, np.float64)
    r = a[:3, :3]
    # the largest of 4w^2, 4x^2, 4y^2, 4z^2 (Shepperd) keeps the division well conditioned
    d = np.array([1 + np.trace(r), 1 + r[0, 0] - r[1, 1] - r[2, 2],
                  1 - r[0, 0] + r[1, 1] - r[2, 2], 1 - r[0, 0] - r[1, 1] + r[2, 2]])
    i = int(np.argmax(d))
    s = 2.0 * math.sqrt(max(float(d[i]), 1e-12))
    if i == 0:
        q = [(r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s, s / 4]
    elif i == 1:
        q = [s / 4, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s, (r[2, 1] - r[1, 2]) / s]
    elif i == 2:
        q = [(r[0, 1] + r[1, 0]) / s, s / 4, (r[1, 2] + r[2, 1]) / s, (r[0, 2] - r[2, 0]) / s]
    else:
        q = [(r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, s / 4, (r[1, 0] - r[0, 1]) / s]
    quat = np.array(q) * (1.0 if q[3] >= 0 else -1.0)
    return np.concatenate([a[:3, 3], quat / np.linalg.norm(quat)])


# ------------------------------------------------------------------ images
def depth_from_rlbench(depth: ArrayLike, near: float, far: float, in_meters: bool = False,
                       attr: str = "depth") -> NDArray[np.float32]:
    """Depth in float32 metres (0 where nothing was hit) of RLBench's depth image.

    RLBench's depth is in [0, 1] between the clipping planes (``near + d * (far - near)``
    metres, scene.py) unless ``depth_in_meters``; the far plane (and beyond) means nothing
    was hit.
    """
    d = _array(depth, attr, (None, None), "fiu", "a float depth image").astype(np.float64)
    if not (math.isfinite(near) and math.isfinite(far) and 0.0 <= near < far):
        raise _fail(attr, f"needs 0 <= near < far, got near={near!r}, far={far!r}")
    metres = d if in_meters else near + d * (far - near)
    empty = ~np.isfinite(metres) | (metres <= 0.0) | (metres >= far - (far - near) * 1e-6)
    return np.where(empty, 0.0, metres).astype(np.float32)


def depth_to_rlbench(depth: ArrayLike, near: float, far: float,
                     in_meters: bool = False) -> NDArray[np.float32]:
    """Inverse of :func:`depth_from_rlbench` (0 becomes the far plane).

    Raises:
        ValueError: a measured depth outside [near, far).
    """
    m = np.asarray(depth, np.float64)
    empty = ~np.isfinite(m) | (m <= 0.0)
    bad = ~empty & ((m < near) | (m >= far))
    if bad.any():
        raise ValueError(f"depth {float(m[bad][0]):.4g} m lies outside the clipping planes "
                         f"[{near}, {far})")
    out = np.where(empty, far, m) if in_meters else np.where(empty, 1.0, (m - near) / (far - near))
    return out.astype(np.float32)


def mask_from_rlbench(mask: Any, attr: str = "mask") -> NDArray[np.int32]:
    """int32 object handles of an RLBench mask (one channel, or the RGB code).

    One channel is ``rgb_handles_to_mask``'s float sum (rounded here); the RGB code is
    floats in [0, 1] (``capture_rgb``) or bytes, decoded as R + 256 G + 65536 B.
    """
    if mask is None:
        raise _fail(attr, _NONE)
    a = np.asarray(mask)
    if a.ndim == 3:
        a = _array(a, attr, (None, None, 3), "fiu", "an RGB-coded mask")
        c = np.rint(a.astype(np.float64) * 255.0) if a.dtype.kind == "f" else a.astype(np.float64)
        if c.min() < 0 or c.max() > 255:
            raise _fail(attr, "an RGB-coded mask needs channels in [0, 1] (or 0..255 bytes)")
        handles = c[..., 0] + 256.0 * c[..., 1] + 65536.0 * c[..., 2]
    else:
        a = _array(a, attr, (None, None), "fiu", "a mask of object handles")
        handles = a.astype(np.float64)
        if a.dtype.kind == "f":
            handles = np.rint(handles)
            if not np.all(np.isfinite(a)) or np.abs(handles - a).max(initial=0.0) > 0.25:
                raise _fail(attr, "a one-channel mask must hold whole object handles")
    if handles.min(initial=0) < 0 or handles.max(initial=0) > MAX_HANDLE:
        raise _fail(attr, f"object handles must lie in [0, {MAX_HANDLE}]")
    return handles.astype(np.int32)


def mask_to_rgb_code(handles: ArrayLike) -> NDArray[np.float32]:
    """The colour code (H, W, 3) floats in [0, 1] that :func:`mask_from_rlbench` decodes."""
    h = np.asarray(handles, np.int64)
    rgb = np.stack([h % 256, (h // 256) % 256, h // 65536], axis=-1)
    out: NDArray[np.float32] = (rgb.astype(np.float32) / np.float32(255.0)).astype(np.float32)
    return out


# ------------------------------------------------------------------ the observation
def _misc(rl: Any, cam: str) -> tuple[Any, Any, float, float]:
    misc = _attr(rl, "misc")
    if not isinstance(misc, Mapping):
        raise _fail("misc", f"expected a dict, got {type(misc).__name__}")
    out = []
    for part in ("extrinsics", "intrinsics", "near", "far"):
        key = f"{cam}_camera_{part}"
        if key not in misc:
            raise _fail("misc", f"has no {key!r} (Scene._get_misc stores it for every camera "
                                f"that still exists)")
        out.append(misc[key])
    near, far = (float(np.asarray(v, np.float64).reshape(-1)[0]) for v in out[2:])
    return out[0], out[1], near, far


def point_cloud_yup(rl: Any, cam: str) -> NDArray[np.float64]:
    """``{cam}_point_cloud`` (H, W, 3, z-up world) in robomem's y-up world."""
    attr = f"{cam}_point_cloud"
    pc = _array(_attr(rl, attr), attr, (None, None, 3), "f", "float points")
    return zup_to_yup(pc.reshape(-1, 3)).reshape(pc.shape)


def camera_frame(rl: Any, cam: str, *, depth_in_meters: bool = False,
                 labels: Mapping[int, str] | None = None,
                 object_ids: Mapping[int, str] | None = None, stamp: float = 0.0) -> CameraFrame:
    """One RLBench camera as a :class:`CameraFrame`.

    ``labels`` and ``object_ids`` map object handles (the mask's values) to types and names;
    the frame keeps those of the handles in its mask.
    """
    if cam not in SENSORS:
        raise ValueError(f"unknown RLBench camera {cam!r}; known: {', '.join(CAMERAS)}")
    rgb = _array(_attr(rl, f"{cam}_rgb"), f"{cam}_rgb", (None, None, 3), "u", "uint8 colours")
    if rgb.dtype != np.uint8:
        raise _fail(f"{cam}_rgb", f"expected dtype uint8, got {rgb.dtype}")
    h, w = rgb.shape[:2]
    extrinsics, intrinsics, near, far = _misc(rl, cam)
    depth = _array(_attr(rl, f"{cam}_depth"), f"{cam}_depth", (h, w), "f", "float depth")
    raw = _attr(rl, f"{cam}_mask")
    shape: tuple[int, ...] = (h, w, 3) if np.ndim(raw) == 3 else (h, w)
    seg = mask_from_rlbench(_array(raw, f"{cam}_mask", shape, "fiu", "a mask"), f"{cam}_mask")
    present = {int(i) for i in np.unique(seg)}
    return CameraFrame(
        rgb=rgb.copy(),
        intrinsics=intrinsics_from_pyrep(intrinsics, f"misc[{cam}_camera_intrinsics]"),
        pose=pose_from_pyrep(extrinsics, f"misc[{cam}_camera_extrinsics]"),
        depth=depth_from_rlbench(depth, near, far, depth_in_meters, f"{cam}_depth"),
        segmentation=seg,
        labels={int(i): str(v) for i, v in (labels or {}).items() if int(i) in present},
        object_ids={int(i): str(v) for i, v in (object_ids or {}).items() if int(i) in present},
        stamp=stamp, frame_id=SENSORS[cam])


def proprio_from_rlbench(rl: Any, joint_names: Sequence[str] = ()) -> Proprioception | None:
    """Joints, gripper opening and the tip pose (y-up world); None when RLBench gave none."""
    joints, vel = getattr(rl, "joint_positions", None), getattr(rl, "joint_velocities", None)
    pose, grip = getattr(rl, "gripper_pose", None), getattr(rl, "gripper_open", None)
    if joints is None and pose is None and grip is None:
        return None
    q = np.zeros(0) if joints is None else _array(joints, "joint_positions", (None,), "fi",
                                                  "float joint positions").astype(np.float64)
    dq = None if vel is None else _array(vel, "joint_velocities", (len(q),), "fi",
                                         "float joint velocities").astype(np.float64)
    names = tuple(joint_names)
    if names and len(names) != len(q):
        raise _fail("joint_positions", f"expected shape ({len(names)},), got ({len(q)},)")
    opening = None if grip is None else float(_array(grip, "gripper_open", (), "fiub", "a float"))
    ee = None if pose is None else zup_to_yup(matrix_from_pose7(pose, "gripper_pose"))
    return Proprioception(joint_names=names, joint_positions=q, joint_velocities=dq,
                          gripper_open=opening, ee_pose=ee)


def observation_from_rlbench(
        rl: Any, *, cameras: Sequence[str] = CAMERAS, depth_in_meters: bool = False,
        labels: Mapping[int, str] | None = None, object_ids: Mapping[int, str] | None = None,
        joint_names: Sequence[str] = (), instruction: str = "", step: int = 0,
        timestamp: float = 0.0, agent_pose: AgentPose | None = None,
        feedback: ActionFeedback | None = None, scene: str = "") -> Observation:
    """An RLBench ``Observation`` (duck-typed) as robomem's; the first camera is primary.

    The arm's base does not move, so ``agent_pose`` defaults to the world origin.

    Raises:
        ValueError: a missing attribute or misc key, or an array of the wrong shape or dtype
            (the message names the attribute and the shapes; never the data).
    """
    if not cameras:
        raise ValueError(f"name at least one camera of {', '.join(CAMERAS)}")
    frames = {cam: camera_frame(rl, cam, depth_in_meters=depth_in_meters, labels=labels,
                                object_ids=object_ids, stamp=timestamp) for cam in cameras}
    return Observation(cameras=frames, agent_pose=agent_pose or AgentPose(0.0, 0.0, 0.0, 0.0, 0.0),
                       primary=next(iter(frames)), proprio=proprio_from_rlbench(rl, joint_names),
                       instruction=instruction, step=step, timestamp=timestamp,
                       feedback=feedback or ActionFeedback(), scene=scene)
