"""Skills: the vocabulary between planners and the executor (the cerebellum), in every world.

A :class:`Skill` names one thing to do ("pick up Mug|1"); the executor turns it into
primitive actions and ends it with a :class:`SkillResult`.

Example:
    >>> from robomem.skills import PICKUP, Skill, SkillResult, SkillStatus
    >>> s = Skill(PICKUP, target="Mug|+01.00|+00.95|+02.00", label="Mug")
    >>> s.describe()
    'pickup Mug|+01.00|+00.95|+02.00'
    >>> SkillResult(SkillStatus.FAILED, "Mug is not in memory").done
    True
"""

from __future__ import annotations

from dataclasses import dataclass

from robomem.primitives import Primitive

NAVIGATE = "navigate_to"
EXPLORE = "explore"
# The interaction skills end in the primitive of the same name (robomem.primitives; each
# embodiment names it in its world's words), and so does ``done``.
PICKUP, PUT = Primitive.PICKUP.value, Primitive.PUT.value
OPEN, CLOSE = Primitive.OPEN.value, Primitive.CLOSE.value
TOGGLE_ON, TOGGLE_OFF = Primitive.TOGGLE_ON.value, Primitive.TOGGLE_OFF.value
DONE = Primitive.DONE.value

INTERACTION_ACTIONS: dict[str, str] = {s: s for s in (PICKUP, PUT, OPEN, CLOSE, TOGGLE_ON,
                                                      TOGGLE_OFF)}
"""Skills that end with one object action on ``Skill.target``: skill -> that primitive."""
TARGETED_SKILLS: tuple[str, ...] = (NAVIGATE, *INTERACTION_ACTIONS)
FIND_MISSED = "find: no new one in view"
"""How an ``explore`` for a label ends when the world's ``find`` showed none new: it is hidden
(inside something closed) or only known ones exist. Unlike running out of frontiers, this says
nothing about other labels."""
SKILL_NAMES: tuple[str, ...] = (*TARGETED_SKILLS, EXPLORE, DONE)


@dataclass(frozen=True)
class Skill:
    """One skill invocation.

    Attributes:
        name: one of :data:`SKILL_NAMES`.
        target: the object key the skill acts on (navigate and interaction skills).
        label: an object type; for ``explore`` the type to look for (optional).
    """

    name: str
    target: str | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if self.name not in SKILL_NAMES:
            raise ValueError(f"unknown skill {self.name!r}; known: {', '.join(SKILL_NAMES)}")
        if self.name in TARGETED_SKILLS and not self.target:
            raise ValueError(f"skill {self.name!r} needs a target object key")

    def describe(self) -> str:
        """A short phrase such as ``"pickup Mug|1"`` or ``"explore for Apple"``."""
        if self.target:
            return f"{self.name} {self.target}"
        if self.label:
            return f"{self.name} for {self.label}"
        return self.name


class SkillStatus:
    """The state of the running skill."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class SkillResult:
    """How a skill ended (or that it still runs).

    Attributes:
        status: one of the :class:`SkillStatus` constants.
        reason: why it ended, for the planner and the logs.
    """

    status: str
    reason: str = ""

    @property
    def done(self) -> bool:
        """Whether the skill has ended (succeeded or failed)."""
        return self.status != SkillStatus.RUNNING

    @property
    def ok(self) -> bool:
        """Whether it succeeded."""
        return self.status == SkillStatus.SUCCEEDED
