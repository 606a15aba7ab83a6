"""Store: round trips, transactions, the single-writer lock, crashes, corruption, versions."""

from __future__ import annotations

import hashlib
import json
import os
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from robomem.memory.base import MemoryStorage, StoredRecord
from robomem.store import (
    SCHEMA_VERSION,
    Store,
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreVersionError,
)

REPO = Path(__file__).resolve().parents[2]

# A second process that opens the store for writing, commits one record and one blob, then
# (in "uncommitted" mode) leaves a transaction open with more writes, and waits to be killed.
HOLDER = r"""
import sys, time
from robomem.memory.base import MemoryStorage, StoredRecord
from robomem.store import Store

store = Store.open(sys.argv[1])
store.append("event", [StoredRecord(episode=0, step=1, key="committed")])
store.put_blob("state", b"committed")
if sys.argv[2] == "uncommitted":
    tx = store.transaction()
    tx.__enter__()
    store.append("event", [StoredRecord(episode=0, step=2, key="uncommitted")])
    store.put_blob("state", b"uncommitted")
print("ready", flush=True)
time.sleep(120)
"""


def spawn_holder(path: Path, mode: str = "committed") -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), mode], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    line = proc.stdout.readline() if ready else ""
    if line.strip() != "ready":
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"holder process did not start: {err}")
    return proc


@pytest.fixture
def holder(tmp_path):
    procs: list[subprocess.Popen[str]] = []

    def start(mode: str = "committed") -> subprocess.Popen[str]:
        procs.append(spawn_holder(tmp_path / "store", mode))
        return procs[-1]

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.communicate()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_store(path: Path, n: int = 50) -> None:
    with Store.open(path) as s:
        s.append("event", [StoredRecord(episode=i // 10, step=i, key=f"k{i}", data={"i": i},
                                        vector=np.full(8, i, np.float32)) for i in range(n)])
        s.put_blob("system/state", b"x" * 1000)


# ---------------------------------------------------------------- layout, lifecycle
def test_new_store_layout_and_settings(tmp_path):
    path = tmp_path / "a" / "store"
    with Store.open(path) as s:
        assert s.path == path
        assert sorted(p.name for p in path.iterdir()) == [
            "LOCK", "index", "memory.sqlite", "memory.sqlite-shm", "memory.sqlite-wal",
            "snapshots"]
        assert s._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s._conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert s.schema_version == SCHEMA_VERSION
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", s.meta_get("created") or "")
        holder = json.loads((path / "LOCK").read_text())
        assert holder["pid"] == os.getpid()
        assert {"host", "since", "command"} <= set(holder)
    assert (path / "LOCK").read_bytes() == b""  # emptied on close
    assert not (path / "memory.sqlite-wal").exists()  # checkpointed on close


def test_empty_existing_directory_becomes_a_store(tmp_path):
    with Store.open(tmp_path) as s:
        s.put_blob("a", b"1")
    with Store.open(tmp_path) as s:
        assert s.get_blob("a") == b"1"


def test_path_that_is_a_file(tmp_path):
    f = tmp_path / "store"
    f.write_text("hello")
    for readonly in (False, True):
        with pytest.raises(StoreError, match="is a file, not a directory"):
            Store.open(f, readonly=readonly)
    assert f.read_text() == "hello"


def test_directory_with_other_content_is_refused_untouched(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "data").mkdir()
    with pytest.raises(StoreError, match=r"not a robomem store.*data/, notes\.txt"):
        Store.open(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "notes.txt"]


def test_directory_with_snapshots_but_no_database_suggests_restoring(tmp_path):
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "20240101T000000.000000Z.sqlite").write_bytes(b"x")
    with pytest.raises(StoreError, match="copy a snapshot"):
        Store.open(tmp_path)


def test_sqlite_file_that_is_not_a_store(tmp_path):
    conn = sqlite3.connect(tmp_path / "memory.sqlite")
    conn.execute("CREATE TABLE foo(x)")
    conn.commit()
    conn.close()
    before = sha(tmp_path / "memory.sqlite")
    with pytest.raises(StoreError, match=r"not a robomem store \(no meta table; it has foo\)"):
        Store.open(tmp_path)
    assert sha(tmp_path / "memory.sqlite") == before


