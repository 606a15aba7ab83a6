"""The single-writer lock: an exclusive ``flock`` on the store directory's ``LOCK`` file.

A writable :class:`~robomem.store.Store` takes the lock with :func:`acquire_lock`, which also
writes who holds it (pid, host, since, command) into the file. The operating system drops an
``flock`` when its holder exits in any way, even ``SIGKILL``, so a lock is never stale and
there is nothing to clean up after a crash; the holder information only serves the
:class:`~robomem.store.StoreLockedError` a second writer gets. (``flock`` is not reliable on
some network filesystems; keep stores on a local disk.)

:func:`release_lock` empties the file and unlocks it. A forked child shares its parent's
lock, so a release in any process other than the one that took the lock does nothing.

Example:
    >>> import os
    >>> import tempfile
    >>> from pathlib import Path
    >>> from robomem.store import StoreLockedError
    >>> from robomem.store.lock import acquire_lock, read_holder, release_lock
    >>> directory = Path(tempfile.mkdtemp())
    >>> fd = acquire_lock(directory)
    >>> read_holder(directory)["pid"] == os.getpid()
    True
    >>> try:
    ...     acquire_lock(directory)
    ... except StoreLockedError as e:
    ...     "already open for writing in this process" in str(e)
    True
    >>> release_lock(fd, owner=os.getpid())
    >>> read_holder(directory)
    {}
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shlex
import socket
import sys
from pathlib import Path
from typing import Any

from robomem.store.errors import StoreLockedError
from robomem.store.schema import utc_now

LOCK_NAME = "LOCK"
"""The lock file's name inside the store directory."""

log = logging.getLogger(__name__)


def acquire_lock(directory: Path) -> int:
    """Take the exclusive ``flock`` on ``directory/LOCK`` and record who holds it.

    The file is created when missing; its content is replaced by one JSON line with this
    process's ``pid``, ``host``, ``since`` (UTC) and ``command``, synced to disk.

    Args:
        directory: the store directory (it must exist).

    Returns:
        The lock file's descriptor, to hand to :func:`release_lock`.

    Raises:
        StoreLockedError: another process, or another open in this one, holds the lock; its
            ``holder`` is what the holder wrote into the file.
    """
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            raw = os.pread(fd, 65536, 0)
        finally:
            os.close(fd)
        raise _locked_error(directory, raw) from None
    except BaseException:
        os.close(fd)
        raise
    try:
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": utc_now(),
                "command": shlex.join(sys.argv)}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        raise
    log.debug("took the write lock of %s", directory)
    return fd


def read_holder(directory: Path) -> dict[str, Any]:
    """Who holds the lock on the store at ``directory``, as written by :func:`acquire_lock`.

    Args:
        directory: the store directory.

    Returns:
        The holder's ``pid``, ``host``, ``since`` and ``command``; empty when the file is
        missing, empty (no writer, or one still starting) or unreadable.
    """
    try:
        raw = (directory / LOCK_NAME).read_bytes()
    except FileNotFoundError:
        return {}
    return _parse_holder(raw)


def release_lock(fd: int, owner: int) -> None:
    """Empty the lock file, unlock it and close ``fd``.

    Does nothing in a forked child (any process whose pid is not ``owner``): the child shares
    the parent's lock, and unlocking it there would unlock the parent's store.

    Args:
        fd: the descriptor :func:`acquire_lock` returned.
        owner: the pid of the process that called :func:`acquire_lock`.
    """
    if os.getpid() != owner:
        return
    try:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _parse_holder(raw: bytes) -> dict[str, Any]:
    """The JSON object in a lock file's bytes, or ``{}`` when there is none."""
    try:
        holder = json.loads(raw.decode())
    except ValueError:  # also UnicodeDecodeError
        return {}
    return holder if isinstance(holder, dict) else {}


def _locked_error(directory: Path, raw: bytes) -> StoreLockedError:
    """The error for a lock that is held; ``raw`` is the lock file's content."""
    holder = _parse_holder(raw)
    advice = "wait for it to finish, or use another --store"
    if not holder:
        return StoreLockedError(f"store {directory} is in use by another robomem process "
                                f"(it is still starting; see {directory / LOCK_NAME}); "
                                f"{advice}")
    who = (f"pid {holder.get('pid', '?')} on {holder.get('host', '?')} since "
           f"{holder.get('since', '?')}: {holder.get('command', '?')}")
    if holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
        return StoreLockedError(f"store {directory} is already open for writing in this "
                                f"process ({who}); close it first, or use that Store",
                                holder)
    return StoreLockedError(f"store {directory} is in use by another robomem process "
                            f"({who}); {advice}", holder)
