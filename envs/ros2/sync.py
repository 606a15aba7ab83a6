"""Time synchronisation of a robot's streams into one Observation (pure Python, no ROS).

A robot publishes its camera image, depth, pose and the rest on separate topics, each message
stamped with the time it was taken. :class:`Synchronizer` keeps the last few messages of each
stream and assembles a set whose stamps all lie within ``tolerance`` seconds of the primary
stream's (the RGB image), the way ``message_filters.ApproximateTimeSynchronizer`` pairs
messages. Each set is taken once; messages older than the last assembled set are stale and
are dropped and counted, as are messages pushed out of a full buffer without ever matching.

Example:
    >>> sync = Synchronizer(["rgb", "depth", "pose"], tolerance=0.02)
    >>> sync.add("rgb", 1.00, "img1"); sync.add("depth", 1.01, "d1"); sync.add("pose", 0.995, "p1")
    >>> got = sync.latest()
    >>> got.stamp, got.messages["depth"]
    (1.0, 'd1')
    >>> sync.add("depth", 0.5, "late"); sync.stats()["stale"]
    1
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Synced", "Synchronizer"]


@dataclass(frozen=True)
class Synced:
    """One set of messages, one per stream, taken at about the same time."""

    stamp: float  # the primary stream's stamp (s)
    messages: dict[str, Any]
    skew: float  # the largest stamp difference to the primary (s)


class Synchronizer:
    """Assembles time-matched sets of messages (module docstring).

    Args:
        streams: stream names; the first is the primary (its stamp is the set's).
        tolerance: the largest stamp difference allowed within a set (s).
        depth: messages kept per stream.
    """

    def __init__(self, streams: Sequence[str], tolerance: float = 0.05, depth: int = 8) -> None:
        if not streams:
            raise ValueError("need at least one stream")
        if not 0.0 <= tolerance <= 10.0:
            raise ValueError(f"tolerance must be in [0, 10] s, got {tolerance!r}")
        self.streams, self.tolerance, self.depth = list(streams), float(tolerance), int(depth)
        self._buf: dict[str, deque[tuple[float, Any]]] = {s: deque() for s in self.streams}
        self._last = float("-inf")  # the stamp of the last assembled set
        self._counts = {"received": 0, "stale": 0, "unmatched": 0, "assembled": 0}

    def add(self, stream: str, stamp: float, message: Any) -> None:
        """Take one message; a stale one (not newer than the last set) is dropped, counted."""
        if stream not in self._buf:
            raise ValueError(f"unknown stream {stream!r}; known: {', '.join(self.streams)}")
        self._counts["received"] += 1
        if stamp <= self._last - self.tolerance:
            self._counts["stale"] += 1
            return
        buf = self._buf[stream]
        buf.append((float(stamp), message))
        if len(buf) > self.depth:
            buf.popleft()
            self._counts["unmatched"] += 1

    def latest(self, after: float | None = None) -> Synced | None:
        """The newest complete set (primary stamp > ``after`` if given), or None; taken once."""
        primary = self.streams[0]
        floor = self._last if after is None else max(self._last, after)
        for stamp, msg in reversed(self._buf[primary]):
            if stamp <= floor:
                break
            chosen = {primary: (stamp, msg)}
            for s in self.streams[1:]:
                best = min(self._buf[s], key=lambda t: abs(t[0] - stamp), default=None)
                if best is None or abs(best[0] - stamp) > self.tolerance:
                    break
                chosen[s] = best
            else:
                self._take(stamp, chosen)
                skew = max(abs(t - stamp) for t, _ in chosen.values())
                return Synced(stamp, {s: m for s, (_, m) in chosen.items()}, skew)
        return None

    def _take(self, stamp: float, chosen: dict[str, tuple[float, Any]]) -> None:
        """Use the set; forget what is older (it can never be used now), counting it."""
        self._last = stamp
        self._counts["assembled"] += 1
        for s, buf in self._buf.items():
            used = chosen[s]
            left = [item for item in buf if item is not used]
            old = [item for item in left if item[0] <= used[0]]
            self._counts["unmatched"] += len(old)
            buf.clear()
            buf.extend(item for item in left if item[0] > used[0])

    def newest(self, stream: str) -> float | None:
        """The newest stamp received on ``stream`` (None if none)."""
        buf = self._buf[stream]
        return buf[-1][0] if buf else None

    def stats(self) -> dict[str, int]:
        """Counters: received, stale (dropped on arrival), unmatched (evicted), assembled."""
        return dict(self._counts)
