"""AI2-THOR's frame and robomem's: one mirror, documented and tested both ways.

AI2-THOR (Unity) is left-handed with y up: x right, z forward, ``rotation.y`` turning clockwise
seen from above (0 faces +z, 90 faces +x), ``cameraHorizon`` positive looking down, distances
in metres. robomem's world frame is right-handed with y up, and its yaw has the same sense as
AI2-THOR's rotation.y (0 faces +z, 90 faces -x; docs/household.md). The two differ by the
mirror x -> -x: positions mirror, yaw and camera pitch carry over unchanged, and an
axis-aligned box mirrors into the box with its x bounds swapped and negated.

Example:
    >>> import numpy as np
    >>> from robomem.envs.ai2thor.frames import thor_to_robomem, robomem_to_thor
    >>> thor_to_robomem([1.0, 0.9, 2.0]).tolist()
    [-1.0, 0.9, 2.0]
    >>> bool(np.allclose(robomem_to_thor(thor_to_robomem([1.0, 0.9, 2.0])), [1.0, 0.9, 2.0]))
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from robomem.geometry import AABB, camera_to_world
from robomem.types import AgentPose

__all__ = ["MIRROR", "agent_pose", "camera_pose", "robomem_to_thor", "thor_box",
           "thor_to_robomem"]

MIRROR = np.diag([-1.0, 1.0, 1.0])
"""The linear map between the two frames (its own inverse)."""


def thor_to_robomem(p: ArrayLike) -> NDArray[np.float64]:
    """An AI2-THOR point (3,) or points (N, 3) in robomem's frame: x mirrored."""
    return np.asarray(p, np.float64) @ MIRROR


def robomem_to_thor(p: ArrayLike) -> NDArray[np.float64]:
    """A robomem point (3,) or points (N, 3) in AI2-THOR's frame (the same mirror)."""
    return np.asarray(p, np.float64) @ MIRROR


def _xyz(d: Mapping[str, Any]) -> NDArray[np.float64]:
    return np.array([float(d["x"]), float(d["y"]), float(d["z"])])


def agent_pose(agent: Mapping[str, Any]) -> AgentPose:
    """The body pose from ``metadata["agent"]`` (position, rotation.y, cameraHorizon)."""
    x, y, z = thor_to_robomem(_xyz(agent["position"]))
    return AgentPose(float(x), float(y), float(z), float(agent["rotation"]["y"]) % 360.0,
                     float(agent["cameraHorizon"]))


def camera_pose(agent: Mapping[str, Any], camera_position: Mapping[str, Any] | None = None,
                camera_height: float = 0.675) -> NDArray[np.float64]:
    """The camera-to-world 4x4 in robomem's frame (OpenCV camera axes).

    Args:
        agent: ``metadata["agent"]``.
        camera_position: ``metadata["cameraPosition"]`` when the event has it (the camera's
            own position); else the agent's position raised by ``camera_height`` (AI2-THOR's
            default agent carries its camera 0.675 m above its position).
        camera_height: see ``camera_position``.
    """
    pose = agent_pose(agent)
    if camera_position is not None:
        pos = thor_to_robomem(_xyz(camera_position))
    else:
        pos = np.array([pose.x, pose.y + camera_height, pose.z])
    return camera_to_world((float(pos[0]), float(pos[1]), float(pos[2])), pose.yaw, pose.horizon)


def thor_box(aabb: Mapping[str, Any]) -> AABB:
    """An ``axisAlignedBoundingBox`` (center and size) as a robomem box."""
    c, s = thor_to_robomem(_xyz(aabb["center"])), np.abs(_xyz(aabb["size"]))
    return AABB(c - s / 2, c + s / 2)


def corners(box: AABB) -> Sequence[NDArray[np.float64]]:
    """The 8 corners of a box (for tests and drawing)."""
    lo, hi = box.lo, box.hi
    return [np.array([x, y, z]) for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
            for z in (lo[2], hi[2])]
