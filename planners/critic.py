"""Critics review a skill before it runs and may veto it with a reason, and with the fix.

The symbolic precondition critic checks each skill against what memory believes: the
hand must be empty to pick up, a receptacle must be open before putting into it, and so
on. Where one skill would make the precondition hold (open the fridge first, put down what
is held), the veto carries it as ``Verdict.fix`` and the planners run the fix instead of
giving up on the target. Critics compose: the first veto wins. The world-model critic
(:mod:`robomem.planners.worldmodel_critic`) and language-model critics use the same interface.

Example:
    >>> from robomem.planners.critic import Verdict
    >>> Verdict(False, "hand is full").ok
    False
    >>> Verdict(False, "Fridge|1 is closed", Skill(OPEN, "Fridge|1", "Fridge")).fix.name
    'open'
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from robomem.planners.base import PlanContext
from robomem.skills import (
    CLOSE,
    NAVIGATE,
    OPEN,
    PICKUP,
    PUT,
    TOGGLE_OFF,
    TOGGLE_ON,
    Skill,
)
from robomem.types import Action, Observation


@dataclass(frozen=True)
class Verdict:
    """A critic's answer: ``ok``, or a veto with the reason fed back to the planner.

    Attributes:
        ok: whether the skill may run.
        reason: why not, in words.
        fix: a skill that would make the vetoed one possible ("open it first"), if one does.
    """

    ok: bool
    reason: str = ""
    fix: Skill | None = None


class Critic(ABC):
    """Reviews skills before they run.

    Critics that follow the episode (a world model carrying a recurrent state) override the
    three hooks below; the agent calls them at every reset, observation and action.
    """

    @abstractmethod
    def review(self, skill: Skill, ctx: PlanContext) -> Verdict:
        """Approve or veto ``skill``."""

    def begin_episode(self) -> None:  # noqa: B027  (an optional hook)
        """A new episode starts."""

    def observe(self, obs: Observation) -> None:  # noqa: B027
        """The observation the next action will be chosen on."""

    def acted(self, action: Action) -> None:  # noqa: B027
        """The action chosen on the last observation."""


class PreconditionCritic(Critic):
    """Symbolic preconditions checked against spatial memory and the percept.

    Args:
        fixes: give the fixing skill with a veto where one exists (a closed receptacle is
            opened, a full hand puts down what it holds); ``False``: veto only.
    """

    def __init__(self, fixes: bool = True) -> None:
        self.fixes = fixes

    def review(self, skill: Skill, ctx: PlanContext) -> Verdict:
        """Veto skills whose preconditions memory says do not hold (with the fix, if any)."""
        v = self._check(skill, ctx)
        return v if self.fixes or v.fix is None else Verdict(v.ok, v.reason)

    def _check(self, skill: Skill, ctx: PlanContext) -> Verdict:
        held = ctx.percept.held
        needs_target = skill.name in (NAVIGATE, PICKUP, PUT, OPEN, CLOSE, TOGGLE_ON, TOGGLE_OFF)
        node = ctx.scene.node(skill.target) if skill.target else None
        if needs_target and node is None:
            return Verdict(False, f"{skill.target} is not in memory")
        if node is None:
            return Verdict(True)
        info = ctx.ontology.info(node.label)
        if skill.name == PICKUP:
            if held is not None:
                return Verdict(False, f"hand is full (holding {held})", put_down(ctx))
            if not info.pickupable:
                return Verdict(False, f"{node.key} cannot be picked up")
            parent = ctx.scene.node(node.parent) if node.parent else None
            if parent is not None and parent.openable and parent.is_open is False:
                return Verdict(False, f"{node.key} is inside closed {parent.key}",
                               Skill(OPEN, parent.key, parent.label))
        elif skill.name == PUT:
            if held is None:
                return Verdict(False, "nothing is held")
            if not info.receptacle:
                return Verdict(False, f"{node.key} is not a receptacle")
            if info.openable and node.is_open is not True:
                return Verdict(False, f"{node.key} is closed", Skill(OPEN, node.key, node.label))
        elif skill.name in (OPEN, CLOSE):
            if not info.openable:
                return Verdict(False, f"{node.key} cannot be opened")
            if node.is_open is (skill.name == OPEN):
                state = "open" if node.is_open else "closed"
                return Verdict(False, f"{node.key} is already {state}")
        elif skill.name in (TOGGLE_ON, TOGGLE_OFF):
            if not info.toggleable:
                return Verdict(False, f"{node.key} cannot be switched")
            if node.is_toggled is (skill.name == TOGGLE_ON):
                return Verdict(False, f"{node.key} is already {'on' if node.is_toggled else 'off'}")
        return Verdict(True)


def put_down(ctx: PlanContext, skip: set[str] | frozenset[str] = frozenset()) -> Skill | None:
    """Put what is held on the nearest known open surface that is not an appliance.

    ``skip``: receptacle keys not to use. None when no such surface is known.
    """
    p = ctx.percept.agent_pose
    appliances = ctx.ontology.appliances()
    spots = [n for n in ctx.scene.nodes() if n.receptacle and not n.pickupable
             and not n.openable and n.label not in appliances and n.key not in skip]
    if not spots:
        return None
    node = min(spots, key=lambda n: (n.box.distance_to((p.x, 1.5, p.z)), n.key))
    return Skill(PUT, node.key, node.label)


class CriticChain(Critic):
    """Several critics in turn; the first veto wins."""

    def __init__(self, critics: list[Critic]) -> None:
        self.critics = critics

    def begin_episode(self) -> None:
        """Pass the hook on to every critic."""
        for c in self.critics:
            c.begin_episode()

    def observe(self, obs: Observation) -> None:
        """Pass the hook on to every critic."""
        for c in self.critics:
            c.observe(obs)

    def acted(self, action: Action) -> None:
        """Pass the hook on to every critic."""
        for c in self.critics:
            c.acted(action)

    def review(self, skill: Skill, ctx: PlanContext) -> Verdict:
        """Ask each critic; return the first veto, else approve."""
        for c in self.critics:
            v = c.review(skill, ctx)
            if not v.ok:
                return v
        return Verdict(True)
