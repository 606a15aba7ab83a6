"""The built-in memory modules: spatial, temporal and working as :class:`MemoryModule` plugins.

Episodic (:mod:`robomem.memory.episodic`) and semantic (:mod:`robomem.memory.semantic`) memory
are modules in their own right. All five are registered by name in
:data:`~robomem.memory.base.MEMORY_MODULES`, which imports this file when one is built.

Example:
    >>> from robomem.memory.builtin import TemporalModule, WorkingModule
    >>> TemporalModule().name, WorkingModule(capacity=4).memory.capacity
    ('temporal', 4)
"""

from __future__ import annotations

import logging

from robomem.memory.base import (
    EpisodeStart,
    Fact,
    MemoryModule,
    MemoryQuery,
    MemoryStorage,
    StepInput,
    StoredRecord,
)
from robomem.memory.spatial import SpatialMemory, SpatialMemoryConfig
from robomem.memory.temporal import (
    PAST_MOVED,
    PAST_PUT_IN,
    PAST_SWITCHED_ON,
    PUT_IN,
    EventRecord,
    TemporalMemory,
)
from robomem.memory.working import WorkingMemory
from robomem.ontology import Ontology
from robomem.percept import EVENT_PICKED_UP, EVENT_PUT_DOWN, EVENT_TOGGLED_ON

SCOPES = ("lifelong", "episode")
FACT_LAST_MOVED = "last_moved"
FACT_LAST_PUT_IN = "last_put_in"
FACT_LAST_SWITCHED_ON = "last_switched_on"
log = logging.getLogger(__name__)


class SpatialModule(MemoryModule):
    """Spatial memory (voxels, occupancy, rooms, scene graph), one map per scene.

    A map is kept per scene: a new scene loads that scene's map from the store when there
    is one, or starts empty. ``scope="episode"`` forgets the map at every episode (the
    "without spatial memory" ablation: the agent still needs a map to walk within an
    episode).

    Args:
        scope: ``lifelong`` (default) or ``episode``.
        cfg: spatial-memory settings.
    """

    name = "spatial"
    blocking = True

    def __init__(self, scope: str = "lifelong", cfg: SpatialMemoryConfig | None = None,
                 ontology: Ontology | None = None) -> None:
        if scope not in SCOPES:
            raise ValueError(f"spatial scope must be one of {', '.join(SCOPES)}, got {scope!r}")
        self.scope = scope
        self.memory = SpatialMemory(cfg, ontology)
        self.scene: str | None = None
        self.inherited: set[str] = set()  # objects believed from a stored map, not seen since
        self._storage: MemoryStorage | None = None
        self._dirty = False

    def begin_episode(self, start: EpisodeStart) -> None:
        """Switch to the episode's scene (loading its map) or, per episode, start afresh."""
        if self.scope == "episode" or start.scene != self.scene:
            self.memory.reset()
            self.inherited = set()
            raw = (self._storage.get_blob(self._blob(start.scene))
                   if self._storage is not None and self.scope == "lifelong" else None)
            if raw is not None:
                try:
                    self.memory = SpatialMemory.from_bytes(raw, self.memory.cfg,
                                                           self.memory.ontology)
                    self.inherited = forget_states(self.memory)
                except ValueError as e:  # saved with another map geometry, say
                    log.warning("spatial memory: the stored map of %r cannot be used (%s); "
                                "starting an empty map", start.scene, e)
        self.scene = start.scene

    def write(self, step: StepInput) -> None:
        """Fold the percept into the maps."""
        self.memory.write(step.percept)
        self.inherited -= {d.key for d in step.percept.detections if d.visible}
        self._dirty = True

    def recall(self, query: MemoryQuery) -> list[Fact]:
        """Where remembered instances of the query's labels are, most confident first."""
        out: list[Fact] = []
        for label in query.labels:
            for n in sorted(self.memory.where_is(label), key=lambda n: -n.confidence):
                out.append(Fact(self.name, "seen", label, n.key, n.confidence,
                                {"parent": n.parent or "", "room": n.room or "",
                                 "last_seen": n.last_seen, "inherited": n.key in self.inherited}))
        return out

    def reset(self) -> None:
        """Forget the map."""
        self.memory.reset()
        self.scene = None
        self.inherited = set()

    def attach(self, storage: MemoryStorage) -> None:
        """Remember the store; scene maps load when their scene comes up."""
        self._storage = storage

    def save(self, storage: MemoryStorage) -> None:
        """Keep the current scene's map (lifelong scope only)."""
        if self.scope == "lifelong" and self.scene is not None and self._dirty:
            storage.put_blob(self._blob(self.scene), self.memory.to_bytes())
            self._dirty = False

    def stats(self) -> dict[str, float]:
        """Objects in the scene graph."""
        return {"objects": float(len(self.memory.graph))}

    @staticmethod
    def _blob(scene: str) -> str:
        return f"spatial/{scene}"


