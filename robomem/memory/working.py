"""Working memory: a small, bounded buffer of what matters right now (KARMA's short-term memory).

Items are keyed; when the buffer is full the replacement policy picks the victim:
``lru`` (least recently used), ``lfu`` (least frequently used) or ``recency_relevance``
(lowest recency x relevance, recency decaying exponentially with the steps since last use).

Example:
    >>> from robomem.memory.working import WorkingMemory
    >>> wm = WorkingMemory(capacity=2, policy="lru")
    >>> _ = wm.put("a", 1, step=0)
    >>> _ = wm.put("b", 2, step=1)
    >>> _ = wm.get("a", step=2)
    >>> wm.put("c", 3, step=3)  # "b" is the least recently used
    'b'
    >>> sorted(wm.keys())
    ['a', 'c']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

POLICIES = ("lru", "lfu", "recency_relevance")


@dataclass
class _Item:
    value: Any
    relevance: float
    last_used: int
    uses: int
    added: int


class WorkingMemory:
    """A bounded key-value buffer with a replacement policy.

    Args:
        capacity: most items kept (at least 1).
        policy: one of :data:`POLICIES`.
        half_life: steps for recency to halve (``recency_relevance`` only).
    """

    def __init__(self, capacity: int = 16, policy: str = "recency_relevance",
                 half_life: float = 20.0) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        if policy not in POLICIES:
            raise ValueError(f"unknown replacement policy {policy!r}; known: {', '.join(POLICIES)}")
        if half_life <= 0:
            raise ValueError(f"half_life must be positive, got {half_life}")
        self.capacity, self.policy, self.half_life = capacity, policy, half_life
        self._items: dict[str, _Item] = {}
        self.evicted: list[str] = []

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def keys(self) -> list[str]:
        """The keys held, in insertion order."""
        return list(self._items)

    def reset(self) -> None:
        """Empty the buffer."""
        self._items.clear()
        self.evicted.clear()

    def put(self, key: str, value: Any, step: int, relevance: float = 1.0) -> str | None:
        """Store (or refresh) ``key``; returns the key evicted to make room, if any."""
        if key in self._items:
            it = self._items[key]
            it.value, it.relevance, it.last_used, it.uses = value, relevance, step, it.uses + 1
            return None
        victim = None
        if len(self._items) >= self.capacity:
            victim = min(self._items, key=lambda k: self._score(k, step))
            del self._items[victim]
            self.evicted.append(victim)
        self._items[key] = _Item(value, relevance, step, 1, step)
        return victim

    def get(self, key: str, step: int) -> Any:
        """The value of ``key`` (counts as a use); raises ``KeyError`` if absent."""
        it = self._items[key]
        it.last_used, it.uses = step, it.uses + 1
        return it.value

    def items(self, step: int) -> list[tuple[str, Any]]:
        """``(key, value)`` pairs, most valuable first under the policy (no use counted)."""
        order = sorted(self._items, key=lambda k: self._score(k, step), reverse=True)
        return [(k, self._items[k].value) for k in order]

    def _score(self, key: str, step: int) -> tuple[float, int]:
        """Higher is more worth keeping; ties go to the newer item."""
        it = self._items[key]
        if self.policy == "lru":
            return (float(it.last_used), it.added)
        if self.policy == "lfu":
            return (float(it.uses), it.last_used)
        recency = math.exp(-math.log(2) * max(0, step - it.last_used) / self.half_life)
        return (recency * it.relevance, it.added)
