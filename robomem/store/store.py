"""The persistent store: one directory with an SQLite database, derived files and a lock.

:class:`Store` is the store behind ``--store``; its directory layout is described in
:mod:`robomem.store.layout`, its database schema and migrations in :mod:`robomem.store.schema`,
and its single-writer lock in :mod:`robomem.store.lock`.

Durability: the database runs in WAL mode with ``synchronous=NORMAL``. Every committed
transaction survives a crash of the process (an exception, ``SIGKILL``, the OOM killer);
after a power cut the last few commits may be lost, but the database stays consistent.
Files under ``index/`` are written atomically but outside the database's transactions, so
after a crash they may be missing or older than the records, and must be rebuilt from them.

One writer: a writable open takes an exclusive ``flock`` on ``LOCK``, which the operating
system drops when the holder exits in any way, so a lock is never stale. Read-only opens
take no lock and can run beside the writer; they see every transaction committed before
each read.

Example:
    >>> import tempfile
    >>> import numpy as np
    >>> from robomem.memory.base import StoredRecord
    >>> from robomem.store import Store
    >>> with Store.open(tempfile.mkdtemp()) as store:
    ...     with store.transaction():
    ...         store.put_blob("semantic/graph", b"{}")
    ...         ids = store.append("episode", [StoredRecord(episode=0, label="Mug",
    ...                                                     vector=np.ones(3, np.float32))])
    ...     rec = next(store.records("episode"))
    ...     ids, rec.label, rec.vector.tolist(), store.blob_names("semantic/")
    ([1], 'Mug', [1.0, 1.0, 1.0], ['semantic/graph'])
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import threading
import time
import urllib.parse
import weakref
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from robomem import __version__
from robomem.memory.base import StoredRecord
from robomem.store.atomic import atomic_write
from robomem.store.errors import (
    StoreCorruptError,
    StoreError,
    StoreVersionError,
)
from robomem.store.layout import (
    DB_NAME,
    INDEX_DIR,
    SNAPSHOT_DIR,
    check_store_dir,
    derived_file_path,
    dir_bytes,
    snapshot_files,
    write_snapshot,
)
from robomem.store.lock import acquire_lock, read_holder, release_lock
from robomem.store.schema import (
    INSERT_RECORD,
    SCHEMA_VERSION,
    SELECT_RECORDS,
    MigrationError,
    create_schema,
    decode_record,
    encode_record,
    migrate,
)

_BATCH = 512  # records read per query by records()
log = logging.getLogger(__name__)
_LABEL_RE = re.compile(r"^[A-Za-z0-9_.-]*$")


def _release(conn: sqlite3.Connection | None, lock_fd: int | None, owner: int) -> None:
    """Close the connection, then empty and unlock ``LOCK`` (also run if a Store is dropped).

    Does nothing in a forked child (``owner`` is the opening process's pid): the child shares
    the parent's connection and lock, and unlocking it there would unlock the parent's store.
    """
    if os.getpid() != owner:
        return
    try:
        if conn is not None:
            conn.close()
    finally:
        if lock_fd is not None:
            release_lock(lock_fd, owner)


class Store:
    """A robomem store; implements :class:`robomem.memory.base.MemoryStorage`.

    Open one with :meth:`open` (or ``Store(path)``) and close it with :meth:`close` or a
    ``with`` block. All methods are thread-safe: one internal lock serialises use of the
    SQLite connection, and a :meth:`transaction` holds it until it ends, so other threads'
    writes never land in it.

    Attributes:
        path: the store directory.
        readonly: whether this open refuses writes (and took no lock).
    """

    def __init__(self, path: str | os.PathLike[str], readonly: bool = False) -> None:
        """Open (and, when writable, create or migrate) the store at ``path``; see :meth:`open`."""
        self.path = Path(path)
        self.readonly = readonly
        self.db_path = self.path / DB_NAME
        self._lock = threading.RLock()
        self._depth = 0  # transaction nesting, changed only by the thread holding _lock
        self._closed = False
        lock_fd: int | None = None
        conn: sqlite3.Connection | None = None
        try:
            check_store_dir(self.path, readonly)
            if not readonly:
                lock_fd = acquire_lock(self.path)
            conn = self._connect()
            self._conn = conn
            self._prepare()
            if not readonly:
                (self.path / INDEX_DIR).mkdir(exist_ok=True)
                (self.path / SNAPSHOT_DIR).mkdir(exist_ok=True)
        except PermissionError as e:
            _release(conn, lock_fd, os.getpid())
            what = "read" if readonly else "write to"
            raise StoreError(
                f"store {self.path}: permission denied on {e.filename or self.path}: "
                f"{'opening' if readonly else 'a run with --store'} needs to {what} it"
                + ("" if readonly else "; to look at a store you may not write, use "
                   "`robomem inspect STORE`")) from None
        except BaseException:
            _release(conn, lock_fd, os.getpid())
            raise
        self._finalizer = weakref.finalize(self, _release, conn, lock_fd, os.getpid())
        log.info("opened store %s (%s, schema v%d)", self.path,
                 "read-only" if readonly else "writable", self.schema_version)

    @classmethod
    def open(cls, path: str | os.PathLike[str], readonly: bool = False) -> Store:
        """Open the store at ``path``.

        A writable open creates the directory and a new store when ``path`` does not exist
        or is an empty directory, takes the single-writer lock, checks the database and
        migrates an older schema (after taking a snapshot). A read-only open needs an
        existing store, takes no lock and works while a writer has it open. Every open runs
        SQLite's ``PRAGMA quick_check``, which reads the whole database once.

        Args:
            path: the store directory.
            readonly: open without the lock; every write raises :class:`StoreError`.

        Returns:
            The open store.

        Raises:
            StoreLockedError: another process has the store open for writing.
            StoreCorruptError: the database is damaged or not an SQLite file (unchanged).
            StoreVersionError: the store comes from a newer robomem, or (read-only) needs
                migrating first.
            StoreError: ``path`` is a file, or a directory that is not a store.
        """
        return cls(path, readonly=readonly)

    # ------------------------------------------------------------ lifecycle
    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Close the database and release the write lock (idempotent).

        Raises:
            StoreError: called inside this thread's :meth:`transaction`.
        """
        with self._lock:
            if self._closed:
                return
            if self._depth:
                raise StoreError(f"store {self.path}: close() called inside transaction(); "
                                 "leave the with-block first")
            self._closed = True
            self._finalizer()
        log.debug("closed store %s", self.path)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("read-only" if self.readonly else "writable")
        return f"Store({str(self.path)!r}, {state})"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all of them are committed at the end of the block, or none.

        ``BEGIN IMMEDIATE`` takes SQLite's write lock at once; an exception rolls everything
        back and is re-raised. Writes outside a transaction commit one call at a time. A
        nested ``transaction()`` joins the outer one (it neither commits nor rolls back by
        itself), so an exception caught inside the outer block does not undo the inner
        block's writes. Other threads wait until the transaction ends.

        Raises:
            StoreError: the store is read-only or closed.
        """
        with self._lock:
            self._check_writable("transaction()")
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException as e:
                self._depth = 0
                self._conn.execute("ROLLBACK")
                log.warning("store %s: a transaction was rolled back (%s: %s)", self.path,
                            type(e).__name__, e)
                raise
            self._depth = 0
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as e:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                log.warning("store %s: commit failed (%s); rolled back", self.path, e)
                raise StoreError(f"store {self.path}: commit failed ({e}); the transaction "
                                 "was rolled back") from e

    # ------------------------------------------------------------ blobs
    def put_blob(self, name: str, data: bytes) -> None:
        """Create or replace blob ``name``."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"blob name must be a non-empty string, got {name!r}")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"blob {name!r} needs bytes, got {type(data).__name__}")
        with self.transaction():
            self._conn.execute("INSERT OR REPLACE INTO blobs(name, data, updated) "
                               "VALUES (?, ?, ?)", (name, bytes(data), time.time()))

    def get_blob(self, name: str) -> bytes | None:
        """Blob ``name``, or None."""
        with self._lock:
            self._check_open()
            row = self._conn.execute("SELECT data FROM blobs WHERE name = ?",
                                     (name,)).fetchone()
        return None if row is None else bytes(row[0])

    def blob_names(self, prefix: str = "") -> list[str]:
        """Names of the blobs that start with ``prefix``, sorted."""
        with self._lock:
            self._check_open()
            names = [r[0] for r in self._conn.execute("SELECT name FROM blobs")]
        return sorted(n for n in names if n.startswith(prefix))

    # ------------------------------------------------------------ records
    def append(self, kind: str, rows: list[StoredRecord]) -> list[int]:
        """Append records of ``kind``; returns their ids (increasing).

        ``data`` is stored as JSON (numpy scalars and arrays become numbers and lists,
        tuples become lists); ``vector`` as float32. The given rows are not modified.

        Raises:
            ValueError: ``kind`` is empty, or a vector is not one-dimensional.
            TypeError: a row's data cannot be written as JSON.
        """
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"record kind must be a non-empty string, got {kind!r}")
        params = [encode_record(kind, r) for r in rows]
        ids: list[int] = []
        with self.transaction():
            for p in params:
                cur = self._conn.execute(INSERT_RECORD, p)
                assert cur.lastrowid is not None
                ids.append(cur.lastrowid)
        return ids

    def records(self, kind: str, after_id: int = 0) -> Iterator[StoredRecord]:
        """Records of ``kind`` with id > ``after_id``, in id order (``id`` filled in).

        Rows are read in batches, and the store's lock is not held between them, so a
        slow consumer never blocks other threads (records appended meanwhile show up).
        """
        last = int(after_id)
        while True:
            with self._lock:
                self._check_open()
                rows = self._conn.execute(SELECT_RECORDS, (kind, last, _BATCH)).fetchall()
            for row in rows:
                yield decode_record(kind, row, self.path)
            if len(rows) < _BATCH:
                return
            last = rows[-1][0]

    def count(self, kind: str) -> int:
        """How many records of ``kind`` there are."""
        with self._lock:
            self._check_open()
            (n,) = self._conn.execute("SELECT COUNT(*) FROM records WHERE kind = ?",
                                      (kind,)).fetchone()
        return int(n)

    def kinds(self) -> dict[str, int]:
        """Record counts by kind, sorted by kind."""
        with self._lock:
            self._check_open()
            rows = self._conn.execute(
                "SELECT kind, COUNT(*) FROM records GROUP BY kind ORDER BY kind").fetchall()
        return {k: int(n) for k, n in rows}

    # ------------------------------------------------------------ derived files
    def write_file(self, name: str, data: bytes) -> None:
        """Write derived file ``index/<name>`` atomically (temp file, fsync, rename).

        Not part of :meth:`transaction`: the file is in place when this returns.

        Raises:
            ValueError: ``name`` is not a plain file name.
            StoreError: the store is read-only or closed.
        """
        target = derived_file_path(self.path, name)
        self._check_writable(f"write_file({name!r})")
        atomic_write(target, data)
        log.debug("store %s: wrote %s (%d bytes)", self.path, name, len(data))

    def read_file(self, name: str) -> bytes | None:
        """A derived file's bytes, or None when it is missing."""
        target = derived_file_path(self.path, name)
        self._check_open()
        try:
            return target.read_bytes()
        except FileNotFoundError:
            return None

    def file_names(self) -> list[str]:
        """Names of the derived files in ``index/``, sorted (temporary files left out)."""
        directory = self.path / INDEX_DIR
        if not directory.is_dir():
            return []
        return sorted(p.name for p in directory.iterdir()
                      if p.is_file() and not p.name.startswith("."))

    # ------------------------------------------------------------ meta
    def meta_get(self, key: str) -> str | None:
        """Value of ``key`` in the meta table, or None."""
        with self._lock:
            self._check_open()
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def meta_set(self, key: str, value: str) -> None:
        """Set ``key`` in the meta table (``schema_version`` is managed by the store)."""
        if key == "schema_version":
            raise ValueError("schema_version is managed by the store; it changes only by "
                             "migration")
        if not isinstance(value, str):
            raise TypeError(f"meta value for {key!r} must be a str, got {type(value).__name__}")
        with self.transaction():
            self._conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                               (key, value))

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        return int(self.meta_get("schema_version") or 0)

    # ------------------------------------------------------------ snapshots, summary
    def snapshot(self, label: str = "") -> Path:
        """Copy the database consistently into ``snapshots/<UTC timestamp>[-label].sqlite``.

        Uses SQLite's backup API, so the copy holds exactly the committed state even while
        other readers run; it is written under a temporary name, synced, then renamed. The
        copy is a self-contained database (rollback-journal mode): to restore it, stop
        robomem and copy it over ``memory.sqlite`` (removing ``memory.sqlite-wal`` and
        ``memory.sqlite-shm``). Works on a read-only store too.

        Args:
            label: an optional suffix (letters, digits, ``_.-``).

        Returns:
            The snapshot's path.

        Raises:
            ValueError: a bad label.
            StoreError: called inside a transaction (it would copy uncommitted writes).
        """
        if not _LABEL_RE.match(label):
            raise ValueError(f"snapshot label {label!r} may only hold letters, digits and "
                             "'_.-'")
        with self._lock:
            self._check_open()
            if self._depth or self._conn.in_transaction:
                raise StoreError(f"store {self.path}: snapshot() inside transaction() would "
                                 "copy uncommitted writes; call it after the block")
            return write_snapshot(self._conn, self.path, label)

    def summary(self) -> dict[str, Any]:
        """What the store holds, for ``robomem inspect`` (JSON-friendly).

        Returns:
            A dict with ``path``, ``readonly``, ``schema_version``, ``created``,
            ``robomem_version``, ``records`` (count by kind), ``blobs`` (``count`` and
            ``by_prefix``: names grouped by the part before the first ``/``), ``files``
            (derived file sizes), ``snapshots`` (names) and ``bytes`` (on disk: database
            with its WAL, index, snapshots, total).
        """
        names = self.blob_names()
        by_prefix: dict[str, list[str]] = {}
        for n in names:
            by_prefix.setdefault(n.split("/", 1)[0] if "/" in n else "", []).append(n)
        files = {n: (self.path / INDEX_DIR / n).stat().st_size for n in self.file_names()}
        snapdir = self.path / SNAPSHOT_DIR
        snaps = [p.name for p in snapshot_files(self.path)]
        db_bytes = sum(p.stat().st_size for p in (self.db_path, self.path / f"{DB_NAME}-wal",
                                                  self.path / f"{DB_NAME}-shm") if p.is_file())
        sizes = {"database": db_bytes, "index": dir_bytes(self.path / INDEX_DIR),
                 "snapshots": dir_bytes(snapdir)}
        sizes["total"] = sum(sizes.values())
        return {
            "path": str(self.path),
            "readonly": self.readonly,
            "schema_version": self.schema_version,
            "created": self.meta_get("created"),
            "robomem_version": self.meta_get("robomem_version"),
            "records": self.kinds(),
            "blobs": {"count": len(names), "by_prefix": by_prefix},
            "files": files,
            "snapshots": snaps,
            "bytes": sizes,
        }

    # ------------------------------------------------------------ internals: opening
    def _connect(self) -> sqlite3.Connection:
        try:
            if self.readonly:
                # With no writer (the LOCK file is empty) and no write-ahead log, SQLite is told
                # the file is immutable, so reading creates no -shm/-wal files in the store;
                # otherwise the usual read-only open shares the writer's WAL index.
                quiet = (not self.db_path.with_name(self.db_path.name + "-wal").exists()
                         and not read_holder(self.path))
                uri = ("file:" + urllib.parse.quote(str(self.db_path.absolute())) + "?mode=ro"
                       + ("&immutable=1" if quiet else ""))
                return sqlite3.connect(uri, uri=True, isolation_level=None,
                                       check_same_thread=False, timeout=10.0)
            return sqlite3.connect(self.db_path, isolation_level=None,
                                   check_same_thread=False, timeout=10.0)
        except sqlite3.DatabaseError as e:
            raise self._db_error(e) from e

    def _prepare(self) -> None:
        """Check the database, then create, migrate or just configure it."""
        try:
            problems = [r[0] for r in self._conn.execute("PRAGMA quick_check")]
            tables = {r[0] for r in self._conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as e:
            raise self._db_error(e) from e
        if problems != ["ok"]:
            raise self._corrupt("; ".join(p.replace("\n", " ") for p in problems[:3]))
        if not tables:
            if self.readonly:
                raise StoreError(f"store {self.path} has an empty database (it was never "
                                 "written); open it writable once to create it")
            self._configure()
            self._create()
            log.info("created a new store at %s (schema v%d)", self.path, SCHEMA_VERSION)
            return
        if "meta" not in tables:
            raise StoreError(f"{self.db_path} is an SQLite database but not a robomem store "
                             f"(no meta table; it has {', '.join(sorted(tables))}); nothing "
                             "was changed; pass the directory of a robomem store")
        version = self._read_version()
        if version > SCHEMA_VERSION:
            made_by = self.meta_get("robomem_version") or "unknown"
            raise StoreVersionError(
                f"store {self.path} has schema version {version} (written by robomem "
                f"{made_by}), but this robomem {__version__} reads schema versions up to "
                f"{SCHEMA_VERSION}; upgrade robomem (pip install -U robomem) to open it; "
                "nothing was changed")
        if version < SCHEMA_VERSION and self.readonly:
            raise StoreVersionError(
                f"store {self.path} has schema version {version}, older than this robomem's "
                f"{SCHEMA_VERSION}; open it writable once to migrate it (a snapshot is taken "
                "first), then read-only opens work")
        if version < SCHEMA_VERSION:
            self._migrate(version)  # before WAL, so a failed migration leaves it as it was
        self._configure()

    def _read_version(self) -> int:
        raw = self.meta_get("schema_version")
        try:
            return int(raw) if raw is not None else -1
        except ValueError:
            pass
        raise StoreCorruptError(f"{self.db_path} has no valid schema_version in its meta table "
                                f"(found {raw!r}); nothing was changed; restore a copy from "
                                f"{self.path / SNAPSHOT_DIR} or move the store away to start "
                                "fresh")

    def _configure(self) -> None:
        if not self.readonly:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")

    def _create(self) -> None:
        with self.transaction():
            create_schema(self._conn)

    def _migrate(self, version: int) -> None:
        if version < 1:
            raise StoreVersionError(f"store {self.path} has schema version {version}; robomem "
                                    f"migrates from version 1 up to {SCHEMA_VERSION} only")
        snap = write_snapshot(self._conn, self.path, f"schema-v{version}")
        log.info("migrating store %s from schema v%d to v%d (a copy is at %s)", self.path,
                 version, SCHEMA_VERSION, snap)
        try:
            migrate(self._conn, version, self.transaction)
        except MigrationError as e:
            raise StoreError(f"migrating store {self.path} from schema v{version} to "
                             f"v{SCHEMA_VERSION} failed at step v{e.step}->v{e.step + 1} "
                             f"({e.cause}); it was rolled back, the store is unchanged; a "
                             f"copy taken before is at {snap}") from e.cause

    def _db_error(self, e: sqlite3.DatabaseError) -> StoreError:
        if isinstance(e, sqlite3.OperationalError):
            return StoreError(f"cannot open store database {self.db_path} (SQLite says: {e}); "
                              "nothing was changed; check its permissions and free disk space")
        return self._corrupt(str(e))

    def _corrupt(self, message: str) -> StoreCorruptError:
        snapdir = self.path / SNAPSHOT_DIR
        snaps = snapshot_files(self.path)
        restore = (f"restore the newest snapshot ({snaps[-1]}) by copying it over "
                   f"{self.db_path} and deleting {DB_NAME}-wal and {DB_NAME}-shm"
                   if snaps else f"restore a copy from {snapdir} (there is none now)")
        return StoreCorruptError(
            f"store database {self.db_path} is corrupt or not an SQLite database (SQLite "
            f"says: {message}); robomem changed nothing. To recover, stop robomem and "
            f"{restore}, or move {self.path} away to start a fresh store")

    # ------------------------------------------------------------ internals: use
    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"store {self.path} is closed")

    def _check_writable(self, what: str) -> None:
        self._check_open()
        if self.readonly:
            raise StoreError(f"store {self.path} is open read-only; {what} needs a writable "
                             "open (Store.open(path) without readonly=True)")
