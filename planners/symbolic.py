"""The symbolic closed-loop planner (offline, the default).

Goal -> subgoals (pick up X, put it in Y, switch Z on, ...) -> one skill at a time, each
chosen from spatial memory: the nearest remembered instance, opening its container first;
exploring frontiers when nothing is known; opening unsearched containers when exploration
is exhausted. A critic vetoes skills whose preconditions memory says do not hold; a failed
skill blacklists its target for the subgoal and the planner re-plans; the loop detector's
breaks blacklist the current target and force exploration.

Example:
    >>> from robomem.planners.instruction import parse_instruction
    >>> from robomem.planners.symbolic import SymbolicPlanner
    >>> p = SymbolicPlanner()
    >>> p.reset(parse_instruction("Chill an apple and put it on the counter top."))
    >>> [f"{s.kind}:{s.label}" for s in p.subgoals]
    ['pickup:Apple', 'put:Fridge', 'pickup:Apple', 'put:CounterTop']
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from robomem.memory.view import ObjectView
from robomem.planners.base import PlanContext, Planner
from robomem.planners.critic import Critic, CriticChain, PreconditionCritic, put_down
from robomem.planners.instruction import Goal
from robomem.planners.past import PAST_FAMILIES, recall_past
from robomem.skills import (
    CLOSE,
    DONE,
    EXPLORE,
    FIND_MISSED,
    NAVIGATE,
    OPEN,
    PICKUP,
    PUT,
    TOGGLE_OFF,
    TOGGLE_ON,
    Skill,
    SkillStatus,
)

MAX_VETOES = 6
FAILURES_BEFORE_BLACKLIST = 2  # a failed skill is retried once (from elsewhere) on a target
MAX_GUIDED = 3  # memory-guided looks per subgoal before exploring
MIN_PLACE_SCORE = 0.25  # weakest memory hint worth a detour
STRONG_PLACE_SCORE = 0.9  # a hint that beats an old belief (a near-identical past episode)


@dataclass
class Subgoal:
    """One step of the plan: ``kind`` in pickup/put/close/on/off/look, on type ``label``."""

    kind: str
    label: str
    blacklist: set[str] = field(default_factory=set)
    failures: dict[str, int] = field(default_factory=dict)
    done_key: str | None = None  # the instance it was achieved on
    guided: int = 0  # places visited on memory's advice
    key: str = ""  # the very instance to act on, when memory named it (tasks about the past)
    within: str = ""  # pickup of an unnamed object: one in or on a receptacle of this type

    def failed(self, key: str, limit: int) -> None:
        """Count a failure on ``key``; at ``limit`` failures the key is blacklisted."""
        self.failures[key] = self.failures.get(key, 0) + 1
        if self.failures[key] >= limit:
            self.blacklist.add(key)


class SymbolicPlanner(Planner):
    """Rule-based planner over spatial memory; deterministic.

    Args:
        critic: reviews each skill (default: the precondition critic, with fixes).
        preconditions: the planner itself opens a closed receptacle before putting into or
            taking from it, and frees its hand before a pickup. ``False`` leaves these to the
            critic, as a planner that does not reason about preconditions (a language
            model) would (``benchmarks/preconditions.py`` compares the two).
    """

    def __init__(self, critic: Critic | None = None, preconditions: bool = True) -> None:
        self.critic = critic or CriticChain([PreconditionCritic()])
        self.preconditions = preconditions  # open a closed receptacle before using it
        self.goal: Goal | None = None
        self.subgoals: list[Subgoal] = []
        self.index = 0
        self.bound: str | None = None  # the task object carried through the plan
        self.searched: set[str] = set()  # containers opened to look inside
        self.explore_exhausted = False
        self.found_hidden: set[str] = set()  # labels the world's find showed none new of
        self.counters = {"planner_calls": 0, "replans": 0, "vetoes": 0, "loop_breaks": 0,
                         "memory_guided": 0, "past_recalled": 0, "fixes": 0}
        self._last_target: str | None = None  # what the last chosen skill acted on
        self._past_read = False  # whether memory was asked what a task about the past means
        self._taken_from = ""  # the receptacle the held task object was picked up from
        self._picking_from = ""  # the parent of the object the last pickup skill targets

    # ------------------------------------------------------------ interface
    def reset(self, goal: Goal) -> None:
        """Plan ``goal`` into subgoals."""
        self.goal = goal
        self.subgoals = plan_subgoals(goal)
        self.index = 0
        self.bound = None
        self.searched = set()
        self.explore_exhausted = False
        self.found_hidden = set()
        self.counters = dict.fromkeys(self.counters, 0)
        self._past_read = goal.family not in PAST_FAMILIES
        self._taken_from = self._picking_from = ""

    @property
    def subgoal_index(self) -> int:
        """Subgoals completed so far."""
        return self.index

    def stats(self) -> dict[str, float]:
        """Planner calls, replans, critic vetoes and loop breaks."""
        return {k: float(v) for k, v in self.counters.items()}

    def break_loop(self, reason: str) -> None:
        """Blacklist what the current subgoal was working on, and explore instead."""
        self.counters["loop_breaks"] += 1
        if self.index < len(self.subgoals) and self._last_target:
            self.subgoals[self.index].blacklist.add(self._last_target)
        self.explore_exhausted = False

    def next_skill(self, ctx: PlanContext) -> Skill:
        """The next skill for the current subgoal (``done`` when all are complete)."""
        self.counters["planner_calls"] += 1
        self.progress(ctx)
        return self.choose(ctx)

    def progress(self, ctx: PlanContext) -> Subgoal | None:
        """Take in the last skill's outcome and pass satisfied subgoals.

        Returns:
            The current subgoal, or None when every subgoal is complete. Other planners
            (the language-model planner) use this to follow the plan's progress.
        """
        self._read_past(ctx)
        self._learn(ctx)
        return None if self.progress_done(ctx) else self.subgoals[self.index]

    def choose(self, ctx: PlanContext) -> Skill:
        """A skill for the current subgoal that the critic approves (``done`` if none)."""
        for _ in range(MAX_VETOES):
            if self.progress_done(ctx):
                return Skill(DONE)
            skill = self._choose(self.subgoals[self.index], ctx)
            verdict = self.critic.review(skill, ctx) if skill.name not in (DONE, EXPLORE) \
                else None
            if verdict is None or verdict.ok:
                self.chose(skill)
                return skill
            self.counters["vetoes"] += 1
            if verdict.fix is not None and self.critic.review(verdict.fix, ctx).ok:
                self.counters["fixes"] += 1  # "open it first": run the fix, keep the target
                self.chose(verdict.fix)
                return verdict.fix
            if skill.target:
                self.subgoals[self.index].blacklist.add(skill.target)
        return Skill(DONE)

    def progress_done(self, ctx: PlanContext) -> bool:
        """Pass satisfied subgoals (without learning); True when all are complete."""
        while self.index < len(self.subgoals) and self._satisfied(self.subgoals[self.index], ctx):
            self.index += 1
        return self.index >= len(self.subgoals)

    @property
    def last_target(self) -> str | None:
        """The target of the last chosen skill."""
        return self._last_target

    def chose(self, skill: Skill) -> None:
        """Note the skill about to run (a loop break blacklists its target)."""
        self._last_target = skill.target

    def _read_past(self, ctx: PlanContext) -> None:
        """Once per task about the past: bind its subgoals to what memory says it means.

        Without an answer (no temporal memory, or nothing recalled) the subgoals keep their
        blanks and the planner guesses: any object of the type, a usual place for it, the
        things in the named receptacle, the nearest lamp that may be on.
        """
        if self._past_read or self.goal is None:
            return
        self._past_read = True
        answer = recall_past(self.goal, ctx.recall)
        if answer is None:
            return
        self.counters["past_recalled"] += 1
        first = self.subgoals[0]
        first.key, first.label = answer.key, answer.label
        if self.goal.family == "put_back" and answer.place_key:
            put = self.subgoals[1]
            put.key, put.label = answer.place_key, answer.place_label

    # ------------------------------------------------------------ internals
    def _learn(self, ctx: PlanContext) -> None:
        """Take in the outcome of the last skill."""
        skill, result = ctx.last_skill, ctx.last_result
        if skill is None or result is None or self.index >= len(self.subgoals):
            return
        sg = self.subgoals[self.index]
        if result.status == SkillStatus.FAILED:
            self.counters["replans"] += 1
            if skill.name == EXPLORE and result.reason.startswith(FIND_MISSED):
                self.found_hidden.add(skill.label or "")  # hidden: search receptacles for it
            elif skill.name == EXPLORE:
                self.explore_exhausted = True
            elif skill.target:
                sg.failed(skill.target, FAILURES_BEFORE_BLACKLIST)
            return
        if result.status != SkillStatus.SUCCEEDED:
            return
        if skill.name == PICKUP:
            self.bound = skill.target
            self._taken_from = self._picking_from
            if not sg.label and sg.kind == "pickup":
                sg.label = skill.label or ""  # an unnamed object: now it has a type
        if skill.name == TOGGLE_OFF and sg.kind == "off":
            sg.done_key = skill.target
        if skill.name == PUT and sg.kind == "put":
            sg.done_key = skill.target
            if self.goal is not None and sg.label == self.goal.target_type:
                self.bound = None if self.goal.family == "pick_two_and_place" else self.bound
        if skill.name == OPEN and skill.target:
            self.searched.add(skill.target)

    def _satisfied(self, sg: Subgoal, ctx: PlanContext) -> bool:
        scene, held = ctx.scene, ctx.percept.held
        if sg.kind == "pickup":
            node = scene.node(held) if held else None
            return node is not None and node.label == sg.label and self._fresh(node, ctx)
        if sg.kind == "put":
            return sg.done_key is not None and held is None
        if sg.kind == "off" and (sg.done_key or sg.key):
            node = scene.node(sg.key) if sg.key else None
            return sg.done_key is not None or (node is not None and node.is_toggled is False)
        if sg.kind in ("close", "on", "off"):
            node = self._instance(sg, ctx)
            if node is None:
                return False
            if sg.kind == "close":
                return node.is_open is False
            return node.is_toggled is (sg.kind == "on")
        if sg.kind == "look":
            for d in ctx.percept.detections:
                node = scene.node(d.key)
                if (d.label == sg.label and d.visible and d.min_distance <= 1.45
                        and node is not None and node.is_toggled):
                    return True
            return False
        raise ValueError(f"unknown subgoal kind {sg.kind!r}")

    def _fresh(self, node: ObjectView, ctx: PlanContext) -> bool:
        """For pick-two: an object not already on the target counts."""
        if self.goal is None or self.goal.family != "pick_two_and_place":
            return True
        parent = ctx.scene.node(node.parent) if node.parent and not node.held else None
        return parent is None or parent.label != self.goal.target_type

    def _instance(self, sg: Subgoal, ctx: PlanContext) -> ObjectView | None:
        """The appliance a close/on/off subgoal acts on: the one holding the task object."""
        scene = ctx.scene
        if sg.kind == "close" and self.subgoals[self.index - 1].done_key:
            return scene.node(self.subgoals[self.index - 1].done_key or "")
        named = scene.node(sg.key) if sg.key and sg.key not in sg.blacklist else None
        if named is not None:
            return named
        if sg.kind == "off" and self.goal is not None and self.goal.family == "switch_off":
            # which lamp is unknown: the nearest of any type the word may mean, unless off
            labels = set(self.goal.object_candidates) | {sg.label}
            lit = [n for n in scene.nodes() if n.label in labels and n.key not in sg.blacklist
                   and n.is_toggled is not False]
            return self._nearest(lit, ctx) if lit else None
        cands = [n for n in scene.find(sg.label) if n.key not in sg.blacklist]
        if not cands:
            return None
        anchor = scene.node(self.bound) if self.bound else None
        if anchor is not None:
            c = anchor.box.center
            return min(cands, key=lambda n: float(np.linalg.norm(n.box.center - c)))
        return self._nearest(cands, ctx)

    def _nearest(self, nodes: list[ObjectView], ctx: PlanContext) -> ObjectView:
        p = ctx.percept.agent_pose
        return min(nodes, key=lambda n: (n.box.distance_to((p.x, 1.5, p.z)), n.key))

    def _choose(self, sg: Subgoal, ctx: PlanContext) -> Skill:
        scene, held = ctx.scene, ctx.percept.held
        if sg.kind == "pickup":
            if held is not None and self.preconditions:  # holding something else: put it down
                return self._put_anywhere(ctx, sg)
            bound = scene.node(self.bound) if self.bound else None
            if sg.key in sg.blacklist and any(d.key == sg.key and d.visible
                                              for d in ctx.percept.detections):
                sg.blacklist.discard(sg.key)  # seen again (moved): worth another try
                sg.failures.pop(sg.key, None)
            named = scene.node(sg.key) if sg.key and sg.key not in sg.blacklist else None
            cands: list[ObjectView]
            if bound is not None and bound.key not in sg.blacklist:
                cands = [bound]
            elif sg.key:  # memory named the very object: no other of its type will do
                cands = [named] if named is not None and not named.held else []
            elif not sg.label and sg.within:
                return self._pick_within(sg, ctx)
            else:
                cands = [n for n in scene.find(sg.label)
                         if n.key not in sg.blacklist and not n.held and self._fresh(n, ctx)]
            if cands and not sg.key and sg.guided < MAX_GUIDED and \
                    self._all_inherited(cands, ctx):
                # every instance is an old belief: a near-identical past episode's place
                # is the better first guess
                guided = self._remembered_place(sg, ctx, STRONG_PLACE_SCORE,
                                                {n.parent for n in cands if n.parent})
                if guided is not None:
                    sg.guided += 1
                    return guided
            source = self.goal.source if self.goal is not None else ""
            if source and len(cands) > 1:  # "the vase from the dresser": that one if known
                on_source = [n for n in cands if n.parent and (p := scene.node(n.parent))
                             is not None and p.label == source]
                cands = on_source or cands
            if cands:
                node = cands[0] if len(cands) == 1 else self._nearest(cands, ctx)
                return self._take(node, ctx)
            return self._search(sg, ctx, named=bool(sg.key))
        if sg.kind == "put":
            if held is None:  # lost it: go back a step
                self.index = max(0, self.index - 1)
                return self._choose(self.subgoals[self.index], ctx)
            named = scene.node(sg.key) if sg.key and sg.key not in sg.blacklist else None
            if named is not None:
                cands = [named]
            elif not sg.label:  # where it goes back to is unknown: guess a usual place
                cands = self._usual_places(sg, ctx)
                if not cands:
                    return Skill(EXPLORE) if not self.explore_exhausted else \
                        self._put_anywhere(ctx, sg)
            else:
                cands = [n for n in scene.find(sg.label) if n.key not in sg.blacklist]
            if not cands:
                return self._search(sg, ctx)
            node = self._nearest(cands, ctx)
            if self.preconditions and node.openable and node.is_open is not True:
                return Skill(OPEN, node.key, node.label)
            return Skill(PUT, node.key, node.label)
        if sg.kind == "look":
            cands = [n for n in scene.find(sg.label) if n.key not in sg.blacklist]
            if not cands:
                return self._search(sg, ctx)
            node = self._nearest(cands, ctx)
            if node.is_toggled is not True:
                return Skill(TOGGLE_ON, node.key, node.label)
            return Skill(NAVIGATE, node.key, node.label)
        appliance = self._instance(sg, ctx)
        if appliance is None:
            return self._search(sg, ctx)
        name = {"close": CLOSE, "on": TOGGLE_ON, "off": TOGGLE_OFF}[sg.kind]
        return Skill(name, appliance.key, appliance.label)

    def _take(self, node: ObjectView, ctx: PlanContext) -> Skill:
        """Pick ``node`` up, opening the closed receptacle it is in first."""
        parent = ctx.scene.node(node.parent) if node.parent else None
        if self.preconditions and parent is not None and parent.openable and \
                parent.is_open is False:
            return Skill(OPEN, parent.key, parent.label)
        self._picking_from = node.parent or ""
        return Skill(PICKUP, node.key, node.label)

    def _pick_within(self, sg: Subgoal, ctx: PlanContext) -> Skill:
        """An unnamed object in a receptacle of type ``sg.within``: guess one found there.

        Receptacles of that type are visited (opened when closed) nearest first until one
        holds something to take; exploring finds more of them.
        """
        scene = ctx.scene
        inside = [n for n in scene.nodes()
                  if n.pickupable and not n.held and n.key not in sg.blacklist and n.parent
                  and (p := scene.node(n.parent)) is not None and p.label == sg.within]
        if inside:
            return self._take(self._nearest(inside, ctx), ctx)
        hosts = [n for n in scene.find(sg.within)
                 if n.key not in self.searched and n.key not in sg.blacklist]
        if hosts:
            node = self._nearest(hosts, ctx)
            self.searched.add(node.key)
            if node.openable and node.is_open is not True:
                return Skill(OPEN, node.key, node.label)
            return Skill(NAVIGATE, node.key, node.label)
        if not self.explore_exhausted:
            return Skill(EXPLORE, None, sg.within)
        return Skill(DONE)

    def _usual_places(self, sg: Subgoal, ctx: PlanContext) -> list[ObjectView]:
        """A memoryless guess at where the held object was before.

        Known receptacles where its type usually is, but not where it came from, nor an
        appliance.
        """
        held = ctx.scene.node(ctx.percept.held) if ctx.percept.held else None
        if held is None:
            return []
        places = set(ctx.ontology.info(held.label).usual_places)
        appliances = ctx.ontology.appliances()
        return [n for n in ctx.scene.nodes()
                if n.receptacle and not n.pickupable and n.label in places
                and n.label not in appliances and n.key != self._taken_from
                and n.key not in sg.blacklist]

    def _put_anywhere(self, ctx: PlanContext, sg: Subgoal) -> Skill:
        """A free hand is needed: the nearest open surface that is not an appliance."""
        return put_down(ctx, sg.blacklist) or Skill(EXPLORE)

    def _search(self, sg: Subgoal, ctx: PlanContext, named: bool = False) -> Skill:
        """Nothing suitable is known: explore frontiers, then search receptacles up close.

        Receptacles where such objects usually are come first (common sense from the
        ontology), nearest first; closed ones are opened, open ones looked into. For a
        ``named`` object (one instance, not any of its type) exploration walks frontiers
        without stopping at the first other instance in view.
        """
        if sg.kind == "pickup" and sg.guided < MAX_GUIDED:
            guided = self._remembered_place(sg, ctx)
            if guided is not None:
                sg.guided += 1
                return guided
        if not self.explore_exhausted and sg.label not in self.found_hidden:
            return Skill(EXPLORE) if named else Skill(EXPLORE, None, sg.label)
        info = ctx.ontology.info(sg.label)
        if info.pickupable:
            places = set(info.usual_places)
            spots = [n for n in ctx.scene.nodes()
                     if n.receptacle and not n.pickupable and n.key not in self.searched
                     and n.key not in sg.blacklist]
            if spots:
                p = ctx.percept.agent_pose
                node = min(spots, key=lambda n: (n.label not in places,
                                                 n.box.distance_to((p.x, 1.5, p.z)), n.key))
                self.searched.add(node.key)
                if node.openable and node.is_open is not True:
                    return Skill(OPEN, node.key, node.label)
                return Skill(NAVIGATE, node.key, node.label)
        return Skill(DONE)  # searched everywhere: give up

    @staticmethod
    def _all_inherited(nodes: list[ObjectView], ctx: PlanContext) -> bool:
        """Whether spatial memory recalls every one of ``nodes`` as a belief from a stored map."""
        old = {str(f.value) for f in ctx.recall.of("spatial", "seen") if f.data.get("inherited")}
        return bool(old) and all(n.key in old for n in nodes)

    def _remembered_place(self, sg: Subgoal, ctx: PlanContext,
                          min_score: float = 0.0, skip: set[str] | None = None
                          ) -> Skill | None:
        """Look first where memory says ``sg.label`` was found before.

        Episodic memory: the receptacles similar successful episodes picked it up from
        (weighted by similarity); semantic memory: the receptacle types it is usually in or
        on (its confidence after forgetting). Targets of failed skills in similar failed
        episodes go last. Only receptacles already on the map and not yet searched qualify.
        """
        keys, labels, avoid = place_hints(sg.label, ctx)
        if not keys and not labels:
            return None
        p = ctx.percept.agent_pose
        best: tuple[float, float, str] | None = None
        chosen: ObjectView | None = None
        for n in ctx.scene.nodes():
            if (not n.receptacle or n.pickupable or n.key in self.searched
                    or n.key in sg.blacklist or n.key in (skip or ())):
                continue
            score = keys.get(n.key, 0.0) + labels.get(n.label, 0.0) - (n.key in avoid)
            if score < max(MIN_PLACE_SCORE, min_score):
                continue
            rank = (-score, n.box.distance_to((p.x, 1.5, p.z)), n.key)
            if best is None or rank < best:
                best, chosen = rank, n
        if chosen is None:
            return None
        self.searched.add(chosen.key)
        self.counters["memory_guided"] += 1
        if chosen.openable and chosen.is_open is not True:
            return Skill(OPEN, chosen.key, chosen.label)
        return Skill(NAVIGATE, chosen.key, chosen.label)


def place_hints(label: str, ctx: PlanContext
                ) -> tuple[dict[str, float], dict[str, float], set[str]]:
    """Where recalled memory says objects of type ``label`` are.

    Returns:
        ``(keys, labels, avoid)``: receptacle keys and receptacle types with scores, and
        keys that failed skills in similar failed episodes acted on.
    """
    keys: dict[str, float] = {}
    labels: dict[str, float] = {}
    avoid: set[str] = set()
    for f in ctx.recall.of("episodic", "similar_episode"):
        plan = f.data.get("plan", [])
        if not f.data.get("success", False):
            avoid.update(str(s.get("target", "")) for s in plan if s.get("status") == "failed")
            continue
        for s in plan:
            if s.get("skill") == PICKUP and s.get("label") == label \
                    and s.get("status") == "succeeded":
                if s.get("where_key"):
                    keys[s["where_key"]] = keys.get(s["where_key"], 0.0) + f.score
                if s.get("where"):
                    labels[s["where"]] = max(labels.get(s["where"], 0.0), 0.5 * f.score)
    for f in ctx.recall.of("semantic", "likely_place"):
        if f.subject == label:
            labels[f.value] = max(labels.get(f.value, 0.0), f.score)
    avoid.discard("")
    return keys, labels, avoid


def plan_subgoals(goal: Goal) -> list[Subgoal]:
    """The subgoals of a goal, as ALFRED's expert plans order them."""
    x, y = goal.object_type, goal.target_type
    fam = goal.family
    if fam == "look_at_in_light":
        return [Subgoal("pickup", x), Subgoal("look", y)]
    if fam == "put_back":  # where it goes back to: memory says (or the planner guesses)
        return [Subgoal("pickup", x), Subgoal("put", "")]
    if fam == "bring_back":  # what it is: memory says, or one thing found in the source
        return [Subgoal("pickup", "", within=goal.source), Subgoal("put", y)]
    if fam == "switch_off":
        return [Subgoal("off", x)]
    if fam == "pick_two_and_place":
        return [s for _ in range(goal.count) for s in (Subgoal("pickup", x), Subgoal("put", y))]
    mid: list[Subgoal] = []
    if goal.appliance:  # heat, cool, clean: with the world's appliance for it (the ontology's)
        switch = [Subgoal("on", goal.switch), Subgoal("off", goal.switch)] if goal.switch else []
        mid = [Subgoal("put", goal.appliance), *switch, Subgoal("pickup", x)]
    tail = [Subgoal("close", y)] if fam == "place_in_closed" else []
    return [Subgoal("pickup", x), *mid, Subgoal("put", y), *tail]
