"""ROS 2 messages <-> robomem's arrays and poses, checked.

Images follow REP 118: RGB as ``rgb8`` (``bgr8`` and ``rgba8``/``bgra8`` are converted), depth
as ``32FC1`` in metres or ``16UC1`` in millimetres (0 and NaN mean no reading), instance ids
as ``32SC1``. A message with another encoding, or whose ``step`` and ``data`` do not fit its
``width`` and ``height``, raises :class:`MessageError` naming what is wrong (never echoing the
data).

Frames: ROS's map frame (REP 103) is x forward, y left, z up; robomem's world is y up with yaw
0 facing +z and 90 facing -x. The map is carried into robomem's world by the cyclic permutation
``(x, y, z)_robomem = (y, z, x)_ros`` (a rotation: right-handedness is kept), so ROS yaw
``theta`` (counter-clockwise from +x) is robomem yaw ``-theta``. Camera frames are optical
(z forward, x right, y down) in both, as OpenCV's.

Example:
    >>> import numpy as np
    >>> ros_to_robomem([1.0, 2.0, 0.5]).tolist()
    [2.0, 0.5, 1.0]
    >>> round(yaw_from_ros(90.0), 6)
    270.0
    >>> m = matrix_from_ros([1.0, 2.0, 0.0], [0.0, 0.0, 0.0, 1.0])
    >>> bool(np.allclose(pose_to_ros(m)[0], [1.0, 2.0, 0.0]))
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from robomem.geometry import ZUP_TO_YUP, matrix_to_quat, quat_to_rotation

__all__ = [
    "PERMUTE",
    "MessageError",
    "base_from_ros",
    "base_to_ros",
    "depth_from_msg",
    "horizon_of",
    "ids_from_msg",
    "image_to_msg",
    "intrinsics_from_info",
    "matrix_from_ros",
    "pose_to_ros",
    "quat_to_matrix",
    "rgb_from_msg",
    "ros_to_robomem",
    "stamp_of",
    "yaw_from_ros",
]

PERMUTE = ZUP_TO_YUP
"""robomem = PERMUTE @ ros, for points and directions (a rotation, det +1)."""
MAX_PIXELS = 4096 * 4096


class MessageError(ValueError):
    """A message robomem cannot use; the text says which field and what would be right."""


def ros_to_robomem(p: ArrayLike) -> NDArray[np.float64]:
    """A ROS map-frame point (3,) or points (N, 3) in robomem's world frame."""
    out: NDArray[np.float64] = np.asarray(p, np.float64) @ PERMUTE.T
    return out


def yaw_from_ros(theta_deg: float) -> float:
    """The robomem yaw (degrees, [0, 360)) of a ROS heading (degrees, CCW from +x)."""
    return (-theta_deg) % 360.0


def quat_to_matrix(q: Sequence[float]) -> NDArray[np.float64]:
    """3x3 rotation of a unit quaternion ``(x, y, z, w)`` (normalised here)."""
    try:
        return quat_to_rotation(q)
    except ValueError as e:
        raise MessageError(str(e)) from None


def matrix_from_ros(position: Sequence[float], orientation: Sequence[float]
                    ) -> NDArray[np.float64]:
    """A ROS map-frame pose as a 4x4 in robomem's world frame (the body or camera axes kept)."""
    m = np.eye(4)
    m[:3, :3] = PERMUTE @ quat_to_matrix(orientation)
    m[:3, 3] = PERMUTE @ np.asarray(position, np.float64)
    return m


def pose_to_ros(m: ArrayLike) -> tuple[NDArray[np.float64], tuple[float, float, float, float]]:
    """A robomem world-frame 4x4 as a ROS map-frame ``(position, (x, y, z, w))``."""
    a = np.asarray(m, np.float64)
    return PERMUTE.T @ a[:3, 3], matrix_to_quat(PERMUTE.T @ a[:3, :3])


def base_to_ros(x: float, y: float, z: float, yaw: float
                ) -> tuple[NDArray[np.float64], tuple[float, float, float, float]]:
    """A robomem body pose as a ROS ``base_link`` pose (x forward, z up) in the map."""
    theta = math.radians(-yaw)
    return PERMUTE.T @ np.array([x, y, z], np.float64), \
        (0.0, 0.0, math.sin(theta / 2), math.cos(theta / 2))


