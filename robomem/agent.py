"""The memory agent: preprocessor -> memory system -> closed-loop planner -> executor.

``MemoryAgent`` is a :class:`~robomem.policies.base.Policy`; ``robomem run`` builds it from
the launch config. Every step its percept is written to the
:class:`~robomem.memory.system.MemorySystem` (spatial, temporal, episodic, semantic and
working memory, in parallel); whenever the planner picks a new skill, memory is recalled
(in parallel) into the planner's context. With ``memory="full"`` spatial memory keeps one
map per scene and everything carries across episodes (and, with a store attached, across
runs: every episode is committed in one transaction). With ``memory="none"`` it keeps only
a map that it forgets at every new subgoal and every episode (the no-memory baseline).

Example:
    >>> import gymnasium as gym
    >>> import robomem.envs  # noqa: F401
    >>> from robomem.agent import AgentConfig, MemoryAgent
    >>> from robomem.embodiment import embodiment_for
    >>> env = gym.make("robomem/Household-v0", width=96, height=96)
    >>> emb = embodiment_for(env)
    >>> agent = MemoryAgent(AgentConfig(), emb)
    >>> obs = emb.observe(*env.reset(seed=0))
    >>> agent.reset(obs)
    >>> action = agent.act(obs)  # a robomem primitive; the embodiment makes it the world's
    >>> action.name in emb.primitives, emb.command(action)["action"] in ("RotateRight",
    ...     "MoveAhead", "RotateLeft", "LookDown", "LookUp", "MoveBack", "MoveLeft", "MoveRight")
    (True, True)
"""

from __future__ import annotations

import ctypes
import logging
import sys
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from robomem.body import check_body
from robomem.embodiment import Embodiment, EmbodimentError, default_embodiment, embodiment_for
from robomem.memory.base import (
    EpisodeOutcome,
    EpisodeStart,
    Fact,
    MemoryModule,
    MemoryQuery,
    PlanStep,
    StepInput,
)
from robomem.memory.builtin import SpatialModule
from robomem.memory.reader import MemoryReader
from robomem.memory.spatial import SpatialMemory, SpatialMemoryConfig
from robomem.memory.system import MemorySystem, MemorySystemConfig, build_module
from robomem.percept import EVENT_APPEARED, EVENT_PICKED_UP, Percept
from robomem.planners.base import PlanContext, Planner, planner_class
from robomem.planners.critic import Critic, CriticChain, PreconditionCritic
from robomem.planners.instruction import (
    PLANNED_FAMILIES,
    Goal,
    InstructionError,
    parse_instruction,
)
from robomem.planners.llm import LLMConfig, LLMPlanner
from robomem.planners.loop_detector import BREAK, GIVE_UP, LoopDetector
from robomem.planners.past import past_labels, question
from robomem.planners.symbolic import SymbolicPlanner
from robomem.planners.vocabulary import MeaningGuesser
from robomem.policies.base import Policy
from robomem.policies.executor import Executor, ExecutorConfig
from robomem.preprocess.preprocessor import Preprocessor, PreprocessorConfig
from robomem.primitives import Primitive
from robomem.reservoir import Reservoir
from robomem.skills import INTERACTION_ACTIONS, PICKUP, PUT, Skill, SkillResult, SkillStatus
from robomem.types import Action, Observation

if TYPE_CHECKING:
    from robomem.store import Store

MEMORY_MODES = ("full", "none")
THUMBNAIL = 64  # key-frame side in pixels


