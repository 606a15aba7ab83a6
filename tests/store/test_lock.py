"""The single-writer lock on its own: holder info, refusals, release and fork safety."""

from __future__ import annotations

import fcntl
import os
import socket

import pytest

from robomem.store import StoreLockedError
from robomem.store.lock import LOCK_NAME, acquire_lock, read_holder, release_lock


def test_acquire_writes_holder_and_release_empties_it(tmp_path):
    assert read_holder(tmp_path) == {}  # no LOCK file yet
    fd = acquire_lock(tmp_path)
    try:
        holder = read_holder(tmp_path)
        assert holder["pid"] == os.getpid()
        assert holder["host"] == socket.gethostname()
        assert holder["since"].endswith("Z")
        assert isinstance(holder["command"], str)
    finally:
        release_lock(fd, os.getpid())
    assert (tmp_path / LOCK_NAME).read_bytes() == b""
    assert read_holder(tmp_path) == {}
    release_lock(acquire_lock(tmp_path), os.getpid())  # free again


def test_second_acquire_in_this_process_names_it(tmp_path):
    fd = acquire_lock(tmp_path)
    try:
        with pytest.raises(StoreLockedError, match=r"already open for writing in this process "
                                                   rf"\(pid {os.getpid()} ") as info:
            acquire_lock(tmp_path)
        assert info.value.holder["pid"] == os.getpid()
    finally:
        release_lock(fd, os.getpid())


def test_unreadable_holder_says_still_starting(tmp_path):
    fd = acquire_lock(tmp_path)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, b"\xff not json", 0)
        assert read_holder(tmp_path) == {}
        with pytest.raises(StoreLockedError, match="it is still starting") as info:
            acquire_lock(tmp_path)
        assert info.value.holder == {}
    finally:
        release_lock(fd, os.getpid())


def test_release_by_another_pid_does_nothing(tmp_path):
    fd = acquire_lock(tmp_path)
    try:
        release_lock(fd, owner=os.getpid() + 1)  # as in a forked child: fd stays open, locked
        assert read_holder(tmp_path)["pid"] == os.getpid()
        other = os.open(tmp_path / LOCK_NAME, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(other)
    finally:
        release_lock(fd, os.getpid())
