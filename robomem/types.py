"""Core records that cross module boundaries: the observation every env produces.

Example:
    >>> import numpy as np
    >>> from robomem.types import AgentPose, Observation
    >>> obs = Observation(
    ...     rgb=np.zeros((2, 2, 3), np.uint8), depth=np.ones((2, 2), np.float32),
    ...     intrinsics=np.eye(3), camera_pose=np.eye(4),
    ...     agent_pose=AgentPose(0.0, 0.9, 0.0, 90.0, 0.0))
    >>> obs.height, obs.width
    (2, 2)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from robomem import keys


@dataclass(frozen=True)
class AgentPose:
    """The agent's body pose in the world frame.

    The world frame is right-handed with y up, in metres. ``yaw`` is in degrees and grows
    clockwise seen from above (as AI2-THOR's ``rotation.y``): yaw 0 faces +z, yaw 90 faces -x.
    ``horizon`` is the camera pitch in degrees, positive looking down (AI2-THOR's
    ``cameraHorizon``).
    """

    x: float
    y: float
    z: float
    yaw: float
    horizon: float

    def as_array(self) -> NDArray[np.float32]:
        """``[x, y, z, yaw, horizon]`` as float32."""
        return np.array([self.x, self.y, self.z, self.yaw, self.horizon], dtype=np.float32)

    @classmethod
    def from_array(cls, a: NDArray[Any]) -> AgentPose:
        """Inverse of :meth:`as_array`."""
        return cls(float(a[0]), float(a[1]), float(a[2]), float(a[3]), float(a[4]))


@dataclass
class Observation:
    """One step of sensing, the same whichever simulator or robot produced it.

    Attributes:
        rgb: (H, W, 3) uint8 colour image.
        depth: (H, W) float32 z-depth in metres (distance along the optical axis).
        intrinsics: (3, 3) pinhole camera matrix, OpenCV convention.
        camera_pose: (4, 4) camera-to-world transform; the camera frame is OpenCV's
            (x right, y down, z forward), so ``world = camera_pose @ [x, y, z, 1]``.
        agent_pose: the agent body pose.
        segmentation: optional (H, W) int32 instance ids, 0 where nothing was hit.
        labels: instance id -> object type for the ids in ``segmentation``.
        object_ids: instance id -> the simulator's object id, where it has one.
        instruction: the task instruction text.
        step: step index within the episode.
        timestamp: simulated or wall-clock seconds.
        privileged: simulator ground truth (``{"metadata": ...}``); oracles and tests only.
        last_action: the action that led here (``""`` after a reset).
        action_success: whether it succeeded (controller feedback, as a robot gets it).
        action_error: why it failed.
        scene: the house or scene name (memory is kept per scene).
    """

    rgb: NDArray[np.uint8]
    depth: NDArray[np.float32]
    intrinsics: NDArray[np.float64]
    camera_pose: NDArray[np.float64]
    agent_pose: AgentPose
    segmentation: NDArray[np.int32] | None = None
    labels: dict[int, str] = field(default_factory=dict)
    object_ids: dict[int, str] = field(default_factory=dict)
    instruction: str = ""
    step: int = 0
    timestamp: float = 0.0
    privileged: dict[str, Any] = field(default_factory=dict)
    last_action: str = ""
    action_success: bool = True
    action_error: str = ""
    scene: str = ""

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return int(self.depth.shape[0])

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return int(self.depth.shape[1])

    @classmethod
    def from_gym(cls, obs: Mapping[str, Any], info: Mapping[str, Any]) -> Observation:
        """Build an Observation from a robomem env's observation and info dicts."""
        seg = obs.get(keys.OBS_SEGMENTATION)
        return cls(
            rgb=np.asarray(obs[keys.OBS_RGB]),
            depth=np.asarray(obs[keys.OBS_DEPTH]),
            intrinsics=np.asarray(obs[keys.OBS_INTRINSICS], dtype=np.float64),
            camera_pose=np.asarray(obs[keys.OBS_CAMERA_POSE], dtype=np.float64),
            agent_pose=AgentPose.from_array(np.asarray(obs[keys.OBS_AGENT_POSE])),
            segmentation=None if seg is None else np.asarray(seg),
            labels=dict(info.get(keys.INFO_LABELS, {})),
            object_ids=dict(info.get(keys.INFO_OBJECT_IDS, {})),
            instruction=str(obs.get(keys.OBS_INSTRUCTION, "")),
            step=int(obs.get(keys.OBS_STEP, 0)),
            timestamp=float(obs.get(keys.OBS_TIMESTAMP, 0.0)),
            privileged=dict(info.get(keys.INFO_PRIVILEGED, {})),
            last_action=str(info.get(keys.INFO_ACTION_NAME, "")),
            action_success=bool(info.get(keys.INFO_ACTION_SUCCESS, True)),
            action_error=str(info.get(keys.INFO_ACTION_ERROR, "")),
            scene=str(info.get(keys.INFO_SCENE, "")),
        )


@dataclass(frozen=True)
class Action:
    """A primitive action: an AI2-THOR action name and, for interactions, an object id.

    Example:
        >>> Action("PickupObject", "Apple|+01.00|+00.95|+02.00").to_env()["action"]
        'PickupObject'
    """

    name: str
    object_id: str | None = None

    def to_env(self) -> dict[str, Any]:
        """The dict form every robomem env's ``step`` accepts."""
        return {keys.ACT_ACTION: self.name, keys.ACT_OBJECT: self.object_id or 0}
