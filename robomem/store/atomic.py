"""Crash-safe file replacement: a reader sees the old bytes or the new bytes, never a mix.

:func:`atomic_write` writes to a temporary file in the target's directory, flushes and
fsyncs it, renames it over the target with :func:`os.replace` (atomic on POSIX), then fsyncs
the directory so the rename itself survives a power cut. If anything fails the temporary
file is removed and the old content stays in place.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from robomem.store.atomic import atomic_write
    >>> target = Path(tempfile.mkdtemp()) / "index.bin"
    >>> atomic_write(target, b"v1")
    >>> atomic_write(target, b"v2")
    >>> target.read_bytes(), [p.name for p in target.parent.iterdir()]
    (b'v2', ['index.bin'])
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)

# Errors a directory fsync gives on filesystems that cannot sync directories; the rename has
# happened and there is nothing more to do there.
_DIR_FSYNC_UNSUPPORTED = {errno.EINVAL, errno.ENOTSUP, errno.EBADF, errno.EISDIR, errno.EACCES}


def fsync_dir(directory: str | os.PathLike[str]) -> None:
    """Flush a directory's entries (new names, renames) to disk.

    Filesystems that cannot sync a directory are skipped (logged at debug level); any other
    error is raised.

    Args:
        directory: the directory to flush.
    """
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError as e:
        if e.errno in _DIR_FSYNC_UNSUPPORTED:
            log.debug("cannot open %s to sync it (%s); skipped", directory, e)
            return
        raise
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in _DIR_FSYNC_UNSUPPORTED:
            raise
        log.debug("this filesystem cannot sync directory %s (%s); skipped", directory, e)
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], data: bytes | bytearray | memoryview) -> None:
    """Replace (or create) ``path`` with ``data`` atomically and durably.

    The temporary file is ``.<name>.<random>.tmp`` in the same directory (a rename across
    filesystems would not be atomic) and is created with mode ``0o666`` less the umask, like
    an ordinary new file.

    Args:
        path: the file to write; its directory must exist.
        data: the new content (``bytes``, ``bytearray`` or ``memoryview``).

    Raises:
        TypeError: ``data`` is not bytes-like (a ``str`` must be encoded first).
        FileNotFoundError: the directory of ``path`` does not exist.
        OSError: writing, syncing or renaming failed; the old content of ``path`` is kept
            and the temporary file is removed.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"atomic_write({os.fspath(path)!r}) needs bytes, got "
                        f"{type(data).__name__}; encode text first (e.g. text.encode())")
    target = Path(path)
    directory = target.parent
    if not directory.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"cannot write {target}: its directory "
                                f"{directory} does not exist", str(directory))
    tmp = directory / f".{target.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(directory)
