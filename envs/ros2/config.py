"""Topic names, message types, QoS and timing of a ROS 2 robot: ``env.type=ros2``.

The defaults follow the systems robot builders already run: the camera topics as a RealSense
driver names them (Hydra subscribes to ``color/image_raw`` and ``depth/image_rect``), the
pose as ``nav_msgs/Odometry`` on ``/odom``, instructions on ReMEmbR's ``/speech``
(``std_msgs/String``), velocity commands on ``/cmd_vel`` (``geometry_msgs/Twist``). robomem's
own topics carry what ROS has no standard message for: the camera pose in the map (what a
tf lookup from ``map`` to the camera's optical frame gives; docs/ros.md), instance ids,
actions and their outcomes as JSON, and episode resets.

Example:
    >>> from robomem.config import load_config
    >>> cfg = load_config(None, ["env.type=ros2", "env.topics.pose=/robot/odom"])
    >>> type(cfg.env).__name__, cfg.env.topics.pose, cfg.env.topics.tolerance
    ('ROS2EnvConfig', '/robot/odom', 0.05)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

from robomem.config import EnvConfig
from robomem.untrusted import quote

__all__ = ["ROS2EnvConfig", "RosTopics"]

_NAME = re.compile(r"^/?[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")
MOTIONS = ("json", "twist", "goal")
POSE_TYPES = ("odometry", "pose_stamped")
RELIABILITY = ("reliable", "best_effort")


@dataclass
class RosTopics:
    """Where a robot's data and commands travel (module docstring).

    Attributes:
        rgb: ``sensor_msgs/Image`` (rgb8, bgr8, rgba8 or bgra8).
        depth: ``sensor_msgs/Image`` (32FC1 metres or 16UC1 millimetres), registered to rgb.
        camera_info: ``sensor_msgs/CameraInfo`` of the rgb camera.
        camera_pose: ``geometry_msgs/PoseStamped``: the camera's optical frame in ``frame``.
        pose: the base pose: ``nav_msgs/Odometry`` or ``geometry_msgs/PoseStamped``.
        pose_type: ``odometry`` or ``pose_stamped``.
        segmentation: ``sensor_msgs/Image`` 32SC1 instance ids ("" if the robot has none).
        instruction: ``std_msgs/String`` instructions (latched: transient local).
        action: ``std_msgs/String`` JSON actions ``{"seq", "action", "object"}``.
        cmd_vel: ``geometry_msgs/Twist`` for moves and turns when ``motion`` is ``twist``.
        feedback: ``std_msgs/String`` JSON: each action's outcome and the frame's labels.
        reset: ``std_msgs/String`` JSON episode resets ``{"request", "seed", "options"}``.
        scene_graph: ``std_msgs/String`` JSON: the agent's scene graph, latched ("" for none).
        markers: ``visualization_msgs/MarkerArray``: the scene graph for RViz and Foxglove.
        query: ``std_msgs/String``: questions to memory ("where is the mug?"; JSON
            ``{"id", "question"}`` or plain text).
        answer: ``std_msgs/String`` JSON: each question's answer (``MemoryReader``).
        frame: the fixed frame poses are given in.
        motion: ``json`` (every primitive as JSON), ``twist`` (moves and turns as Twist) or
            ``goal`` (moves and turns as ``geometry_msgs/PoseStamped`` goals on ``goal_pose``,
            for a robot with a navigation stack).
        goal_pose: ``geometry_msgs/PoseStamped`` goals in ``frame`` (ReMEmbR's topic).
        reliability: QoS reliability of the sensor topics.
        qos_depth: QoS history depth.
        tolerance: the largest stamp difference within one observation (s).
        timeout: how long a step waits for the robot's answer before it fails (s).
        base_height: added to the base pose's height (robomem's agent pose y).
        domain_id: the ROS_DOMAIN_ID to join (None: the environment's).
    """

    rgb: str = "/camera/color/image_raw"
    depth: str = "/camera/depth/image_rect"
    camera_info: str = "/camera/color/camera_info"
    camera_pose: str = "/robomem/camera_pose"
    pose: str = "/odom"
    pose_type: str = "odometry"
    segmentation: str = "/robomem/segmentation"
    instruction: str = "/speech"
    action: str = "/robomem/action"
    cmd_vel: str = "/cmd_vel"
    goal_pose: str = "/goal_pose"
    feedback: str = "/robomem/feedback"
    reset: str = "/robomem/reset"
    scene_graph: str = "/robomem/scene_graph"
    markers: str = "/robomem/scene_graph/markers"
    query: str = "/robomem/query"
    answer: str = "/robomem/answer"
    frame: str = "map"
    motion: str = "json"
    reliability: str = "reliable"
    qos_depth: int = 10
    tolerance: float = 0.05
    timeout: float = 10.0
    base_height: float = 0.0
    domain_id: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.type == "str" and f.name not in ("pose_type", "motion", "reliability", "frame") \
                    and v != "" and not _NAME.match(str(v)):
                raise ValueError(f"topics.{f.name}: {quote(v, 80)} is not a ROS topic name "
                                 f"(letters, digits, _ and /)")
        for name, value, allowed in (("pose_type", self.pose_type, POSE_TYPES),
                                     ("motion", self.motion, MOTIONS),
                                     ("reliability", self.reliability, RELIABILITY)):
            if value not in allowed:
                raise ValueError(f"topics.{name} must be one of {', '.join(allowed)}, got "
                                 f"{quote(value, 40)}")
        if not 0.0 <= self.tolerance <= 1.0:
            raise ValueError(f"topics.tolerance must be in [0, 1] s, got {self.tolerance!r}")
        if not 0.1 <= self.timeout <= 600.0:
            raise ValueError(f"topics.timeout must be in [0.1, 600] s, got {self.timeout!r}")
        if not 1 <= self.qos_depth <= 1000:
            raise ValueError(f"topics.qos_depth must be in [1, 1000], got {self.qos_depth!r}")
        if self.domain_id is not None and not 0 <= self.domain_id <= 232:
            raise ValueError(f"topics.domain_id must be in [0, 232], got {self.domain_id!r}")

    @classmethod
    def of(cls, value: RosTopics | dict[str, Any] | None) -> RosTopics:
        """A RosTopics from itself, a dict of its fields (unknown keys are an error) or None."""
        if value is None:
            return cls()
        if isinstance(value, RosTopics):
            return value
        if not isinstance(value, dict):
            raise ValueError(f"topics must be a mapping, got {quote(value, 80)}")
        known = {f.name for f in fields(cls)}
        bad = sorted(str(k) for k in value if k not in known)
        if bad:
            raise ValueError(f"unknown topics setting {quote(bad[0], 40)}; known: "
                             f"{', '.join(sorted(known))}")
        return cls(**value)


@dataclass
class ROS2EnvConfig(EnvConfig):
    """``ROS2RobotEnv``'s keyword arguments.

    Attributes:
        topics: the robot's topics, QoS and timing (:class:`RosTopics`).
        node_name: this node's name on the graph.
        width, height: the image size the robot sends (checked on every frame).
        record: a new bag folder to record the run's ROS 2 traffic to (MCAP; "" for none).
        replay: a bag recorded with ``record`` to replay offline instead of a live robot.
        rosbridge: ``ws://HOST:PORT`` of the robot's rosbridge server ("" joins the ROS 2
            graph directly; ``envs/ros2/rosbridge.py``).
        compression: ``none`` or ``png``: how a rosbridge server sends images.
    """

    type: str = "ros2"
    id: str = "robomem/ROS2Robot-v0"
    topics: RosTopics = field(default_factory=RosTopics)
    node_name: str = "robomem_agent"
    width: int = 300
    height: int = 300
    record: str = ""
    replay: str = ""
    rosbridge: str = ""
    compression: str = "none"
