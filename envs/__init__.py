"""Gymnasium environments and simulator bridges (imports as robomem.envs).

Importing this package registers ``robomem/Household-v0`` with Gymnasium.

Example:
    >>> import gymnasium as gym
    >>> import robomem.envs  # noqa: F401
    >>> "robomem/Household-v0" in gym.registry
    True
"""

from __future__ import annotations

from robomem.envs.registry import ENVS, register_envs

register_envs()

__all__ = ["ENVS", "register_envs"]
