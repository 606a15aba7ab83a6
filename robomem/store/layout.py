"""The store directory: what lives where, and the files kept beside the database.

Layout of a store directory::

    memory.sqlite   blobs, records and meta (SQLite, WAL mode); the source of truth
    index/          derived files (faiss indexes, ...) from write_file(); rebuildable
    snapshots/      consistent copies of memory.sqlite (snapshot(), and before migrations)
    LOCK            who holds the store for writing (pid, host, since, command)

This module checks that a path can be (or is) a store, names derived files and writes
snapshots; :class:`~robomem.store.Store` does the rest.

Example:
    >>> import sqlite3
    >>> import tempfile
    >>> from pathlib import Path
    >>> from robomem.store.layout import check_store_dir, snapshot_files, write_snapshot
    >>> path = Path(tempfile.mkdtemp()) / "store"
    >>> check_store_dir(path, readonly=False)  # creates it: a new store may go there
    >>> conn = sqlite3.connect(path / "memory.sqlite")
    >>> snap = write_snapshot(conn, path, "first")
    >>> conn.close()
    >>> snapshot_files(path) == [snap], snap.name.endswith("-first.sqlite")
    (True, True)
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from robomem.store.atomic import fsync_dir
from robomem.store.errors import StoreError
from robomem.store.lock import LOCK_NAME

DB_NAME = "memory.sqlite"
INDEX_DIR = "index"
SNAPSHOT_DIR = "snapshots"

_FILE_NAME_BAD = ("/", "\\", "\0")
log = logging.getLogger(__name__)


def check_store_dir(path: Path, readonly: bool) -> None:
    """Refuse a path that is a file, or a directory that holds something other than a store.

    A writable open accepts a missing path (and creates the directory), an empty directory,
    one with only an empty ``index/``, ``snapshots/`` or a ``LOCK`` file, and an existing
    store; a read-only open needs an existing store.

    Args:
        path: the store directory.
        readonly: whether the store is being opened read-only.

    Raises:
        StoreError: ``path`` cannot hold a store; the message says what to pass instead.
    """
    db_path = path / DB_NAME
    if path.exists() and not path.is_dir():
        raise StoreError(f"store path {path} is a file, not a directory; a store is a "
                         f"directory holding {DB_NAME}: pass a new or empty directory, "
                         "or an existing store")
    if readonly:
        if not db_path.is_file():
            raise StoreError(f"no store at {path} (no {DB_NAME}); a read-only open "
                             "needs an existing store")
        return
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True)
        return
    if db_path.exists():
        return
    foreign = []
    for entry in sorted(path.iterdir()):
        if entry.name == LOCK_NAME and entry.is_file():
            continue
        if entry.name in (INDEX_DIR, SNAPSHOT_DIR) and entry.is_dir() \
                and not any(entry.iterdir()):
            continue
        foreign.append(entry.name + ("/" if entry.is_dir() else ""))
    if not foreign:
        return
    hint = ""
    if (path / SNAPSHOT_DIR).is_dir() and any((path / SNAPSHOT_DIR).iterdir()):
        hint = (f"; its {SNAPSHOT_DIR}/ suggests the database was lost: copy a snapshot "
                f"to {db_path} to restore it")
    raise StoreError(f"{path} is not a robomem store: it has no {DB_NAME} but holds "
                     f"{', '.join(foreign[:5])}{' ...' if len(foreign) > 5 else ''}; "
                     f"pass a new or empty directory, or an existing store{hint}")


def derived_file_path(path: Path, name: str) -> Path:
    """Where derived file ``name`` of the store at ``path`` lives (``index/<name>``).

    Raises:
        ValueError: ``name`` is not a plain file name (empty, a path, hidden, ``..``).
    """
    if (not isinstance(name, str) or not name or name in (".", "..")
            or name.startswith(".") or any(c in name for c in _FILE_NAME_BAD)):
        raise ValueError(f"derived file name {name!r} is not allowed: use a plain file name "
                         "such as 'episodic.faiss' (no path separators, no leading '.', "
                         "not '..')")
    return path / INDEX_DIR / name


def dir_bytes(directory: Path) -> int:
    """Total size of the files under ``directory`` (0 when it is missing)."""
    if not directory.is_dir():
        return 0
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def snapshot_files(path: Path) -> list[Path]:
    """The snapshots of the store at ``path``, oldest first (their names start with the time)."""
    snapdir = path / SNAPSHOT_DIR
    return sorted(snapdir.glob("*.sqlite")) if snapdir.is_dir() else []


def write_snapshot(conn: sqlite3.Connection, path: Path, label: str) -> Path:
    """Copy ``conn``'s committed database into ``snapshots/<UTC timestamp>[-label].sqlite``.

    Uses SQLite's backup API; the copy is written in rollback-journal mode under a temporary
    name, synced, then renamed (with ``-1``, ``-2``, ... added if the name is taken).

    Args:
        conn: a connection to the store's database, outside any transaction.
        path: the store directory (``snapshots/`` is created when missing).
        label: a suffix for the name, or ``""``; the caller checks it.

    Returns:
        The snapshot's path.
    """
    snapdir = path / SNAPSHOT_DIR
    snapdir.mkdir(exist_ok=True)
    stem = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    if label:
        stem += f"-{label}"
    final = snapdir / f"{stem}.sqlite"
    n = 1
    while final.exists():
        final = snapdir / f"{stem}-{n}.sqlite"
        n += 1
    tmp = snapdir / f".{final.name}.tmp"
    dst = sqlite3.connect(tmp)
    try:
        conn.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
        dst.close()
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)
    except BaseException:
        dst.close()
        for p in (tmp, Path(f"{tmp}-journal")):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        raise
    fsync_dir(snapdir)
    log.info("wrote snapshot %s", final)
    return final
