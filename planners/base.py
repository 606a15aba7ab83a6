"""The planner interface and registry: from a goal and memory to the next skill.

Example:
    >>> from robomem.planners.base import PLANNERS, planner_class
    >>> planner_class("symbolic").__name__
    'SymbolicPlanner'
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from robomem.memory.base import MemoryContext
from robomem.memory.view import SceneView
from robomem.ontology import Ontology, default_ontology
from robomem.percept import Percept
from robomem.planners.instruction import Goal
from robomem.registry import Registry
from robomem.skills import SKILL_NAMES, Skill, SkillResult


@dataclass
class PlanContext:
    """What a planner may look at when it chooses the next skill.

    Memory is read through two doors only: ``scene``, a read-only view of spatial memory's
    scene graph (:class:`~robomem.memory.view.SceneView`), and ``recall``, what the memory
    modules recalled for this step. A planner never holds the memory itself.
    """

    step: int
    percept: Percept
    scene: SceneView  # what spatial memory believes is where, read-only
    last_skill: Skill | None
    last_result: SkillResult | None
    recall: MemoryContext = field(default_factory=MemoryContext)  # what the modules recalled
    instruction: str = ""  # the task as given
    image: NDArray[np.uint8] | None = None  # the current RGB frame, for vision-language planners
    ontology: Ontology = field(default_factory=default_ontology)  # the world's object vocabulary
    skills: frozenset[str] = frozenset(SKILL_NAMES)  # the skills the world can carry out
    label_from_id: Callable[[str], str] | None = None  # the type a world object id spells


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
# The built-in planners, imported on first use (other packages add theirs by entry point).
PLANNERS.add_lazy("symbolic", "robomem.planners.symbolic:SymbolicPlanner")
PLANNERS.add_lazy("llm", "robomem.planners.llm:LLMPlanner")


def planner_class(name: str) -> type[Planner]:
    """The registered planner ``name``; raises ``KeyError`` listing the known names."""
    return PLANNERS.get(name)
