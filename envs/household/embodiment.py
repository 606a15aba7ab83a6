"""The Household simulator's embodiment: its data file, plus SPL from the privileged oracle.

Action names, failure wording and object types live in ``data/embodiment.yaml`` and
``data/ontology.yaml`` (AI2-THOR's, which the simulator mimics); this class adds the one
measure only the simulator can compute: the steps the privileged oracle needs for the current
episode (SPL's reference path).

Example:
    >>> from robomem.envs.household.embodiment import HouseholdEmbodiment
    >>> emb = HouseholdEmbodiment()
    >>> emb.world_action("pickup"), emb.primitive_of("OpenObject")
    ('PickupObject', 'open')
    >>> emb.ontology.info("Fridge").container
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym

from robomem.embodiment import TableEmbodiment

__all__ = ["HouseholdEmbodiment"]


class HouseholdEmbodiment(TableEmbodiment):
    """robomem/Household-v0 as the core sees it."""

    name = "household"
    DATA = Path(__file__).parent / "data" / "embodiment.yaml"

    def reference_steps(self, env: gym.Env[Any, Any]) -> int | None:
        """Steps the privileged oracle needs for the current episode, on a clone."""
        from robomem.envs.household.env import HouseholdEnv
        from robomem.envs.household.oracle import run_oracle_on

        inner = env.unwrapped
        if not isinstance(inner, HouseholdEnv):
            return None
        res = run_oracle_on(inner.clone())
        return int(res["steps"]) if res["success"] else None
