"""The random baseline: uniform primitive actions, interacting with whatever is in view.

Example:
    >>> import numpy as np
    >>> from robomem.policies.random_policy import RandomPolicy
    >>> p = RandomPolicy(seed=0)
    >>> p.act_from(np.random.default_rng(0), {}).name
    'rotate_right'
    >>> p.act_from(np.random.default_rng(0), {}, primitives=("move_ahead", "done")).name
    'move_ahead'
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from robomem.embodiment import embodiment_for
from robomem.policies.base import Policy
from robomem.primitives import PRIMITIVES, Primitive, needs_object
from robomem.types import Action, Observation


class RandomPolicy(Policy):
    """Picks random actions, never ``Done``; interactions target a random visible instance."""

    name = "random"

    def __init__(self, seed: int = 0, primitives: tuple[str, ...] = PRIMITIVES) -> None:
        self.rng = np.random.default_rng(seed)
        self.primitives = primitives

    @classmethod
    def from_env(cls, env: gym.Env[Any, Any], seed: int = 0) -> RandomPolicy:
        """A random policy over the primitives ``env``'s embodiment supports."""
        supported = embodiment_for(env).primitives
        return cls(seed, tuple(p for p in PRIMITIVES if p in supported))

    def reset(self, obs: Observation) -> None:
        """Nothing to remember."""

    def act(self, obs: Observation) -> Action:
        """A random non-Done action."""
        return self.act_from(self.rng, obs.object_ids, obs, self.primitives)

    @staticmethod
    def act_from(rng: np.random.Generator, object_ids: dict[int, str],
                 obs: Observation | None = None,
                 primitives: tuple[str, ...] = PRIMITIVES) -> Action:
        """Draw an action among ``primitives`` (never ``done``).

        Interactions target an instance seen in ``obs``.
        """
        choices = [p for p in primitives if p != Primitive.DONE]
        name = choices[int(rng.integers(len(choices)))]
        if not needs_object(name):
            return Action(name)
        seen = [] if obs is None or obs.segmentation is None else \
            [int(i) for i in np.unique(obs.segmentation) if int(i) in object_ids]
        if not seen:
            return Action(Primitive.ROTATE_RIGHT if Primitive.ROTATE_RIGHT in primitives
                          else choices[0])
        return Action(name, object_ids[seen[int(rng.integers(len(seen)))]])
