"""The env registry: robomem's own names for envs, mirrored into Gymnasium's registry."""

from __future__ import annotations

import gymnasium as gym

from robomem.registry import Registry

# Gymnasium id -> "module:Class" entry point.
ENVS: Registry[str] = Registry("env")
ENVS.add("robomem/Household-v0", "robomem.envs.household.env:HouseholdEnv")


def register_envs() -> None:
    """Register every robomem env with Gymnasium (idempotent)."""
    for env_id in ENVS:
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=ENVS.get(env_id))
