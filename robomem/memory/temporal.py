"""Temporal memory: an append-only log of what happened, indexed by time, episode and object.

Every step's percept events (appeared, moved, picked up, opened, gone, ...) and the agent's
own actions go in as :class:`EventRecord` rows; nothing is ever rewritten. Queries answer
"when did I last see X", "what changed in room R since step t" and "what happened before I
picked up X".

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

from robomem.percept import Percept


@dataclass(frozen=True)
class EventRecord:
    """One thing that happened.

    Attributes:
        episode: episode index (per agent lifetime).
        step: step within the episode.
        kind: an ``EVENT_*`` kind, ``"seen"`` (a sighting), or ``"action"``.
        key: the object key ("" for actions without a target).
        label: object type, or the action name for actions.
        detail: free text (a receptacle key, an error message, ...).
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

    def write(self, percept: Percept, episode: int, rooms: dict[str, str] | None = None) -> int:
        """Log a percept: its events and one ``seen`` record per visible object.

        Args:
            percept: the step's percept.
            episode: the episode index.
            rooms: object key -> room id, when known.

        Returns:
            How many records were added.
        """
        rooms = rooms or {}
        n = 0
        for e in percept.events:
            self.append(EventRecord(episode, percept.step, e.kind, e.key, e.label, e.detail,
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

    def records(self) -> list[EventRecord]:
        """The whole log, oldest first."""
        return list(self._log)
