"""Semantic memory (the neocortex): what generalises across episodes and houses.

A knowledge graph in ``networkx`` learnt from experience, never from one house's layout:

* nodes ``type:<Label>`` (object types), ``place:<ReceptacleLabel>``, ``room:<RoomType>``,
  ``skill:<name>`` and ``action:<ActionName>``;
* ``type -> place`` edges (relation ``found_in``) and ``type -> room`` edges (relation
  ``found_in_room``), each a *fact* with an evidence ``count``, a ``strength`` and the
  episodes it was ``first`` and ``last`` reinforced in;
* ``skill -> type`` edges (relation ``outcome``) with success and failure counts, and the
  preconditions learnt for that skill on that type (``"open Fridge"`` for ``pickup`` of
  ``Apple``), each a fact as above; skill and action nodes carry their overall success and
  failure counts.

Learning. :meth:`SemanticMemory.write` counts every visible object's receptacle (the
step's ``parents``, as spatial memory believes) and room (``rooms``) at most once per
episode per object key, so standing still does not inflate the counts; it counts every
action's outcome and turns a failed action's error text into a precondition (``"... is
inside closed Fridge|1"`` gives ``open Fridge`` for picking up the object).
:meth:`SemanticMemory.end_episode` counts the plan's skill outcomes; a successful pickup's
``where`` is strong evidence for ``found_in`` (weight ``pickup_weight``), and a successful
``open`` of a place that a later successful pickup took the object from (or a later put
went into) gives the precondition ``open <place>``.

Confidence follows the forgetting curve of MemoryBank (Zhong et al. 2023). Each fact has a
strength ``S`` (1 when first learnt, +1 in each later episode in which it is reinforced: seen
again, or recalled and used, see :meth:`SemanticMemory.reinforce`) and the episode ``t_last``
of its last reinforcement. At episode ``now`` its retention is::

    R = exp(-(now - t_last) / (tau * S))        (now - t_last clipped at 0)

The score of a place ``p`` for a type is its smoothed share of the type's evidence times
its retention::

    score(p) = count(p) / (sum over places q of count(q) + smoothing) * R(p)

(``smoothing`` is a pseudo-count for "somewhere not seen yet", so one sighting alone scores
0.5); rooms are scored the same way over ``found_in_room`` edges, and a precondition seen in
``n`` episodes scores ``n / (n + smoothing) * R``. Skill success rates are plain ratios.

Example:
    >>> from robomem.memory.semantic import SemanticMemory
    >>> sm = SemanticMemory(tau=5.0)
    >>> sm.observe_place("Mug", "CounterTop", episode=0)
    >>> sm.observe_place("Mug", "CounterTop", episode=1)
    >>> sm.observe_place("Mug", "Cabinet", episode=1)
    >>> [(p, round(s, 3)) for p, s in sm.likely_places("Mug", now_episode=1)]
    [('CounterTop', 0.5), ('Cabinet', 0.25)]
    >>> [(p, round(s, 3)) for p, s in sm.likely_places("Mug", now_episode=6)]
    [('CounterTop', 0.303), ('Cabinet', 0.092)]
    >>> sm.record_skill("pickup", "Mug", success=True)
    >>> sm.record_skill("pickup", "Mug", success=False)
    >>> sm.success_rate("pickup", "Mug"), sm.success_rate("open")
    (0.5, None)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import networkx as nx

from robomem.feedback import FeedbackCode
from robomem.memory.base import (
    EpisodeOutcome,
    EpisodeStart,
    Fact,
    MemoryModule,
    MemoryQuery,
    MemoryStorage,
    StepInput,
    check_document,
)
from robomem.primitives import INTERACTIONS
from robomem.skills import PICKUP, PUT

__all__ = ["BLOB", "FACT_KINDS", "SemanticMemory", "retention"]

BLOB = "semantic/graph"
"""The store blob that holds the graph (JSON)."""
FORMAT = "robomem.semantic"
VERSION = 1

FOUND_IN, FOUND_IN_ROOM, OUTCOME = "found_in", "found_in_room", "outcome"
FACT_KINDS = ("likely_place", "likely_room", "skill_success", "precondition")
"""The kinds of :class:`~robomem.memory.base.Fact` that :meth:`SemanticMemory.recall` gives."""
_KIND_ORDER = {k: i for i, k in enumerate(FACT_KINDS)}
_NODE_KINDS = ("type", "place", "room", "skill", "action")
_SKIP_ROOMS = frozenset({"", "Unknown"})  # room types that say nothing (guess_room_type)
SUCCEEDED, FAILED, RUNNING = "succeeded", "failed", "running"
_STATUSES = (SUCCEEDED, FAILED, RUNNING)  # a skill still running when the episode ended: skipped

def retention(last: int, strength: float, now: int, tau: float) -> float:
    """MemoryBank's forgetting curve ``exp(-(now - last) / (tau * strength))``.

    Args:
        last: the episode of the fact's last reinforcement.
        strength: the fact's strength ``S`` (>= 1).
        now: the current episode (earlier than ``last`` counts as ``last``).
        tau: episodes for retention to fall to 1/e at strength 1.

    Returns:
        The retention in (0, 1].
    """
    return math.exp(-max(0, now - last) / (tau * strength))


def _touch(rec: dict[str, Any], episode: int, weight: float) -> None:
    """Add ``weight`` evidence to a fact record and reinforce it (once per episode)."""
    if "strength" not in rec:
        rec.update(count=float(weight), strength=1, first=episode, last=episode)
        return
    rec["count"] = float(rec["count"]) + weight
    if episode > int(rec["last"]):
        rec["strength"] = int(rec["strength"]) + 1
        rec["last"] = episode


def _positive(weight: float) -> float:
    if not weight > 0:
        raise ValueError(f"evidence weight must be positive, got {weight}")
    return float(weight)


def _need(value: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value


class SemanticMemory(MemoryModule):
    """The cross-episode knowledge graph; see the module docstring for what it learns.

    Args:
        tau: forgetting time constant in episodes (retention falls to 1/e after ``tau``
            episodes at strength 1, after ``tau * S`` at strength ``S``).
        smoothing: pseudo-count of evidence for "somewhere not seen yet" (>= 0).
        pickup_weight: evidence a successful pickup's ``where`` adds to ``found_in``
            (a sighting adds 1).
    """

    name: ClassVar[str] = "semantic"
    light: ClassVar[bool] = True  # microseconds of graph bookkeeping per call

    def __init__(self, tau: float = 5.0, smoothing: float = 1.0,
                 pickup_weight: float = 2.0) -> None:
        if not tau > 0:
            raise ValueError(f"tau must be positive (episodes), got {tau}")
        if not smoothing >= 0:
            raise ValueError(f"smoothing must be >= 0, got {smoothing}")
        if not pickup_weight > 0:
            raise ValueError(f"pickup_weight must be positive, got {pickup_weight}")
        self.tau, self.smoothing = float(tau), float(smoothing)
        self.pickup_weight = float(pickup_weight)
        self.graph = nx.DiGraph()
        self._episode: int | None = None
        self._once_seen: set[tuple[str, str, str]] = set()  # what was counted this episode

    # ------------------------------------------------------------------ graph helpers
    def _node(self, kind: str, name: str) -> str:
        v = f"{kind}:{name}"
        if v not in self.graph:
            self.graph.add_node(v, kind=kind, name=name)
        return v

    def _edge(self, u: str, v: str, relation: str) -> dict[str, Any]:
        if not self.graph.has_edge(u, v):
            self.graph.add_edge(u, v, relation=relation)
        attrs: dict[str, Any] = self.graph.edges[u, v]
        return attrs

    def _enter(self, episode: int) -> None:
        """Start the per-episode bookkeeping when the episode changes."""
        if episode != self._episode:
            self._episode = episode
            self._once_seen.clear()

    def _once(self, what: str, subject: str, value: str) -> bool:
        """True the first time ``(what, subject, value)`` comes up in the current episode."""
        k = (what, subject, value)
        if k in self._once_seen:
            return False
        self._once_seen.add(k)
        return True

    def _facts(self, label: str, relation: str) -> list[tuple[str, dict[str, Any]]]:
        """(target name, attrs) of the ``relation`` edges of type ``label``."""
        u = f"type:{label}"
        if u not in self.graph:
            return []
        return [(str(self.graph.nodes[v]["name"]), a)
                for _, v, a in self.graph.out_edges(u, data=True) if a["relation"] == relation]

    # ------------------------------------------------------------------ learning primitives
    def observe_place(self, label: str, place: str, episode: int, weight: float = 1.0) -> None:
        """Add evidence that objects of type ``label`` are found in or on ``place``.

        This is the raw primitive (no once-per-episode rule; :meth:`write` applies it).

        Args:
            label: object type.
            place: receptacle type.
            episode: the episode of the evidence (reinforces the fact once per episode).
            weight: how much evidence (a sighting is 1).
        """
        u = self._node("type", _need(label, "label"))
        _touch(self._edge(u, self._node("place", _need(place, "place")), FOUND_IN), episode,
               _positive(weight))

    def observe_room(self, label: str, room: str, episode: int, weight: float = 1.0) -> None:
        """Add evidence that objects of type ``label`` are found in rooms of type ``room``."""
        u = self._node("type", _need(label, "label"))
        _touch(self._edge(u, self._node("room", _need(room, "room")), FOUND_IN_ROOM), episode,
               _positive(weight))

    def record_skill(self, skill: str, label: str, success: bool) -> None:
        """Count one outcome of ``skill`` (overall, and on type ``label`` unless empty)."""
        attr = "success" if success else "failure"
        s = self._node("skill", _need(skill, "skill"))
        node = self.graph.nodes[s]
        node[attr] = int(node.get(attr, 0)) + 1
        if label:
            e = self._edge(s, self._node("type", label), OUTCOME)
            e[attr] = int(e.get(attr, 0)) + 1

    def record_action(self, action: str, success: bool) -> None:
        """Count one outcome of primitive action ``action``."""
        attr = "success" if success else "failure"
        node = self.graph.nodes[self._node("action", _need(action, "action"))]
        node[attr] = int(node.get(attr, 0)) + 1

    def add_precondition(self, skill: str, label: str, condition: str, episode: int) -> None:
        """Add one episode's evidence that ``skill`` on type ``label`` needs ``condition``."""
        e = self._edge(self._node("skill", _need(skill, "skill")),
                       self._node("type", _need(label, "label")), OUTCOME)
        conds: dict[str, dict[str, Any]] = e.setdefault("preconditions", {})
        _touch(conds.setdefault(_need(condition, "condition"), {}), episode, 1.0)

    def reinforce(self, label: str, place: str, now_episode: int, room: bool = False) -> None:
        """A recalled fact was used: raise its strength (once per episode) and renew it.

        Args:
            label: object type.
            place: the place (or, with ``room``, the room type) that was used.
            now_episode: the current episode.
            room: reinforce ``label -> room`` rather than ``label -> place``.

        Raises:
            KeyError: no such fact; the message lists the known ones for ``label``.
        """
        rel, kind = (FOUND_IN_ROOM, "room") if room else (FOUND_IN, "place")
        u, v = f"type:{label}", f"{kind}:{place}"
        if not self.graph.has_edge(u, v):
            known = ", ".join(sorted(n for n, _ in self._facts(label, rel))) or "(none)"
            raise KeyError(f"no {rel} fact {label!r} -> {place!r}; known for {label!r}: {known}")
        _touch(self.graph.edges[u, v], now_episode, 0.0)

    # ------------------------------------------------------------------ module hooks
    def begin_episode(self, start: EpisodeStart) -> None:
        """A new episode begins: reset the once-per-episode bookkeeping."""
        self._enter(start.episode)

    def write(self, step: StepInput) -> None:
        """Count the step's sightings (once per episode and object) and its action outcome."""
        self._enter(step.episode)
        p = step.percept
        for d in p.detections:
            if not d.visible or not d.label or d.key == p.held:
                continue
            place = step.parents.get(d.key, "")
            if place and self._once("place", d.key, place):
                self.observe_place(d.label, place, step.episode)
            room = step.rooms.get(d.key, "")
            if room not in _SKIP_ROOMS and self._once("room", d.key, room):
                self.observe_room(d.label, room, step.episode)
        if step.action is not None and step.action.name:
            self.record_action(step.action.name, step.action_success)
            if not step.feedback.success:
                self._learn_from_error(step)

    def _label_of(self, key: str, step: StepInput) -> str:
        """An object key's type, from this step's detections ("" when not in view)."""
        for d in step.percept.detections:
            if d.key == key:
                return d.label
        return step.labels_of.get(key, "")

    def _learn_from_error(self, step: StepInput) -> None:
        """Preconditions from a failed interaction's feedback code (never its wording)."""
        assert step.action is not None
        name, fb = step.action.name, step.feedback
        target = step.action.object_id or ""
        label = self._label_of(target, step)
        if name not in INTERACTIONS or not label:
            return
        cond = ""
        if name == PICKUP and fb.code is FeedbackCode.IS_CLOSED and fb.subject:
            place = self._label_of(fb.subject, step) or step.parents.get(target, "")
            cond = f"open {place}" if place else ""
        elif name == PUT and fb.code is FeedbackCode.IS_CLOSED:
            cond = f"open {label}"
        elif name == PICKUP and fb.code is FeedbackCode.HAND_FULL:
            cond = "hand empty"
        elif name == PUT and fb.code is FeedbackCode.NOTHING_HELD:
            cond = "holding an object"
        if cond and self._once("cond", f"{name}:{label}", cond):
            self.add_precondition(name, label, cond, step.episode)

    def end_episode(self, outcome: EpisodeOutcome) -> None:
        """Count the plan's skill outcomes, pickups' ``where`` and open-before preconditions.

        Raises:
            ValueError: a plan step with an unknown status (nothing is learnt then).
        """
        for ps in outcome.plan:
            if ps.status not in _STATUSES:
                raise ValueError(f"plan step {ps.skill!r} has unknown status {ps.status!r}; "
                                 f"known: {', '.join(_STATUSES)}")
        self._enter(outcome.episode)
        ep = outcome.episode
        opened: set[str] = set()  # places opened (and not closed again) so far in the plan
        for ps in outcome.plan:
            if ps.status == RUNNING or not ps.skill:
                continue
            ok = ps.status == SUCCEEDED
            self.record_skill(ps.skill, ps.label, ok)
            if not ok or not ps.label:
                continue
            if ps.skill == "open":
                opened.add(ps.label)
            elif ps.skill == "close":
                opened.discard(ps.label)
            elif ps.skill == "pickup" and ps.where:
                if self._once("pick", ps.target or ps.label, ps.where):
                    self.observe_place(ps.label, ps.where, ep, self.pickup_weight)
                cond = f"open {ps.where}"
                if ps.where in opened and self._once("cond", f"pickup:{ps.label}", cond):
                    self.add_precondition("pickup", ps.label, cond, ep)
            elif ps.skill == "put" and ps.label in opened:
                cond = f"open {ps.label}"
                if self._once("cond", f"put:{ps.label}", cond):
                    self.add_precondition("put", ps.label, cond, ep)

    # ------------------------------------------------------------------ queries
    def _ranked(self, label: str, relation: str, now: int,
                k: int) -> list[tuple[str, float, dict[str, Any]]]:
        facts = self._facts(label, relation)
        total = sum(float(a["count"]) for _, a in facts)
        out = []
        for name, a in facts:
            share = float(a["count"]) / (total + self.smoothing) if total + self.smoothing else 0.0
            r = retention(int(a["last"]), float(a["strength"]), now, self.tau)
            data = {"label": label, "count": float(a["count"]), "total": total,
                    "share": share, "strength": int(a["strength"]), "first": int(a["first"]),
                    "last": int(a["last"]), "retention": r}
            out.append((name, share * r, data))
        out.sort(key=lambda t: (-t[1], t[0]))
        return out[:max(k, 0)]

    def likely_places(self, label: str, now_episode: int, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` places objects of type ``label`` are most likely in, best first.

        Args:
            label: object type.
            now_episode: the current episode (for the forgetting curve).
            k: how many.

        Returns:
            ``(place, score)`` pairs; see the module docstring for the score.
        """
        return [(n, s) for n, s, _ in self._ranked(label, FOUND_IN, now_episode, k)]

    def likely_rooms(self, label: str, now_episode: int, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` room types objects of type ``label`` are most likely in, best first."""
        return [(n, s) for n, s, _ in self._ranked(label, FOUND_IN_ROOM, now_episode, k)]

    def _outcome(self, skill: str, label: str | None) -> tuple[int, int] | None:
        s = f"skill:{skill}"
        if label is None:
            a = self.graph.nodes[s] if s in self.graph else None
        else:
            t = f"type:{label}"
            a = self.graph.edges[s, t] if self.graph.has_edge(s, t) else None
        if a is None:
            return None
        return int(a.get("success", 0)), int(a.get("failure", 0))

    def success_rate(self, skill: str, label: str | None = None) -> float | None:
        """Successes / attempts of ``skill`` (on type ``label``); None without attempts."""
        got = self._outcome(skill, label)
        if got is None or sum(got) == 0:
            return None
        return got[0] / (got[0] + got[1])

    def _conditions(self, skill: str, label: str,
                    now: int | None) -> list[tuple[str, float, dict[str, Any]]]:
        s, t = f"skill:{skill}", f"type:{label}"
        if not self.graph.has_edge(s, t):
            return []
        out = []
        for cond, a in self.graph.edges[s, t].get("preconditions", {}).items():
            n = float(a["count"])
            last = int(a["last"])
            r = retention(last, float(a["strength"]), last if now is None else now, self.tau)
            score = n / (n + self.smoothing) * r
            out.append((str(cond), score, {"skill": skill, "label": label, "condition": cond,
                                           "count": n, "strength": int(a["strength"]),
                                           "first": int(a["first"]), "last": last,
                                           "retention": r}))
        out.sort(key=lambda t: (-t[1], t[0]))
        return out

    def preconditions(self, skill: str, label: str,
                      now_episode: int | None = None) -> list[tuple[str, float]]:
        """Learnt preconditions of ``skill`` on type ``label``, best first.

        Args:
            skill: skill name (``pickup``, ``put``, ...).
            label: object type.
            now_episode: the current episode; None scores without forgetting.

        Returns:
            ``(condition, score)`` pairs, e.g. ``("open Fridge", 0.5)``.
        """
        return [(c, s) for c, s, _ in self._conditions(skill, label, now_episode)]

    def recall(self, query: MemoryQuery) -> list[Fact]:
        """Facts about each of the query's labels, best first (the query's episode is now).

        Kinds: ``likely_place`` and ``likely_room`` (subject the label, value the place or
        room type, at most ``query.k`` each), ``skill_success`` (subject ``"<skill>:<label>"``,
        value the rate as text) and ``precondition`` (subject ``"<skill>:<label>"``, value
        the condition); ``data`` holds the numbers behind each score.
        """
        now, out = query.episode, []
        for label in dict.fromkeys(query.labels):
            for kind, rel in (("likely_place", FOUND_IN), ("likely_room", FOUND_IN_ROOM)):
                for name, score, data in self._ranked(label, rel, now, query.k):
                    out.append(Fact(self.name, kind, label, name, score, data))
            t = f"type:{label}"
            if t not in self.graph:
                continue
            for s, _, a in self.graph.in_edges(t, data=True):
                skill = str(self.graph.nodes[s]["name"])
                ok, bad = int(a.get("success", 0)), int(a.get("failure", 0))
                if ok + bad:
                    rate = ok / (ok + bad)
                    out.append(Fact(self.name, "skill_success", f"{skill}:{label}",
                                    f"{rate:.2f}", rate,
                                    {"skill": skill, "label": label, "success": ok,
                                     "failure": bad, "rate": rate}))
                for cond, score, data in self._conditions(skill, label, now):
                    out.append(Fact(self.name, "precondition", f"{skill}:{label}", cond, score,
                                    data))
        out.sort(key=lambda f: (-f.score, _KIND_ORDER[f.kind], f.subject, f.value))
        return out

    # ------------------------------------------------------------------ persistence
    def reset(self) -> None:
        """Forget everything (a store is left as it is)."""
        self.graph = nx.DiGraph()
        self._episode = None
        self._once_seen.clear()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: format, version and the graph as ``node_link_data``."""
        try:
            data = nx.node_link_data(self.graph, edges="edges")
        except TypeError:  # networkx < 3.4 names the key with ``link``
            data = nx.node_link_data(self.graph, link="edges")
        return {"format": FORMAT, "version": VERSION, "graph": data}

    def load_json(self, data: Mapping[str, Any] | str | bytes) -> None:
        """Replace the graph with one saved by :meth:`to_json` (the dict, or its JSON text).

        Raises:
            ValueError: not JSON, not a semantic-memory document, an unknown version, or a
                malformed graph.
        """
        if isinstance(data, (str, bytes)):
            try:
                data = json.loads(data)
            except (UnicodeDecodeError, ValueError) as e:
                raise ValueError(f"semantic memory document is not JSON: {e}") from e
        data = check_document(data, FORMAT, VERSION, "semantic memory")
        raw = data.get("graph")
        try:
            try:
                g = nx.node_link_graph(raw, directed=True, multigraph=False, edges="edges")
            except TypeError:  # networkx < 3.4
                g = nx.node_link_graph(raw, directed=True, multigraph=False, link="edges")
        except (KeyError, TypeError, AttributeError, nx.NetworkXError) as e:
            raise ValueError(f"malformed semantic memory graph: {e!r}") from e
        for v, a in g.nodes(data=True):
            kind = str(v).split(":", 1)[0]
            if kind not in _NODE_KINDS or a.get("kind") != kind or "name" not in a:
                raise ValueError(f"malformed semantic memory node {v!r} ({a}); node kinds: "
                                 f"{', '.join(_NODE_KINDS)}")
        for u, v, a in g.edges(data=True):
            if a.get("relation") not in (FOUND_IN, FOUND_IN_ROOM, OUTCOME):
                raise ValueError(f"malformed semantic memory edge {u!r} -> {v!r} ({a})")
        self.graph = nx.DiGraph(g)
        self._episode = None
        self._once_seen.clear()

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | bytes, **kwargs: Any) -> SemanticMemory:
        """A new memory (settings from ``kwargs``) holding a graph saved by :meth:`to_json`.

        ``data`` is the dict :meth:`to_json` made, or its JSON text (a blob's contents).
        """
        sm = cls(**kwargs)
        sm.load_json(data)
        return sm

    def save(self, storage: MemoryStorage) -> None:
        """Put the whole graph, as JSON, in blob :data:`BLOB` (``semantic/graph``)."""
        storage.put_blob(BLOB, json.dumps(self.to_json(), sort_keys=True).encode())

    def attach(self, storage: MemoryStorage) -> None:
        """Load the graph from blob :data:`BLOB` when the store has one.

        Raises:
            ValueError: the blob is not a readable semantic-memory graph.
        """
        raw = storage.get_blob(BLOB)
        if raw is None:
            return
        try:
            self.load_json(raw)
        except ValueError as e:
            raise ValueError(f"semantic memory blob {BLOB!r} is unreadable: {e}") from e

    # ------------------------------------------------------------------ inspection
    def facts_table(self) -> list[dict[str, Any]]:
        """Everything learnt as rows for ``robomem inspect`` (the same keys in every row).

        Kinds: ``found_in``, ``found_in_room``, ``precondition`` (``count``, ``strength``,
        ``first``, ``last``), ``skill`` and ``action`` (``count`` attempts, ``success``,
        ``failure``, ``value`` the rate). Missing values are None.
        """
        rows: list[dict[str, Any]] = []

        def row(kind: str, subject: str, value: str, a: Mapping[str, Any]) -> None:
            ok, bad = a.get("success"), a.get("failure")
            attempts = None if ok is None and bad is None else int(ok or 0) + int(bad or 0)
            rows.append({"kind": kind, "subject": subject, "value": value,
                         "count": a.get("count", attempts),
                         "strength": a.get("strength"), "first": a.get("first"),
                         "last": a.get("last"),
                         "success": None if attempts is None else int(ok or 0),
                         "failure": None if attempts is None else int(bad or 0)})

        def rate(a: Mapping[str, Any]) -> str:
            ok, bad = int(a.get("success", 0)), int(a.get("failure", 0))
            return f"{ok / (ok + bad):.2f}" if ok + bad else ""

        g = self.graph
        for u, v, a in g.edges(data=True):
            su, sv = str(g.nodes[u]["name"]), str(g.nodes[v]["name"])
            if a["relation"] in (FOUND_IN, FOUND_IN_ROOM):
                row(a["relation"], su, sv, a)
            else:
                if "success" in a or "failure" in a:
                    row("skill", f"{su}:{sv}", rate(a), a)
                for cond, c in a.get("preconditions", {}).items():
                    row("precondition", f"{su}:{sv}", str(cond), c)
        for _, a in g.nodes(data=True):
            if a["kind"] in ("skill", "action") and ("success" in a or "failure" in a):
                row(a["kind"], str(a["name"]), rate(a), a)
        order = {"found_in": 0, "found_in_room": 1, "precondition": 2, "skill": 3, "action": 4}
        rows.sort(key=lambda r: (order[r["kind"]], r["subject"], r["value"]))
        return rows

    def stats(self) -> dict[str, float]:
        """Node counts by kind and the number of facts (rows of :meth:`facts_table`)."""
        counts = dict.fromkeys(_NODE_KINDS, 0)
        for _, kind in self.graph.nodes(data="kind"):
            counts[str(kind)] += 1
        out = {f"{k}s": float(n) for k, n in counts.items()}
        out["facts"] = float(len(self.facts_table()))
        return out
