"""Ordinary user mistakes end as `robomem <cmd>: error: ...`, exit 2, no half-made run folder."""

from __future__ import annotations

import errno
import os
import pathlib
from pathlib import Path
from typing import Any

import pytest

from robomem.cli import main
from robomem.store import Store

FAST = ["--no-progress", "--episodes", "1", "seeds=[0]", "env.width=64", "env.height=64",
        "spl=false", "agent.modules.options.episodic.encoder=hash"]


def _run(capsys: pytest.CaptureFixture[str], out: Path, *args: str) -> str:
    code = main(["run", *FAST, "--out", str(out), *args])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("robomem run: error: "), err
    assert len(err) < 1100
    assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())
    return err


@pytest.mark.parametrize("override, needle", [
    ("seeds=[-1]", "seeds must be integers from 0"),
    ("agent.modules.modules=[nope]", "unknown memory module 'nope'"),
    ("env.type=moon", "unknown env type 'moon'; known: ai2thor, household"),
    ("agent.executor.nope=1", "agent.executor.nope"),
    ("env.step_limit=0", "env.step_limit must be at least 1"),
    ("env.id=robomem/Nope-v0", "unknown env"),
    ("policy=nope", "nope"),
])
def test_bad_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str], override: str,
                      needle: str) -> None:
    assert needle in _run(capsys, tmp_path / "runs", override)


def test_out_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "runs"
    f.write_text("not a folder")
    code = main(["run", *FAST, "--out", str(f)])
    err = capsys.readouterr().err
    assert code == 2 and "is a file, not a folder" in err and str(f) in err
    assert f.read_text() == "not a folder"


def test_out_cannot_be_written(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Permission errors are simulated: the tests run as root, which ignores file modes."""
    out = tmp_path / "locked"
    real = pathlib.Path.mkdir

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        if str(self).startswith(str(out)):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        real(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "mkdir", mkdir)
    err = _run(capsys, out)
    assert "cannot write run folder" in err and "Permission denied" in err


def test_store_that_cannot_be_written(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "store"
    Store.open(store).close()
    real = os.open

    def deny_lock(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("LOCK") and flags & (os.O_RDWR | os.O_WRONLY):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny_lock)
    err = _run(capsys, tmp_path / "runs", "--store", str(store))
    assert "permission denied" in err and "robomem inspect" in err and str(store) in err


def test_corrupt_state_blob_names_the_store_and_blob(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    with Store.open(store) as s:
        s.put_blob("system/state", b"\x00not json")
    err = _run(capsys, tmp_path / "runs", "--store", str(store))
    assert "'system/state' is corrupt" in err and str(store) in err
    with Store.open(store, readonly=True) as s:  # nothing was overwritten
        assert s.get_blob("system/state") == b"\x00not json"


def test_huge_values_are_not_echoed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _run(capsys, tmp_path / "runs", "env.scene=" + "x" * 5000 + ".yaml")
    assert len(err) < 1100


def test_inspect_never_writes_into_the_store(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "store"
    Store.open(store).close()
    before = {p: p.stat().st_mtime_ns for p in store.rglob("*")}
    monkeypatch.chdir(tmp_path)
    assert main(["inspect", str(store)]) == 0
    assert (tmp_path / "store-inspect" / "report.md").exists()
    assert {p: p.stat().st_mtime_ns for p in store.rglob("*")} == before
    code = main(["inspect", str(store), "--out", str(store / "inside")])
    err = capsys.readouterr().err
    assert code == 2 and "writes nothing into the store" in err
    assert not (store / "inside").exists()


def test_inspect_of_a_missing_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inspect", str(tmp_path / "nope")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("robomem inspect: error: ")


def test_an_alias_bomb_scene_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 1 KB spec whose aliases would expand to 10**9 values: a short error, no run folder."""
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    spec = tmp_path / "bomb.yaml"
    spec.write_text("\n".join(lines) + "\nname: bomb\nrooms:\n  - {id: K, type: Kitchen, "
                    "rect: *a8}\ndoors: []\n")
    err = _run(capsys, tmp_path / "runs", f"env.scene={spec}")
    assert "bomb.yaml" in err and "alias" in err


@pytest.mark.parametrize("override, needle", [
    ("env.width=100000", "width"),
    ("env.fov=.inf", "fov"),
    ("env.relocation_prob=-1", "relocation_prob"),
])
def test_env_bounds(tmp_path: Path, capsys: pytest.CaptureFixture[str], override: str,
                    needle: str) -> None:
    assert needle in _run(capsys, tmp_path / "runs", override)