def test_readonly_needs_an_existing_store(tmp_path):
    with pytest.raises(StoreError, match="needs an existing store"):
        Store.open(tmp_path / "missing", readonly=True)
    assert not (tmp_path / "missing").exists()


def test_closed_store_refuses_use_and_close_is_idempotent(tmp_path):
    s = Store.open(tmp_path)
    s.close()
    s.close()
    assert s.closed
    with pytest.raises(StoreError, match="is closed"):
        s.get_blob("a")
    with pytest.raises(StoreError, match="is closed"):
        s.put_blob("a", b"")
    with pytest.raises(StoreError, match="is closed"):
        list(s.records("event"))


# ---------------------------------------------------------------- blobs, records, files
def test_store_is_a_memory_storage(tmp_path):
    with Store.open(tmp_path) as s:
        storage: MemoryStorage = s  # checked by mypy against the protocol
        storage.put_blob("system/state", b"{}")
        assert storage.blob_names("system/") == ["system/state"]


def test_blob_round_trip(tmp_path):
    with Store.open(tmp_path) as s:
        s.put_blob("spatial/scene_2", b"\x00\x01")
        s.put_blob("spatial/scene_1", b"map")
        s.put_blob("semantic/graph", bytearray(b"{}"))  # type: ignore[arg-type]
        s.put_blob("empty", b"")
        s.put_blob("spatial/scene_1", b"map v2")
        assert s.get_blob("spatial/scene_1") == b"map v2"
        assert s.get_blob("empty") == b""
        assert s.get_blob("missing") is None
        assert s.blob_names("spatial/") == ["spatial/scene_1", "spatial/scene_2"]
        assert s.blob_names() == ["empty", "semantic/graph", "spatial/scene_1",
                                  "spatial/scene_2"]
        assert s.blob_names("x") == []
        with pytest.raises(ValueError, match="non-empty"):
            s.put_blob("", b"x")
        with pytest.raises(TypeError, match="needs bytes, got str"):
            s.put_blob("a", "text")  # type: ignore[arg-type]
    with Store.open(tmp_path, readonly=True) as s:
        assert s.get_blob("spatial/scene_2") == b"\x00\x01"


def test_record_round_trip_with_vectors(tmp_path):
    rows = [
        StoredRecord(episode=3, step=7, key="Mug|1", label="Mug",
                     data={"where": "CounterTop", "p": 0.5, "tags": ["a", "b"], "n": None},
                     vector=np.array([0.25, -1.5, 3.0], np.float32)),
        StoredRecord(episode=np.int64(4), step=np.int32(0), label="",
                     data={"f": np.float32(0.5), "i": np.int64(2), "a": np.arange(3)}),
        StoredRecord(episode=4, step=1,
                     vector=np.arange(5, dtype=np.float64)),  # type: ignore[arg-type]
    ]
    with Store.open(tmp_path) as s:
        ids = s.append("episode", rows)
        assert ids == sorted(ids) and len(set(ids)) == 3
        assert [r.id for r in rows] == [0, 0, 0]  # the caller's rows are left alone
    with Store.open(tmp_path) as s:
        got = list(s.records("episode"))
    assert [r.id for r in got] == ids
    a, b, c = got
    assert (a.episode, a.step, a.key, a.label) == (3, 7, "Mug|1", "Mug")
    assert a.data == {"where": "CounterTop", "p": 0.5, "tags": ["a", "b"], "n": None}
    assert a.vector is not None and a.vector.dtype == np.float32
    np.testing.assert_array_equal(a.vector, [0.25, -1.5, 3.0])
    a.vector[0] = 9.0  # vectors are writable copies
    assert b.vector is None and (b.episode, b.step) == (4, 0)
    assert b.data == {"f": 0.5, "i": 2, "a": [0, 1, 2]}
    assert c.vector is not None and c.vector.dtype == np.float32 and c.vector.shape == (5,)
    np.testing.assert_array_equal(c.vector, np.arange(5))


