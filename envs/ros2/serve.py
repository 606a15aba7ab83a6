"""``robomem ros serve``: any robomem env as a ROS 2 robot, on the topics of a launch file.

The server is a node that owns an env (Household by default). It answers:

- a reset request (``topics.reset``, JSON ``{"request", "seed", "options"}``) with
  ``env.reset``;
- an action (``topics.action``, JSON ``{"seq", "action", "object"}`` with robomem's primitive
  names), a ``geometry_msgs/Twist`` on ``topics.cmd_vel`` (one lattice move or turn) or a
  ``geometry_msgs/PoseStamped`` goal on ``topics.goal_pose`` (the one move or turn toward
  it), with ``env.step``.

After each, it publishes one frame with a single stamp on every sensor topic: the colour
image, depth (32FC1, metres), instance ids (32SC1), CameraInfo, the camera pose
(PoseStamped) and the base pose (Odometry). It then publishes the outcome as JSON on
``topics.feedback``: the action, success, an error message starting with robomem's
``[code:subject]``, the frame's labels and object ids, and whether the episode ended and
succeeded. The instruction goes out on ``topics.instruction`` (latched) whenever it changes.
Nothing waits inside a callback: the server spins until it is stopped.

Example (a shell; the env's agent side is ``robomem/ROS2Robot-v0``):
    robomem ros serve --config launch/ros2.yaml
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import gymnasium as gym
import numpy as np

from robomem import keys
from robomem.embodiment import embodiment_for
from robomem.envs.ros2.config import RosTopics
from robomem.envs.ros2.convert import (
    base_to_ros,
    heading_of,
    image_to_msg,
    pose_to_ros,
    primitive_to,
)
from robomem.envs.ros2.node import msgs, qos, start_node
from robomem.feedback import FeedbackCode
from robomem.primitives import PRIMITIVES
from robomem.types import Action, Observation

__all__ = ["RobotServer", "twist_primitive"]

log = logging.getLogger(__name__)
MAX_REQUEST_CHARS = 20_000


def twist_primitive(linear_x: float, linear_y: float, angular_z: float) -> str | None:
    """The lattice move or turn a ``Twist`` asks for (the largest component wins).

    One Twist is one step: ``linear.x`` > 0 ahead, < 0 back; ``linear.y`` > 0 left (REP 103),
    < 0 right; ``angular.z`` > 0 turns left (counter-clockwise), < 0 right. All zero: None.
    """
    parts = {"x": linear_x, "y": linear_y, "z": angular_z}
    axis = max(parts, key=lambda k: abs(parts[k]))
    v = parts[axis]
    if not math.isfinite(v) or abs(v) < 1e-6:
        return None
    return {("x", True): "move_ahead", ("x", False): "move_back", ("y", True): "move_left",
            ("y", False): "move_right", ("z", True): "rotate_left",
            ("z", False): "rotate_right"}[(axis, v > 0)]


class RobotServer:
    """One env served on ROS 2 (module docstring).

    Args:
        env: the robomem env to serve.
        topics: the topics (the same launch file the agent side reads).
        node_name: the server's node name.
        signals: install rclpy's signal handlers (the CLI does; tests do not).
    """

    def __init__(self, env: gym.Env[Any, Any], topics: RosTopics | None = None,
                 node_name: str = "robomem_robot", signals: bool = False) -> None:
        self.env, self.topics = env, topics or RosTopics()
        self.emb = embodiment_for(env)
        self.ros = start_node(node_name, self.topics.domain_id, signals)
        m, t, node = msgs(), self.topics, self.ros.node
        self.m = m
        sensor = qos("sensor", t.qos_depth, t.reliability)
        self.pub = {
            "rgb": node.create_publisher(m.Image, t.rgb, sensor),
            "depth": node.create_publisher(m.Image, t.depth, sensor),
            "camera_info": node.create_publisher(m.CameraInfo, t.camera_info, sensor),
            "camera_pose": node.create_publisher(m.PoseStamped, t.camera_pose, sensor),
            "pose": node.create_publisher(m.Odometry if t.pose_type == "odometry"
                                          else m.PoseStamped, t.pose, sensor),
            "feedback": node.create_publisher(m.String, t.feedback, qos("command", 50)),
            "instruction": node.create_publisher(m.String, t.instruction, qos("latched")),
        }
        if t.segmentation:
            self.pub["segmentation"] = node.create_publisher(m.Image, t.segmentation, sensor)
        cmd = qos("command", 50)
        self._subs = [node.create_subscription(m.String, t.action, self._on_action, cmd),
                      node.create_subscription(m.Twist, t.cmd_vel, self._on_twist, cmd),
                      node.create_subscription(m.PoseStamped, t.goal_pose, self._on_goal, cmd)]
        self._base: tuple[float, float, float] | None = None  # (x, y, heading) in the map
        if t.reset:
            self._subs.append(node.create_subscription(m.String, t.reset, self._on_reset, cmd))
        self.running = False  # an episode is on (reset and not yet ended)
        self.episode = -1
        self.steps = 0
        self._instruction: str | None = None
        self.counts = {"resets": 0, "actions": 0, "rejected": 0}
        self._last_reset: Any = None  # the last reset request, and its first frame
        self._reset_frame: tuple[Any, dict[str, Any]] | None = None

    # --------------------------------------------------------------- requests
    def _on_reset(self, msg: Any) -> None:
        req = self._json(msg.data, "reset")
        if req is None:
            return
        seed, options = req.get("seed"), req.get("options")
        ident = req.get("request")
        if ident is not None and req == self._last_reset and self.steps == 0 and \
                self._reset_frame is not None:
            # the same request again (a client that cannot see whether we listen repeats it):
            # answer once more, without starting another episode
            raw, info = self._reset_frame
            self._publish(raw, info, {"kind": "reset", "request": ident, "action": "",
                                      "terminated": False, "truncated": False})
            return
        try:
            raw, info = self.env.reset(seed=seed if isinstance(seed, int) else None,
                                       options=options if isinstance(options, dict) else None)
        except (ValueError, TypeError, RuntimeError) as e:
            self._reject({"kind": "reset", "request": req.get("request")}, f"reset failed: {e}")
            return
        self.running, self.steps = True, 0
        self.episode += 1
        self.counts["resets"] += 1
        self._last_reset, self._reset_frame = req, (raw, info)
        self._publish(raw, info, {"kind": "reset", "request": req.get("request"),
                                  "action": "", "terminated": False, "truncated": False})

    def _on_action(self, msg: Any) -> None:
        req = self._json(msg.data, "action")
        if req is not None:
            self._act(req.get("seq"), str(req.get("action", "")), req.get("object") or None)

    def _on_twist(self, msg: Any) -> None:
        name = twist_primitive(float(msg.linear.x), float(msg.linear.y), float(msg.angular.z))
        if name is not None:
            self._act(None, name, None)

    def _on_goal(self, msg: Any) -> None:
        """A PoseStamped goal: the one lattice move or turn toward it.

        A robot with a navigation stack drives to the goal; this one steps.
        """
        if self._base is None:
            self._reject({"kind": "action", "seq": None, "action": "goal"},
                         f"[{FeedbackCode.UNSUPPORTED.value}] no episode is running: reset "
                         f"first")
            return
        body = self.emb.body
        lattice, turn = (body.lattice, body.turn_degrees) if body else (0.25, 90.0)
        p, q = msg.pose.position, msg.pose.orientation
        name = primitive_to(*self._base, (p.x, p.y, heading_of([q.x, q.y, q.z, q.w])),
                            lattice, turn)
        if name is None:
            self._reject({"kind": "action", "seq": None, "action": "goal"},
                         f"[{FeedbackCode.BLOCKED.value}] the goal is where the robot is")
            return
        self._act(None, name, None)

    def _act(self, seq: Any, name: str, obj: Any) -> None:
        head = {"kind": "action", "seq": seq if isinstance(seq, int) else None, "action": name}
        if name not in PRIMITIVES or name not in self.emb.primitives:
            self._reject(head, f"[{FeedbackCode.UNSUPPORTED.value}] unknown action "
                               f"{name[:40]!r}; known: "
                               f"{', '.join(p for p in PRIMITIVES if p in self.emb.primitives)}")
            return
        if not self.running:
            self._reject(head, f"[{FeedbackCode.UNSUPPORTED.value}] no episode is running: "
                               f"reset first")
            return
        world = self.emb.command(Action(name, obj if isinstance(obj, str) else None))
        raw, _, terminated, truncated, info = self.env.step(world)
        self.steps += 1
        self.counts["actions"] += 1
        self.running = not (terminated or truncated)
        self._publish(raw, info, {**head, "terminated": bool(terminated),
                                  "truncated": bool(truncated)})

    def _json(self, text: str, what: str) -> dict[str, Any] | None:
        if len(text) > MAX_REQUEST_CHARS:
            self._reject({"kind": what}, f"{what} request too long ({len(text)} characters)")
            return None
        try:
            req = json.loads(text)
        except json.JSONDecodeError as e:
            self._reject({"kind": what}, f"{what} request is not JSON ({e.msg})")
            return None
        if not isinstance(req, dict):
            self._reject({"kind": what}, f"{what} request must be a JSON object")
            return None
        return req

    def _reject(self, head: dict[str, Any], why: str) -> None:
        self.counts["rejected"] += 1
        log.warning("rejected: %s", why)
        body = {**head, "success": False, "error": why, "rejected": True,
                "episode": self.episode}
        self.pub["feedback"].publish(self.m.String(data=json.dumps(body)))

    # --------------------------------------------------------------- frames
    def _publish(self, raw: dict[str, Any], info: dict[str, Any], head: dict[str, Any]) -> None:
        o = self.emb.observe(raw, info)
        stamp = self.ros.now()
        self._publish_frame(o, stamp)
        fb = o.feedback
        error = "" if fb.success else \
            f"[{fb.code.value}{':' + fb.subject if fb.subject else ''}] {fb.message}"[:500]
        sim_time = raw.get(keys.OBS_TIMESTAMP)
        body = {**head, "stamp": [stamp.sec, stamp.nanosec], "success": bool(fb.success),
                # a simulator's own clock, so the agent side sees what the direct env gives
                "time": float(np.asarray(sim_time)) if sim_time is not None else None,
                "error": error, "episode": self.episode, "step": self.steps,
                "task_success": bool(self.emb.success(info)), "scene": o.scene,
                "instruction": o.instruction,
                "labels": {str(k): v for k, v in o.labels.items()},
                "object_ids": {str(k): v for k, v in o.object_ids.items()}}
        if o.instruction != self._instruction:
            self._instruction = o.instruction
            self.pub["instruction"].publish(self.m.String(data=o.instruction))
        self.pub["feedback"].publish(self.m.String(data=json.dumps(body)))

    def _publish_frame(self, o: Observation, stamp: Any) -> None:
        m, t = self.m, self.topics

        def header(msg: Any, frame: str) -> Any:
            msg.header.stamp = stamp
            msg.header.frame_id = frame
            return msg

        cam = "camera_color_optical_frame"
        self.pub["rgb"].publish(image_to_msg(header(m.Image(), cam), o.rgb, "rgb8"))
        depth = o.depth if o.depth is not None else np.zeros(o.rgb.shape[:2], np.float32)
        self.pub["depth"].publish(image_to_msg(header(m.Image(), cam), depth, "32FC1"))
        if "segmentation" in self.pub and o.segmentation is not None:
            self.pub["segmentation"].publish(
                image_to_msg(header(m.Image(), cam), o.segmentation, "32SC1"))
        ci = header(m.CameraInfo(), cam)
        ci.height, ci.width = int(o.rgb.shape[0]), int(o.rgb.shape[1])
        ci.k = [float(v) for v in np.asarray(o.intrinsics, np.float64).ravel()]
        ci.distortion_model = "plumb_bob"
        ci.d = [0.0] * 5
        ci.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        k = ci.k
        ci.p = [k[0], 0.0, k[2], 0.0, 0.0, k[4], k[5], 0.0, 0.0, 0.0, 1.0, 0.0]
        self.pub["camera_info"].publish(ci)
        self.pub["camera_pose"].publish(self._pose(header(m.PoseStamped(), t.frame),
                                                   o.camera_pose))
        base = header(m.PoseStamped(), t.frame)
        a = o.agent_pose
        p, q = base_to_ros(a.x, a.y, a.z, a.yaw)
        base.pose.position.x, base.pose.position.y, base.pose.position.z = (float(v) for v in p)
        base.pose.orientation.x, base.pose.orientation.y, base.pose.orientation.z, \
            base.pose.orientation.w = q
        self._base = (float(p[0]), float(p[1]), heading_of(q))
        if t.pose_type == "odometry":
            odom = header(m.Odometry(), t.frame)
            odom.child_frame_id = "base_link"
            odom.pose.pose = base.pose
            self.pub["pose"].publish(odom)
        else:
            self.pub["pose"].publish(base)

    @staticmethod
    def _pose(msg: Any, matrix: Any) -> Any:
        p, q = pose_to_ros(matrix)
        msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = (float(v) for v in p)
        o = msg.pose.orientation
        o.x, o.y, o.z, o.w = (float(v) for v in q)
        return msg

    # --------------------------------------------------------------- running
    def spin(self, seconds: float | None = None) -> None:
        """Serve until ``seconds`` pass (None: until the context shuts down)."""
        import time

        from rclpy.executors import ExternalShutdownException

        end = None if seconds is None else time.monotonic() + seconds
        try:
            while self.ros.context.ok() and (end is None or time.monotonic() < end):
                self.ros.spin_once(0.05)
        except ExternalShutdownException:  # SIGINT/SIGTERM with rclpy's handlers: stop
            log.info("ROS context shut down; stopping")

    def close(self) -> None:
        """Stop serving and close the env."""
        try:
            self.ros.close()
        finally:
            self.env.close()


def serve_main(topics_file: str | None, config: str | None, overrides: list[str],
               seconds: float | None) -> int:
    """``robomem ros serve``: serve the configured env until stopped; the exit status."""
    from robomem.config import ConfigError, load_config
    from robomem.envs import register_envs
    from robomem.envs.ros2.config import ROS2EnvConfig
    from robomem.envs.ros2.node import RosUnavailable

    register_envs()
    try:
        topics = RosTopics()
        if topics_file:
            side = load_config(topics_file, []).env
            if not isinstance(side, ROS2EnvConfig):
                raise ConfigError(f"{topics_file}: env.type must be ros2 (it names the "
                                  f"topics), got {side.type!r}")
            topics = RosTopics.of(side.topics)
        cfg = load_config(config, overrides)
        env = gym.make(cfg.env.id, **cfg.env.gym_kwargs())
        server = RobotServer(env, topics, signals=True)
    except (ConfigError, ValueError, RosUnavailable) as e:
        print(f"robomem ros serve: {e}")
        return 2
    print(f"serving {cfg.env.id} on {topics.rgb}, {topics.depth}, {topics.pose}, ... "
          f"(actions on {topics.action}, resets on {topics.reset}); Ctrl-C stops")
    try:
        server.spin(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0
