"""The built-in worlds: env ids (mirrored into Gymnasium's registry) and their embodiments."""

from __future__ import annotations

import gymnasium as gym

from robomem.embodiment import EMBODIMENTS
from robomem.registry import Registry

# Gymnasium id -> "module:Class" entry point.
ENVS: Registry[str] = Registry("env", group="robomem.envs", resolve=False)
ENVS.add("robomem/Household-v0", "robomem.envs.household.env:HouseholdEnv")
ENVS.add("robomem/AI2THOR-v0", "robomem.envs.ai2thor.env:AI2THOREnv")
ENVS.add("robomem/ROS2Robot-v0", "robomem.envs.ros2.env:ROS2RobotEnv")
ENVS.add("robomem/Tabletop-v0", "robomem.envs.tabletop.env:TabletopEnv")
ENVS.add("robomem/RLBench-v0", "robomem.envs.rlbench.env:RLBenchEnv")

# Embodiment name -> "module:Class", resolved on first use.
EMBODIMENTS.add_lazy("household", "robomem.envs.household.embodiment:HouseholdEmbodiment")
EMBODIMENTS.add_lazy("ai2thor", "robomem.envs.ai2thor.embodiment:AI2THOREmbodiment")
EMBODIMENTS.add_lazy("ros2", "robomem.envs.ros2.embodiment:ROS2Embodiment")
EMBODIMENTS.add_lazy("tabletop", "robomem.envs.tabletop.embodiment:TabletopEmbodiment")
EMBODIMENTS.add_lazy("rlbench", "robomem.envs.rlbench.embodiment:RLBenchEmbodiment")


def register_envs() -> None:
    """Register every robomem env with Gymnasium (idempotent).

    ``gym.make`` adds no ``PassiveEnvChecker``: when an env's first ``reset`` raises (a bad task,
    say), that wrapper keeps no reset data and its first ``step`` after any later good reset
    fails with ``TypeError: cannot unpack non-iterable NoneType`` (gymnasium 1.x), so a user
    could never recover the env. robomem's envs check their own arguments, actions and
    observations, and every registered env passes ``gymnasium.utils.env_checker.check_env``
    in the conformance tests instead. ``gym.make(id, disable_env_checker=False)`` still adds it.
    """
    for env_id in ENVS:
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=ENVS.get(env_id), disable_env_checker=True)