def base_from_ros(position: Sequence[float], orientation: Sequence[float]
                  ) -> tuple[float, float, float, float]:
    """``(x, y, z, yaw)`` in robomem's world of a ROS ``base_link`` pose (heading about z)."""
    r = quat_to_matrix(orientation)
    theta = math.degrees(math.atan2(r[1, 0], r[0, 0]))
    x, y, z = ros_to_robomem(position)
    return float(x), float(y), float(z), yaw_from_ros(theta)


def horizon_of(camera_to_world: ArrayLike) -> float:
    """The camera pitch in degrees, positive looking down (robomem's ``horizon``)."""
    fwd = np.asarray(camera_to_world, np.float64)[:3, 2]
    return float(np.degrees(np.arcsin(np.clip(-fwd[1], -1.0, 1.0))))


def stamp_of(msg: Any) -> float:
    """A message's ``header.stamp`` in seconds."""
    st = msg.header.stamp
    return float(st.sec) + 1e-9 * float(st.nanosec)


def _pixels(msg: Any, channels: int, itemsize: int, what: str) -> NDArray[Any]:
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    if h <= 0 or w <= 0 or h * w > MAX_PIXELS:
        raise MessageError(f"{what}: height x width must be positive and at most {MAX_PIXELS} "
                           f"pixels, got {h} x {w}")
    if step < w * channels * itemsize:
        raise MessageError(f"{what}: step {step} is shorter than a row ({w} x {channels} x "
                           f"{itemsize} bytes)")
    data = bytes(msg.data)
    if len(data) != step * h:
        raise MessageError(f"{what}: data has {len(data)} bytes, step x height is {step * h}")
    rows = np.frombuffer(data, np.uint8).reshape(h, step)[:, :w * channels * itemsize]
    return np.ascontiguousarray(rows)


def rgb_from_msg(msg: Any) -> NDArray[np.uint8]:
    """(H, W, 3) uint8 RGB from ``rgb8``, ``bgr8``, ``rgba8`` or ``bgra8``."""
    layouts = {"rgb8": (3, [0, 1, 2]), "bgr8": (3, [2, 1, 0]), "rgba8": (4, [0, 1, 2]),
               "bgra8": (4, [2, 1, 0])}
    enc = str(msg.encoding)
    if enc not in layouts:
        raise MessageError(f"colour image encoding {enc[:40]!r} is not supported; use one of "
                           f"{', '.join(layouts)}")
    n, order = layouts[enc]
    px = _pixels(msg, n, 1, "colour image").reshape(int(msg.height), int(msg.width), n)
    return np.ascontiguousarray(px[..., order])


def depth_from_msg(msg: Any) -> NDArray[np.float32]:
    """(H, W) float32 metres from ``32FC1`` (m) or ``16UC1`` (mm); no reading -> 0."""
    enc = str(msg.encoding)
    if enc not in ("32FC1", "16UC1"):
        raise MessageError(f"depth encoding {enc[:40]!r} is not supported; use 32FC1 (metres) "
                           f"or 16UC1 (millimetres), REP 118")
    big = bool(msg.is_bigendian)
    if enc == "32FC1":
        raw = _pixels(msg, 1, 4, "depth image").view(">f4" if big else "<f4")
        d = raw.astype(np.float32)
    else:
        raw = _pixels(msg, 1, 2, "depth image").view(">u2" if big else "<u2")
        d = raw.astype(np.float32) / 1000.0
    d = d.reshape(int(msg.height), int(msg.width))
    return np.where(np.isfinite(d) & (d > 0), d, 0.0).astype(np.float32)


def ids_from_msg(msg: Any) -> NDArray[np.int32]:
    """(H, W) int32 instance ids from ``32SC1`` (0: no object)."""
    if str(msg.encoding) != "32SC1":
        raise MessageError(f"segmentation encoding {str(msg.encoding)[:40]!r} is not supported;"
                           f" use 32SC1 instance ids")
    raw = _pixels(msg, 1, 4, "segmentation").view(">i4" if msg.is_bigendian else "<i4")
    return raw.astype(np.int32).reshape(int(msg.height), int(msg.width))


