"""The planner interface and registry: from a goal and memory to the next skill.

Example:
    >>> from robomem.planners.base import PLANNERS, planner_class
    >>> planner_class("symbolic").__name__
    'SymbolicPlanner'
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from robomem.memory.base import MemoryContext
from robomem.memory.spatial import SpatialMemory
from robomem.percept import Percept
from robomem.planners.instruction import Goal
from robomem.skills import Skill, SkillResult
from robomem.registry import Registry


@dataclass
class PlanContext:
    """What a planner may look at when it chooses the next skill."""

    step: int
    percept: Percept
    memory: SpatialMemory
    last_skill: Skill | None
    last_result: SkillResult | None
    recall: MemoryContext = field(default_factory=MemoryContext)  # what the modules recalled
    instruction: str = ""  # the task as given
    image: NDArray[np.uint8] | None = None  # the current RGB frame, for vision-language planners


class Planner(ABC):
    """Closed-loop planners: called whenever no skill is running."""

    @abstractmethod
    def reset(self, goal: Goal) -> None:
        """Start planning for a new goal."""

    @abstractmethod
    def next_skill(self, ctx: PlanContext) -> Skill:
        """The next skill to run (``done`` when finished or given up)."""

    @abstractmethod
    def break_loop(self, reason: str) -> None:
        """The loop detector saw no progress: change strategy for the current subgoal."""

    @property
    @abstractmethod
    def subgoal_index(self) -> int:
        """How many subgoals are complete (memory baselines reset when it changes)."""

    def stats(self) -> dict[str, float]:
        """Counters for the run metrics."""
        return {}


PLANNERS: Registry[type[Planner]] = Registry("planner", group="robomem.planners")


def planner_class(name: str) -> type[Planner]:
    """The registered planner ``name``; raises ``KeyError`` listing the known names."""
    import robomem.planners.llm  # registers "llm"
    import robomem.planners.symbolic  # noqa: F401  (registers)

    return PLANNERS.get(name)
