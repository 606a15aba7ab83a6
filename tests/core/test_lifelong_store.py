"""Lifelong runs on a store: resume, a SIGKILL mid-run, corrupted files, two writers."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from robomem.cli import main
from robomem.config import load_config
from robomem.inspection import inspect_store, recall_moments
from robomem.memory.episodic import EpisodicMemory
from robomem.runner import run
from robomem.store import Store, StoreCorruptError

FAST = ["env.width=64", "env.height=64", "spl=false", "save_scene_graphs=false",
        "agent.modules.options.episodic.encoder=hash", "env.families=[pick_and_place]",
        "env.step_limit=60"]


def _cfg(tmp: Path, store: Path, episodes: int) -> list[str]:
    return [*FAST, f"episodes={episodes}", "seeds=[0]", f"out={tmp / 'runs'}", f"store={store}"]


def _episodes(store: Path) -> list[int]:
    with Store.open(store, readonly=True) as s:
        return [r.episode for r in s.records("episode")]


def test_a_second_run_resumes_where_the_first_stopped(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = run(load_config(None, _cfg(tmp_path, store, 2)), progress=False)
    assert _episodes(store) == [0, 1]
    second = run(load_config(None, _cfg(tmp_path, store, 1)), progress=False)
    assert _episodes(store) == [0, 1, 2]  # numbering continues
    assert first.metrics["episodes"] == 2 and second.metrics["episodes"] == 1
    with Store.open(store, readonly=True) as s:
        names = s.blob_names()
        assert "semantic/graph" in names and any(n.startswith("spatial/") for n in names)
        assert s.count("event") > 0 and s.count("episode_step") > 0
    report = inspect_store(store, tmp_path / "inspect")
    assert len(report.episodes) == 3 and report.facts
    assert any(p.name.startswith("scene_") for p in report.pictures)
    assert "| 2 |" in report.report.read_text()
    # "recall the moment when ...": the stored steps, searched with the store's own encoder
    moments = recall_moments(store, "picked up the object", k=2)
    assert len(moments) == 2 and all(m.kind == "moment" for m in moments)
    assert all(m.data["context"] for m in moments)
    out = subprocess.run([sys.executable, "-m", "robomem.cli", "inspect", str(store), "--moment",
                          "picked up the object", "-k", "1"], capture_output=True, text=True,
                         check=True).stdout
    assert out.startswith("episode ") and "\n  > " in out


def test_sigkill_mid_run_loses_no_committed_episode(tmp_path: Path) -> None:
    store = tmp_path / "store"
    cmd = [sys.executable, "-m", "robomem.cli", "run", "--no-progress", "--episodes", "40",
           "--seeds", "0", "--out", str(tmp_path / "runs"), "--store", str(store), *FAST]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 240
        while time.time() < deadline:
            if (store / "memory.sqlite").exists() and proc.poll() is None:
                try:
                    if len(_episodes(store)) >= 3:
                        break
                except Exception:
                    pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.2)
        else:
            pytest.fail("no three episodes committed in 240 s")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    committed = _episodes(store)
    assert committed == list(range(len(committed))) and len(committed) >= 3
    logged = (next((tmp_path / "runs").iterdir()) / "episodes.jsonl").read_text().splitlines()
    assert len(logged) in (len(committed), len(committed) - 1)  # the log follows the commit
    # the indexes are consistent with the records (rebuilt if the kill left them stale)
    with Store.open(store) as s, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ep = EpisodicMemory(encoder="hash")
        ep.attach(s)
        assert ep.stats()["episodes"] == len(committed)
        assert ep.stats()["steps"] == s.count("episode_step")
    # and the next run continues from there
    run(load_config(None, _cfg(tmp_path, store, 1)), progress=False)
    assert _episodes(store) == [*committed, len(committed)]


def test_corrupt_index_is_rebuilt_and_corrupt_database_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    run(load_config(None, _cfg(tmp_path, store, 2)), progress=False)
    index = store / "index" / "episodic_episodes.faiss"
    index.write_bytes(index.read_bytes()[: index.stat().st_size // 2])
    with pytest.warns(Warning, match="rebuilt episodic_episodes.faiss"):
        run(load_config(None, _cfg(tmp_path, store, 1)), progress=False)
    assert _episodes(store) == [0, 1, 2]
    db = store / "memory.sqlite"
    raw = bytearray(db.read_bytes())
    raw[:100] = b"\x00garbage" * 12 + b"\x00" * 4
    db.write_bytes(bytes(raw))
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    with pytest.raises(StoreCorruptError):
        Store.open(store)
    rc = main(["run", "--no-progress", "--out", str(tmp_path / "runs"), "--store", str(store),
               *FAST, "episodes=1", "seeds=[0]"])
    err = capsys.readouterr().err
    assert rc == 2 and "corrupt" in err.lower() and "Traceback" not in err
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest  # never overwritten


def test_two_writers_cannot_share_a_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with Store.open(store):
        proc = subprocess.run(
            [sys.executable, "-m", "robomem.cli", "run", "--no-progress", "--episodes", "1",
             "--seeds", "0", "--out", str(tmp_path / "runs"), "--store", str(store), *FAST],
            capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert f"in use by another robomem process (pid {os.getpid()}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_store_needs_the_full_memory_agent(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs the memory agent with memory=full"):
        run(load_config(None, [*_cfg(tmp_path, tmp_path / "s", 1), "agent.memory=none"]),
            progress=False)
