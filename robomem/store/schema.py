"""The store database's schema, its migrations, and how records are encoded in it.

``memory.sqlite`` has three tables: ``meta`` (key/value text: ``schema_version``,
``created``, ``robomem_version``, ...), ``blobs`` (named bytes) and ``records``
(append-only rows of a ``kind``, with JSON ``data`` and an optional little-endian float32
``vector`` of length ``dim``). :data:`SCHEMA_VERSION` is the version this robomem writes;
:data:`MIGRATIONS` bring an older database up to it, all in one transaction (:func:`migrate`).

Example:
    >>> import sqlite3
    >>> import numpy as np
    >>> from robomem.memory.base import StoredRecord
    >>> from robomem.store.schema import (
    ...     INSERT_RECORD, SELECT_RECORDS, create_schema, decode_record, encode_record)
    >>> conn = sqlite3.connect(":memory:")
    >>> create_schema(conn)
    >>> row = StoredRecord(episode=0, label="Mug", data={"n": np.int64(2)},
    ...                    vector=np.ones(2, np.float32))
    >>> _ = conn.execute(INSERT_RECORD, encode_record("event", row))
    >>> (rec,) = conn.execute(SELECT_RECORDS, ("event", 0, 10)).fetchall()
    >>> back = decode_record("event", rec, store=":memory:")
    >>> back.id, back.label, back.data, back.vector.tolist()
    (1, 'Mug', {'n': 2}, [1.0, 1.0])
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import Any

import numpy as np
from numpy.typing import NDArray

from robomem import __version__
from robomem.memory.base import StoredRecord
from robomem.store.errors import StoreCorruptError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
"""The schema this robomem writes; older stores are migrated on a writable open."""

# The current schema, created in one transaction for a new store. Kept equal to what the
# migrations produce from version 1 (tests/store/test_migrations.py checks it).
_SCHEMA: tuple[str, ...] = (
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE blobs(name TEXT PRIMARY KEY, data BLOB NOT NULL, updated REAL NOT NULL)",
    "CREATE TABLE records("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " kind TEXT NOT NULL,"
    " episode INTEGER NOT NULL,"
    " step INTEGER NOT NULL,"
    " key TEXT NOT NULL,"
    " label TEXT NOT NULL,"
    " data TEXT NOT NULL,"  # JSON
    " vector BLOB,"  # little-endian float32, NULL when the record has none
    " dim INTEGER)",  # the vector's length, NULL when none
    "CREATE INDEX records_kind_id ON records(kind, id)",
    "CREATE INDEX records_kind_episode ON records(kind, episode)",
    "CREATE INDEX records_kind_key ON records(kind, key)",
    "CREATE INDEX records_kind_label ON records(kind, label)",
)


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    """Version 2 stores each vector's length in ``dim`` and indexes records by label."""
    conn.execute("ALTER TABLE records ADD COLUMN dim INTEGER")
    conn.execute("UPDATE records SET dim = length(vector) / 4 WHERE vector IS NOT NULL")
    conn.execute("CREATE INDEX IF NOT EXISTS records_kind_label ON records(kind, label)")


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_migrate_1_to_2,)
"""``MIGRATIONS[i]`` turns schema version ``i + 1`` into ``i + 2`` (run inside a transaction)."""

assert len(MIGRATIONS) == SCHEMA_VERSION - 1, "one migration per schema version step"

