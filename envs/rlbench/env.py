"""robomem/RLBench-v0: an RLBench task through RLBench's own ``TaskEnvironment``.

RLBench (stepjam/RLBench) runs on PyRep and CoppeliaSim 4.1, which pip cannot install; they are
imported only when the first ``reset`` starts them, and a missing one raises
:class:`RLBenchUnavailable` saying how to install all three (docs/rlbench.md). The arm moves by
``EndEffectorPoseViaPlanning`` (absolute poses in the world frame) and a ``Discrete`` gripper,
combined by ``MoveArmThenGripper``: the action ``{"action": "move_ee", "pose": (x, y, z, qx,
qy, qz, qw) in robomem's y-up world, "gripper": 1 open / 0 closed}`` becomes RLBench's
``task.step(concat(pose in the z-up world, [gripper]))``. A move RLBench refuses
(``InvalidActionError``, PyRep's ``IKError`` or ``ConfigurationPathError``) is a failed action
whose message is RLBench's. Observations are converted by ``robomem.envs.rlbench.convert`` into
robomem's multi-camera layout, plus ``joint_positions``, ``gripper_pose`` (y-up world) and
``gripper_open``. ``task_factory`` replaces the RLBench session (tests use a stand-in).

Example:
    >>> from robomem.envs.rlbench.env import RLBenchEnv, label_for
    >>> env = RLBenchEnv(task="reach_target", cameras=("front", "wrist"), image_size=64)
    >>> sorted(env.observation_space["cameras"]), env.action_space["pose"].shape
    (['front', 'wrist'], (7,))
    >>> label_for("distractor0"), label_for("Panda_link3_visual")
    ('Distractor', 'Robot')
"""

from __future__ import annotations

import logging
import os
import re
import string
from collections.abc import Callable, Sequence
from importlib import import_module
from importlib.util import find_spec
from typing import Any, ClassVar, Protocol, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from robomem import keys
from robomem.envs.layout import BOUND, camera_observation_space, parse_action
from robomem.envs.rlbench.config import RLBenchEnvConfig, task_class_name
from robomem.envs.rlbench.convert import (
    CAMERAS,
    mask_from_rlbench,
    matrix_from_pose7,
    observation_from_rlbench,
    pose7_from_matrix,
    yup_to_zup,
)
from robomem.types import Observation
from robomem.untrusted import quote

__all__ = ["ACTIONS", "ACT_GRIPPER", "ACT_POSE", "OBS_GRIPPER_OPEN", "OBS_GRIPPER_POSE",
           "OBS_JOINT_POSITIONS", "RLBenchEnv", "RLBenchUnavailable", "TaskSession",
           "gym_from_observation", "label_for"]

log = logging.getLogger(__name__)

ACTIONS = ("move_ee", "done")
ACT_POSE, ACT_GRIPPER = "pose", "gripper"
OBS_JOINT_POSITIONS, OBS_GRIPPER_POSE, OBS_GRIPPER_OPEN = ("joint_positions", "gripper_pose",
                                                           "gripper_open")
INFO_JOINT_NAMES = "joint_names"
DT = 0.05  # a nominal clock: RLBench's control period (_DT in rlbench/task_environment.py)
INSTALL = (  # the steps of RLBench's and PyRep's READMEs (stepjam/RLBench, stepjam/PyRep)
    "robomem/RLBench-v0 needs CoppeliaSim 4.1.0, PyRep and RLBench, which the 'rlbench' extra "
    "(pip install 'robomem[rlbench]') cannot install for you. 1) CoppeliaSim 4.1.0: download "
    "https://downloads.coppeliarobotics.com/V4_1_0/CoppeliaSim_Edu_V4_1_0_Ubuntu20_04.tar.xz "
    "and unpack it into a folder; 2) export COPPELIASIM_ROOT=<that folder>, "
    "LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$COPPELIASIM_ROOT and "
    "QT_QPA_PLATFORM_PLUGIN_PATH=$COPPELIASIM_ROOT; 3) PyRep: git clone "
    "https://github.com/stepjam/PyRep.git, then in it pip install -r requirements.txt and "
    "pip install .; 4) RLBench: pip install git+https://github.com/stepjam/RLBench.git "
    "(docs/rlbench.md)")
