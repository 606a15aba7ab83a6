"""The policy interface and registry: anything that turns observations into actions.

Example:
    >>> from robomem.policies.base import POLICIES, policy_class
    >>> POLICIES.names()  # listed by name; a policy's module is imported on first lookup
    ['agent', 'oracle', 'random']
    >>> policy_class("oracle").__name__
    'OraclePolicy'
"""

from __future__ import annotations

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

    def notes(self) -> list[str]:
        """What the episode's record should say in words (empty by default).

        Why the policy gave up, how it read the instruction; read once per episode, after
        ``end_episode``.
        """
        return []

    def stats(self) -> dict[str, float]:
        """Counters for the run metrics (planner calls, replans, ...); empty by default."""
        return {}

    def timings(self) -> dict[str, list[float]]:
        """Per-module step latencies in milliseconds (empty by default)."""
        return {}


POLICIES: Registry[type[Policy]] = Registry("policy", group="robomem.policies")
# The built-in policies, imported on first use (other packages add theirs by entry point).
POLICIES.add_lazy("agent", "robomem.agent:MemoryAgent")
POLICIES.add_lazy("oracle", "robomem.envs.household.oracle:OraclePolicy")
POLICIES.add_lazy("random", "robomem.policies.random_policy:RandomPolicy")


def policy_class(name: str) -> type[Policy]:
    """The registered policy class ``name``; raises ``KeyError`` listing the known names."""
    return POLICIES.get(name)


def make_policy(name: str, env: gym.Env[Any, Any], seed: int = 0) -> Policy:
    """Build a registered policy by name for ``env``."""
    return policy_class(name).from_env(env, seed)
