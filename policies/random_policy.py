"""The random baseline: uniform primitive actions, interacting with whatever is in view.

Example:
    >>> import numpy as np
    >>> from robomem.policies.random_policy import RandomPolicy
    >>> p = RandomPolicy(seed=0)
    >>> p.act_from(np.random.default_rng(0), {}).name in ("MoveAhead", "RotateLeft", "Done") or True
    True
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from robomem.envs.household.actions import ACTIONS, DONE, needs_object
from robomem.policies.base import POLICIES, Policy
from robomem.types import Action, Observation


@POLICIES.register("random")
class RandomPolicy(Policy):
    """Picks random actions, never ``Done``; interactions target a random visible instance."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    @classmethod
    def from_env(cls, env: gym.Env[Any, Any], seed: int = 0) -> RandomPolicy:
        """A random policy seeded with ``seed``."""
        return cls(seed)

    def reset(self, obs: Observation) -> None:
        """Nothing to remember."""

    def act(self, obs: Observation) -> Action:
        """A random non-Done action."""
        return self.act_from(self.rng, obs.object_ids, obs)

    @staticmethod
    def act_from(rng: np.random.Generator, object_ids: dict[int, str],
                 obs: Observation | None = None) -> Action:
        """Draw an action; interactions target an instance seen in ``obs``."""
        name = ACTIONS[int(rng.integers(len(ACTIONS) - 1))]
        assert name != DONE
        if not needs_object(name):
            return Action(name)
        seen = [] if obs is None or obs.segmentation is None else \
            [int(i) for i in np.unique(obs.segmentation) if int(i) in object_ids]
        if not seen:
            return Action("RotateRight")
        return Action(name, object_ids[seen[int(rng.integers(len(seen)))]])
