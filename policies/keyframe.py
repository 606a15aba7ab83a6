"""The table arm's memory agent: a scripted keyframe policy that memory drives.

Every step the agent

1. reads the table from all cameras (:func:`~robomem.policies.table_state.perceive`): where
   each loose object rests, which drawers are out, which buttons are lit;
2. writes the step to its :class:`~robomem.memory.system.MemorySystem`: every camera through
   the preprocessor into the spatial map and scene graph, and the changes it saw as events
   into temporal memory ("Block|1 moved from Bowl|2 to Plate|1", "Drawer|2 closed",
   "Button|3 toggled on");
3. reads the instruction as goals (:mod:`~robomem.policies.table_goals`) and sends the skill
   that the first unmet goal needs (pick up, put, open, close, press: one keyframe motion of the
   world each).

The goals whose target the present does not show (put it *back*, open the drawer that *was*
open, press the button pressed *before*) are answered by :meth:`MemorySystem.recall`: temporal
memory's changes of this episode. With ``memory="none"`` the agent forgets everything at every
step (its memory system, its preprocessor's tracks, the last table state), so those goals get
a seeded guess among the candidates: the chance baseline.

Example:
    >>> import gymnasium as gym
    >>> import robomem.envs  # registers robomem/Tabletop-v0
    >>> from robomem.agent import AgentConfig
    >>> from robomem.embodiment import embodiment_for
    >>> from robomem.memory.system import MemorySystemConfig
    >>> from robomem.policies.keyframe import KeyframeAgent
    >>> env = gym.make("robomem/Tabletop-v0", task="reopen_drawer", width=64, height=64)
    >>> emb = embodiment_for(env)
    >>> cfg = AgentConfig(modules=MemorySystemConfig(["spatial", "temporal"]))
    >>> agent = KeyframeAgent(cfg, emb)
    >>> obs = emb.observe(*env.reset(seed=4))
    >>> agent.reset(obs)
    >>> done = False
    >>> while not done:
    ...     raw, _, term, trunc, info = env.step(emb.command(agent.act(obs)))
    ...     obs, done = emb.observe(raw, info), term or trunc
    >>> info["success"], agent.stats()["recalled"]
    (True, 1.0)
    >>> agent.close()
    >>> env.close()
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

import gymnasium as gym
import numpy as np

from robomem.agent import AgentConfig
from robomem.embodiment import Embodiment, embodiment_class, embodiment_for
from robomem.memory.base import (
    EpisodeOutcome,
    EpisodeStart,
    Fact,
    MemoryModule,
    MemoryQuery,
    StepInput,
)
from robomem.memory.builtin import SpatialModule
from robomem.memory.system import MemorySystem, build_module
from robomem.percept import EVENT_CLOSED, EVENT_MOVED, EVENT_OPENED, EVENT_TOGGLED_ON, Percept
from robomem.policies.base import Policy
from robomem.policies.table_goals import (
    CLOSE_OPEN,
    PRESS_AGAIN,
    PRESS_LIT,
    PUT,
    REOPEN,
    RESTORE,
    GoalError,
    TableGoal,
    read_goals,
)
from robomem.policies.table_state import TableState, perceive, state_events
from robomem.preprocess.preprocessor import Preprocessor
from robomem.primitives import Primitive
from robomem.reservoir import Reservoir
from robomem.types import Action, Observation

__all__ = ["KeyframeAgent"]

log = logging.getLogger(__name__)

HOLD_RADIUS = 0.06  # a loose object this near the closed gripper is held (m)
RECENT = 256  # temporal memory's changes per recall: a whole episode's
TABLE_FLOOR = 0.005  # heights up to this are the table top (m)


class KeyframeAgent(Policy):
    """See the module docstring.

    Args:
        cfg: the agent settings it uses: ``memory`` (``full`` or ``none``), ``modules``,
            ``preprocess`` and ``spatial``.
        embodiment: the table world's embodiment (default: the tabletop's).
        seed: seeds the guesses a memoryless agent makes.
    """

    name = "keyframe"

    def __init__(self, cfg: AgentConfig | None = None, embodiment: Embodiment | None = None,
                 seed: int = 0) -> None:
        self.cfg = cfg or AgentConfig()
        self.embodiment = embodiment or embodiment_class("tabletop")()
        self.onto = self.embodiment.ontology
        self.forget = self.cfg.memory == "none"
        self.preprocessor = Preprocessor(self.cfg.preprocess, self.embodiment.label_from_id)
        self.system = self._build_system()
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.episode = -1
        self.scene = ""
        self.instruction = ""
        self.goals: list[TableGoal] = []
        self.error: str | None = None
        self.state: TableState | None = None
        self.last_action: Action | None = None
        self._goals_of: tuple[str, list[TableGoal]] = ("", [])
        self._chosen: dict[TableGoal, str] = {}  # a goal's target, kept until it is met
        self._pressed: set[TableGoal] = set()
        self.counters: dict[str, float] = {}
        self.timings_ms: dict[str, Reservoir] = {}

    @classmethod
    def from_env(cls, env: gym.Env[Any, Any], seed: int = 0) -> KeyframeAgent:
        """A full-memory agent for ``env``'s embodiment."""
        return cls(AgentConfig(), embodiment_for(env), seed)

    @classmethod
    def with_memory(cls, cfg: AgentConfig, embodiment: Embodiment, seed: int = 0
                    ) -> KeyframeAgent:
        """The agent as a run's memory agent (``policy=agent`` on a table world)."""
        return cls(cfg, embodiment, seed)

    def _build_system(self) -> MemorySystem:
        onto, mcfg = self.onto, self.cfg.modules
        # a table has no rooms to segment, no floor the base stands on, and its top (at height
        # 0) is the floor: what rests on a bowl 2 cm up rests on something
        spatial = replace(self.cfg.spatial, rooms_every=0, mark_agent_free=False,
                          floor_max=TABLE_FLOOR)
        if self.forget:
            return MemorySystem([SpatialModule("episode", spatial, onto)], parallel=False)
        mods: list[MemoryModule] = []
        for name in mcfg.modules:
            opts = dict(mcfg.options.get(name, {}))
            if name == "spatial":
                mods.append(SpatialModule(str(opts.get("scope", "lifelong")), spatial, onto))
            else:
                if name == "temporal":
                    opts.setdefault("recent", RECENT)
                mods.append(build_module(name, opts))
        return MemorySystem(mods, mcfg.parallel, mcfg.deadline_ms)

    # ------------------------------------------------------------------ episodes
    def reset(self, obs: Observation) -> None:
        """Start an episode."""
        self.episode += 1
        self.scene, self.instruction = obs.scene, obs.instruction
        self.rng = np.random.default_rng([self.seed, self.episode])
        self.preprocessor.reset()
        self.state, self.last_action, self.error = None, None, None
        self._chosen.clear()
        self._pressed.clear()
        self.counters.clear()  # stats() are the episode's
        if self.forget:
            self.system.reset()
        self.system.begin_episode(EpisodeStart(self.episode, obs.scene, obs.instruction))

    def end_episode(self, success: bool, steps: int) -> None:
        """Tell memory how the episode went."""
        self.system.end_episode(EpisodeOutcome(self.episode, self.scene, self.instruction, "",
                                               success, steps))

    def close(self) -> None:
        """Stop the memory system's workers."""
        self.system.close()

    # ------------------------------------------------------------------ acting
    def act(self, obs: Observation) -> Action:
        """Perceive, remember, and send the first unmet goal's skill."""
        t0 = time.perf_counter()
        if self.forget:  # nothing of the past survives a step
            self.system.reset()
            self.system.begin_episode(EpisodeStart(self.episode, obs.scene, obs.instruction))
            self.preprocessor.reset()
            self.state = None
        seen = perceive(obs, self.onto)
        held = self._held(obs, seen)
        state = seen.without(held).carried(self.state)
        percept = self._percept(obs, state)
        self.system.write(StepInput(
            self.episode, obs.step, obs.scene, percept, self.last_action,
            obs.action_success, obs.action_error,
            labels=tuple(dict.fromkeys(g.type for g in self.goals)),
            parents={k: state.labels.get(h, "") for k, h in state.on.items() if h},
            feedback=obs.feedback))
        self.state = state
        self._time("memory_write", t0)
        action = self._decide(obs, state, held)
        self.last_action = action
        self._time("act", t0)
        return action

    def _decide(self, obs: Observation, state: TableState, held: str | None) -> Action:
        if self._goals_of[0] != obs.instruction:
            try:
                self._goals_of = (obs.instruction, read_goals(obs.instruction, self.onto))
            except GoalError as e:
                self.error = str(e)
                self._goals_of = (obs.instruction, [])
            self._chosen.clear()
            self._pressed.clear()
        self.goals = self._goals_of[1]
        for goal in self.goals:
            action = self._pursue(goal, obs, state, held)
            if action is not None:
                return action
        return Action(Primitive.DONE.value)

    def _pursue(self, goal: TableGoal, obs: Observation, state: TableState,
                held: str | None) -> Action | None:
        """The next action ``goal`` needs (None: it is met)."""
        kind, typ = goal.kind, goal.type
        if kind in (PUT, RESTORE):
            keys = state.of_type(lambda lab: lab == typ)
            key = held if held is not None and state.labels.get(held) == typ else \
                (keys[0] if keys else None)
            if key is None:
                return None
            if kind == PUT:
                dest = next(iter(state.of_type(lambda lab: lab == goal.place)), "")
            else:
                dest = self._target(goal, obs, state, key)
            if held == key:
                return Action(Primitive.PUT.value, dest) if dest else None
            if dest and state.on.get(key) == dest:
                return None
            return Action(Primitive.PICKUP.value, key)
        if kind == CLOSE_OPEN:
            opened = [k for k in sorted(state.opened) if state.labels[k] == typ]
            return Action(Primitive.CLOSE.value, opened[0]) if opened else None
        if kind == REOPEN:
            target = self._target(goal, obs, state, "")
            return None if not target or target in state.opened else \
                Action(Primitive.OPEN.value, target)
        if kind == PRESS_LIT:
            lit = [k for k in sorted(state.lit) if state.labels[k] == typ]
            return Action(Primitive.TOGGLE_ON.value, lit[0]) if lit else None
        if kind == PRESS_AGAIN:
            if goal in self._pressed:
                return None
            target = self._target(goal, obs, state, "")
            self._pressed.add(goal)
            return Action(Primitive.TOGGLE_ON.value, target) if target else None
        return None

    # ------------------------------------------------------------------ memory
    def _target(self, goal: TableGoal, obs: Observation, state: TableState, key: str) -> str:
        """A memory goal's target: what memory recalls, else a guess (kept until met)."""
        if goal in self._chosen:
            return self._chosen[goal]
        target = self._recall(goal, obs, key)
        if target:
            self._count("recalled")
        else:
            cands = self._candidates(goal, state, key)
            if not cands:
                return ""
            target = str(cands[int(self.rng.integers(len(cands)))])
            self._count("guessed")
        self._chosen[goal] = target
        return target

    def _recall(self, goal: TableGoal, obs: Observation, key: str) -> str:
        """The target of ``goal`` as this episode's remembered changes tell."""
        ctx = self.system.recall(MemoryQuery(self.episode, obs.step, obs.scene, obs.instruction,
                                             labels=(goal.type,), k=RECENT))
        changes = sorted(ctx.of("temporal", "changed"), key=lambda f: int(f.data.get("step", 0)))
        if goal.kind == RESTORE:
            # the table's own "on A" / "from A to B" (the fusion's moves name no place)
            origins = [_origin(f) for f in changes if f.subject == key and f.value == EVENT_MOVED]
            return next((o for o in origins if o), "")
        of_type = [f for f in changes if self.embodiment.label_from_id(f.subject) == goal.type]
        if goal.kind == REOPEN:
            closed = [f.subject for f in of_type if f.value == EVENT_CLOSED]
            opened = [f.subject for f in of_type if f.value == EVENT_OPENED]
            return (closed or opened or [""])[-1]
        if goal.kind == PRESS_AGAIN:
            on = [f.subject for f in of_type if f.value == EVENT_TOGGLED_ON]
            return (on or [""])[-1]
        return ""

    def _candidates(self, goal: TableGoal, state: TableState, key: str) -> list[str]:
        """What a memoryless agent may guess for ``goal``."""
        if goal.kind == RESTORE:  # a usual place of the type, other than where it is now
            places = set(self.onto.info(goal.type).usual_places)
            return [k for k in state.of_type(lambda lab: lab in places)
                    if k != state.on.get(key)]
        if goal.kind == REOPEN:
            return [k for k in state.of_type(lambda lab: lab == goal.type)
                    if k not in state.opened]
        return state.of_type(lambda lab: lab == goal.type)

    # ------------------------------------------------------------------ perception
    def _held(self, obs: Observation, state: TableState) -> str | None:
        """The loose object in the closed gripper, if any (proprioception and the view)."""
        p = obs.proprio
        if p is None or p.ee_pose is None or p.gripper_open is None or p.gripper_open > 0.5:
            return None
        ee = np.asarray(p.ee_pose)[:3, 3]
        near = [(state.boxes[k].distance_to(ee), k) for k in state.on]
        best = min(near, default=(HOLD_RADIUS, None))
        return best[1] if best[0] < HOLD_RADIUS else None

    def _percept(self, obs: Observation, state: TableState) -> Percept:
        """One percept of all cameras: fused detections and events, and the table's changes."""
        merged: Percept | None = None
        for i, name in enumerate(obs.cameras):
            view = replace(obs, primary=name)
            p = self.preprocessor.process(view, self.last_action if i == 0 else None)
            if merged is None:
                merged = p
                continue
            seen = {d.key: d for d in merged.detections}
            for d in p.detections:
                if d.key not in seen or (d.visible and not seen[d.key].visible):
                    seen[d.key] = d
            merged.detections = list(seen.values())
            merged.events += p.events
            merged.points = np.concatenate([merged.points, p.points])
        assert merged is not None
        merged.events += state_events(self.state, state, obs.step,
                                      lambda k: state.labels.get(k, ""))
        merged.summary = "; ".join(e.describe() for e in merged.events) or merged.summary
        return merged

    # ------------------------------------------------------------------ accounts
    def _count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0.0) + 1.0

    def _time(self, name: str, t0: float) -> None:
        self.timings_ms.setdefault(name, Reservoir()).add((time.perf_counter() - t0) * 1000)

    def stats(self) -> dict[str, float]:
        """This episode's memory goals that memory answered (``recalled``) and that were guessed."""
        return {"recalled": 0.0, "guessed": 0.0, **self.counters}

    def notes(self) -> list[str]:
        """Why the agent could not read the instruction, if it could not."""
        return [self.error] if self.error else []

    def timings(self) -> dict[str, list[float]]:
        """Per-step latencies (ms)."""
        return {k: list(v) for k, v in self.timings_ms.items()}


def _origin(move: Fact) -> str:
    """Where a ``moved`` event says the object was: ``"on B"`` -> B, ``"from A to B"`` -> A."""
    detail = str(move.data.get("detail", ""))
    if detail.startswith("on "):
        return detail[3:]
    if detail.startswith("from "):
        return detail[5:].split(" to ")[0]
    return ""
