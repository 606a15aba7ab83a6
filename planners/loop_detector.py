"""Loop detection: a repeated state-action signature, or no progress for too long.

Example:
    >>> from robomem.planners.loop_detector import LoopDetector
    >>> d = LoopDetector(repeat_limit=2, patience=100)
    >>> [d.observe(("cell", "RotateRight"), progress=False) for _ in range(3)]
    ['ok', 'ok', 'break']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable

OK, BREAK, GIVE_UP = "ok", "break", "give_up"


class LoopDetector:
    """Counts state-action signatures and steps without progress.

    Args:
        repeat_limit: a signature seen more often than this is a loop.
        patience: steps without progress before it is a loop.
        max_breaks: loops broken before the episode is given up.
    """

    def __init__(self, repeat_limit: int = 4, patience: int = 80, max_breaks: int = 4) -> None:
        self.repeat_limit, self.patience, self.max_breaks = repeat_limit, patience, max_breaks
        self.seen: Counter[Hashable] = Counter()
        self.idle = 0
        self.breaks = 0

    def reset(self) -> None:
        """Forget everything (a new episode)."""
        self.seen.clear()
        self.idle = 0
        self.breaks = 0

    def progress(self) -> None:
        """Something was achieved: clear the signatures and the idle count."""
        self.seen.clear()
        self.idle = 0

    def observe(self, signature: Hashable, progress: bool) -> str:
        """Record one step; returns ``ok``, ``break`` (change strategy) or ``give_up``."""
        if progress:
            self.progress()
        self.seen[signature] += 1
        self.idle += 1
        if self.seen[signature] > self.repeat_limit or self.idle > self.patience:
            self.breaks += 1
            self.seen.clear()
            self.idle = 0
            return GIVE_UP if self.breaks >= self.max_breaks else BREAK
        return OK
