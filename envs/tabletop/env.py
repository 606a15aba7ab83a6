"""``robomem/Tabletop-v0``: tabletop manipulation with memory-dependent tasks, on pybullet.

A Franka Panda at a table with a red block, three bowls, a plate, a cabinet of three drawers
and three buttons that light up (:mod:`.scene`), seen by RLBench's five cameras (:mod:`.cameras`)
at RLBench's default 128x128, and a task from :mod:`.tasks`. Headless and CPU only.

Actions are dicts (robomem's layout, :mod:`robomem.envs.layout`):

* ``{"action": "move_ee", "pose": [x, y, z, qx, qy, qz, qw], "gripper": 0 or 1}``: an
  end-effector pose target in robomem's y-up world, reached by inverse kinematics, with a
  discrete gripper (1 open, 0 closed: closing on the block grasps it, opening drops it), as
  RLBench's ``EndEffectorPoseViaPlanning`` with a ``Discrete`` gripper;
* ``{"action": skill, "object": key or index}`` for the skills ``pick``, ``place``,
  ``open_drawer``, ``close_drawer`` and ``press``: scripted keyframe motions through IK
  waypoints, each ending with the arm back home;
* ``{"action": "done"}`` ends the episode.

The observation is robomem's multi-camera layout (``cameras`` with rgb, depth in metres,
instance ids, intrinsics and camera pose per camera) plus the arm's ``joint_positions``,
``gripper_pose`` and ``gripper_open``; ``info["privileged"]`` has every object's box and the
task's hidden facts (oracles and tests only).

Example:
    >>> import gymnasium as gym
    >>> import robomem.envs  # registers robomem/Tabletop-v0
    >>> env = gym.make("robomem/Tabletop-v0", task="put_block_back", width=64, height=64)
    >>> obs, info = env.reset(seed=0)
    >>> sorted(obs["cameras"]), obs["instruction"]
    (['front', 'left_shoulder', 'overhead', 'right_shoulder', 'wrist'], 'move the red block to \
the plate')
    >>> obs, r, done, _, info = env.step({"action": "pick", "object": "Block|1"})
    >>> info["action_success"], info["privileged"]["held"]
    (True, 'Block|1')
    >>> env.close()
"""

from __future__ import annotations

import logging
import string
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from robomem import keys
from robomem.envs.layout import BOUND, camera_observation_space, parse_action
from robomem.envs.tabletop.cameras import CAMERAS, render
from robomem.envs.tabletop.config import TabletopEnvConfig
from robomem.envs.tabletop.scene import BLOCK, DRAWER_TRAVEL, ReachError, TabletopScene
from robomem.envs.tabletop.tasks import BUTTONS, TabletopTask, make_task
from robomem.geometry import ZUP_TO_YUP, matrix_to_quat, quat_to_rotation, zup_to_yup
from robomem.untrusted import quote

__all__ = ["ACTIONS", "TabletopEnv"]

log = logging.getLogger(__name__)

ACTIONS = ("move_ee", "pick", "place", "open_drawer", "close_drawer", "press", "done")
SCENE = "tabletop"
MAX_INSTRUCTION = 300
GRIP_RADIUS = 0.03  # closing the gripper this near the block's centre grasps it (m)


