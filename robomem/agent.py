"""The memory agent: preprocessor -> spatial memory -> closed-loop planner -> executor.

``MemoryAgent`` is a :class:`~robomem.policies.base.Policy`; ``robomem run`` builds it from
the launch config. With ``memory="none"`` it forgets its map and scene graph at every new
subgoal and every episode (the no-memory baseline); with ``memory="full"`` it keeps them
for as long as it stays in the same scene (lifelong).

Example:
    >>> import gymnasium as gym
    >>> import robomem.envs  # noqa: F401
    >>> from robomem.agent import AgentConfig, MemoryAgent
    >>> from robomem.types import Observation
    >>> env = gym.make("robomem/Household-v0", width=96, height=96)
    >>> obs, info = env.reset(seed=0)
    >>> agent = MemoryAgent(AgentConfig())
    >>> agent.reset(Observation.from_gym(obs, info))
    >>> agent.act(Observation.from_gym(obs, info)).name in ("RotateRight", "MoveAhead",
    ...     "RotateLeft", "LookDown", "LookUp", "MoveBack", "MoveLeft", "MoveRight") or True
    True
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from robomem.memory.spatial import SpatialMemory, SpatialMemoryConfig
from robomem.percept import EVENT_APPEARED, Percept
from robomem.planners.base import PlanContext, Planner, planner_class
from robomem.planners.instruction import InstructionError, parse_instruction
from robomem.planners.loop_detector import BREAK, GIVE_UP, LoopDetector
from robomem.policies.base import POLICIES, Policy
from robomem.policies.executor import Executor, ExecutorConfig
from robomem.policies.skills import Skill, SkillResult
from robomem.preprocess.preprocessor import Preprocessor, PreprocessorConfig
from robomem.types import Action, Observation

MEMORY_MODES = ("full", "none")


@dataclass
class AgentConfig:
    """How the memory agent is put together."""

    memory: str = "full"
    planner: str = "symbolic"
    preprocess: PreprocessorConfig = field(default_factory=PreprocessorConfig)
    spatial: SpatialMemoryConfig = field(default_factory=SpatialMemoryConfig)
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)
    repeat_limit: int = 4
    patience: int = 80
    max_loop_breaks: int = 4

    def __post_init__(self) -> None:
        if self.memory not in MEMORY_MODES:
            raise ValueError(f"memory must be one of {', '.join(MEMORY_MODES)}, got "
                             f"{self.memory!r}")


@POLICIES.register("agent")
class MemoryAgent(Policy):
    """The full agent; see the module docstring."""

    name = "agent"

    def __init__(self, cfg: AgentConfig | None = None) -> None:
        self.cfg = cfg or AgentConfig()
        self.preprocessor = Preprocessor(self.cfg.preprocess)
        self.memory = SpatialMemory(self.cfg.spatial)
        self.planner: Planner = planner_class(self.cfg.planner)()
        self.executor = Executor(self.cfg.executor)
        self.loops = LoopDetector(self.cfg.repeat_limit, self.cfg.patience,
                                  self.cfg.max_loop_breaks)
        self.scene: str | None = None
        self.skill: Skill | None = None
        self._prev_skill: Skill | None = None  # the skill that ended last
        self.last_action: Action | None = None
        self.last_result: SkillResult | None = None
        self.error: str | None = None
        self.step_index = 0
        self._subgoal_seen = 0
        self.timings_ms: dict[str, list[float]] = {}
        self.counters: dict[str, float] = {}
        self.last_percept: Percept | None = None

    @classmethod
    def from_env(cls, env: gym.Env[Any, Any], seed: int = 0) -> MemoryAgent:
        """A full-memory agent (the runner passes its own config instead)."""
        return cls(AgentConfig())

    # -------------------------------------------------------------- policy
    def reset(self, obs: Observation) -> None:
        """New episode: keep memory in the same scene (full mode), parse the instruction."""
        if self.cfg.memory == "none" or obs.scene != self.scene:
            self._forget()
        self.preprocessor.held = None  # an episode starts empty-handed
        self.scene = obs.scene
        self.executor.reset()
        self.loops.reset()
        self.skill, self.last_action, self.last_result = None, None, None
        self._prev_skill = None
        self.step_index = 0
        self._subgoal_seen = 0
        self.counters = {"loop_breaks": 0.0, "skills": 0.0, "skill_failures": 0.0}
        try:
            self.planner.reset(parse_instruction(obs.instruction))
            self.error = None
        except InstructionError as e:
            self.error = str(e)

    def act(self, obs: Observation) -> Action:
        """Perceive, remember, plan, execute: one primitive action."""
        if self.error is not None:
            return Action("Done")  # an instruction it cannot read: a clean failed episode
        t0 = time.perf_counter()
        percept = self.preprocessor.process(obs, self.last_action)
        t1 = time.perf_counter()
        if self.cfg.memory == "none" and self.planner.subgoal_index != self._subgoal_seen:
            self.memory.reset()  # the baseline forgets its map at every new subgoal
        self._subgoal_seen = self.planner.subgoal_index
        self.memory.write(percept)
        t2 = time.perf_counter()
        self.last_percept = percept
        action = self._decide(obs, percept)
        t3 = time.perf_counter()
        self._time("preprocess", t1 - t0)
        self._time("memory_write", t2 - t1)
        self._time("plan_and_execute", t3 - t2)
        self._time("perception_and_memory", t2 - t0)
        self.last_action = action
        self.step_index += 1
        return action

    def stats(self) -> dict[str, float]:
        """Planner, executor and loop counters of the episode so far."""
        out = dict(self.counters)
        out.update(self.planner.stats())
        out.update({f"executor_{k}": v for k, v in self.executor.stats().items()})
        return out

    def timings(self) -> dict[str, list[float]]:
        """Per-module step latencies in milliseconds, accumulated since construction."""
        return self.timings_ms

    # ------------------------------------------------------------ internals
    def _forget(self) -> None:
        self.memory.reset()
        self.preprocessor.reset()

    def _time(self, key: str, seconds: float) -> None:
        self.timings_ms.setdefault(key, []).append(seconds * 1000.0)

    def _decide(self, obs: Observation, percept: Percept) -> Action:
        a = percept.agent_pose
        progress = any(e.kind == EVENT_APPEARED for e in percept.events)
        for _ in range(12):
            if self.skill is None:
                ctx = PlanContext(self.step_index, percept, self.memory, self._prev_skill,
                                  self.last_result)
                before = self.planner.subgoal_index
                self.skill = self.planner.next_skill(ctx)
                progress = progress or self.planner.subgoal_index > before
                self.executor.start(self.skill)
                self.counters["skills"] += 1
            signature = (round(a.x, 2), round(a.z, 2), round(a.yaw), round(a.horizon),
                         percept.held, self.skill.name, self.skill.target)
            verdict = self.loops.observe(signature, progress)
            progress = False
            if verdict == GIVE_UP:
                self.counters["loop_breaks"] += 1
                return Action("Done")
            if verdict == BREAK:
                self.counters["loop_breaks"] += 1
                self.planner.break_loop("no progress")
                self._end_skill(None)
                continue
            out = self.executor.step(obs, percept, self.memory)
            if isinstance(out, Action):
                return out
            self._end_skill(out)
        return Action("Done")

    def _end_skill(self, result: SkillResult | None) -> None:
        if result is not None and result.status == "failed":
            self.counters["skill_failures"] += 1
        self._prev_skill = self.skill
        self.last_result = result
        self.skill = None
