"""The RLBench env's run settings: ``env.type=rlbench`` in a launch file or an override.

Each setting is checked when the config is made (and again by the env, which builds one from
its arguments); a bad value raises ``ValueError`` naming the setting, the value and what is
allowed.

Example:
    >>> from robomem.envs.rlbench.config import RLBenchEnvConfig
    >>> cfg = RLBenchEnvConfig(task="stack_blocks", cameras=("front", "wrist"))
    >>> cfg.id, cfg.gym_kwargs()["cameras"], cfg.image_size
    ('robomem/RLBench-v0', ('front', 'wrist'), 128)
    >>> try:
    ...     RLBenchEnvConfig(cameras=("front", "top"))
    ... except ValueError as e:
    ...     print(e)
    cameras: unknown camera 'top'; RLBench has left_shoulder, right_shoulder, overhead, wrist, front
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from robomem.config import EnvConfig
from robomem.envs.rlbench.convert import CAMERAS
from robomem.untrusted import quote

__all__ = ["ARMS", "DEFAULT_STEP_LIMIT", "RLBenchEnvConfig", "task_class_name"]

log = logging.getLogger(__name__)

ARMS: dict[str, tuple[str, int]] = {"panda": ("Panda", 7), "jaco": ("Jaco", 6),
                                     "mico": ("Mico", 6), "sawyer": ("Sawyer", 7),
                                     "ur5": ("UR5", 6)}
"""``robot_setup`` -> (PyRep arm name, joints): rlbench/const.py ``SUPPORTED_ROBOTS``.

PyRep names an arm's joints ``{name}_joint{i}`` (pyrep/robots/arms/arm.py)."""
DEFAULT_STEP_LIMIT = 100
_TASK = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
MIN_IMAGE, MAX_IMAGE = 16, 1024


def task_class_name(task: str) -> str:
    """RLBench's class for a task file name: ``reach_target`` -> ``ReachTarget``.

    As ``Environment._string_to_task`` (rlbench/environment.py) spells it.
    """
    return "".join(w[0].upper() + w[1:] for w in task.split("_"))


@dataclass
class RLBenchEnvConfig(EnvConfig):
    """``RLBenchEnv``'s keyword arguments (robomem/RLBench-v0).

    Attributes:
        task: an RLBench task file name (``rlbench/tasks/<task>.py``), e.g. ``reach_target``.
        cameras: the cameras to observe, the first primary (RLBench's five by default).
        image_size: the side of the square images (RLBench's default is 128).
        depth_in_meters: ask RLBench for depth in metres instead of [0, 1] between the
            clipping planes (robomem's depth is metres either way).
        headless: run CoppeliaSim without a window.
        variation: the task variation to pose (None: a random one each episode).
        robot_setup: the arm (``panda``, ``jaco``, ``mico``, ``sawyer`` or ``ur5``).
        collision_checking: plan collision-free moves (``EndEffectorPoseViaPlanning``).
        step_limit: steps per episode (None: 100).
    """

    type: str = "rlbench"
    id: str = "robomem/RLBench-v0"
    task: str = "reach_target"
    cameras: tuple[str, ...] = CAMERAS
    image_size: int = 128
    depth_in_meters: bool = False
    headless: bool = True
    variation: int | None = None
    robot_setup: str = "panda"
    collision_checking: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.task, str) or not _TASK.match(self.task) or len(self.task) > 80:
            raise ValueError(f"task: {quote(self.task, 80)} is not an RLBench task file name "
                             f"(lower case words joined by '_', e.g. reach_target)")
        self.cameras = tuple(self.cameras)
        if not self.cameras:
            raise ValueError(f"cameras: name at least one of {', '.join(CAMERAS)}")
        for cam in self.cameras:
            if cam not in CAMERAS:
                raise ValueError(f"cameras: unknown camera {quote(cam, 40)}; RLBench has "
                                 f"{', '.join(CAMERAS)}")
        if len(set(self.cameras)) != len(self.cameras):
            raise ValueError(f"cameras: each camera once, got {', '.join(self.cameras)}")
        for name, v, lo, hi in (("image_size", self.image_size, MIN_IMAGE, MAX_IMAGE),
                                ("step_limit", self.step_limit, 1, 100_000),
                                ("variation", self.variation, 0, 10_000)):
            if v is None and name != "image_size":
                continue
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {quote(v)}")
        for name, flag in (("depth_in_meters", self.depth_in_meters),
                           ("headless", self.headless),
                           ("collision_checking", self.collision_checking)):
            if not isinstance(flag, bool):
                raise ValueError(f"{name} must be true or false, got {quote(flag)}")
        if self.robot_setup not in ARMS:
            raise ValueError(f"robot_setup must be one of {', '.join(ARMS)} (RLBench's "
                             f"SUPPORTED_ROBOTS), got {quote(self.robot_setup, 40)}")

    @property
    def joint_names(self) -> tuple[str, ...]:
        """The arm's joint names, as PyRep names them."""
        name, count = ARMS[self.robot_setup]
        return tuple(f"{name}_joint{i + 1}" for i in range(count))

    @property
    def limit(self) -> int:
        """The step limit in force (``step_limit`` or the default)."""
        return DEFAULT_STEP_LIMIT if self.step_limit is None else self.step_limit
