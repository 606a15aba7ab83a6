"""Core records that cross module boundaries: the observation every embodiment produces.

Example:
    >>> import numpy as np
    >>> from robomem.types import AgentPose, CameraFrame, Observation
    >>> obs = Observation.single(
    ...     rgb=np.zeros((2, 2, 3), np.uint8), depth=np.ones((2, 2), np.float32),
    ...     intrinsics=np.eye(3), camera_pose=np.eye(4),
    ...     agent_pose=AgentPose(0.0, 0.9, 0.0, 90.0, 0.0))
    >>> obs.height, obs.width, list(obs.cameras)
    (2, 2, ['front'])
    >>> wrist = CameraFrame(rgb=np.zeros((4, 4, 3), np.uint8), intrinsics=np.eye(3),
    ...                     pose=np.eye(4), frame_id="wrist_camera_link")
    >>> two = Observation(cameras={"front": obs.camera, "wrist": wrist}, agent_pose=obs.agent_pose)
    >>> two.rgb.shape, two.cameras["wrist"].frame_id
    ((2, 2, 3), 'wrist_camera_link')
    >>> [round(float(v), 3) for v in obs.base_pose[:3, 3]]
    [0.0, 0.9, 0.0]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from robomem.feedback import ActionFeedback
from robomem.untrusted import quote


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

    def matrix(self) -> NDArray[np.float64]:
        """The body as a (4, 4) base-to-world transform.

        The body frame's +z faces forward, +y up (so yaw turns it about the world's y axis);
        the camera pitch is not part of it.
        """
        r = np.radians(self.yaw)
        c, s = float(np.cos(r)), float(np.sin(r))
        t = np.eye(4)
        # yaw 0 faces +z, yaw 90 faces -x: a rotation about +y by -yaw
        t[:3, :3] = [[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]]
        t[:3, 3] = (self.x, self.y, self.z)
        return t

    @classmethod
    def from_matrix(cls, t: NDArray[Any], horizon: float = 0.0) -> AgentPose:
        """The planar pose of a (4, 4) base-to-world transform (inverse of :meth:`matrix`)."""
        fwd = np.asarray(t, np.float64)[:3, 2]
        yaw = float(np.degrees(np.arctan2(-fwd[0], fwd[2]))) % 360.0
        return cls(float(t[0][3]), float(t[1][3]), float(t[2][3]), yaw, horizon)


@dataclass
class CameraFrame:
    """One camera's image at one instant.

    As lerobot's ``observation.images.<cam>`` and habitat's sensors.

    Attributes:
        rgb: (H, W, 3) uint8 colour image.
        intrinsics: (3, 3) pinhole camera matrix, OpenCV convention.
        pose: (4, 4) camera-to-world transform; the camera frame is OpenCV's (x right, y down,
            z forward), so ``world = pose @ [x, y, z, 1]``.
        depth: optional (H, W) float32 z-depth in metres (along the optical axis), 0 where
            nothing was measured.
        segmentation: optional (H, W) int32 instance ids, 0 where nothing was hit.
        labels: instance id -> object type for the ids in ``segmentation``.
        object_ids: instance id -> the world's object id, where it has one.
        stamp: when the frame was taken (seconds; simulated or wall clock).
        frame_id: the camera's coordinate frame name (a ROS ``frame_id``; "" when unnamed).
    """

    rgb: NDArray[np.uint8]
    intrinsics: NDArray[np.float64]
    pose: NDArray[np.float64]
    depth: NDArray[np.float32] | None = None
    segmentation: NDArray[np.int32] | None = None
    labels: dict[int, str] = field(default_factory=dict)
    object_ids: dict[int, str] = field(default_factory=dict)
    stamp: float = 0.0
    frame_id: str = ""

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return int(self.rgb.shape[1])


@dataclass
class Proprioception:
    """What a robot feels of its own body (arms and grippers; mobile bases need none).

    Attributes:
        joint_names: names of the joints, in the order of ``joint_positions``.
        joint_positions: (J,) joint positions (radians or metres).
        joint_velocities: optional (J,) joint velocities.
        gripper_open: gripper opening in [0, 1] (0 closed), ``None`` without a gripper.
        ee_pose: optional (4, 4) end-effector-to-world transform.
    """

    joint_names: tuple[str, ...] = ()
    joint_positions: NDArray[np.float64] = field(
        default_factory=lambda: np.zeros(0, np.float64))
    joint_velocities: NDArray[np.float64] | None = None
    gripper_open: float | None = None
    ee_pose: NDArray[np.float64] | None = None


@dataclass
class Observation:
    """One step of sensing, the same whichever simulator or robot produced it.

    Each :class:`~robomem.embodiment.Embodiment` turns its world's native observation into
    this. The primary camera's fields read as ``obs.rgb``, ``obs.depth``, ``obs.intrinsics``,
    ``obs.camera_pose``, ``obs.segmentation``, ``obs.labels`` and ``obs.object_ids``;
    :meth:`single` builds a one-camera observation from them.

    Attributes:
        cameras: camera name -> its frame (at least one).
        agent_pose: the body pose (position, yaw and camera pitch); :attr:`base_pose` is the
            same as an SE(3) matrix.
        primary: the name of the camera the single-camera properties read ("" = the first).
        proprio: joint and gripper state, for bodies that have them.
        instruction: the task instruction text.
        step: step index within the episode.
        timestamp: simulated or wall-clock seconds.
        privileged: world ground truth (``{"metadata": ...}``); oracles and tests only.
        feedback: the last action's outcome (:class:`~robomem.feedback.ActionFeedback`).
        scene: the house or scene name (memory is kept per scene).
    """

    cameras: dict[str, CameraFrame]
    agent_pose: AgentPose
    primary: str = ""
    proprio: Proprioception | None = None
    instruction: str = ""
    step: int = 0
    timestamp: float = 0.0
    privileged: dict[str, Any] = field(default_factory=dict)
    feedback: ActionFeedback = field(default_factory=ActionFeedback)
    scene: str = ""

    def __post_init__(self) -> None:
        if not self.cameras:
            raise ValueError("an Observation needs at least one camera")
        if self.primary and self.primary not in self.cameras:
            raise ValueError(f"primary camera {quote(self.primary)} is not among the cameras "
                             f"({', '.join(sorted(self.cameras))})")

    @classmethod
    def single(cls, rgb: NDArray[np.uint8], depth: NDArray[np.float32] | None,
               intrinsics: NDArray[Any], camera_pose: NDArray[Any], agent_pose: AgentPose,
               segmentation: NDArray[np.int32] | None = None,
               labels: Mapping[int, str] | None = None,
               object_ids: Mapping[int, str] | None = None, camera: str = "front",
               **fields: Any) -> Observation:
        """A one-camera observation; ``fields`` are the other :class:`Observation` fields."""
        frame = CameraFrame(rgb=rgb, intrinsics=np.asarray(intrinsics, np.float64),
                            pose=np.asarray(camera_pose, np.float64), depth=depth,
                            segmentation=segmentation, labels=dict(labels or {}),
                            object_ids=dict(object_ids or {}),
                            stamp=float(fields.get("timestamp", 0.0)))
        return cls(cameras={camera: frame}, agent_pose=agent_pose, primary=camera, **fields)

    # ---------------------------------------------------------- the primary camera
    @property
    def camera(self) -> CameraFrame:
        """The primary camera's frame."""
        return self.cameras[self.primary] if self.primary else next(iter(self.cameras.values()))

    @property
    def rgb(self) -> NDArray[np.uint8]:
        """The primary camera's (H, W, 3) uint8 image."""
        return self.camera.rgb

    @property
    def depth(self) -> NDArray[np.float32]:
        """The primary camera's (H, W) z-depth in metres.

        Raises:
            ValueError: the primary camera has no depth.
        """
        d = self.camera.depth
        if d is None:
            raise ValueError(f"camera {quote(self.primary or next(iter(self.cameras)))} has no "
                             f"depth; robomem's preprocessor needs an RGB-D primary camera")
        return d

    @property
    def intrinsics(self) -> NDArray[np.float64]:
        """The primary camera's (3, 3) pinhole matrix."""
        return self.camera.intrinsics

    @property
    def camera_pose(self) -> NDArray[np.float64]:
        """The primary camera's (4, 4) camera-to-world transform."""
        return self.camera.pose

    @property
    def segmentation(self) -> NDArray[np.int32] | None:
        """The primary camera's instance ids, if it segments."""
        return self.camera.segmentation

    @property
    def labels(self) -> dict[int, str]:
        """The primary camera's instance id -> object type."""
        return self.camera.labels

    @property
    def object_ids(self) -> dict[int, str]:
        """The primary camera's instance id -> world object id."""
        return self.camera.object_ids

    @property
    def height(self) -> int:
        """The primary camera's image height in pixels."""
        return self.camera.height

    @property
    def width(self) -> int:
        """The primary camera's image width in pixels."""
        return self.camera.width

    # ------------------------------------------------------------------ the body
    @property
    def base_pose(self) -> NDArray[np.float64]:
        """The body pose as a (4, 4) SE(3) base-to-world transform (the camera pitch aside)."""
        return self.agent_pose.matrix()

    # ------------------------------------------------------------ the last action
    @property
    def last_action(self) -> str:
        """The last action in robomem's vocabulary ("" after a reset)."""
        return self.feedback.action

    @property
    def action_success(self) -> bool:
        """Whether the last action worked."""
        return self.feedback.success

    @property
    def action_error(self) -> str:
        """The world's message for a failed last action ("" on success).

        Read ``feedback.code`` to act on it.
        """
        return self.feedback.message


@dataclass(frozen=True)
class Action:
    """A primitive action in robomem's vocabulary (:mod:`robomem.primitives`).

    For interactions, with the target's object id; the embodiment turns it into the world's
    action.

    Example:
        >>> Action("pickup", "Apple|+01.00|+00.95|+02.00").name
        'pickup'
    """

    name: str
    object_id: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.name, Enum):  # a Primitive member: keep the plain name
            object.__setattr__(self, "name", self.name.value)