def test_bad_records_are_refused_and_nothing_is_written(tmp_path):
    with Store.open(tmp_path) as s:
        with pytest.raises(ValueError, match=r"one-dimensional, got shape \(2, 3\)"):
            flat = np.zeros((2, 3), np.float32)
            s.append("e", [StoredRecord(episode=0), StoredRecord(episode=1, step=5, vector=flat)])
        with pytest.raises(TypeError, match=r"kind 'e' \(episode 0, step 2\).*not JSON"):
            s.append("e", [StoredRecord(episode=0, step=2, data={"x": object()})])
        with pytest.raises(ValueError, match="kind must be a non-empty string"):
            s.append("", [StoredRecord(episode=0)])
        assert s.count("e") == 0
        assert s.append("e", []) == []


def test_records_order_after_id_and_kinds(tmp_path):
    with Store.open(tmp_path) as s:
        ev = s.append("event", [StoredRecord(episode=0, step=i) for i in range(3)])
        ep = s.append("episode", [StoredRecord(episode=0, key="e0")])
        ev += s.append("event", [StoredRecord(episode=1, step=i) for i in range(1200)])
        assert ep[0] > ev[2] and ev[3] > ep[0]
        got = list(s.records("event"))
        assert [r.id for r in got] == ev  # id order across kinds and read batches
        assert [r.step for r in got[:5]] == [0, 1, 2, 0, 1]
        assert [r.id for r in s.records("event", after_id=ev[1])] == ev[2:]
        assert [r.id for r in s.records("event", after_id=ev[-1])] == []
        assert [r.key for r in s.records("episode")] == ["e0"]
        assert list(s.records("nothing")) == []
        assert (s.count("event"), s.count("episode"), s.count("nothing")) == (1203, 1, 0)
        assert s.kinds() == {"episode": 1, "event": 1203}


def test_derived_files_round_trip(tmp_path):
    with Store.open(tmp_path) as s:
        assert s.read_file("episodic.faiss") is None
        s.write_file("episodic.faiss", b"index v1")
        s.write_file("episodic.faiss", b"index v2")
        s.write_file("semantic.json", b"{}")
        assert s.read_file("episodic.faiss") == b"index v2"
        assert s.file_names() == ["episodic.faiss", "semantic.json"]
    assert (tmp_path / "index" / "episodic.faiss").read_bytes() == b"index v2"
    with Store.open(tmp_path, readonly=True) as s:
        assert s.read_file("semantic.json") == b"{}"


@pytest.mark.parametrize("name", ["", ".", "..", "../escape", "a/b", "/etc/passwd", "a\\b",
                                  ".hidden", "nul\0byte"])
def test_bad_file_names(tmp_path, name):
    with Store.open(tmp_path) as s:
        with pytest.raises(ValueError, match=r"derived file name .* is not allowed"):
            s.write_file(name, b"x")
        with pytest.raises(ValueError, match=r"derived file name .* is not allowed"):
            s.read_file(name)
    assert list((tmp_path / "index").iterdir()) == []
    assert not (tmp_path / "escape").exists()


def test_meta(tmp_path):
    with Store.open(tmp_path) as s:
        assert s.meta_get("owner") is None
        s.meta_set("owner", "robot-7")
        with pytest.raises(ValueError, match="managed by the store"):
            s.meta_set("schema_version", "1")
    with Store.open(tmp_path) as s:
        assert s.meta_get("owner") == "robot-7"
        assert s.schema_version == SCHEMA_VERSION


