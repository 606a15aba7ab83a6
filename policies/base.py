"""The policy interface and registry: anything that turns observations into actions.

Example:
    >>> from robomem.policies.base import POLICIES, policy_class
    >>> policy_class("oracle").__name__  # the first lookup imports the built-in policies
    'OraclePolicy'
    >>> POLICIES.names()
    ['agent', 'oracle', 'random']
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import Any

import gymnasium as gym

from robomem.registry import Registry
from robomem.types import Action, Observation


class Policy(ABC):
    """Acts in an env, one primitive action per step.

    Subclasses are built by :meth:`from_env` so that privileged policies (the oracle) can
    reach the simulator while ordinary ones only keep what they need.
    """

    name: str = "policy"

    @classmethod
    def from_env(cls, env: gym.Env[Any, Any], seed: int = 0) -> Policy:
        """Build the policy for ``env``."""
        return cls()

    @abstractmethod
    def reset(self, obs: Observation) -> None:
        """Start an episode with its first observation."""

    @abstractmethod
    def act(self, obs: Observation) -> Action:
        """The next action for the latest observation."""

    def end_episode(self, success: bool, steps: int) -> None:  # noqa: B027  (optional hook)
        """The episode ended (the env's verdict); memory-keeping policies learn and save here."""

    def stats(self) -> dict[str, float]:
        """Counters for the run metrics (planner calls, replans, ...); empty by default."""
        return {}

    def timings(self) -> dict[str, list[float]]:
        """Per-module step latencies in milliseconds (empty by default)."""
        return {}


POLICIES: Registry[type[Policy]] = Registry("policy", group="robomem.policies")
BUILT_IN = ("robomem.agent", "robomem.policies.oracle", "robomem.policies.random_policy")


def policy_class(name: str) -> type[Policy]:
    """The registered policy class ``name``; raises ``KeyError`` listing the known names."""
    for module in BUILT_IN:  # importing them registers them
        importlib.import_module(module)
    return POLICIES.get(name)


def make_policy(name: str, env: gym.Env[Any, Any], seed: int = 0) -> Policy:
    """Build a registered policy by name for ``env``."""
    return policy_class(name).from_env(env, seed)
