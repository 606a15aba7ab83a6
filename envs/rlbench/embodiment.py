"""RLBench's embodiment: a fixed arm, RLBench's failure wording, its few object types.

Everything world-specific is in ``data/embodiment.yaml`` (each failure rule cites where
RLBench's wording comes from) and ``data/ontology.yaml``. :meth:`RLBenchEmbodiment.observe`
reads robomem's multi-camera layout and fills :attr:`~robomem.types.Observation.proprio` from
the env's ``joint_positions``, ``gripper_pose`` (y-up world) and ``gripper_open``.

Example:
    >>> from robomem.envs.rlbench.embodiment import RLBenchEmbodiment
    >>> from robomem.types import Action
    >>> emb = RLBenchEmbodiment()
    >>> emb.body is None, sorted(emb.skills), emb.command(Action("done"))
    (True, ['done'], {'action': 'done', 'object': 0})
    >>> emb.classify("move_ee", "A path could not be found because the target is outside of "
    ...              "workspace.")[0].value
    'out_of_reach'
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from robomem.embodiment import TableEmbodiment
from robomem.envs.rlbench.convert import matrix_from_pose7
from robomem.envs.rlbench.env import (
    INFO_JOINT_NAMES,
    OBS_GRIPPER_OPEN,
    OBS_GRIPPER_POSE,
    OBS_JOINT_POSITIONS,
)
from robomem.types import Observation, Proprioception

__all__ = ["RLBenchEmbodiment"]

log = logging.getLogger(__name__)


class RLBenchEmbodiment(TableEmbodiment):
    """``rlbench``'s ``TaskEnvironment`` behind robomem/RLBench-v0, as the core sees it."""

    name = "rlbench"
    DATA = Path(__file__).parent / "data" / "embodiment.yaml"

    def observe(self, obs: Mapping[str, Any], info: Mapping[str, Any]) -> Observation:
        """The cameras (structure unlabelled) and the arm's joints, gripper and tip pose."""
        out = super().observe(obs, info)
        if OBS_JOINT_POSITIONS in obs:
            pose = obs.get(OBS_GRIPPER_POSE)
            grip = obs.get(OBS_GRIPPER_OPEN)
            out.proprio = Proprioception(
                joint_names=tuple(str(n) for n in info.get(INFO_JOINT_NAMES, ())),
                joint_positions=np.asarray(obs[OBS_JOINT_POSITIONS], np.float64),
                gripper_open=None if grip is None else float(grip),
                ee_pose=None if pose is None else matrix_from_pose7(pose, OBS_GRIPPER_POSE))
        return out