# ---------------------------------------------------------------- transactions
def test_transaction_rollback_leaves_nothing(tmp_path):
    with Store.open(tmp_path) as s:
        s.put_blob("state", b"before")
        with pytest.raises(RuntimeError, match="planner crashed"), s.transaction():
            s.put_blob("state", b"after")
            s.put_blob("new", b"x")
            s.append("event", [StoredRecord(episode=0, step=i) for i in range(5)])
            s.write_file("f.bin", b"files are not transactional")
            raise RuntimeError("planner crashed")
        assert s.get_blob("state") == b"before"
        assert s.get_blob("new") is None
        assert s.count("event") == 0
        assert s.read_file("f.bin") == b"files are not transactional"
        # the store is usable afterwards, and rolled-back ids are not skipped
        assert s.append("event", [StoredRecord(episode=0)]) == [1]


def test_transaction_commits_together_and_nested_joins(tmp_path):
    with Store.open(tmp_path) as s:
        with s.transaction():
            s.put_blob("a", b"1")
            with s.transaction():
                s.append("event", [StoredRecord(episode=0)])
            # the inner block did not commit: a reader does not see its write yet
            with Store.open(tmp_path, readonly=True) as r:
                assert r.count("event") == 0 and r.get_blob("a") is None
        with Store.open(tmp_path, readonly=True) as r:
            assert r.count("event") == 1 and r.get_blob("a") == b"1"
        # an exception from an inner block that escapes undoes the whole transaction
        with pytest.raises(KeyError), s.transaction():
            s.put_blob("b", b"2")
            with s.transaction():
                s.append("event", [StoredRecord(episode=1)])
                raise KeyError("x")
        assert s.get_blob("b") is None and s.count("event") == 1
        with pytest.raises(StoreError, match="inside transaction"), s.transaction():
            s.close()
        assert not s.closed


def test_writes_outside_a_transaction_commit_at_once(tmp_path):
    with Store.open(tmp_path) as s, Store.open(tmp_path, readonly=True) as r:
        s.append("event", [StoredRecord(episode=0, key="k")])
        s.put_blob("b", b"v")
        assert [x.key for x in r.records("event")] == ["k"]
        assert r.get_blob("b") == b"v"


def test_threads_share_a_store_safely(tmp_path):
    with Store.open(tmp_path) as s:
        ids: list[list[int]] = []
        errors: list[BaseException] = []

        def work(t: int) -> None:
            try:
                for i in range(40):
                    if i % 2:
                        with s.transaction():
                            out = s.append("event", [StoredRecord(episode=t, step=i)])
                            s.put_blob(f"t{t}", str(i).encode())
                    else:
                        out = s.append("event", [StoredRecord(episode=t, step=i)])
                    ids.append(out)
                    s.count("event")
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        flat = [i for out in ids for i in out]
        assert len(set(flat)) == 160 and s.count("event") == 160
        assert [r.id for r in s.records("event")] == sorted(flat)
        for t in range(4):
            steps = [r.step for r in s.records("event") if r.episode == t]
            assert steps == list(range(40))  # each thread's writes in its own order


def test_other_threads_writes_stay_out_of_a_transaction(tmp_path):
    with Store.open(tmp_path) as s:
        inside = threading.Event()

        def other() -> None:
            inside.wait(5)
            s.put_blob("other", b"kept")  # waits for the transaction to end

        t = threading.Thread(target=other)
        t.start()
        with pytest.raises(RuntimeError), s.transaction():
            s.append("event", [StoredRecord(episode=0)])
            inside.set()
            time.sleep(0.2)  # give the other thread time to block on the store
            raise RuntimeError("roll back")
        t.join(5)
        assert s.get_blob("other") == b"kept"
        assert s.count("event") == 0


# ---------------------------------------------------------------- lock, crash, readonly
def test_second_process_gets_store_locked_error(tmp_path, holder):
    proc = holder()
    with pytest.raises(StoreLockedError) as info:
        Store.open(tmp_path / "store")
    msg = str(info.value)
    assert f"pid {proc.pid} on " in msg
    assert "in use by another robomem process" in msg
    assert "wait for it to finish, or use another --store" in msg
    assert info.value.holder["pid"] == proc.pid
    assert "-c" in info.value.holder["command"]