def forget_states(memory: SpatialMemory) -> set[str]:
    """A stored map is from another day: keep where things are, not what state they are in.

    Doors, fridges and lamps are opened, closed and switched by others in the meantime, and
    a stale "the fridge is open" makes a put fail or a "the lamp is on" end an episode early.
    Open and toggled states become unknown, so the planner opens or switches and reads the
    answer (a "... is already open" reply is a fine answer). Things that can be carried may
    have been moved: their confidence halves (one look at an empty spot drops them).

    Returns:
        The keys of the carriable objects, believed but not seen today.
    """
    moved: set[str] = set()
    for node in memory.graph.nodes():
        node.is_open = None
        node.is_toggled = None
        if node.pickupable:
            node.confidence *= 0.5
            moved.add(node.key)
    return moved


class TemporalModule(MemoryModule):
    """Temporal memory: the append-only event log (:class:`TemporalMemory`).

    Args:
        recent: how many of the episode's latest state changes a recall returns.
    """

    name = "temporal"
    light = True

    def __init__(self, recent: int = 5) -> None:
        self.memory = TemporalMemory()
        self.recent = recent
        self.episode = 0
        self._saved = 0  # log entries already in the store

    def begin_episode(self, start: EpisodeStart) -> None:
        """Remember the episode index (events are stamped with it)."""
        self.episode = start.episode

    def write(self, step: StepInput) -> None:
        """Log the agent's action, its outcome, and the percept's events and sightings."""
        if step.action is not None:
            detail = "" if step.action_success else (step.action_error or "failed")
            self.memory.append(EventRecord(step.episode, step.step, "action",
                                           step.action.object_id or "", step.action.name,
                                           detail))
        self.memory.write(step.percept, step.episode, dict(step.rooms), dict(step.sources))

    def recall(self, query: MemoryQuery) -> list[Fact]:
        """Answers to the query's question about earlier episodes, when it asks one.

        Then when each label was last seen, and this episode's latest state changes.
        """
        out: list[Fact] = past_facts(self.memory, query, self.name) if query.past else []
        for label in query.labels:
            rec = self.memory.last(label)
            if rec is not None:
                out.append(Fact(self.name, "last_seen", label, rec.key,
                                1.0 / (1.0 + query.episode - rec.episode),
                                {"episode": rec.episode, "step": rec.step, "room": rec.room}))
        changes = self.memory.changed_since((query.episode, 0))[-self.recent:]
        for rec in reversed(changes):
            out.append(Fact(self.name, "changed", rec.key, rec.kind, 1.0,
                            {"episode": rec.episode, "step": rec.step, "detail": rec.detail}))
        return out

    def reset(self) -> None:
        """Forget the log (the store keeps its copy)."""
        self.memory.reset()
        self._saved = 0

    def attach(self, storage: MemoryStorage) -> None:
        """Load the stored log."""
        self.memory.reset()
        for r in storage.records("event"):
            self.memory.append(EventRecord(r.episode, r.step, str(r.data.get("kind", "")),
                                           r.key, r.label, str(r.data.get("detail", "")),
                                           r.data.get("room")))
        self._saved = len(self.memory)

    def save(self, storage: MemoryStorage) -> None:
        """Append the events logged since the last save."""
        new = self.memory.records()[self._saved:]
        storage.append("event", [StoredRecord(e.episode, e.step, e.key, e.label,
                                              {"kind": e.kind, "detail": e.detail,
                                               "room": e.room}) for e in new])
        self._saved += len(new)

    def stats(self) -> dict[str, float]:
        """Events logged."""
        return {"events": float(len(self.memory))}


