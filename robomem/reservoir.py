"""A bounded, uniform sample of a stream of numbers (latencies of a run that lasts weeks).

:class:`Reservoir` is a list that keeps at most ``capacity`` values: every value added so far
has the same chance of being in it (Vitter's algorithm R), so percentiles computed from it
estimate the whole stream's while memory stays bounded. The replacement choices come from a
seeded generator: the same stream gives the same sample.

Example:
    >>> from robomem.reservoir import Reservoir
    >>> r = Reservoir(capacity=100)
    >>> for i in range(10_000):
    ...     r.add(float(i))
    >>> len(r), r.seen
    (100, 10000)
    >>> 3000 < sum(r) / len(r) < 7000  # about the stream's mean, 4999.5
    True
"""

from __future__ import annotations

import random

__all__ = ["DEFAULT_CAPACITY", "Reservoir"]

DEFAULT_CAPACITY = 20_000  # values per stream (~0.6 MB as Python floats)


class Reservoir(list[float]):
    """A list of at most ``capacity`` values, a uniform sample of everything :meth:`add`-ed.

    Args:
        capacity: the most values kept (> 0).
        seed: seeds the replacement choices.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY, seed: int = 0) -> None:
        super().__init__()
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.seen = 0  # values added so far
        self._rng = random.Random(seed)

    def add(self, value: float) -> None:
        """Offer one value: kept outright until full, then with probability capacity/seen."""
        self.seen += 1
        if len(self) < self.capacity:
            self.append(value)
            return
        j = self._rng.randrange(self.seen)
        if j < self.capacity:
            self[j] = value
