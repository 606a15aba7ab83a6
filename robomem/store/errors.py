"""What can go wrong when opening or using a :class:`~robomem.store.Store`.

Every error is a :class:`StoreError`, so a command line can catch that one class and print
the message, which always names the store and says what to do next.

Example:
    >>> from robomem.store.errors import StoreError, StoreLockedError
    >>> issubclass(StoreLockedError, StoreError)
    True
    >>> StoreLockedError("store /tmp/s is in use", holder={"pid": 42}).holder["pid"]
    42
"""

from __future__ import annotations

from typing import Any


class StoreError(Exception):
    """A store cannot be opened, or an operation on it is not allowed."""


class StoreLockedError(StoreError):
    """Another process holds the store's write lock.

    Attributes:
        holder: what the holder wrote into the ``LOCK`` file (``pid``, ``host``, ``since``,
            ``command``); empty when it could not be read.
    """

    def __init__(self, message: str, holder: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.holder: dict[str, Any] = dict(holder or {})


class StoreCorruptError(StoreError):
    """The store's database is damaged or is not an SQLite database (nothing was changed)."""


class StoreVersionError(StoreError):
    """The store's schema version cannot be used by this robomem (too new, or needs migrating)."""