def _load_malloc_trim() -> Any:
    """The C library's ``malloc_trim`` (glibc), or None (another C library or platform)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # musl and other C libraries have none
        return None


_MALLOC_TRIM = _load_malloc_trim()


def release_free_heap() -> bool:
    """Give the C heap's free pages back to the OS (glibc ``malloc_trim(0)``, a few ms).

    The text encoder's batch at each episode's end (torch tensors sized by the batch and
    its longest text), the SPL oracle's clone and the store's serialised maps and indexes
    are large, short-lived and of varying size; glibc serves them from its main heap,
    where the small allocations that outlive them keep the freed space from ever being
    returned. Without this, resident memory grew by megabytes per episode (free heap
    memory, not live objects; ``benchmarks/soak.py``). Returns False where there is no
    glibc (nothing is done).
    """
    if _MALLOC_TRIM is None:
        return False
    _MALLOC_TRIM(0)
    return True


log = logging.getLogger(__name__)

@dataclass
class AgentConfig:
    """How the memory agent is put together.

    Attributes:
        memory: ``full`` (the memory system below) or ``none`` (a map that is forgotten at
            every subgoal and episode, nothing else: the no-memory baseline).
        planner: planner backend name.
        modules: the memory system (modules, parallelism, deadline, per-module options).
            Spatial memory is always there (the agent walks on its map); leaving it out of
            ``modules.modules`` keeps a map for one episode at a time only.
        critic: check each skill's preconditions against memory before running it.
        critic_fixes: a veto comes with the skill that fixes it where one exists ("open it
            first"), and the planner runs it; ``False``: the critic only vetoes.
        planner_preconditions: the symbolic planner opens closed receptacles and frees its
            hand itself; ``False`` leaves that to the critic (how a planner that does not
            reason about preconditions behaves).
        key_frames: key frames (RGB thumbnails) kept per episode for episodic memory.
        worldmodel_critic: a world model trained by ``robomem train worldmodel`` (its
            ``model.pt`` or folder): it vetoes interaction skills it predicts will fail.
        worldmodel_threshold: the world-model critic's veto threshold, in [0, 1].
        llm: the language-model planner's backend and settings (with ``planner="llm"``).
    """

    memory: str = "full"
    planner: str = "symbolic"
    modules: MemorySystemConfig = field(default_factory=MemorySystemConfig)
    critic: bool = True
    critic_fixes: bool = True
    planner_preconditions: bool = True
    key_frames: int = 4
    worldmodel_critic: str | None = None
    worldmodel_threshold: float = 0.2
    llm: LLMConfig = field(default_factory=LLMConfig)
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
        if self.key_frames < 0:
            raise ValueError(f"key_frames must be at least 0, got {self.key_frames}")


class MemoryAgent(Policy):
    """The full agent; see the module docstring."""

    name = "agent"
    supported_families: tuple[str, ...] = PLANNED_FAMILIES

    def __init__(self, cfg: AgentConfig | None = None,
                 embodiment: Embodiment | None = None) -> None:
        self.cfg = cfg or AgentConfig()
        self.embodiment = embodiment or default_embodiment()
        body = self.embodiment.body
        if body is None:
            raise EmbodimentError(f"embodiment {self.embodiment.name!r} has no mobile base; the "
                                  f"memory agent's executor needs one (robomem.body); its own "
                                  f"agent is {self.embodiment.agent!r} (policy=agent builds it)")
        try:
            check_body(body)
        except ValueError as e:
            raise EmbodimentError(f"embodiment {self.embodiment.name!r}: {e}") from None
        if self.cfg.executor.find and "find" not in self.embodiment.primitives:
            raise EmbodimentError(
                f"executor.find needs an embodiment with the 'find' primitive; "
                f"{self.embodiment.name!r} has: {', '.join(sorted(self.embodiment.primitives))}")
        # The body bounds what the agent plans for: no reach beyond the arm, no gap narrower
        # than the base (margins as tuned on Household: act within reach - 5 cm, choose
        # viewpoints within reach - 10 cm).
        c = self.cfg
        self.cfg = replace(c, executor=replace(c.executor, reach=min(c.executor.reach,
                                                                      body.reach - 0.05)),
                           spatial=replace(c.spatial, reach=min(c.spatial.reach, body.reach - 0.1),
                                           agent_radius=max(c.spatial.agent_radius, body.radius)))
        self.preprocessor = Preprocessor(self.cfg.preprocess, self.embodiment.label_from_id)
        self.system = self._build_system()
        planner_cls = planner_class(self.cfg.planner)
        self.planner: Planner = (LLMPlanner(config=self.cfg.llm) if planner_cls is LLMPlanner
                                 else planner_cls())
        if not self.cfg.critic and hasattr(self.planner, "critic"):
            self.planner.critic = CriticChain([])  # planners bring their critic by default
        if isinstance(self.planner, SymbolicPlanner):
            self.planner.preconditions = self.cfg.planner_preconditions
        chain = getattr(self.planner, "critic", None)
        for member in chain.critics if isinstance(chain, CriticChain) else [chain]:
            if isinstance(member, PreconditionCritic):
                member.fixes = self.cfg.critic_fixes
        if self.cfg.worldmodel_critic:
            self._add_worldmodel_critic(self.cfg.worldmodel_critic, self.cfg.worldmodel_threshold)
        self.executor = Executor(self.cfg.executor)
        self.loops = LoopDetector(self.cfg.repeat_limit, self.cfg.patience,
                                  self.cfg.max_loop_breaks)
        self.store: Store | None = None
        self.scene: str | None = None
        self.goal: Goal | None = None
        self.instruction = ""
        self.episode = 0
        self._in_episode = False
        self.skill: Skill | None = None
        self._prev_skill: Skill | None = None  # the skill that ended last
        self._skill_where: tuple[str, str] = ("", "")  # a pickup's receptacle (label, key)
        self.last_action: Action | None = None
        self.last_obs: Observation | None = None
        self.last_result: SkillResult | None = None
        self.error: str | None = None
        self.step_index = 0
        self._subgoal_seen = 0
        self.plan: list[PlanStep] = []
        self.frames: list[NDArray[np.uint8]] = []
        self.timings_ms: dict[str, Reservoir] = {}  # bounded over a lifelong run
        self.counters: dict[str, float] = {}
        self.last_percept: Percept | None = None
        self.guesser = MeaningGuesser()  # unknown words -> types by meaning (MiniLM, lazily)
        self._notes: list[str] = []

    def _add_worldmodel_critic(self, path: str, threshold: float) -> None:
        from robomem.planners.worldmodel_critic import WorldModelCritic

        if not isinstance(getattr(self.planner, "critic", None), Critic):
            raise ValueError(f"planner {self.cfg.planner!r} takes no critic, so "
                             f"worldmodel_critic={path!r} cannot be used with it")
        wm = WorldModelCritic.from_checkpoint(path, threshold)
        self.planner.critic = CriticChain([self.planner.critic, wm])  # type: ignore[attr-defined]

    @property
    def critic(self) -> Critic | None:
        """The planner's critic (chain), if it has one."""
        critic = getattr(self.planner, "critic", None)
        return critic if isinstance(critic, Critic) else None

    @classmethod
    def with_memory(cls, cfg: AgentConfig, embodiment: Embodiment, seed: int = 0
                    ) -> MemoryAgent:
        """The agent with ``cfg`` for ``embodiment`` (``seed`` is unused: it guesses nothing)."""
        return cls(cfg, embodiment)

    @classmethod
    def from_env(cls, env: gym.Env[Any, Any], seed: int = 0) -> MemoryAgent:
        """A full-memory agent for ``env``'s embodiment (the runner passes its own config)."""
        return cls(AgentConfig(), embodiment_for(env))

    @property
    def memory(self) -> SpatialMemory:
        """The spatial memory the planner and executor walk on."""
        mod = self.system.module("spatial")
        assert isinstance(mod, SpatialModule)
        return mod.memory

    def reader(self) -> MemoryReader:
        """This agent's memory, read only, for questions from outside ("where is the mug?").

        The reader follows the agent: it always reads the current house's scene graph.
        """
        onto = self.embodiment.ontology

        def moments(text: str, k: int) -> list[Fact]:
            return self.system.recall_moments(text, k)

        def rooms() -> dict[str, str]:
            mem = self.memory
            return mem.rooms.room_types(mem.graph, onto)

        return MemoryReader(lambda: self.memory.graph, onto,
                            moments if self.system.has("episodic") else None, rooms)

    def attach_store(self, store: Store) -> None:
        """Load lifelong memory from ``store`` and save to it after every episode."""
        self.system.attach(store)
        self.store = store

    def close(self) -> None:
        """Stop the memory system's worker threads."""
        self.system.close()

    # -------------------------------------------------------------- policy
    def reset(self, obs: Observation) -> None:
        """New episode: tell memory (which keeps or loads the scene's map), parse the goal."""
        if self.cfg.memory == "none" or obs.scene != self.scene:
            self.preprocessor.reset()
        if self.cfg.memory == "none":
            self.system.reset()
        self.preprocessor.held = None  # an episode starts empty-handed
        self.scene = obs.scene
        self.instruction = obs.instruction
        self.executor.reset()
        self.loops.reset()
        self.skill, self.last_action, self.last_result = None, None, None
        self._prev_skill = None
        self.last_obs = None
        self.step_index = 0
        self._subgoal_seen = 0
        self.plan, self.frames = [], []
        self.counters = {"loop_breaks": 0.0, "skills": 0.0, "skill_failures": 0.0}
        self._notes = []
        if self.critic is not None:
            self.critic.begin_episode()
        try:
            self.goal = self._read(obs.instruction)
            self.error = None
            self._note_reading(self.goal)
            self._resolve_goal()
            self.planner.reset(self.goal)
        except InstructionError as e:
            self.goal, self.error = None, str(e)
            self._notes.append(f"could not read the instruction: {e}")
            log.info("episode %d: %s", self.system.next_episode, self._notes[-1])
        if self._in_episode:  # the last episode was never ended: do not reuse its index
            self.system.next_episode = max(self.system.next_episode, self.episode + 1)
        self.episode = self.system.next_episode
        self._in_episode = True
        self.system.begin_episode(EpisodeStart(self.episode, obs.scene, obs.instruction,
                                               self.goal.family if self.goal else "",
                                               self._labels()))

    def act(self, obs: Observation) -> Action:
        """Perceive, remember, plan, execute: one primitive action."""
        if self.error is not None:
            return Action(Primitive.DONE)  # an instruction it cannot read: a clean failure
        if self.planner.subgoal_index == 0 and self._resolve_goal():
            assert self.goal is not None
            self.planner.reset(self.goal)  # memory settled which thing a word meant
        t0 = time.perf_counter()
        percept = self.preprocessor.process(obs, self.last_action)
        t1 = time.perf_counter()
        if self.cfg.memory == "none" and self.planner.subgoal_index != self._subgoal_seen:
            self.memory.reset()  # the baseline forgets its map at every new subgoal
        self._subgoal_seen = self.planner.subgoal_index
        late = self.system.write(self._step_input(obs, percept))
        t2 = time.perf_counter()
        self.counters["memory_late"] = self.counters.get("memory_late", 0.0) + len(late)
        self.last_percept = percept
        if self.step_index == 0:
            self._key_frame(obs)
        critic = self.critic
        if critic is not None:
            critic.observe(obs)
        action = self._decide(obs, percept)
        if critic is not None:
            critic.acted(action)
        t3 = time.perf_counter()
        self._time("preprocess", t1 - t0)
        self._time("memory_write", t2 - t1)
        self._time("plan_and_execute", t3 - t2)
        self._time("perception_and_memory", t2 - t0)
        self.last_action = action
        self.last_obs = obs
        self.step_index += 1
        return action

    def notes(self) -> list[str]:
        """How the instruction was read and resolved, and why the agent gave up if it did."""
        return list(self._notes)

    def _read(self, text: str) -> Goal:
        """The instruction's goal, read by rules or else by the planner's language model.

        The model is asked only with ``planner=llm``; its answer is validated against the
        families and the ontology.
        """
        try:
            return parse_instruction(text, self.embodiment.ontology, self.guesser)
        except InstructionError as e:
            if not isinstance(self.planner, LLMPlanner):
                raise
            from robomem.planners.llm_reader import read_with_model

            self._notes.append(f"the rule-based reader could not: {e}; asked the language model")
            goal = read_with_model(self.planner.model, text, self.embodiment.ontology)
            self._notes.append("the language model read it")
            return goal

    def _note_reading(self, goal: Goal) -> None:
        """Record how a free-form instruction was read (families, slices, containers)."""
        extra = [f"{goal.count} of them" if goal.count > 1 else "",
                 "a slice" if goal.sliced else "", f"carried in a {goal.movable}"
                 if goal.movable else "", f"from the {goal.source}" if goal.source else ""]
        tail = "; ".join(x for x in extra if x)
        self._notes.append(f"read as {goal.family}: {goal.object_type} -> {goal.target_type}"
                           + (f" ({tail})" if tail else ""))
        if goal.family not in self.supported_families:
            raise InstructionError(f"the instruction asks for {goal.family}, which this agent "
                                   f"cannot do yet (it can: {', '.join(self.supported_families)})")

    def _resolve_goal(self) -> bool:
        """Let memory decide what an ambiguous word means; True if the goal changed."""
        g = self.goal
        if g is None:
            return False
        changed = False
        for slot, alts in (("object_type", g.object_candidates),
                           ("target_type", g.target_candidates)):
            current = getattr(g, slot)
            if not alts or self.memory.where_is(current):
                continue
            known = [t for t in alts if t != current and self.memory.where_is(t)]
            if known:
                g = replace(g, object_type=known[0]) if slot == "object_type" else \
                    replace(g, target_type=known[0])
                changed = True
                self._notes.append(f"the word for {current} may mean {', '.join(alts)}; memory "
                                   f"knows a {known[0]} and no {current}, so {known[0]}")
                log.info("episode %d: %s", self.episode, self._notes[-1])
        self.goal = g
        return changed

    def end_episode(self, success: bool, steps: int) -> None:
        """Give memory the outcome; with a store, commit the episode in one transaction."""
        if self.last_obs is not None:
            self._key_frame(self.last_obs)
        skill, last = self.skill, self.last_action
        if success and skill is not None and last is not None and skill.target and \
                last.object_id == skill.target and \
                last.name == INTERACTION_ACTIONS.get(skill.name):
            # A world that ends the episode on the goal action itself (not on ``done``): the
            # interaction just sent achieved it, so the skill succeeded.
            self._end_skill(SkillResult(SkillStatus.SUCCEEDED, "the episode succeeded"))
        outcome = EpisodeOutcome(
            self.episode, self.scene or "", self.instruction, self.goal.family if self.goal
            else "", success, steps, tuple(self.plan), tuple(self.frames),
            self._digest(success, steps))
        self.system.end_episode(outcome)
        self._in_episode = False
        if self.store is not None and self.cfg.memory == "full":
            with self.store.transaction():
                self.system.save(self.store)
        release_free_heap()  # a lifelong run stays flat (see the function)

    def stats(self) -> dict[str, float]:
        """Planner, executor and loop counters of the episode so far."""
        out = dict(self.counters)
        out.update(self.planner.stats())
        critics = self.critic.critics if isinstance(self.critic, CriticChain) else [self.critic]
        for c in critics:
            out.update(getattr(c, "counters", {}))
        out.update({f"executor_{k}": v for k, v in self.executor.stats().items()})
        return out

    def timings(self) -> dict[str, list[float]]:
        """Per-module step latencies in milliseconds since construction (a bounded sample each)."""
        out: dict[str, list[float]] = dict(self.timings_ms)
        out.update({f"memory_{k}": v for k, v in self.system.timings_ms.items()})
        return out

    # ------------------------------------------------------------ internals
    def _build_system(self) -> MemorySystem:
        mcfg = self.cfg.modules
        onto = self.embodiment.ontology
        if self.cfg.memory == "none":  # the baseline: a per-episode map and nothing else
            only: list[MemoryModule] = [SpatialModule("episode", self.cfg.spatial, onto)]
            return MemorySystem(only, parallel=False)
        mods: list[MemoryModule] = []
        for name in mcfg.modules:
            opts = dict(mcfg.options.get(name, {}))
            if name == "spatial":
                mods.append(SpatialModule(str(opts.get("scope", "lifelong")), self.cfg.spatial,
                                          onto))
            else:
                mods.append(build_module(name, opts))
        if "spatial" not in mcfg.modules:  # the agent still needs a map within an episode
            mods.insert(0, SpatialModule("episode", self.cfg.spatial, onto))
        return MemorySystem(mods, mcfg.parallel, mcfg.deadline_ms)

    def _labels(self) -> tuple[str, ...]:
        g = self.goal
        if g is None:
            return ()
        extra = (*g.appliances, *past_labels(g)) if question(g) else g.appliances
        return tuple(t for t in dict.fromkeys((g.object_type, g.target_type, *extra)) if t)

    def _step_input(self, obs: Observation, percept: Percept) -> StepInput:
        graph = self.memory.graph
        types: dict[str, str] | None = None  # room types, worked out once if a room is needed
        parents: dict[str, str] = {}
        rooms: dict[str, str] = {}
        for d in percept.detections:
            node = graph.node(d.key)
            if node is None:
                continue
            parent = graph.node(node.parent) if node.parent else None
            if parent is not None:
                parents[d.key] = parent.label
            if node.room:
                if types is None:
                    types = self.memory.rooms.room_types(graph, self.embodiment.ontology)
                if node.room in types:
                    rooms[d.key] = types[node.room]
        sources: dict[str, str] = {}  # what picked-up objects stood on (before this write)
        for e in percept.events:
            if e.kind == EVENT_PICKED_UP and (node := graph.node(e.key)) is not None \
                    and node.parent:
                sources[e.key] = node.parent
        last = self.last_action
        keys = [k for k in ((last.object_id if last else None), obs.feedback.subject) if k]
        return StepInput(self.episode, self.step_index, obs.scene, percept, last,
                         obs.action_success, obs.action_error or "", self._labels(), rooms,
                         parents, obs.feedback,
                         {k: self.preprocessor.label_of(k) for k in keys}, sources)

    def _key_frame(self, obs: Observation) -> None:
        if len(self.frames) >= self.cfg.key_frames or obs.rgb is None:
            return
        img = Image.fromarray(np.asarray(obs.rgb, np.uint8)).resize((THUMBNAIL, THUMBNAIL))
        self.frames.append(np.asarray(img, np.uint8))

    def _digest(self, success: bool, steps: int) -> str:
        done = [f"{p.skill} {p.label}" + (f" from {p.where}" if p.where else "")
                for p in self.plan if p.status == SkillStatus.SUCCEEDED and p.label]
        verdict = "succeeded" if success else "failed"
        return f"{verdict} in {steps} steps: " + ("; ".join(done) if done else "no skill done")

    def _query(self, percept: Percept) -> MemoryQuery:
        return MemoryQuery(self.episode, self.step_index, self.scene or "",
                           self.instruction, self._labels(), percept.agent_pose,
                           past=question(self.goal))

    def _time(self, key: str, seconds: float) -> None:
        samples = self.timings_ms.get(key)
        if samples is None:
            samples = self.timings_ms[key] = Reservoir()
        samples.add(seconds * 1000.0)

    def _decide(self, obs: Observation, percept: Percept) -> Action:
        a = percept.agent_pose
        progress = any(e.kind == EVENT_APPEARED for e in percept.events)
        for _ in range(12):
            if self.skill is None:
                t = time.perf_counter()
                recalled = self.system.recall(self._query(percept))
                self._time("memory_recall", time.perf_counter() - t)
                ctx = PlanContext(self.step_index, percept, self.memory.scene, self._prev_skill,
                                  self.last_result, recalled, self.instruction, obs.rgb,
                                  self.embodiment.ontology, self.embodiment.skills,
                                  self.embodiment.label_from_id)
                before = self.planner.subgoal_index
                self.skill = self.planner.next_skill(ctx)
                progress = progress or self.planner.subgoal_index > before
                self._skill_where = self._where(self.skill)
                self.executor.start(self.skill)
                self.counters["skills"] += 1
            signature = (round(a.x, 2), round(a.z, 2), round(a.yaw), round(a.horizon),
                         percept.held, self.skill.name, self.skill.target)
            verdict = self.loops.observe(signature, progress)
            progress = False
            if verdict == GIVE_UP:
                self.counters["loop_breaks"] += 1
                return Action(Primitive.DONE)
            if verdict == BREAK:
                self.counters["loop_breaks"] += 1
                self.planner.break_loop("no progress")
                self._end_skill(None)
                continue
            if self.skill.name not in self.embodiment.skills:  # e.g. toggle_on without switches
                self._end_skill(SkillResult(SkillStatus.FAILED, f"this world cannot "
                                            f"{self.skill.name.replace('_', ' ')}"))
                continue
            out = self.executor.step(obs, percept, self.memory)
            if isinstance(out, Action):
                if out.name not in self.embodiment.primitives:
                    raise ValueError(f"the executor chose {out.name!r} for "
                                     f"{self.skill.describe()!r}, which embodiment "
                                     f"{self.embodiment.name!r} does not support; it supports "
                                     f"{', '.join(sorted(self.embodiment.primitives))}")
                return out
            self._end_skill(out)
        return Action(Primitive.DONE)

    def _where(self, skill: Skill) -> tuple[str, str]:
        """For a pickup: the (label, key) of the receptacle the target is in or on."""
        node = self.memory.graph.node(skill.target) if skill.name == PICKUP and skill.target \
            else None
        parent = self.memory.graph.node(node.parent) if node is not None and node.parent \
            else None
        return (parent.label, parent.key) if parent is not None else ("", "")

    def _end_skill(self, result: SkillResult | None) -> None:
        if result is not None and result.status == "failed":
            self.counters["skill_failures"] += 1
        if self.skill is not None and result is not None and result.done:
            where, where_key = self._skill_where
            self.plan.append(PlanStep(self.skill.name, self.skill.label or "",
                                      self.skill.target or "", result.status, where,
                                      self.step_index, where_key))
            if result.status == SkillStatus.SUCCEEDED and self.skill.name in (PICKUP, PUT) \
                    and self.last_obs is not None:
                self._key_frame(self.last_obs)
        self._prev_skill = self.skill
        self.last_result = result
        self.skill = None
