"""The tabletop arm's embodiment: skills as keyframe motions, the arm's proprioception.

Example:
    >>> import gymnasium as gym
    >>> import robomem.envs  # registers robomem/Tabletop-v0
    >>> from robomem.embodiment import embodiment_for
    >>> from robomem.types import Action
    >>> env = gym.make("robomem/Tabletop-v0", width=48, height=48)
    >>> emb = embodiment_for(env)
    >>> emb.name, emb.body, emb.agent, emb.command(Action("open", "Drawer|2"))
    ('tabletop', None, 'keyframe', {'action': 'open_drawer', 'object': 'Drawer|2'})
    >>> obs = emb.observe(*env.reset(seed=0))
    >>> obs.proprio.gripper_open, obs.proprio.joint_positions.shape, sorted(obs.cameras)[:2]
    (1.0, (9,), ['front', 'left_shoulder'])
    >>> emb.classify("open_drawer", "Drawer|2 is already open")
    (<FeedbackCode.ALREADY_OPEN: 'already_open'>, 'Drawer|2')
    >>> env.close()
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from robomem.embodiment import TableEmbodiment
from robomem.geometry import quat_to_rotation
from robomem.types import Observation, Proprioception

__all__ = ["JOINT_NAMES", "TabletopEmbodiment"]

JOINT_NAMES = (*(f"panda_joint{i}" for i in range(1, 8)), "panda_finger_joint1",
               "panda_finger_joint2")


class TabletopEmbodiment(TableEmbodiment):
    """A Franka Panda at a table (``data/embodiment.yaml``): no mobile base."""

    name = "tabletop"
    DATA = Path(__file__).parent / "data" / "embodiment.yaml"

    def observe(self, obs: Mapping[str, Any], info: Mapping[str, Any]) -> Observation:
        """The standard multi-camera Observation plus the arm's joints and gripper."""
        out = super().observe(obs, info)
        pose = np.asarray(obs["gripper_pose"], np.float64)
        ee = np.eye(4)
        ee[:3, :3] = quat_to_rotation(pose[3:])
        ee[:3, 3] = pose[:3]
        out.proprio = Proprioception(
            joint_names=JOINT_NAMES,
            joint_positions=np.asarray(obs["joint_positions"], np.float64),
            gripper_open=float(obs["gripper_open"]), ee_pose=ee)
        return out
