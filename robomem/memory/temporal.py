"""Temporal memory: an append-only log of what happened, indexed by time, episode and object.

Every step's percept events (appeared, moved, picked up, opened, gone, ...) and the agent's
own actions go in as :class:`EventRecord` rows; nothing is ever rewritten. Queries answer
"when did I last see X", "what changed in room R since step t", "what happened before I
picked up X", and the questions tasks about the past ask (:meth:`TemporalMemory.latest`):
"which mug did I move last time, and from where", "what did I put in the fridge",
"which lamp did I turn on".

Example:
    >>> from robomem.memory.temporal import EventRecord, TemporalMemory
    >>> tm = TemporalMemory()
    >>> tm.append(EventRecord(episode=0, step=3, kind="appeared", key="Mug|1", label="Mug"))
    >>> tm.append(EventRecord(episode=0, step=9, kind="picked_up", key="Mug|1", label="Mug"))
    >>> tm.last("Mug", kind=None).step, [e.kind for e in tm.before("Mug|1", "picked_up")]
    (9, ['appeared'])
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from robomem.percept import EVENT_PICKED_UP, EVENT_PUT_DOWN, EVENT_TOGGLED_ON, Percept

PAST_MOVED = "moved"  # which object of a type did I move last, from where, to where
PAST_PUT_IN = "put_in"  # what did I put in (or on) a receptacle of a type last
PAST_SWITCHED_ON = "switched_on"  # which object of a type did I switch on last
PAST_QUESTIONS = (PAST_MOVED, PAST_PUT_IN, PAST_SWITCHED_ON)
"""What a :class:`~robomem.memory.base.MemoryQuery` may ask about earlier episodes."""
PUT_IN = "put_in"  # index pseudo-kind: a put_down filed under the receptacle's label
_INDEXED_KINDS = (EVENT_PICKED_UP, EVENT_PUT_DOWN, EVENT_TOGGLED_ON)


@dataclass(frozen=True)
class EventRecord:
    """One thing that happened.

    Attributes:
        episode: episode index (per agent lifetime).
        step: step within the episode.
        kind: an ``EVENT_*`` kind, ``"seen"`` (a sighting), or ``"action"``.
        key: the object key ("" for actions without a target).
        label: object type, or the action name for actions.
        detail: free text: for ``put_down`` the receptacle key, for ``picked_up`` the key of
            the receptacle it was taken from (when memory knew), an error message, ...
        room: the room the event happened in, when known.
    """

    episode: int
    step: int
    kind: str
    key: str = ""
    label: str = ""
    detail: str = ""
    room: str | None = None

    @property
    def time(self) -> tuple[int, int]:
        """Sortable (episode, step)."""
        return (self.episode, self.step)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict."""
        return asdict(self)