def image_to_msg(msg: Any, array: ArrayLike, encoding: str) -> Any:
    """Fill a ``sensor_msgs/Image`` with ``array`` (rgb8, 32FC1 or 32SC1), little-endian."""
    dtypes: dict[str, np.dtype[Any]] = {"rgb8": np.dtype(np.uint8), "32FC1": np.dtype("<f4"),
                                         "32SC1": np.dtype("<i4")}
    a = np.ascontiguousarray(np.asarray(array, dtypes[encoding]))
    msg.height, msg.width = int(a.shape[0]), int(a.shape[1])
    msg.encoding, msg.is_bigendian = encoding, 0
    msg.step = int(a.strides[0])
    msg.data = a.tobytes()
    return msg


def intrinsics_from_info(info: Any, width: int, height: int) -> NDArray[np.float64]:
    """3x3 intrinsics from a ``CameraInfo`` whose size matches the image."""
    if int(info.width) != width or int(info.height) != height:
        raise MessageError(f"camera_info is for {info.width} x {info.height} images, the image "
                           f"is {width} x {height}")
    k = np.asarray(info.k, np.float64).reshape(3, 3)
    if k[0, 0] <= 0 or k[1, 1] <= 0 or k[2, 2] != 1.0:
        raise MessageError("camera_info.k must have positive focal lengths and k[8] == 1, got "
                           f"{np.round(k, 3).tolist()}")
    return k


# the lattice moves and turns in the robot's own frame: (forward, left, turn) in steps
MOTION_STEPS: dict[str, tuple[int, int, int]] = {
    "move_ahead": (1, 0, 0), "move_back": (-1, 0, 0), "move_left": (0, 1, 0),
    "move_right": (0, -1, 0), "rotate_left": (0, 0, 1), "rotate_right": (0, 0, -1)}


def goal_of(x: float, y: float, theta: float, primitive: str, lattice: float,
            turn_degrees: float) -> tuple[float, float, float]:
    """The map-frame goal ``(x, y, heading in rad)`` of a lattice move or turn from a pose.

    ``theta`` is the ROS heading (rad, counter-clockwise from +x; left is +y, REP 103).

    Example:
        >>> [round(v, 3) for v in goal_of(1.0, 2.0, 0.0, "move_left", 0.25, 90.0)]
        [1.0, 2.25, 0.0]
    """
    fwd, left, turn = MOTION_STEPS[primitive]
    c, s = math.cos(theta), math.sin(theta)
    return (x + lattice * (fwd * c - left * s), y + lattice * (fwd * s + left * c),
            theta + math.radians(turn * turn_degrees))


def primitive_to(x: float, y: float, theta: float, goal: tuple[float, float, float],
                 lattice: float, turn_degrees: float) -> str | None:
    """The one lattice move or turn that goes from a pose toward ``goal`` (None: already there).

    A turn comes first when the heading is off by more than half a turn; else the move along
    the robot's axis with the larger offset, when that exceeds half a step.

    Example:
        >>> primitive_to(1.0, 2.0, 0.0, (1.0, 2.25, 0.0), 0.25, 90.0)
        'move_left'
        >>> primitive_to(0.0, 0.0, 0.0, (0.0, 0.0, math.pi / 2), 0.25, 90.0)
        'rotate_left'
    """
    gx, gy, gt = goal
    dt = (gt - theta + math.pi) % (2 * math.pi) - math.pi
    if abs(dt) > math.radians(turn_degrees) / 2:
        return "rotate_left" if dt > 0 else "rotate_right"
    c, s = math.cos(theta), math.sin(theta)
    fwd, left = (gx - x) * c + (gy - y) * s, -(gx - x) * s + (gy - y) * c
    if max(abs(fwd), abs(left)) <= lattice / 2:
        return None
    if abs(fwd) >= abs(left):
        return "move_ahead" if fwd > 0 else "move_back"
    return "move_left" if left > 0 else "move_right"


def heading_of(q: Sequence[float]) -> float:
    """The heading (rad, about z) of a ROS orientation quaternion ``(x, y, z, w)``."""
    r = quat_to_matrix(q)
    return math.atan2(r[1, 0], r[0, 0])
