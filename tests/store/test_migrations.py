"""Schema migrations: a hand-built version-1 store opens as the current version, data kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from robomem.memory.base import StoredRecord
from robomem.store import MIGRATIONS, SCHEMA_VERSION, Store, StoreError, StoreVersionError, schema

# The version-1 schema as robomem 0.0 wrote it: no records.dim column, no label index, and
# the database in rollback-journal mode.
SCHEMA_V1 = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE blobs(name TEXT PRIMARY KEY, data BLOB NOT NULL, updated REAL NOT NULL);
CREATE TABLE records(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL, episode INTEGER NOT NULL, step INTEGER NOT NULL,
  key TEXT NOT NULL, label TEXT NOT NULL, data TEXT NOT NULL, vector BLOB);
CREATE INDEX records_kind_id ON records(kind, id);
CREATE INDEX records_kind_episode ON records(kind, episode);
CREATE INDEX records_kind_key ON records(kind, key);
"""


def build_v1(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path / "memory.sqlite")
    conn.executescript(SCHEMA_V1)
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [
        ("schema_version", "1"), ("created", "2024-01-01T00:00:00Z"),
        ("robomem_version", "0.0.9")])
    conn.execute("INSERT INTO blobs VALUES ('semantic/graph', ?, 0.0)", (b"graph",))
    rows = [("episode", 0, 12, "", "Mug", '{"success": true}',
             np.array([0.5, 1.0, -2.0], "<f4").tobytes()),
            ("event", 0, 3, "Mug|1", "Mug", "{}", None),
            ("episode", 1, 40, "", "Apple", '{"success": false}',
             np.arange(4, dtype="<f4").tobytes())]
    conn.executemany("INSERT INTO records(kind, episode, step, key, label, data, vector) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()


def schema_of(db: Path) -> tuple[list[tuple[str, str, int]], list[tuple[str, list[str]]]]:
    """Columns of every table, and every index with its columns."""
    conn = sqlite3.connect(db)
    columns = []
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                 "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall():
        columns += [(f"{table}.{r[1]}", r[2], r[3])
                    for r in conn.execute(f"PRAGMA table_info({table})")]
    indexes = []
    for (name, table) in conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE "
                                      "type = 'index' AND sql IS NOT NULL ORDER BY name"):
        indexes.append((f"{table}.{name}",
                        [r[2] for r in conn.execute(f"PRAGMA index_info({name})")]))
    conn.close()
    return columns, indexes


def test_one_migration_per_version():
    assert len(MIGRATIONS) == SCHEMA_VERSION - 1
    assert SCHEMA_VERSION >= 2


def test_v1_store_is_migrated_with_its_data(tmp_path):
    build_v1(tmp_path)
    with Store.open(tmp_path) as s:
        assert s.schema_version == SCHEMA_VERSION
        assert s.meta_get("created") == "2024-01-01T00:00:00Z"
        assert "from v1" in (s.meta_get("migrated") or "")
        assert s.get_blob("semantic/graph") == b"graph"
        episodes = list(s.records("episode"))
        assert [(r.id, r.episode, r.step, r.label, r.data) for r in episodes] == [
            (1, 0, 12, "Mug", {"success": True}), (3, 1, 40, "Apple", {"success": False})]
        assert episodes[0].vector is not None and episodes[1].vector is not None
        np.testing.assert_array_equal(episodes[0].vector, [0.5, 1.0, -2.0])
        np.testing.assert_array_equal(episodes[1].vector, [0.0, 1.0, 2.0, 3.0])
        assert [(r.key, r.vector) for r in s.records("event")] == [("Mug|1", None)]
        dims = s._conn.execute("SELECT id, dim FROM records ORDER BY id").fetchall()
        assert dims == [(1, 3), (2, None), (3, 4)]
        assert s._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # ids continue after the old ones
        assert s.append("event", [StoredRecord(episode=2, key="new")]) == [4]
        snaps = sorted((tmp_path / "snapshots").glob("*-schema-v1.sqlite"))
        assert len(snaps) == 1
    # the snapshot taken before migrating is the untouched version-1 database
    conn = sqlite3.connect(snaps[0])
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == \
        ("1",)
    assert "dim" not in [r[1] for r in conn.execute("PRAGMA table_info(records)")]
    assert conn.execute("SELECT COUNT(*) FROM records").fetchone() == (3,)
    conn.close()
    with Store.open(tmp_path) as s:  # a second open does not migrate (or snapshot) again
        assert s.schema_version == SCHEMA_VERSION
    assert len(list((tmp_path / "snapshots").iterdir())) == 1


def test_migrated_schema_equals_a_new_stores(tmp_path):
    build_v1(tmp_path / "old")
    Store.open(tmp_path / "old").close()
    Store.open(tmp_path / "new").close()
    old = schema_of(tmp_path / "old" / "memory.sqlite")
    new = schema_of(tmp_path / "new" / "memory.sqlite")
    assert old == new
    assert ("records.records_kind_label", ["kind", "label"]) in new[1]
    assert ("records.dim", "INTEGER", 0) in new[0]


def test_failed_migration_rolls_back(tmp_path, monkeypatch):
    build_v1(tmp_path)

    def broken(conn: sqlite3.Connection) -> None:
        schema._migrate_1_to_2(conn)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(schema, "MIGRATIONS", (broken,))
    with pytest.raises(StoreError, match=r"from schema v1 to v2 failed at step v1->v2 "
                                         r"\(disk on fire\); it was rolled back"):
        Store.open(tmp_path)
    conn = sqlite3.connect(tmp_path / "memory.sqlite")
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == \
        ("1",)
    assert "dim" not in [r[1] for r in conn.execute("PRAGMA table_info(records)")]
    assert conn.execute("SELECT COUNT(*) FROM records").fetchone() == (3,)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    conn.close()
    monkeypatch.undo()
    with Store.open(tmp_path) as s:  # the lock was released; a good robomem migrates it
        assert s.schema_version == SCHEMA_VERSION and s.count("episode") == 2


def test_readonly_open_does_not_migrate(tmp_path):
    build_v1(tmp_path)
    with pytest.raises(StoreVersionError, match=r"schema version 1, older .* open it writable"):
        Store.open(tmp_path, readonly=True)
    conn = sqlite3.connect(tmp_path / "memory.sqlite")
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == \
        ("1",)
    conn.close()
    assert not (tmp_path / "snapshots").exists()