class TemporalMemory:
    """The append-only event log with indexes by time, object key, label and room.

    Records must arrive in time order (the agent's own clock); :meth:`append` refuses one
    that goes back in time, naming both times.
    """

    def __init__(self) -> None:
        self._log: list[EventRecord] = []
        self._times: list[tuple[int, int]] = []
        self._by_key: dict[str, list[int]] = defaultdict(list)
        self._by_label: dict[str, list[int]] = defaultdict(list)
        self._by_room: dict[str, list[int]] = defaultdict(list)
        self._by_kind: dict[tuple[str, str], list[int]] = defaultdict(list)  # (kind, label)
        self._label_of: dict[str, str] = {}  # object key -> its label

    def __len__(self) -> int:
        return len(self._log)

    def reset(self) -> None:
        """Forget everything."""
        self.__init__()  # type: ignore[misc]

    def append(self, rec: EventRecord) -> None:
        """Add one record at the end of the log."""
        if self._times and rec.time < self._times[-1]:
            raise ValueError(f"event at {rec.time} is older than the last one at "
                             f"{self._times[-1]}; the log is append-only in time order")
        i = len(self._log)
        self._log.append(rec)
        self._times.append(rec.time)
        if rec.key:
            self._by_key[rec.key].append(i)
        if rec.label:
            self._by_label[rec.label].append(i)
        if rec.room:
            self._by_room[rec.room].append(i)
        if rec.key and rec.label and rec.kind != "action":
            self._label_of[rec.key] = rec.label
        if rec.kind in _INDEXED_KINDS:
            self._by_kind[(rec.kind, rec.label)].append(i)
            if rec.kind == EVENT_PUT_DOWN and rec.detail in self._label_of:
                self._by_kind[(PUT_IN, self._label_of[rec.detail])].append(i)

    def write(self, percept: Percept, episode: int, rooms: dict[str, str] | None = None,
              sources: dict[str, str] | None = None) -> int:
        """Log a percept: its events and one ``seen`` record per visible object.

        Args:
            percept: the step's percept.
            episode: the episode index.
            rooms: object key -> room id, when known.
            sources: object key -> the receptacle key it stood on, for objects picked up
                this step (the ``picked_up`` record's detail).

        Returns:
            How many records were added.
        """
        rooms = rooms or {}
        n = 0
        for e in percept.events:
            detail = e.detail
            if e.kind == EVENT_PICKED_UP and sources:
                detail = sources.get(e.key, detail)
            self.append(EventRecord(episode, percept.step, e.kind, e.key, e.label, detail,
                                    rooms.get(e.key)))
            n += 1
        for d in percept.detections:
            if d.visible:
                self.append(EventRecord(episode, percept.step, "seen", d.key, d.label, "",
                                        rooms.get(d.key)))
                n += 1
        return n

    # ----------------------------------------------------------------- queries
    def window(self, start: tuple[int, int], end: tuple[int, int] | None = None
               ) -> list[EventRecord]:
        """Records with ``start <= (episode, step) < end`` (to the end when ``end`` is None)."""
        lo = bisect.bisect_left(self._times, start)
        hi = len(self._log) if end is None else bisect.bisect_left(self._times, end)
        return self._log[lo:hi]

    def of(self, key_or_label: str) -> list[EventRecord]:
        """Every record about an object key, or else about a label, oldest first."""
        idx = self._by_key.get(key_or_label) or self._by_label.get(key_or_label, [])
        return [self._log[i] for i in idx]

    def last(self, key_or_label: str, kind: str | None = "seen") -> EventRecord | None:
        """The latest record about it, of ``kind`` (any when None): "when did I last see X".

        Walks the object's or label's index from its end, so the cost does not grow with a
        lifelong log (it used to copy every record of the label first).
        """
        idx = self._by_key.get(key_or_label) or self._by_label.get(key_or_label, [])
        for i in reversed(idx):
            rec = self._log[i]
            if kind is None or rec.kind == kind:
                return rec
        return None

    def changed_since(self, start: tuple[int, int], room: str | None = None) -> list[EventRecord]:
        """State changes (not plain sightings) since ``start``, optionally in one room."""
        recs = self.window(start)
        return [r for r in recs if r.kind not in ("seen", "action")
                and (room is None or r.room == room)]

    def before(self, key: str, kind: str, limit: int = 10) -> list[EventRecord]:
        """The ``limit`` records just before the first ``kind`` event of ``key``.

        This answers "what happened before I picked up X"; oldest first, empty if it never
        happened.
        """
        first = next((i for i in self._by_key.get(key, []) if self._log[i].kind == kind), None)
        if first is None:
            return []
        return self._log[max(0, first - limit):first]

    def label_of(self, key: str) -> str:
        """The label logged for an object key ("" if never logged)."""
        return self._label_of.get(key, "")

    def latest(self, kind: str, label: str, before: tuple[int, int],
               key: str = "") -> EventRecord | None:
        """The latest ``picked_up``, ``put_down`` or ``toggled_on`` of ``label`` before a time.

        ``kind`` may also be :data:`PUT_IN`: the latest ``put_down`` *into* a receptacle of
        type ``label``. With ``key``, only records about that object count. Each (kind,
        label) pair has its own index, walked from its end, so this stays cheap in a
        lifelong log.
        """
        for i in reversed(self._by_kind.get((kind, label), ())):
            rec = self._log[i]
            if rec.time < before and (not key or rec.key == key):
                return rec
        return None

    def records(self) -> list[EventRecord]:
        """The whole log, oldest first."""
        return list(self._log)
