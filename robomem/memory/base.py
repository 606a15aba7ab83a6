"""The memory-module interface: what every module is given, what it answers, how it persists.

A :class:`MemoryModule` is one kind of memory (spatial, temporal, episodic, semantic,
working, or a plugin). The :class:`~robomem.memory.system.MemorySystem` fans every hook out
to its modules in parallel:

* :meth:`MemoryModule.begin_episode` with an :class:`EpisodeStart`;
* :meth:`MemoryModule.write` with a :class:`StepInput` every step (deterministic, no
  language model on the write path);
* :meth:`MemoryModule.recall` with a :class:`MemoryQuery`, answering :class:`Fact` records
  that a planner (symbolic or language model) reads;
* :meth:`MemoryModule.end_episode` with an :class:`EpisodeOutcome`;
* :meth:`MemoryModule.attach` (load from a store) and :meth:`MemoryModule.save` (persist what
  is new, inside the store's per-episode transaction) through the :class:`MemoryStorage`
  protocol, which :class:`robomem.store.Store` implements.

Example:
    >>> from robomem.memory.base import MEMORY_MODULES, Fact
    >>> Fact("semantic", "likely_place", "Mug", "CounterTop", 0.8).text()
    'semantic: Mug likely_place CounterTop (0.80)'
    >>> sorted(MEMORY_MODULES.names())  # listed by name; a module is imported when built
    ['episodic', 'semantic', 'spatial', 'temporal', 'working']
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np
from numpy.typing import NDArray

from robomem.feedback import ActionFeedback
from robomem.percept import Percept
from robomem.registry import Registry
from robomem.types import Action, AgentPose


@dataclass(frozen=True)
class PlanStep:
    """One skill the agent ran and how it ended.

    Attributes:
        skill: skill name (``pickup``, ``put``, ``open``, ...).
        label: the target's object type ("" for exploration).
        target: the target's object key ("" when none).
        status: ``succeeded`` or ``failed``.
        where: for a pickup, the label of the receptacle the object was taken from.
        where_key: that receptacle's object key.
        step: the episode step the skill ended on.
    """

    skill: str
    label: str = ""
    target: str = ""
    status: str = "succeeded"
    where: str = ""
    step: int = 0
    where_key: str = ""


@dataclass(frozen=True)
class EpisodeStart:
    """A new episode begins."""

    episode: int  # index over the agent's (and the store's) whole lifetime
    scene: str
    instruction: str
    family: str = ""  # the parsed goal family, "" when the instruction could not be read
    labels: tuple[str, ...] = ()  # object types the goal names


@dataclass(frozen=True)
class StepInput:
    """What every module is given each step."""

    episode: int
    step: int
    scene: str
    percept: Percept
    action: Action | None  # the action that led to this percept (None on the first step)
    action_success: bool = True
    action_error: str = ""
    labels: tuple[str, ...] = ()  # object types the goal names (relevance for working memory)
    rooms: Mapping[str, str] = field(default_factory=dict)  # object key -> room type
    parents: Mapping[str, str] = field(default_factory=dict)  # object key -> receptacle label
    feedback: ActionFeedback = field(default_factory=ActionFeedback)  # the code to act on
    labels_of: Mapping[str, str] = field(default_factory=dict)  # the action's object keys -> type
    sources: Mapping[str, str] = field(default_factory=dict)  # picked-up key -> receptacle key


@dataclass(frozen=True)
class EpisodeOutcome:
    """An episode has ended."""

    episode: int
    scene: str
    instruction: str
    family: str
    success: bool
    steps: int
    plan: tuple[PlanStep, ...] = ()
    key_frames: tuple[NDArray[np.uint8], ...] = ()  # small RGB thumbnails
    summary: str = ""  # a one-paragraph trajectory digest


@dataclass(frozen=True)
class MemoryQuery:
    """What a planner asks memory.

    Attributes:
        episode: the asking episode.
        step: the asking step.
        scene: the current scene ("" for none).
        instruction: the task text (episodic memory returns similar episodes for it).
        labels: object types of interest.
        pose: the agent's pose.
        k: results per module at most.
        moment: "recall the moment when ...": a description of a past step; episodic memory
            answers with ``moment`` facts (HCAM chunked recall over every stored step).
        past: a question about earlier episodes for each of ``labels`` (one of
            :data:`robomem.memory.temporal.PAST_QUESTIONS`: which one did I move, what did I
            put in it, which one did I switch on); temporal memory answers. "" for none.
    """

    episode: int
    step: int
    scene: str
    instruction: str = ""
    labels: tuple[str, ...] = ()
    pose: AgentPose | None = None
    k: int = 5
    moment: str = ""
    past: str = ""


@dataclass(frozen=True)
class Fact:
    """One recalled item, uniform across modules so any planner can read (or print) it.

    Attributes:
        module: the module that recalled it.
        kind: what sort of fact (``seen``, ``likely_place``, ``similar_episode``, ...).
        subject: what it is about (an object type or key, an instruction, ...).
        value: the answer (a place, a plan, a step, ...).
        score: confidence or similarity, higher is better.
        data: structured detail for planners that want more than the text.
    """

    module: str
    kind: str
    subject: str
    value: str
    score: float = 1.0
    data: Mapping[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """One line for a prompt or a log."""
        return f"{self.module}: {self.subject} {self.kind} {self.value} ({self.score:.2f})"


@dataclass
class MemoryContext:
    """The joined answer of one recall: facts per module, and which modules were late."""

    facts: dict[str, list[Fact]] = field(default_factory=dict)
    late: tuple[str, ...] = ()

    def of(self, module: str, kind: str | None = None) -> list[Fact]:
        """The facts of one module, optionally of one kind."""
        return [f for f in self.facts.get(module, []) if kind is None or f.kind == kind]

    def all(self) -> list[Fact]:
        """Every fact, module by module in a fixed (sorted) order."""
        return [f for m in sorted(self.facts) for f in self.facts[m]]


class MemoryStorage(Protocol):
    """What a module may use to persist itself (implemented by :class:`robomem.store.Store`).

    Three kinds of storage:

    * blobs: whole-state snapshots by name (a knowledge graph, one scene's map);
    * records: append-only rows of a kind (events, episodes, step embeddings), each with
      an episode, a step, a key, a label, JSON data and an optional float32 vector;
    * files: derived data kept next to the database (faiss indexes), written atomically;
      they may be missing or stale after a crash and must be rebuildable from records.

    Blob and record writes made between :meth:`robomem.store.Store.transaction` enter and
    exit are committed together, or not at all.
    """

    def put_blob(self, name: str, data: bytes) -> None:
        """Create or replace blob ``name``."""
        ...

    def get_blob(self, name: str) -> bytes | None:
        """Blob ``name``, or None."""
        ...

    def blob_names(self, prefix: str = "") -> list[str]:
        """Names of the blobs that start with ``prefix``, sorted."""
        ...

    def append(self, kind: str, rows: list[StoredRecord]) -> list[int]:
        """Append records of ``kind``; returns their ids (increasing)."""
        ...

    def records(self, kind: str, after_id: int = 0) -> Iterator[StoredRecord]:
        """Records of ``kind`` with id > ``after_id``, in id order (``id`` filled in)."""
        ...

    def count(self, kind: str) -> int:
        """How many records of ``kind`` there are."""
        ...

    def write_file(self, name: str, data: bytes) -> None:
        """Write a derived file atomically (temp file, fsync, rename)."""
        ...

    def read_file(self, name: str) -> bytes | None:
        """A derived file's bytes, or None when it is missing."""
        ...


@dataclass
class StoredRecord:
    """One append-only row in a store."""

    episode: int
    step: int = 0
    key: str = ""
    label: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    vector: NDArray[np.float32] | None = None
    id: int = 0  # filled in by the store


class MemoryModule(ABC):
    """One memory module. Subclasses set ``name`` and register in :data:`MEMORY_MODULES`.

    Hooks are called from a worker thread, one call at a time per module and in order, so a
    module needs no lock of its own as long as only the memory system calls it. ``blocking``
    modules are always awaited (the agent navigates on spatial memory); the others may miss
    the system's deadline, and then their answer is left out of that recall. ``light``
    modules (microseconds of Python per call) run in the caller's thread while the others
    work on theirs, since handing them to a thread would cost more than their work.
    """

    name: ClassVar[str] = ""
    blocking: ClassVar[bool] = False
    light: ClassVar[bool] = False  # cheap: run in the caller's thread (a hop costs more)

    def begin_episode(self, start: EpisodeStart) -> None:  # noqa: B027  (optional hook)
        """A new episode begins."""

    @abstractmethod
    def write(self, step: StepInput) -> None:
        """Take in one step."""

    @abstractmethod
    def recall(self, query: MemoryQuery) -> list[Fact]:
        """Answer a query with facts, best first."""

    def end_episode(self, outcome: EpisodeOutcome) -> None:  # noqa: B027  (optional hook)
        """The episode ended."""

    @abstractmethod
    def reset(self) -> None:
        """Forget everything (in memory; a store is never erased by this)."""

    def attach(self, storage: MemoryStorage) -> None:  # noqa: B027  (optional hook)
        """Load what a store holds (called once, before the first episode)."""

    def save(self, storage: MemoryStorage) -> None:  # noqa: B027  (optional hook)
        """Persist what is new since the last save (called after :meth:`end_episode`)."""

    def stats(self) -> dict[str, float]:
        """Sizes and counters for metrics and ``robomem inspect``."""
        return {}

    def close(self) -> None:  # noqa: B027  (optional hook)
        """Finish background work and release threads (the run is over)."""


MEMORY_MODULES: Registry[type[MemoryModule]] = Registry(
    "memory module", group="robomem.memory_modules")
# The built-in modules, imported on first use (other packages add theirs by entry point).
MEMORY_MODULES.add_lazy("spatial", "robomem.memory.builtin:SpatialModule")
MEMORY_MODULES.add_lazy("temporal", "robomem.memory.builtin:TemporalModule")
MEMORY_MODULES.add_lazy("working", "robomem.memory.builtin:WorkingModule")
MEMORY_MODULES.add_lazy("episodic", "robomem.memory.episodic:EpisodicMemory")
MEMORY_MODULES.add_lazy("semantic", "robomem.memory.semantic:SemanticMemory")


def check_document(doc: object, fmt: str, version: int, what: str) -> dict[str, Any]:
    """A saved module state's header, checked: ``{"format": fmt, "version": version, ...}``.

    Raises:
        ValueError: not a dict of format ``fmt`` (naming what it is instead), or another
            version (naming the one supported).

    Example:
        >>> check_document({"format": "x", "version": 1}, "x", 1, "x memory")["version"]
        1
        >>> check_document({"format": "x", "version": 7}, "x", 1, "x memory")
        Traceback (most recent call last):
        ...
        ValueError: unsupported x memory version 7; supported: 1
    """
    if not isinstance(doc, Mapping) or doc.get("format") != fmt:
        got = doc.get("format") if isinstance(doc, Mapping) else type(doc).__name__
        raise ValueError(f"not a {what} document (format {got!r}, expected {fmt!r})")
    if doc.get("version") != version:
        raise ValueError(f"unsupported {what} version {doc.get('version')!r}; "
                         f"supported: {version}")
    return dict(doc)
