"""Smoke test of ``benchmarks/planner_cache.py``: a --quick run writes its JSON and plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import planner_cache


def test_quick_run_writes_json_and_plot(tmp_path: Path) -> None:
    data = planner_cache.main(["--quick", "--threads", "1", "--device", "cpu",
                               "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "planner_cache.json").read_text())
    assert (tmp_path / "planner_cache.png").stat().st_size > 0
    assert saved["config"]["quick"] is True and saved["config"]["prefixes"] == [64, 256]
    assert [r["prefix_tokens"] for r in saved["results"]] == [64, 256]
    for r in saved["results"]:
        assert r["cached_ms"] > 0 and r["uncached_ms"] > 0
        assert r["cached_prompt_ms"] > 0 and r["uncached_prompt_ms"] > 0
        assert r["speedup"] == pytest.approx(r["uncached_ms"] / r["cached_ms"])
        assert r["prompt_tokens"] > r["prefix_tokens"]
        assert r["outputs_match"] is True  # greedy float32: cache reuse changes nothing
        assert r["prefill_s"] > 0
    assert saved["targets"]["speedup_at_2k_ge_5"] is None  # no 2k prefix in --quick
    assert saved["targets"]["outputs_match"] is True
    assert data["results"] == saved["results"]