def test_second_open_in_the_same_process_is_refused(tmp_path):
    pattern = rf"already open .* this process \(pid {os.getpid()} "
    with Store.open(tmp_path), pytest.raises(StoreLockedError, match=pattern):
        Store.open(tmp_path)
    with Store.open(tmp_path):  # released by close()
        pass


def test_sigkill_keeps_committed_and_drops_uncommitted(tmp_path, holder):
    proc = holder("uncommitted")
    with pytest.raises(StoreLockedError):
        Store.open(tmp_path / "store")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    with Store.open(tmp_path / "store") as s:  # no stale lock
        assert [r.key for r in s.records("event")] == ["committed"]
        assert s.get_blob("state") == b"committed"
        assert json.loads((tmp_path / "store" / "LOCK").read_text())["pid"] == os.getpid()
        assert s.append("event", [StoredRecord(episode=1)]) == [2]


def test_readonly_beside_a_writer(tmp_path, holder):
    holder("uncommitted")
    with Store.open(tmp_path / "store", readonly=True) as r:
        assert r.readonly
        assert [x.key for x in r.records("event")] == ["committed"]
        assert r.get_blob("state") == b"committed"
        assert r.summary()["records"] == {"event": 1}
        for write in (lambda: r.put_blob("x", b"y"),
                      lambda: r.append("event", [StoredRecord(episode=0)]),
                      lambda: r.write_file("f", b"x"),
                      lambda: r.meta_set("k", "v")):
            with pytest.raises(StoreError, match="is open read-only"):
                write()
        with pytest.raises(StoreError, match="read-only"), r.transaction():
            pass
    assert not (tmp_path / "store" / "index" / "f").exists()


# ---------------------------------------------------------------- corruption, versions
def corrupt_header(db: Path) -> None:
    with open(db, "r+b") as f:
        f.write(b"this is not an sqlite header!" * 4)