class WorkingModule(MemoryModule):
    """Working memory: the objects in view, task-relevant ones kept longest.

    Args:
        capacity: items kept.
        policy: ``lru``, ``lfu`` or ``recency_relevance``.
        half_life: steps for recency to halve.
    """

    name = "working"
    light = True

    def __init__(self, capacity: int = 16, policy: str = "recency_relevance",
                 half_life: float = 20.0) -> None:
        self.memory = WorkingMemory(capacity, policy, half_life)
        self.step = 0

    def begin_episode(self, start: EpisodeStart) -> None:
        """Short-term memory starts empty every episode."""
        self.memory.reset()

    def write(self, step: StepInput) -> None:
        """Attend to the visible objects; those the goal names are most relevant."""
        self.step = step.step
        for d in step.percept.detections:
            if d.visible:
                rel = 1.0 if d.label in step.labels else 0.2
                self.memory.put(d.key, d.label, step.step, rel)

    def recall(self, query: MemoryQuery) -> list[Fact]:
        """What is in the buffer now, most relevant to the query first."""
        items = self.memory.items(query.step)
        return [Fact(self.name, "attended", str(label), key,
                     1.0 if label in query.labels else 0.2)
                for key, label in sorted(items, key=lambda kv: (kv[1] not in query.labels,
                                                                 kv[0]))]

    def reset(self) -> None:
        """Empty the buffer."""
        self.memory.reset()

    def stats(self) -> dict[str, float]:
        """Items held and evictions so far."""
        return {"items": float(len(self.memory)), "evictions": float(len(self.memory.evicted))}


def past_facts(memory: TemporalMemory, query: MemoryQuery, module: str) -> list[Fact]:
    """Temporal memory's answers to ``query.past`` for each of ``query.labels``.

    Only earlier episodes count ("last time"), so the answers hold still while the agent
    acts on them. Facts: ``last_moved`` (value: the object's key; data ``from``/``to``: the
    receptacle keys it was taken from and put in, with their labels), ``last_put_in``
    (subject: a receptacle type; value: the object put in one, data ``label``: its type) and
    ``last_switched_on`` (value: the object's key). ``data["time"]`` is (episode, step); the
    score falls with the episodes since.
    """
    before = (query.episode, 0)
    out: list[Fact] = []
    for label in query.labels:
        if query.past == PAST_MOVED:
            put = memory.latest(EVENT_PUT_DOWN, label, before)
            if put is None:
                continue
            took = memory.latest(EVENT_PICKED_UP, label, put.time, put.key)
            src = took.detail if took is not None else ""
            data = {"from": src, "from_label": memory.label_of(src), "to": put.detail,
                    "to_label": memory.label_of(put.detail), "time": put.time}
            out.append(Fact(module, FACT_LAST_MOVED, label, put.key,
                            1.0 / (1.0 + query.episode - put.episode), data))
        elif query.past == PAST_PUT_IN:
            put = memory.latest(PUT_IN, label, before)
            if put is not None:
                out.append(Fact(module, FACT_LAST_PUT_IN, label, put.key,
                                1.0 / (1.0 + query.episode - put.episode),
                                {"label": put.label, "to": put.detail, "time": put.time}))
        elif query.past == PAST_SWITCHED_ON:
            on = memory.latest(EVENT_TOGGLED_ON, label, before)
            if on is not None:
                out.append(Fact(module, FACT_LAST_SWITCHED_ON, label, on.key,
                                1.0 / (1.0 + query.episode - on.episode),
                                {"label": on.label, "time": on.time}))
    return out
