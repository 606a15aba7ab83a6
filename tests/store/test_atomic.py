"""atomic_write: new content or old content, never a mix, and no temporary files left."""

from __future__ import annotations

import os
import stat

import pytest

from robomem.store import atomic_write


def test_creates_and_replaces_without_leftovers(tmp_path):
    target = tmp_path / "graph.bin"
    atomic_write(target, b"first")
    assert target.read_bytes() == b"first"
    atomic_write(str(target), bytearray(b"second, longer"))
    assert target.read_bytes() == b"second, longer"
    atomic_write(target, memoryview(b""))
    assert target.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.bin"]


def test_new_file_mode_follows_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "f", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o644


@pytest.mark.parametrize("broken", ["replace", "fsync"])
def test_failure_keeps_old_content_and_removes_temp(tmp_path, monkeypatch, broken):
    target = tmp_path / "index.faiss"
    target.write_bytes(b"old content")

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, broken, boom)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(target, b"new content")
    monkeypatch.undo()
    assert target.read_bytes() == b"old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.faiss"]


def test_failure_on_new_file_leaves_nothing(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="Input/output"):
        atomic_write(tmp_path / "new.bin", b"data")
    assert list(tmp_path.iterdir()) == []


def test_missing_directory_is_named(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match="nope"):
        atomic_write(missing / "f.bin", b"x")
    assert not missing.exists()


def test_text_is_refused(tmp_path):
    with pytest.raises(TypeError, match="got str"):
        atomic_write(tmp_path / "f.txt", "text")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_directory_is_synced(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        synced.append(os.path.realpath(f"/proc/self/fd/{fd}") if os.path.exists("/proc")
                      else fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    atomic_write(tmp_path / "f", b"x")
    assert len(synced) == 2  # the temporary file, then the directory
    if os.path.exists("/proc"):
        assert synced[1] == os.path.realpath(tmp_path)