def truncate_half(db: Path) -> None:
    with open(db, "r+b") as f:
        f.truncate(db.stat().st_size // 2)


def scribble_last_page(db: Path) -> None:
    with open(db, "r+b") as f:
        f.seek(db.stat().st_size - 4096)
        f.write(b"\xff" * 64)


def scribble_index_page(db: Path) -> None:
    """Damage one index's root page: SQLite opens the file, quick_check reports the page."""
    conn = sqlite3.connect(db)
    (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = "
                           "'records_kind_label'").fetchone()
    (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    conn.close()
    with open(db, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xff" * 64)


@pytest.mark.parametrize("damage", [corrupt_header, truncate_half, scribble_last_page,
                                    scribble_index_page])
def test_corrupt_database_is_reported_and_left_alone(tmp_path, damage):
    make_store(tmp_path, n=400)
    db = tmp_path / "memory.sqlite"
    damage(db)
    shutil.rmtree(tmp_path / "index")
    before = sha(db)
    for readonly in (False, True, False):  # the failed open released its lock
        with pytest.raises(StoreCorruptError) as info:
            Store.open(tmp_path, readonly=readonly)
        msg = str(info.value)
        assert str(db) in msg and "SQLite says:" in msg
        assert "robomem changed nothing" in msg
        assert "snapshots" in msg and "move" in msg
        assert sha(db) == before
    assert not (tmp_path / "index").exists()  # nothing created beside it either
    if damage is scribble_index_page:
        assert "btreeInitPage" in msg and "\n" not in msg  # quick_check's report, one line


def test_corrupt_database_points_at_the_newest_snapshot_which_restores(tmp_path):
    make_store(tmp_path)
    with Store.open(tmp_path) as s:
        s.snapshot()
        snap = s.snapshot()
    db = tmp_path / "memory.sqlite"
    corrupt_header(db)
    with pytest.raises(StoreCorruptError, match=re.escape(str(snap))):
        Store.open(tmp_path)
    shutil.copyfile(snap, db)
    with Store.open(tmp_path) as s:
        assert s.count("event") == 50


def test_newer_schema_version_is_refused_unchanged(tmp_path):
    make_store(tmp_path)
    db = tmp_path / "memory.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.execute("UPDATE meta SET value = '7.0.0' WHERE key = 'robomem_version'")
    conn.commit()
    conn.close()
    before = sha(db)
    for readonly in (False, True):
        with pytest.raises(StoreVersionError) as info:
            Store.open(tmp_path, readonly=readonly)
        msg = str(info.value)
        assert "schema version 99" in msg and "robomem 7.0.0" in msg
        assert f"up to {SCHEMA_VERSION}" in msg and "upgrade robomem" in msg
        assert sha(db) == before


def test_missing_schema_version_is_corrupt(tmp_path):
    make_store(tmp_path)
    conn = sqlite3.connect(tmp_path / "memory.sqlite")
    conn.execute("UPDATE meta SET value = 'two' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreCorruptError, match=r"no valid schema_version.*'two'"):
        Store.open(tmp_path)


# ---------------------------------------------------------------- snapshots, summary
def test_snapshot_is_a_consistent_standalone_copy(tmp_path):
    make_store(tmp_path)
    with Store.open(tmp_path) as s:
        snap = s.snapshot()
        s.append("event", [StoredRecord(episode=9)])
        labelled = s.snapshot(label="manual")
        with s.transaction(), pytest.raises(StoreError, match="uncommitted"):
            s.snapshot()
        with pytest.raises(ValueError, match="label"):
            s.snapshot(label="../x")
    assert snap.parent == tmp_path / "snapshots"
    assert re.match(r"^\d{8}T\d{6}\.\d{6}Z\.sqlite$", snap.name)
    assert labelled.name.endswith("-manual.sqlite")
    assert sorted(p.name for p in snap.parent.iterdir()) == sorted([snap.name, labelled.name])
    conn = sqlite3.connect(snap)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 50
    conn.close()
    conn = sqlite3.connect(labelled)
    assert conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 51
    conn.close()


def test_summary(tmp_path):
    with Store.open(tmp_path) as s:
        s.append("event", [StoredRecord(episode=0)] * 3)
        s.append("episode", [StoredRecord(episode=0)])
        s.put_blob("spatial/a", b"1")
        s.put_blob("spatial/b", b"2")
        s.put_blob("system/state", b"3")
        s.put_blob("loose", b"4")
        s.write_file("episodic.faiss", b"12345")
        s.snapshot()
        info = s.summary()
    assert info["path"] == str(tmp_path) and info["readonly"] is False
    assert info["schema_version"] == SCHEMA_VERSION
    assert info["records"] == {"episode": 1, "event": 3}
    assert info["blobs"] == {"count": 4, "by_prefix": {
        "": ["loose"], "spatial": ["spatial/a", "spatial/b"], "system": ["system/state"]}}
    assert info["files"] == {"episodic.faiss": 5}
    assert len(info["snapshots"]) == 1
    assert info["bytes"]["database"] > 0 and info["bytes"]["index"] == 5
    assert info["bytes"]["snapshots"] > 0
    assert info["bytes"]["total"] == sum(info["bytes"][k] for k in ("database", "index",
                                                                   "snapshots"))
    json.dumps(info)  # JSON-friendly for `robomem inspect --json`


def test_record_with_damaged_data_is_reported(tmp_path):
    with Store.open(tmp_path) as s:
        (rid,) = s.append("event", [StoredRecord(episode=0)])
        s._conn.execute("UPDATE records SET data = '{broken' WHERE id = ?", (rid,))
        with pytest.raises(StoreCorruptError, match=f"record {rid} of kind 'event'.*not JSON"):
            list(s.records("event"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_does_not_release_the_parents_lock(tmp_path):
    import fcntl

    with Store.open(tmp_path) as s:
        pid = os.fork()
        if pid == 0:  # the child drops its copy of the store, as its exit would
            s._finalizer()
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert json.loads((tmp_path / "LOCK").read_text())["pid"] == os.getpid()
        fd = os.open(tmp_path / "LOCK", os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        s.put_blob("still", b"writable")
        assert s.get_blob("still") == b"writable"