INSERT_RECORD = ("INSERT INTO records(kind, episode, step, key, label, data, vector, dim) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
"""Inserts one record; its parameters are what :func:`encode_record` returns."""

SELECT_RECORDS = ("SELECT id, episode, step, key, label, data, vector, dim FROM records "
                  "WHERE kind = ? AND id > ? ORDER BY id LIMIT ?")
"""Reads records of a kind after an id (parameters: kind, id, limit), for :func:`decode_record`."""


def utc_now() -> str:
    """The current UTC time as the store writes it, e.g. ``2024-01-01T12:00:00Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def create_schema(conn: sqlite3.Connection) -> None:
    """Create the current schema in an empty database and write its ``meta`` rows.

    Run it inside a transaction, so that a failure leaves the database empty.

    Args:
        conn: a connection to the empty database.
    """
    for stmt in _SCHEMA:
        conn.execute(stmt)
    conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [
        ("schema_version", str(SCHEMA_VERSION)), ("created", utc_now()),
        ("robomem_version", __version__)])


class MigrationError(Exception):
    """A migration failed (and was rolled back); raised by :func:`migrate`.

    Attributes:
        step: the schema version the failing step started from.
        cause: the exception the step (or the transaction) raised.
    """

    def __init__(self, step: int, cause: Exception) -> None:
        super().__init__(f"step v{step}->v{step + 1} failed: {cause}")
        self.step = step
        self.cause = cause


def migrate(conn: sqlite3.Connection, version: int,
            transaction: Callable[[], AbstractContextManager[None]]) -> None:
    """Bring a database from schema ``version`` to :data:`SCHEMA_VERSION` in one transaction.

    Runs the :data:`MIGRATIONS` from ``version`` on, sets ``schema_version`` and records the
    migration in the ``migrated`` meta key, all inside one ``transaction()``.

    Args:
        conn: the database connection.
        version: the database's schema version, from 1 up to :data:`SCHEMA_VERSION`.
        transaction: opens a transaction on ``conn`` that commits at its end and rolls back
            on an exception (the store's :meth:`~robomem.store.Store.transaction`).

    Raises:
        MigrationError: a step, or the transaction, failed; the database was rolled back.
    """
    step = version
    try:
        with transaction():
            for step in range(version, SCHEMA_VERSION):
                log.info("migrating the store schema from v%d to v%d", step, step + 1)
                MIGRATIONS[step - 1](conn)
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                         (str(SCHEMA_VERSION),))
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                         ("migrated", f"{utc_now()} from v{version} by robomem {__version__}"))
    except Exception as e:
        raise MigrationError(step, e) from e


def _json_default(value: Any) -> Any:
    """Numpy scalars and arrays in record data become JSON numbers and lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def encode_record(kind: str, r: StoredRecord) -> tuple[Any, ...]:
    """The :data:`INSERT_RECORD` parameters for record ``r`` of ``kind``.

    ``data`` becomes compact JSON (numpy scalars and arrays become numbers and lists, tuples
    become lists) and ``vector`` little-endian float32 bytes with its length; ``r`` is not
    modified.

    Raises:
        TypeError: the record's data cannot be written as JSON.
        ValueError: its vector is not one-dimensional.
    """
    where = f"record of kind {kind!r} (episode {r.episode}, step {r.step})"
    try:
        data = json.dumps(r.data, default=_json_default, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        raise TypeError(f"{where}: data is not JSON-serialisable ({e}); use str, "
                        "numbers, bools, None, lists and dicts with str keys") from e
    vector: bytes | None = None
    dim: int | None = None
    if r.vector is not None:
        v = np.asarray(r.vector, dtype="<f4")
        if v.ndim != 1:
            raise ValueError(f"{where}: vector must be one-dimensional, got shape "
                             f"{v.shape}; flatten it (e.g. v.reshape(-1))")
        vector, dim = v.tobytes(), int(v.shape[0])
    return (kind, int(r.episode), int(r.step), str(r.key), str(r.label), data, vector, dim)


def decode_record(kind: str, row: tuple[Any, ...],
                  store: str | os.PathLike[str]) -> StoredRecord:
    """The record in a :data:`SELECT_RECORDS` row, with ``id`` filled in.

    Args:
        kind: the record's kind.
        row: the row.
        store: the store's path, for error messages.

    Raises:
        StoreCorruptError: the row's vector does not match its ``dim``, or its data is not
            JSON.
    """
    rid, episode, step, key, label, data, blob, dim = row
    vector: NDArray[np.float32] | None = None
    if blob is not None:
        if dim is None or len(blob) != 4 * dim:
            raise StoreCorruptError(f"store {store}: record {rid} of kind {kind!r} has "
                                    f"a {len(blob)}-byte vector but dim {dim}")
        vector = np.frombuffer(blob, dtype="<f4").astype(np.float32)
    try:
        fields = json.loads(data)
    except ValueError as e:
        raise StoreCorruptError(f"store {store}: record {rid} of kind {kind!r} has "
                                f"data that is not JSON ({e})") from e
    return StoredRecord(episode=int(episode), step=int(step), key=key, label=label,
                        data=fields, vector=vector, id=int(rid))