_ROBOT = ("Panda", "Jaco", "Mico", "Sawyer", "UR5", "Baxter", "Robotiq")  # PyRep's model names
_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}$")


class RLBenchUnavailable(RuntimeError):
    """RLBench cannot start here; the message says what is missing and how to install it."""


class TaskSession(Protocol):
    """What the env needs of an RLBench task (``_RLBenchSession`` wraps the real one)."""

    action_errors: tuple[type[BaseException], ...]

    def seed(self, seed: int) -> None:
        """Seed the simulator's random placement."""

    def variation_count(self) -> int:
        """The task's number of variations."""

    def set_variation(self, v: int) -> None:
        """Pose variation ``v`` from the next reset."""

    def reset(self) -> tuple[Sequence[str], Any]:
        """``(descriptions, observation)`` as ``TaskEnvironment.reset``."""

    def step(self, action: NDArray[np.float64]) -> tuple[Any, float, bool]:
        """``(observation, reward, terminate)`` as ``TaskEnvironment.step``."""

    def object_name(self, handle: int) -> str:
        """The scene object's name for a mask handle."""

    def close(self) -> None:
        """Shut the simulator down."""


TaskFactory = Callable[[RLBenchEnvConfig], TaskSession]


def label_for(name: str) -> str:
    """An object type for a CoppeliaSim object name: ``distractor0`` -> ``Distractor``.

    The arm's and gripper's parts (names starting with a PyRep robot's) are ``Robot``.
    """
    base = name.split("#")[0]  # PyRep names copies 'name#n' (pyrep/robots/robot_component.py)
    if base.startswith(_ROBOT):
        return "Robot"
    words = re.split(r"[_\W]+", re.sub(r"[_\d]+$", "", base))
    label = "".join(w[:1].upper() + w[1:] for w in words if w)
    return label if _TYPE.match(label) else "Object"


def _require(module: str) -> Any:
    try:
        return import_module(module)
    except (ImportError, OSError) as e:  # OSError: libcoppeliaSim.so not on LD_LIBRARY_PATH
        root = os.environ.get("COPPELIASIM_ROOT")
        where = f"COPPELIASIM_ROOT={root}" if root else "COPPELIASIM_ROOT is not set"
        raise RLBenchUnavailable(f"cannot import {module} ({type(e).__name__}: "
                                 f"{str(e)[:160]}; {where}). {INSTALL}") from e


class _RLBenchSession:
    """RLBench's ``Environment`` and ``TaskEnvironment`` (rlbench/environment.py)."""

    action_errors: tuple[type[BaseException], ...]

    def __init__(self, cfg: RLBenchEnvConfig) -> None:
        environment = _require("rlbench.environment")
        action_mode = _require("rlbench.action_modes.action_mode")
        arm_modes = _require("rlbench.action_modes.arm_action_modes")
        gripper_modes = _require("rlbench.action_modes.gripper_action_modes")
        obs_config = _require("rlbench.observation_config")
        tasks = _require("rlbench.tasks")
        exceptions = _require("rlbench.backend.exceptions")
        errors = _require("pyrep.errors")
        self._object = _require("pyrep.objects.object").Object
        self.action_errors = (exceptions.InvalidActionError, errors.IKError,
                              errors.ConfigurationPathError)
        task_cls = getattr(tasks, task_class_name(cfg.task), None)
        if task_cls is None:
            raise ValueError(f"task: RLBench has no task {cfg.task!r} (rlbench/tasks/)")
        cams = {cam: obs_config.CameraConfig(
            rgb=cam in cfg.cameras, depth=cam in cfg.cameras, point_cloud=False,
            mask=cam in cfg.cameras, image_size=(cfg.image_size, cfg.image_size),
            masks_as_one_channel=True, depth_in_meters=cfg.depth_in_meters) for cam in CAMERAS}
        config = obs_config.ObservationConfig(
            **{f"{cam}_camera": c for cam, c in cams.items()}, joint_forces=False,
            joint_velocities=True, joint_positions=True, gripper_open=True, gripper_pose=True)
        mode = action_mode.MoveArmThenGripper(
            arm_action_mode=arm_modes.EndEffectorPoseViaPlanning(
                absolute_mode=True, frame="world", collision_checking=cfg.collision_checking),
            gripper_action_mode=gripper_modes.Discrete())
        self._env = environment.Environment(mode, obs_config=config, headless=cfg.headless,
                                            robot_setup=cfg.robot_setup)
        self._env.launch()
        self._task = self._env.get_task(task_cls)

    def seed(self, seed: int) -> None:
        np.random.seed(seed)  # RLBench places objects and samples with numpy's global RNG

    def variation_count(self) -> int:
        return int(self._task.variation_count())

    def set_variation(self, v: int) -> None:
        self._task.set_variation(v)

    def reset(self) -> tuple[Sequence[str], Any]:
        descriptions, obs = self._task.reset()
        return descriptions, obs

    def step(self, action: NDArray[np.float64]) -> tuple[Any, float, bool]:
        obs, reward, terminate = self._task.step(action)
        return obs, float(reward), bool(terminate)

    def object_name(self, handle: int) -> str:
        return str(self._object.get_object_name(int(handle)))

    def close(self) -> None:
        self._env.shutdown()


