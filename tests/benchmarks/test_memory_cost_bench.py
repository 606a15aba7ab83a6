"""A tiny run of ``benchmarks/memory_cost.py``: both checkpoints timed, memory growing, a plot."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import memory_cost


def test_tiny_lifelong_run_writes_json_and_plot(tmp_path: Path) -> None:
    data = memory_cost.main(["--size", "48", "--encoder", "hash", "--rooms", "2",
                             "--steps", "20", "--episodes", "5", "--checkpoints", "1", "5",
                             "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "memory_cost.json").read_text())
    assert (tmp_path / "memory_cost.png").stat().st_size > 0
    assert saved["config"]["checkpoints"] == data["config"]["checkpoints"] == [1, 5]
    assert saved["config"]["encoder"] == "hash"
    [house] = saved["houses"]
    assert house["rooms"] == 2
    assert house["recorded_episodes"] >= 1 and sum(house["recorded_steps"]) >= 20
    assert house["episodes_played"]["measured"] == 2
    assert sum(house["episodes_played"].values()) == 5
    first, last = house["checkpoints"]
    assert (first["episodes"], last["episodes"]) == (1, 5)
    for row in (first, last):
        assert row["steps"] == house["probe"]["steps"] > 0
        for key in ("write_ms", "recall_ms", "step_ms"):
            assert 0 < row[key]["p50"] <= row[key]["p99"], (key, row[key])
        assert row["end_ms"] > 0
        assert set(row["modules_p50_ms"]) == {"spatial", "temporal", "episodic", "semantic",
                                              "working"}
    m1, m5 = first["memory"], last["memory"]
    assert (m1["episodic_episodes"], m5["episodic_episodes"]) == (1, 5)
    assert m5["episodic_steps"] > m1["episodic_steps"] > 0
    assert m5["temporal_events"] > m1["temporal_events"] > 0
    assert m5["spatial_objects"] >= m1["spatial_objects"] > 0


def test_checkpoints_beyond_the_run_are_dropped(tmp_path: Path) -> None:
    data = memory_cost.main(["--size", "48", "--encoder", "hash", "--rooms", "2",
                             "--steps", "5", "--episodes", "2", "--checkpoints", "2", "1000",
                             "--out", str(tmp_path)])
    assert data["config"]["checkpoints"] == [2]
    assert [r["episodes"] for r in data["houses"][0]["checkpoints"]] == [2]
