"""Persistent memory: a crash-safe, single-writer store directory behind ``--store``.

A :class:`Store` is a directory holding ``memory.sqlite`` (blobs, append-only records with
optional float32 vectors, and meta data, in SQLite's WAL mode), ``index/`` (derived files
written with :func:`atomic_write`), ``snapshots/`` and a ``LOCK`` file. It implements
:class:`robomem.memory.base.MemoryStorage`, the interface memory modules persist through.

Example:
    >>> import tempfile
    >>> from robomem.memory.base import StoredRecord
    >>> from robomem.store import Store
    >>> path = tempfile.mkdtemp()
    >>> with Store.open(path) as store:
    ...     store.append("event", [StoredRecord(episode=0, step=3, key="Mug|1")])
    ...     store.write_file("episodic.faiss", b"...")
    [1]
    >>> with Store.open(path, readonly=True) as store:
    ...     [r.key for r in store.records("event")], store.read_file("episodic.faiss")
    (['Mug|1'], b'...')
"""

from __future__ import annotations

from robomem.store.atomic import atomic_write
from robomem.store.errors import (
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreVersionError,
)
from robomem.store.schema import MIGRATIONS, SCHEMA_VERSION
from robomem.store.store import Store

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Store",
    "StoreCorruptError",
    "StoreError",
    "StoreLockedError",
    "StoreVersionError",
    "atomic_write",
]