def gym_from_observation(obs: Observation, joints: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The multi-camera gym layout of ``obs`` (with the arm's keys) and its info."""
    cams: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, c in obs.cameras.items():
        cams[name] = {keys.OBS_RGB: c.rgb, keys.OBS_DEPTH: c.depth,
                      keys.OBS_SEGMENTATION: c.segmentation, keys.OBS_INTRINSICS: c.intrinsics,
                      keys.OBS_CAMERA_POSE: c.pose}
        extra[name] = {keys.INFO_LABELS: dict(c.labels), keys.INFO_OBJECT_IDS: dict(c.object_ids),
                       keys.INFO_FRAME_ID: c.frame_id}
    arm = obs.proprio
    q = np.zeros(joints) if arm is None else np.array(arm.joint_positions, np.float64)
    ee = None if arm is None else arm.ee_pose
    out = {keys.OBS_CAMERAS: cams, keys.OBS_AGENT_POSE: obs.agent_pose.as_array(),
           keys.OBS_INSTRUCTION: obs.instruction, keys.OBS_STEP: np.array(obs.step, np.int64),
           keys.OBS_TIMESTAMP: np.array(obs.timestamp, np.float64), OBS_JOINT_POSITIONS: q,
           OBS_GRIPPER_POSE: np.zeros(7) if ee is None else pose7_from_matrix(ee),
           OBS_GRIPPER_OPEN: np.array(0.0 if arm is None else arm.gripper_open or 0.0,
                                      np.float32)}
    names = [] if arm is None else list(arm.joint_names)
    info = {keys.OBS_CAMERAS: extra, keys.INFO_SCENE: obs.scene, INFO_JOINT_NAMES: names}
    return out, info


class RLBenchEnv(gym.Env[dict[str, Any], dict[str, Any]]):
    """An RLBench task behind robomem's gym layout (see the module docstring).

    The arguments are :class:`~robomem.envs.rlbench.config.RLBenchEnvConfig`'s, plus
    ``render_mode`` and ``task_factory`` (makes the :class:`TaskSession` instead of RLBench).
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 10,  # noqa: RUF012
                                "robomem.embodiment": "rlbench"}
    # Starting needs CoppeliaSim, PyRep and RLBench: `robomem doctor` does not start it.
    doctor_kwargs: ClassVar[dict[str, Any] | None] = None

    def __init__(self, task: str = "reach_target", cameras: Sequence[str] = CAMERAS,
                 image_size: int = 128, depth_in_meters: bool = False, headless: bool = True,
                 step_limit: int | None = None, variation: int | None = None,
                 robot_setup: str = "panda", collision_checking: bool = False,
                 render_mode: str | None = None, task_factory: TaskFactory | None = None) -> None:
        self.config = RLBenchEnvConfig(
            task=task, cameras=tuple(cameras), image_size=image_size,
            depth_in_meters=depth_in_meters, headless=headless, step_limit=step_limit,
            variation=variation, robot_setup=robot_setup, collision_checking=collision_checking)
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {quote(render_mode)}")
        self.render_mode = render_mode
        self._factory: TaskFactory = task_factory or _RLBenchSession
        self._session: TaskSession | None = None
        self._rl: Any = None
        self._names: dict[int, str] = {}
        self._privileged: dict[str, Any] = {}
        self._instruction, self._steps, self._done, self._success = "", 0, True, False
        self._joints = self.config.joint_names
        s = self.config.image_size
        one = camera_observation_space(s, s)
        cam_keys = (keys.OBS_RGB, keys.OBS_DEPTH, keys.OBS_SEGMENTATION, keys.OBS_INTRINSICS,
                    keys.OBS_CAMERA_POSE)
        self.observation_space = spaces.Dict({
            keys.OBS_CAMERAS: spaces.Dict({c: spaces.Dict({k: one[k] for k in cam_keys})
                                           for c in self.config.cameras}),
            keys.OBS_AGENT_POSE: one[keys.OBS_AGENT_POSE],
            keys.OBS_INSTRUCTION: spaces.Text(2000, min_length=0, charset=string.printable),
            keys.OBS_STEP: one[keys.OBS_STEP], keys.OBS_TIMESTAMP: one[keys.OBS_TIMESTAMP],
            OBS_JOINT_POSITIONS: spaces.Box(-BOUND, BOUND, (len(self._joints),), np.float64),
            OBS_GRIPPER_POSE: spaces.Box(-BOUND, BOUND, (7,), np.float64),
            OBS_GRIPPER_OPEN: spaces.Box(0.0, 1.0, (), np.float32)})
        lim = np.array([5.0, 5.0, 5.0, 1.0, 1.0, 1.0, 1.0])
        self.action_space = spaces.Dict({
            keys.ACT_ACTION: spaces.Discrete(len(ACTIONS)), keys.ACT_OBJECT: spaces.Discrete(1),
            ACT_POSE: spaces.Box(-lim, lim, (7,), np.float64), ACT_GRIPPER: spaces.Discrete(2)})

    @classmethod
    def doctor_requirements(cls) -> str:
        """What ``robomem doctor`` reports about running RLBench here (nothing is started)."""
        found = {m: find_spec(m) is not None for m in ("rlbench", "pyrep")}
        root = os.environ.get("COPPELIASIM_ROOT")
        parts = [f"{m} {'installed' if ok else 'missing'}" for m, ok in found.items()]
        parts.append(f"COPPELIASIM_ROOT={root}" if root else "COPPELIASIM_ROOT not set")
        return "; ".join(parts) + ("" if all(found.values()) and root else
                                   " (docs/rlbench.md: CoppeliaSim 4.1.0, PyRep, RLBench)")

    # ------------------------------------------------------------------ gym api
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start RLBench on first use, pose a variation; the first observation."""
        super().reset(seed=seed)
        if self._session is None:
            self._session = self._factory(self.config)
        if seed is not None:
            self._session.seed(seed)
        count = self._session.variation_count()
        v = self.config.variation
        if v is None:
            v = int(self.np_random.integers(count))
        elif v >= count:
            raise ValueError(f"variation {v}: task {self.config.task} has {count} variations "
                             f"(0 to {count - 1})")
        self._session.set_variation(v)
        descriptions, self._rl = self._session.reset()
        self._instruction = str(descriptions[0]) if len(descriptions) else ""
        self._names, self._steps, self._done, self._success = {}, 0, False, False
        self._privileged = {"variation": v, "descriptions": [str(d) for d in descriptions]}
        return self._observe()

    def step(self, action: Any) -> tuple[dict[str, Any], SupportsFloat, bool, bool,
                                         dict[str, Any]]:
        """``move_ee`` to a pose with the gripper open (1) or closed (0), or ``done``."""
        if self._session is None or self._done:
            raise RuntimeError("call reset() before step() (and after an episode ends)")
        name, pose, gripper = self._parse(action)
        self._steps += 1
        if name == "done":
            obs, info = self._observe(("done", True, ""))
            self._done = True
            info[keys.INFO_SUCCESS] = self._success
            return obs, 0.0, True, False, info
        assert pose is not None
        q = pose[3:]
        norm = float(np.linalg.norm(q))
        if abs(norm - 1.0) > 1e-3:
            why = f"the pose's quaternion (qx, qy, qz, qw) must have length 1, got {norm:.4g}"
            return self._after(*self._observe(("move_ee", False, why)), 0.0, False)
        target = yup_to_zup(matrix_from_pose7(pose))
        command = np.concatenate([pose7_from_matrix(target), [gripper]])
        try:
            self._rl, reward, terminate = self._session.step(command)
        except self._session.action_errors as e:
            why = (str(e) or type(e).__name__)[:300]
            return self._after(*self._observe(("move_ee", False, why)), 0.0, False)
        self._success = self._success or float(reward) >= 1.0  # reward = float(success)
        return self._after(*self._observe(("move_ee", True, "")), float(reward), terminate)

    def _after(self, obs: dict[str, Any], info: dict[str, Any], reward: float, terminate: bool
               ) -> tuple[dict[str, Any], SupportsFloat, bool, bool, dict[str, Any]]:
        terminated = bool(terminate) or self._success
        truncated = not terminated and self._steps >= self.config.limit
        self._done = terminated or truncated
        info[keys.INFO_SUCCESS] = self._success
        return obs, reward, terminated, truncated, info

    def _parse(self, action: Any) -> tuple[str, NDArray[np.float64] | None, float]:
        name, _ = parse_action(action, ACTIONS)
        grip = action.get(ACT_GRIPPER)
        if grip is None:
            gripper = float(getattr(self._rl, "gripper_open", 1.0) or 0.0)
        elif isinstance(grip, int | np.integer | float | np.floating) and 0 <= grip <= 1:
            gripper = float(grip)
        else:
            raise ValueError(f"gripper must be 1 (open) or 0 (closed), got {quote(grip)}")
        if name != "move_ee":
            return name, None, gripper
        raw = action.get(ACT_POSE)
        pose = None if raw is None else np.asarray(raw, np.float64)
        if pose is None or pose.shape != (7,) or not np.all(np.isfinite(pose)):
            got = "nothing" if pose is None else f"shape {pose.shape}"
            raise ValueError(f"move_ee needs 'pose': 7 finite numbers x, y, z, qx, qy, qz, qw in "
                             f"robomem's y-up world, got {got}")
        return name, pose, gripper

    def _handles(self) -> dict[int, str]:
        """Object names of the handles in this observation's masks (cached per episode)."""
        assert self._session is not None
        for cam in self.config.cameras:
            mask: Any = getattr(self._rl, f"{cam}_mask", None)  # None: the error names it
            for h in np.unique(mask_from_rlbench(mask, f"{cam}_mask")):
                if int(h) not in self._names:
                    self._names[int(h)] = self._session.object_name(int(h))
        return self._names

    def _observe(self, action: tuple[str, bool, str] | None = None
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
        names = {h: n for h, n in self._handles().items() if n}
        obs = observation_from_rlbench(
            self._rl, cameras=self.config.cameras, depth_in_meters=self.config.depth_in_meters,
            labels={h: label_for(n) for h, n in names.items()}, object_ids=names,
            joint_names=self._joints, instruction=self._instruction, step=self._steps,
            timestamp=DT * self._steps, scene=self.config.task)
        out, info = gym_from_observation(obs, len(self._joints))
        if action is not None:
            info[keys.INFO_ACTION_NAME], info[keys.INFO_ACTION_SUCCESS], \
                info[keys.INFO_ACTION_ERROR] = action
        info[keys.INFO_SUCCESS] = self._success
        info[keys.INFO_TASK] = {"task": self.config.task, "instruction": self._instruction}
        info[keys.INFO_PRIVILEGED] = dict(self._privileged)
        return out, info

    def render(self) -> Any:
        """The primary camera's last RGB frame (None before the first reset)."""
        if self._rl is None:
            return None
        return np.asarray(getattr(self._rl, f"{self.config.cameras[0]}_rgb"))

    def close(self) -> None:
        """Shut CoppeliaSim down."""
        if self._session is not None:
            try:
                self._session.close()
            finally:
                self._session = None

