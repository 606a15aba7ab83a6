"""The policy interface and registry: anything that turns observations into actions.

Example:
    >>> from robomem.policies.base import POLICIES, policy_class
    >>> POLICIES.names()  # listed by name; a policy's module is imported on first lookup
    ['agent', 'keyframe', 'oracle', 'random']
    >>> policy_class("oracle").__name__
    'OraclePolicy'
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

import gymnasium as gym

from robomem.registry import Registry
from robomem.types import Action, Observation

if TYPE_CHECKING:
    from robomem.agent import AgentConfig
    from robomem.embodiment import Embodiment


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

    @classmethod
    def with_memory(cls, cfg: AgentConfig, embodiment: Embodiment, seed: int = 0) -> Policy:
        """Build this policy as a world's memory agent, from the run's agent settings.

        The policy an embodiment names in :attr:`~robomem.embodiment.Embodiment.agent` is built
        this way for ``policy=agent`` (:func:`memory_agent`). Policies that keep no memory
        cannot be one.

        Raises:
            TypeError: this policy cannot act as a memory agent.
        """
        raise TypeError(f"policy {cls.name!r} cannot act as a memory agent")

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
POLICIES.add_lazy("keyframe", "robomem.policies.keyframe:KeyframeAgent")


def policy_class(name: str) -> type[Policy]:
    """The registered policy class ``name``; raises ``KeyError`` listing the known names."""
    return POLICIES.get(name)


def make_policy(name: str, env: gym.Env[Any, Any], seed: int = 0) -> Policy:
    """Build a registered policy by name for ``env``."""
    return policy_class(name).from_env(env, seed)


def memory_agent(cfg: AgentConfig, embodiment: Embodiment, seed: int = 0) -> Policy:
    """The memory agent of ``embodiment``'s world (the policy its ``agent`` names), from ``cfg``.

    A mobile world gets robomem's :class:`~robomem.agent.MemoryAgent`; a table arm its
    keyframe agent.
    """
    return policy_class(embodiment.agent).with_memory(cfg, embodiment, seed)
