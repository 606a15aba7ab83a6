"""robomem/ROS2Robot-v0: a robot on ROS 2 as a Gymnasium env (and a ROS 2 node).

The env subscribes to the robot's camera (colour, depth, CameraInfo), camera pose, base pose,
instance ids and instructions, and assembles time-synchronised observations from them
(``envs/ros2/sync.py``): every part of one observation lies within ``topics.tolerance``
seconds (default 50 ms) of the colour image, and stale or unmatched messages are dropped and
counted (``env.unwrapped.link_stats()``). An action goes out as JSON on ``topics.action``
(robomem's primitive names). With ``motion: twist`` moves and turns go as
``geometry_msgs/Twist`` on ``topics.cmd_vel``; with ``motion: goal`` as
``geometry_msgs/PoseStamped`` goals on ``topics.goal_pose``, the pose one move or turn away.
The step then waits for the robot's outcome on ``topics.feedback`` and for an observation
taken after it. A robot that stops answering makes the step raise
:class:`RobotTimeout` after ``topics.timeout`` seconds, naming the silent topics; it never
hangs. ``reset`` sends a reset request on ``topics.reset`` (seed and options, for a robot or
server that can reset) and waits the same way. Topic names, frames, QoS and timing come from
the launch file (``launch/ros2.yaml``; docs/ros.md).

Example (with a robot or ``robomem ros serve`` on the same ROS domain):
    >>> from robomem.envs.ros2.env import ROS2RobotEnv
    >>> env = ROS2RobotEnv(width=64, height=64)  # nothing starts until reset()
    >>> int(env.action_space["action"].n)
    15
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import string
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from robomem import keys
from robomem.envs.layout import camera_observation_space, parse_action
from robomem.envs.ros2.config import RosTopics
from robomem.envs.ros2.convert import (
    MOTION_STEPS,
    MessageError,
    base_from_ros,
    depth_from_msg,
    goal_of,
    heading_of,
    horizon_of,
    ids_from_msg,
    intrinsics_from_info,
    matrix_from_ros,
    rgb_from_msg,
    stamp_of,
)
from robomem.envs.ros2.node import to_stamp
from robomem.envs.ros2.ports import Ports
from robomem.envs.ros2.sync import Synced, Synchronizer
from robomem.memory.reader import MemoryReader
from robomem.primitives import PRIMITIVES, Primitive
from robomem.untrusted import quote

if TYPE_CHECKING:
    from robomem.envs.ros2.memory_topics import MemoryTopics

__all__ = ["ACTIONS", "ROS2RobotEnv", "RobotTimeout"]

log = logging.getLogger(__name__)

ACTIONS: tuple[str, ...] = tuple(p for p in PRIMITIVES if p != Primitive.FIND.value)
MAX_INSTRUCTION_CHARS = 2000
RESEND_S = 1.0  # through rosbridge, an unanswered reset request is repeated this often (s)
INSTRUCTION_CHARSET = string.printable


class RobotTimeout(RuntimeError):
    """The robot did not answer in time; the message names what stayed silent."""


class ROS2RobotEnv(gym.Env[dict[str, Any], dict[str, Any]]):
    """A ROS 2 robot behind robomem's gym layout (see the module docstring).

    Args:
        topics: the robot's topics and timing (:class:`RosTopics` or a dict of its fields).
        node_name: this node's name.
        width, height: the image size the robot sends; other sizes are an error.
        render_mode: ``"rgb_array"`` or None.
        record: a new bag folder: every message taken and sent is recorded there (MCAP).
        replay: a bag folder recorded with ``record``: the env replays it instead of joining
            a graph, and each action must be the recorded one (``envs/ros2/bag.py``).
        rosbridge: ``ws://HOST:PORT`` of a rosbridge server: talk to the robot through it
            (roslibpy; ROS 1 or ROS 2) instead of joining a ROS 2 graph ("" joins the graph).
        compression: through rosbridge, ``png`` asks the server to send images as PNG.
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 10,  # noqa: RUF012
                                "robomem.embodiment": "ros2"}
    # Starting needs a robot (or `robomem ros serve`): `robomem doctor` does not start it.
    doctor_kwargs: dict[str, Any] | None = None

    def __init__(self, topics: RosTopics | dict[str, Any] | None = None,
                 node_name: str = "robomem_agent", width: int = 300, height: int = 300,
                 render_mode: str | None = None, record: str = "", replay: str = "",
                 rosbridge: str = "", compression: str = "none") -> None:
        for name, v in (("width", width), ("height", height)):
            if isinstance(v, bool) or not isinstance(v, int) or not 16 <= v <= 4096:
                raise ValueError(f"{name} must be an integer in [16, 4096], got {quote(v)}")
        if record and replay:
            raise ValueError(f"record and replay exclude each other (record={quote(record, 80)},"
                             f" replay={quote(replay, 80)}): a replay reproduces a recording")
        if rosbridge or compression != "none":
            from robomem.envs.ros2.rosbridge import COMPRESSIONS, parse_url

            if replay and rosbridge:
                raise ValueError(f"replay and rosbridge exclude each other (replay="
                                 f"{quote(replay, 80)}, rosbridge={quote(rosbridge, 80)})")
            if rosbridge:
                parse_url(rosbridge)
            if compression not in COMPRESSIONS:
                raise ValueError(f"compression must be one of {', '.join(COMPRESSIONS)}, got "
                                 f"{quote(compression, 40)}")
        self.topics = RosTopics.of(topics)
        self.record, self.replay = record, replay
        self.rosbridge, self.compression = rosbridge, compression
        self.ports: Ports | None = None
        self._reader: MemoryReader | None = None
        self.memory_topics: MemoryTopics | None = None
        self.node_name, self.width, self.height = node_name, width, height
        self.render_mode = render_mode
        self._seq = itertools.count(1)
        self._requests = itertools.count(1)
        self._feedback: list[dict[str, Any]] = []
        self._instruction = ""
        self._info_msg: Any = None
        self._last: Synced | None = None
        self._sync: Synchronizer | None = None
        self._heard: dict[str, float] = {}
        self._counts = {"bad_messages": 0}
        self._steps = 0
        self._done = True
        self.observation_space = camera_observation_space(
            height, width, instruction_chars=MAX_INSTRUCTION_CHARS, min_instruction=0,
            max_time=1e10)
        self.action_space = spaces.Dict({keys.ACT_ACTION: spaces.Discrete(len(ACTIONS)),
                                         keys.ACT_OBJECT: spaces.Text(200)})

    @classmethod
    def doctor_requirements(cls) -> str:
        """What ``robomem doctor`` reports: whether rclpy imports, and which RMW it uses."""
        import os

        try:
            from rclpy.utilities import get_rmw_implementation_identifier
        except ImportError:
            return "rclpy missing (pip install 'robomem[ros]')"
        rng = os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE", "unset")
        return (f"rclpy imports, RMW {get_rmw_implementation_identifier()}, ROS_DOMAIN_ID="
                f"{os.environ.get('ROS_DOMAIN_ID', 'unset (0)')}, "
                f"ROS_AUTOMATIC_DISCOVERY_RANGE={rng}; needs a robot or `robomem ros serve`")

    def attach_memory(self, reader: MemoryReader) -> None:
        """Show this agent's memory on ROS 2 (``envs/ros2/memory_topics.py``).

        The runner calls it with the memory agent's reader. Live only: a replay publishes
        nothing.
        """
        self._reader = reader
        if self.ports is not None:
            self._start_memory()

    def _start_memory(self) -> None:
        from robomem.envs.ros2.memory_topics import MemoryTopics
        from robomem.envs.ros2.ports import ReplayPorts

        if self._reader is not None and self.ports is not None and \
                not isinstance(self.ports, ReplayPorts):
            try:
                self.memory_topics = MemoryTopics(self.ports, self.topics, self._reader)
            except ImportError as e:  # rclpy without the marker and service messages
                log.warning("memory is not shown on ROS 2: %s (pip install 'robomem[ros]' "
                            "installs visualization_msgs and std_srvs)", e)

    # ------------------------------------------------------------------ ros
    def _start(self) -> None:
        from robomem.envs.ros2.node import msgs, qos, start_node
        from robomem.envs.ros2.ports import LivePorts, RecordingPorts, ReplayPorts

        t = self.topics
        ports: Ports
        if self.replay:
            ports = ReplayPorts(self.replay)
        elif self.rosbridge:
            from robomem.envs.ros2.rosbridge import RosbridgePorts

            ports = RosbridgePorts(self.rosbridge, self.compression,
                                   connect_timeout=t.timeout)
        else:
            ports = LivePorts(start_node(self.node_name, t.domain_id))
        if self.record:
            ports = RecordingPorts(ports, self.record)
        self.ports = ports
        m = msgs()
        self.m = m
        sensor = qos("sensor", t.qos_depth, t.reliability)
        streams = ["rgb", "depth", "camera_pose", "pose"] + (["segmentation"] if
                                                              t.segmentation else [])
        self._sync = Synchronizer(streams, t.tolerance, depth=max(8, t.qos_depth))

        def feed(stream: str) -> Callable[[Any], None]:
            def cb(msg: Any) -> None:
                self._heard[stream] = time.monotonic()
                assert self._sync is not None
                self._sync.add(stream, stamp_of(msg), msg)
            return cb

        ports.subscribe(m.Image, t.rgb, feed("rgb"), sensor)
        ports.subscribe(m.Image, t.depth, feed("depth"), sensor)
        ports.subscribe(m.PoseStamped, t.camera_pose, feed("camera_pose"), sensor)
        ports.subscribe(m.Odometry if t.pose_type == "odometry" else m.PoseStamped,
                        t.pose, feed("pose"), sensor)
        if t.segmentation:
            ports.subscribe(m.Image, t.segmentation, feed("segmentation"), sensor)
        ports.subscribe(m.CameraInfo, t.camera_info, self._on_info, sensor)
        ports.subscribe(m.String, t.instruction, self._on_instruction, qos("latched"))
        ports.subscribe(m.String, t.feedback, self._on_feedback, qos("command", 50))
        self._pub_action = ports.publisher(m.String, t.action, qos("command", 50))
        self._pub_twist = ports.publisher(m.Twist, t.cmd_vel, qos("command", 50))
        self._pub_goal = ports.publisher(m.PoseStamped, t.goal_pose, qos("command", 50))
        self._pub_reset = (ports.publisher(m.String, t.reset, qos("command", 50))
                           if t.reset else None)
        self._start_memory()

    def _subscribed(self, pub: Any, topic: str) -> None:
        """Wait until the robot listens on ``topic`` (a request sent earlier would be lost)."""
        if pub.get_subscription_count() == 0:
            self._wait(f"subscriber on {topic} (is the robot running?)",
                       lambda: pub.get_subscription_count() or None, [])

    def _on_info(self, msg: Any) -> None:
        self._heard["camera_info"] = time.monotonic()
        self._info_msg = msg

    def _on_instruction(self, msg: Any) -> None:
        self._instruction = str(msg.data)[:MAX_INSTRUCTION_CHARS]

    def _on_feedback(self, msg: Any) -> None:
        self._heard["feedback"] = time.monotonic()
        try:
            body = json.loads(msg.data)
        except json.JSONDecodeError:
            self._counts["bad_messages"] += 1
            return
        if isinstance(body, dict):
            self._feedback.append(body)
            del self._feedback[:-64]

    def _wait(self, what: str, ready: Callable[[], Any], silent: list[str]) -> Any:
        """Spin until ``ready()`` returns something; RobotTimeout after ``topics.timeout``."""
        start = time.monotonic()
        end = start + self.topics.timeout
        while True:
            got = ready()
            if got is not None:
                return got
            if time.monotonic() >= end:
                quiet = [s for s in silent if self._heard.get(s, 0.0) < start]
                names = {s: getattr(self.topics, s) for s in quiet}
                stats = self._sync.stats() if self._sync else {}
                raise RobotTimeout(
                    f"no {what} from the robot within {self.topics.timeout:g} s; silent since "
                    f"the request: {', '.join(f'{k} ({v})' for k, v in names.items()) or 'none'}"
                    f"; sync counters {stats} (are the robot and this node on the same "
                    f"ROS_DOMAIN_ID, and do the stamps of its topics agree within "
                    f"{self.topics.tolerance:g} s?)")
            assert self.ports is not None
            self.ports.spin_once(0.02)

    def _answer(self, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        for i, body in enumerate(self._feedback):
            if match(body):
                del self._feedback[:i + 1]
                return body
        return None

    def _frame_after(self, body: dict[str, Any]) -> Synced:
        stamp = body.get("stamp")
        after = (float(stamp[0]) + 1e-9 * float(stamp[1]) - self.topics.tolerance
                 if isinstance(stamp, list) and len(stamp) == 2 else None)
        assert self._sync is not None
        sync = self._sync
        got: Synced = self._wait("synchronised frame", lambda: sync.latest(after),
                                 list(sync.streams))
        return got

    # ------------------------------------------------------------------ gym api
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Ask the robot to start an episode (if it takes resets) and return the first frame."""
        super().reset(seed=seed)
        if self.ports is None:
            self._start()
        self._feedback.clear()
        if self.memory_topics is not None:
            self.memory_topics.publish()
        body: dict[str, Any] = {}
        if self._pub_reset is not None:
            self._subscribed(self._pub_reset, self.topics.reset)
            req = next(self._requests)
            request = self.m.String(data=json.dumps(
                {"request": req, "seed": seed, "options": options or {}}))
            self._pub_reset.publish(request)
            sent = [time.monotonic()]

            def answered() -> dict[str, Any] | None:
                got = self._answer(lambda b: b.get("kind") == "reset" and
                                   b.get("request") == req)
                if got is None and self.rosbridge and time.monotonic() - sent[0] > RESEND_S:
                    # rosbridge cannot tell whether the robot listens yet: say it again (the
                    # robot answers a repeated request id once more, without a second reset)
                    assert self._pub_reset is not None
                    self._pub_reset.publish(request)
                    sent[0] = time.monotonic()
                return got

            body = self._wait("answer to the reset request", answered, ["feedback"])
            if body.get("rejected"):
                raise ValueError(f"the robot refused the reset: {str(body.get('error'))[:300]}")
        self._steps, self._done = 0, False
        return self._observe(self._frame_after(body), body)

    def step(self, action: Any) -> tuple[dict[str, Any], SupportsFloat, bool, bool,
                                         dict[str, Any]]:
        """Send one primitive; wait for its outcome and the next frame."""
        if self.ports is None or self._done:
            raise RuntimeError("call reset() before step() (and after an episode ends)")
        name, obj = self._parse(action)
        if self.memory_topics is not None:  # what the agent remembers, as it decides
            self.memory_topics.publish()
        self._steps += 1
        assert self.ports is not None
        sent = self.ports.now()
        if self.topics.motion in ("twist", "goal") and name in MOTION_STEPS:
            self._send_motion(name)

            def mine(b: dict[str, Any]) -> bool:
                st = b.get("stamp") or [0, 0]
                return b.get("kind") == "action" and b.get("seq") is None and \
                    float(st[0]) + 1e-9 * float(st[1]) >= sent - 1.0
        else:
            seq = next(self._seq)
            self._subscribed(self._pub_action, self.topics.action)
            self._pub_action.publish(self.m.String(data=json.dumps(
                {"seq": seq, "action": name, "object": obj or ""})))

            def mine(b: dict[str, Any]) -> bool:
                return b.get("kind") == "action" and b.get("seq") == seq
        body = self._wait(f"outcome of {name}", lambda: self._answer(mine), ["feedback"])
        if body.get("rejected"):
            obs, info = self._observe(self._last, body) if self._last else self._observe(
                self._frame_after({}), body)
        else:
            obs, info = self._observe(self._frame_after(body), body)
        success = bool(body.get("task_success"))
        terminated = bool(body.get("terminated"))
        truncated = bool(body.get("truncated")) and not terminated
        self._done = terminated or truncated
        info[keys.INFO_SUCCESS] = success and terminated
        return obs, 1.0 if success and terminated else 0.0, terminated, truncated, info

    def _send_motion(self, name: str) -> None:
        """A lattice move or turn as a Twist (one step) or a PoseStamped goal (the pose after)."""
        from robomem.embodiment import embodiment_for

        body = embodiment_for(self).body
        lattice, turn = (body.lattice, body.turn_degrees) if body else (0.25, 90.0)
        fwd, left, yaw = MOTION_STEPS[name]
        if self.topics.motion == "twist":
            tw = self.m.Twist()
            tw.linear.x, tw.linear.y = fwd * lattice, left * lattice
            tw.angular.z = yaw * math.radians(turn)
            self._subscribed(self._pub_twist, self.topics.cmd_vel)
            self._pub_twist.publish(tw)
            return
        assert self._last is not None  # reset() took a frame
        msg = self._last.messages["pose"].pose
        base = msg.pose if self.topics.pose_type == "odometry" else msg
        p, q = base.position, base.orientation
        x, y, theta = goal_of(p.x, p.y, heading_of([q.x, q.y, q.z, q.w]), name, lattice, turn)
        goal = self.m.PoseStamped()
        goal.header.frame_id = self.topics.frame
        # the frame's own stamp: a replay sends the very same goal
        goal.header.stamp.sec, goal.header.stamp.nanosec = to_stamp(self._last.stamp)
        goal.pose.position.x, goal.pose.position.y, goal.pose.position.z = x, y, p.z
        goal.pose.orientation.z, goal.pose.orientation.w = math.sin(theta / 2), \
            math.cos(theta / 2)
        self._subscribed(self._pub_goal, self.topics.goal_pose)
        self._pub_goal.publish(goal)

    def _parse(self, action: Any) -> tuple[str, str | None]:
        return parse_action(action, ACTIONS)

    def _observe(self, synced: Synced, body: dict[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
        self._last = synced
        msgs = synced.messages
        rgb = rgb_from_msg(msgs["rgb"])
        depth = depth_from_msg(msgs["depth"])
        h, w = rgb.shape[:2]
        if (w, h) != (self.width, self.height) or depth.shape != (h, w):
            raise MessageError(f"the robot sends {w} x {h} colour and {depth.shape[1]} x "
                               f"{depth.shape[0]} depth images; this env was made for "
                               f"{self.width} x {self.height} (set width and height)")
        seg = (ids_from_msg(msgs["segmentation"]) if "segmentation" in msgs
               else np.zeros((h, w), np.int32))
        if seg.shape != (h, w):
            raise MessageError(f"segmentation is {seg.shape[1]} x {seg.shape[0]}, the colour "
                               f"image {w} x {h}")
        if self._info_msg is None:
            self._wait("camera_info", lambda: self._info_msg, ["camera_info"])
        k = intrinsics_from_info(self._info_msg, w, h)
        cam = msgs["camera_pose"].pose
        camera = matrix_from_ros([cam.position.x, cam.position.y, cam.position.z],
                                 [cam.orientation.x, cam.orientation.y, cam.orientation.z,
                                  cam.orientation.w])
        pose_msg = msgs["pose"].pose
        base = pose_msg.pose if self.topics.pose_type == "odometry" else pose_msg
        x, y, z, yaw = base_from_ros([base.position.x, base.position.y, base.position.z],
                                     [base.orientation.x, base.orientation.y,
                                      base.orientation.z, base.orientation.w])
        pitch = round(horizon_of(camera), 4) + 0.0  # no -1e-14 from the quaternion round trip
        agent = np.array([x, y + self.topics.base_height, z, yaw, pitch],
                         np.float32)
        labels = _ids(body.get("labels"))
        object_ids = _ids(body.get("object_ids"))
        instruction = str(body.get("instruction") or self._instruction)[:MAX_INSTRUCTION_CHARS]
        obs = {keys.OBS_RGB: rgb, keys.OBS_DEPTH: depth, keys.OBS_SEGMENTATION: seg,
               keys.OBS_INTRINSICS: k, keys.OBS_CAMERA_POSE: camera,
               keys.OBS_AGENT_POSE: agent, keys.OBS_INSTRUCTION: instruction,
               keys.OBS_STEP: np.array(self._steps, np.int64),
               keys.OBS_TIMESTAMP: np.array(_time(body.get("time"), synced.stamp), np.float64)}
        info = {keys.INFO_LABELS: labels, keys.INFO_OBJECT_IDS: object_ids,
                keys.INFO_PRIVILEGED: {}, keys.INFO_SCENE: str(body.get("scene") or ""),
                keys.INFO_ACTION_NAME: str(body.get("action") or ""),
                keys.INFO_ACTION_SUCCESS: bool(body.get("success", True)),
                keys.INFO_ACTION_ERROR: str(body.get("error") or "")[:500],
                keys.INFO_SUCCESS: False}
        return obs, info

    def link_stats(self) -> dict[str, float]:
        """The link's counters since the env started.

        Messages received, stale and unmatched ones dropped, observations assembled, bad
        feedback messages, and the last observation's stamp skew (s). Kept out of ``info``:
        they depend on timing, and an episode's info must not (seeded determinism).
        """
        return {**(self._sync.stats() if self._sync else {}), **self._counts,
                **(self.ports.stats() if self.ports else {}),
                "skew": self._last.skew if self._last else 0.0}

    def render(self) -> Any:
        """The last colour image."""
        return None if self._last is None else rgb_from_msg(self._last.messages["rgb"])

    def close(self) -> None:
        """Leave the ROS graph (and finish a recording)."""
        if self.ports is not None:
            try:
                self.ports.close()
            finally:
                self.ports, self.memory_topics = None, None


def _time(robot_clock: Any, stamp: float) -> float:
    """The observation's time: the robot's own clock if it sends one, else the frame's stamp."""
    if isinstance(robot_clock, (int, float)) and not isinstance(robot_clock, bool) \
            and math.isfinite(robot_clock):
        return float(robot_clock)
    return stamp


def _ids(raw: Any) -> dict[int, str]:
    if not isinstance(raw, dict):
        return {}
    out = {}
    for k, v in raw.items():
        try:
            out[int(k)] = str(v)[:200]
        except (TypeError, ValueError):
            continue
    return out