class TabletopEnv(gym.Env[dict[str, Any], dict[str, Any]]):
    """The tabletop env; see the module docstring. Arguments are :class:`TabletopEnvConfig`'s."""

    doctor_kwargs: ClassVar[dict[str, Any]] = {"width": 48, "height": 48}
    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 4,  # noqa: RUF012
                                "robomem.embodiment": "tabletop"}

    def __init__(self, task: str = "put_block_back", width: int = 128, height: int = 128,
                 cameras: list[str] | tuple[str, ...] | None = None, step_limit: int | None = 20,
                 render_mode: str | None = None) -> None:
        self.cfg = TabletopEnvConfig(task=task, width=width, height=height,
                                     cameras=list(cameras) if cameras is not None else None,
                                     step_limit=step_limit)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got "
                             f"{quote(render_mode)}")
        self.render_mode = render_mode
        self.limit = self.cfg.step_limit or 20
        self.specs = [c for c in CAMERAS if c.name in self.cfg.camera_names()]
        self.scene = TabletopScene()
        self.keys: tuple[str, ...] = tuple(self.scene.objects)
        self._instances = self._instance_table()
        cam_space = camera_observation_space(self.cfg.height, self.cfg.width,
                                             max_depth=max(c.far for c in CAMERAS),
                                             max_instance=len(self.keys))
        per_cam = spaces.Dict({k: cam_space[k] for k in (
            keys.OBS_RGB, keys.OBS_DEPTH, keys.OBS_SEGMENTATION, keys.OBS_INTRINSICS,
            keys.OBS_CAMERA_POSE)})
        self.observation_space = spaces.Dict({
            keys.OBS_CAMERAS: spaces.Dict({c.name: per_cam for c in self.specs}),
            keys.OBS_AGENT_POSE: cam_space[keys.OBS_AGENT_POSE],
            keys.OBS_INSTRUCTION: spaces.Text(MAX_INSTRUCTION, min_length=1,
                                              charset=string.printable),
            keys.OBS_STEP: spaces.Box(0, self.limit, (), np.int64),
            keys.OBS_TIMESTAMP: spaces.Box(0.0, BOUND, (), np.float64),
            "joint_positions": spaces.Box(-BOUND, BOUND, (9,), np.float64),
            "gripper_pose": spaces.Box(-BOUND, BOUND, (7,), np.float64),
            "gripper_open": spaces.Box(0.0, 1.0, (), np.float64),
        })
        self.action_space = spaces.Dict({
            keys.ACT_ACTION: spaces.Discrete(len(ACTIONS)),
            keys.ACT_OBJECT: spaces.Discrete(len(self.keys) + 1),
            # metres in robomem's world (the reachable table lies within +-1 m) and a quaternion
            "pose": spaces.Box(-1.0, 1.0, (7,), np.float32),
            "gripper": spaces.Discrete(2),
        })
        self.task: TabletopTask | None = None
        self.steps = 0

    # --------------------------------------------------------------- gym API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None,
              ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start an episode; ``options={"task": name}`` picks another task for it."""
        super().reset(seed=seed)
        name = str((options or {}).get("task") or self.cfg.task)
        self.task = make_task(name, self.np_random)
        self.scene.reset()
        facts = self.task.facts
        if facts.block:
            self.scene.place_on("Block|1", facts.block)
        if facts.drawer:
            self.scene.set_drawer(facts.drawer, True)
        if facts.button:
            self.scene.set_lit(facts.button, True)
        self.steps = 0
        return self._observe(), self._info("Initialize", True, "")

    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """One action (see the module docstring)."""
        if self.task is None:
            raise RuntimeError("call reset() before step()")
        name, target = self._parse(action)
        self.steps += 1
        ok, error = True, ""
        try:
            self._act(name, target, action)
        except (ActionFailure, ReachError) as e:
            ok, error = False, str(e)
        success = self.task.advance(self.scene)
        if self.task.phase == 2 and self.task.failed == "" and name == "done" and not success:
            self.task.failed = "done before the task was complete"
        terminated = success or bool(self.task.failed) or name == "done"
        truncated = not terminated and self.steps >= self.limit
        info = self._info(name, ok, error)
        info[keys.INFO_SUCCESS] = success
        return self._observe(), float(success), terminated, truncated, info

    def render(self) -> NDArray[np.uint8] | None:
        """The front camera's image (``render_mode="rgb_array"``)."""
        if self.render_mode != "rgb_array":
            return None
        spec = next((c for c in self.specs if c.name == "front"), self.specs[0])
        return render(self.scene.p, self.scene.cid, spec, self.cfg.width, self.cfg.height,
                      self.scene.hand_pose()).rgb

    def close(self) -> None:
        """Disconnect pybullet."""
        self.scene.close()

    # --------------------------------------------------------------- actions
    def _parse(self, action: Any) -> tuple[str, str | None]:
        if isinstance(action, dict):
            extra = set(action) - {keys.ACT_ACTION, keys.ACT_OBJECT, "pose", "gripper"}
            if extra:
                raise ValueError(f"unknown action keys {sorted(map(str, extra))[:5]}; known: "
                                 f"action, object, pose, gripper")
            obj = action.get(keys.ACT_OBJECT)
            if isinstance(obj, int | np.integer) and not isinstance(obj, bool):
                if not 0 <= int(obj) <= len(self.keys):
                    raise ValueError(f"object index {int(obj)} is out of range 0..{len(self.keys)}")
                action = {**action, keys.ACT_OBJECT: self.keys[int(obj) - 1] if obj else ""}
        return parse_action(action, ACTIONS)

    def _act(self, name: str, target: str | None, action: dict[str, Any]) -> None:
        s, task = self.scene, self.task
        assert task is not None
        if name == "move_ee":
            self._move_ee(action)
            return
        if name == "done":
            return
        if target is None or target not in s.objects:
            raise ActionFailure(f"{name} needs an object; {quote(target)} is not one of "
                                f"{', '.join(self.keys)}")
        kind = target.split("|")[0]
        want = {"pick": "Block", "place": "Bowl Plate", "open_drawer": "Drawer",
                "close_drawer": "Drawer", "press": "Button"}[name]
        if kind not in want.split():
            raise ActionFailure(f"cannot {name} {target}: not a {want.replace(' ', ' or ')}")
        lo, hi = s.aabb(target)
        c = (lo + hi) / 2
        if name == "pick":
            if s.held is not None:
                raise ActionFailure(f"the gripper already holds {s.held}")
            s.move_through([(c[0], c[1], c[2] + 0.1), tuple(c)])
            s.grasp(target)
            s.move_through([(c[0], c[1], c[2] + 0.12)])
        elif name == "place":
            if s.held is None:
                raise ActionFailure("nothing is held to place")
            top = hi[2] + BLOCK / 2
            s.move_through([(c[0], c[1], top + 0.1), (c[0], c[1], top)])
            held = s.held
            s.place_on(held, target)
            s.release()
            task.on_place(held, target)
            s.move_through([(c[0], c[1], top + 0.1)])
        elif name in ("open_drawer", "close_drawer"):
            opening = name == "open_drawer"
            if s.drawer_open(target) == opening:
                raise ActionFailure(f"{target} is already {'open' if opening else 'closed'}")
            handle = (c[0], lo[1] - 0.01, c[2])
            pulled = (c[0], handle[1] + (-DRAWER_TRAVEL if opening else DRAWER_TRAVEL), c[2])
            s.move_through([(handle[0], handle[1] - 0.08, handle[2] + 0.05), handle, pulled])
            s.set_drawer(target, opening)
            if opening:
                task.on_open(target)
        elif name == "press":
            s.move_through([(c[0], c[1], hi[2] + 0.08), (c[0], c[1], hi[2] + 0.005)])
            lit = s.lit[target]
            task.on_press(target, lit)
            if lit:  # the lights reset once the lit button is pressed
                for b in BUTTONS:
                    s.set_lit(b, False)
        s.home()

    def _move_ee(self, action: dict[str, Any]) -> None:
        s, task = self.scene, self.task
        assert task is not None
        pose = np.asarray(action.get("pose", ()), np.float64).reshape(-1)
        if pose.shape != (7,) or not np.isfinite(pose).all():
            raise ActionFailure(f"move_ee needs pose [x, y, z, qx, qy, qz, qw], got "
                                f"{quote(action.get('pose'))}")
        try:
            rot = ZUP_TO_YUP.T @ quat_to_rotation(pose[3:])
        except ValueError as e:
            raise ActionFailure(str(e)) from None
        pos = ZUP_TO_YUP.T @ pose[:3]
        q = s.solve(pos, matrix_to_quat(rot))
        s.set_joints(q)
        want_open = bool(int(action.get("gripper", 1)))
        if not want_open and s.gripper_open and s.held is None:
            block = s.position("Block|1")
            if np.linalg.norm(block - s.ee_pose()[:3, 3]) < GRIP_RADIUS:
                s.grasp("Block|1")
            else:
                s.set_gripper(False)
        elif want_open and s.held is not None:
            held = s.held
            task.on_place(held, s.release())
        elif want_open != s.gripper_open:
            s.set_gripper(want_open)

    # --------------------------------------------------------------- observing
    def _instance_table(self) -> dict[int, int]:
        """Pybullet segmentation value -> instance id (1-based index into ``self.keys``)."""
        p, s = self.scene.p, self.scene
        out: dict[int, int] = {}
        for i, key in enumerate(self.keys, 1):
            info = s.objects[key]
            links = range(-1, p.getNumJoints(info.body, physicsClientId=s.cid)) \
                if key == "Robot|1" else [info.link]
            for link in links:
                out[info.body + ((link + 1) << 24)] = i
        return out

    def _observe(self) -> dict[str, Any]:
        assert self.task is not None
        s = self.scene
        hand = s.hand_pose()
        cams: dict[str, Any] = {}
        self._seen: dict[str, dict[int, str]] = {}
        for spec in self.specs:
            r = render(s.p, s.cid, spec, self.cfg.width, self.cfg.height, hand)
            vals, inv = np.unique(r.segmentation, return_inverse=True)
            ids = np.array([self._instances.get(int(v), 0) for v in vals], np.int32)
            seg = ids[inv].reshape(r.segmentation.shape).astype(np.int32)
            self._seen[spec.name] = {int(i): self.keys[int(i) - 1] for i in ids if i > 0}
            cams[spec.name] = {keys.OBS_RGB: r.rgb, keys.OBS_DEPTH: r.depth,
                               keys.OBS_SEGMENTATION: seg, keys.OBS_INTRINSICS: r.intrinsics,
                               keys.OBS_CAMERA_POSE: zup_to_yup(r.pose)}
        ee = zup_to_yup(s.ee_pose())
        return {
            keys.OBS_CAMERAS: cams,
            keys.OBS_AGENT_POSE: BASE_POSE.copy(),
            keys.OBS_INSTRUCTION: self.task.instruction(),
            keys.OBS_STEP: np.array(self.steps, np.int64),
            keys.OBS_TIMESTAMP: np.array(float(self.steps), np.float64),
            "joint_positions": s.joints(),
            "gripper_pose": np.concatenate([ee[:3, 3], matrix_to_quat(ee[:3, :3])]),
            "gripper_open": np.array(1.0 if s.gripper_open else 0.0, np.float64),
        }

    def _info(self, action: str, ok: bool, error: str) -> dict[str, Any]:
        assert self.task is not None
        s = self.scene
        cams = {name: {keys.INFO_LABELS: {i: s.objects[k].label for i, k in seen.items()},
                       keys.INFO_OBJECT_IDS: {i: k for i, k in seen.items()},
                       keys.INFO_FRAME_ID: name}
                for name, seen in self._seen.items()}
        objects = {}
        for k, o in s.objects.items():
            lo, hi = s.aabb(k)
            objects[k] = {"label": o.label, "lo": (ZUP_TO_YUP @ lo).tolist(),
                          "hi": (ZUP_TO_YUP @ hi).tolist()}
        return {
            keys.OBS_CAMERAS: cams,
            keys.INFO_ACTION_NAME: action,
            keys.INFO_ACTION_SUCCESS: ok,
            keys.INFO_ACTION_ERROR: error,
            keys.INFO_SCENE: SCENE,
            keys.INFO_TASK: self.task.to_dict(),
            keys.INFO_SUCCESS: False,
            keys.INFO_PRIVILEGED: {"objects": objects, "held": s.held, "failed": self.task.failed,
                                   "drawers": {k: s.drawer_open(k) for k in s.objects
                                               if k.startswith("Drawer")},
                                   "lit": dict(s.lit)},
        }


class ActionFailure(RuntimeError):
    """An action the world refuses.

    The message is the world's wording; the embodiment's table maps it to a feedback code.
    """


# The robot's base in robomem's world: pybullet's (-0.45, 0, 0) facing +x is robomem's
# (0, 0, -0.45) facing +z (yaw 0), the camera pitch 0.
BASE_POSE = np.array([0.0, 0.0, -0.45, 0.0, 0.0], np.float32)
