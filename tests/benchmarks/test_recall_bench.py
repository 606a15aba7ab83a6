"""Smoke tests of ``benchmarks/recall.py``: the task generator, the caches and a --quick run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from benchmarks import recall


@pytest.mark.parametrize("length", [6, 64, 1000])
def test_make_batch_plants_the_queried_event(length: int) -> None:
    rng = np.random.default_rng(3)
    tokens, labels, pos = recall.make_batch(50, length, rng)
    assert tokens.shape == (50, length + 1)
    assert pos.shape == (50, recall.N_PAIRS)
    for row, label, planted in zip(tokens, labels, pos):
        stream, query = row[:-1], row[-1]
        assert 0 <= query < recall.N_KEYS
        keys_at = np.flatnonzero(stream < recall.N_KEYS)
        assert sorted(keys_at.tolist()) == sorted(planted.tolist())
        assert (planted + 1 < max(2 * recall.N_PAIRS, recall.WINDOW * length)).all()  # early
        # Brute force: the value token right after the (only) occurrence of the query key.
        where = np.flatnonzero(stream == query)
        assert len(where) == 1
        assert stream[where[0] + 1] - recall.N_KEYS == label
        values_at = np.flatnonzero((stream >= recall.N_KEYS)
                                   & (stream < recall.N_KEYS + recall.N_VALUES))
        assert sorted(values_at.tolist()) == sorted((planted + 1).tolist())
    assert labels.min() >= 0 and labels.max() < recall.N_VALUES


@pytest.mark.parametrize("kind", ["hcam", "attention"])
@pytest.mark.parametrize("history", [7, 64, 203])
def test_cached_step_matches_module_forward(kind: str, history: int) -> None:
    model = recall.RecallModel(kind, seed=0, chunk_size=32, top_k=4)
    assert recall.cache_check(model, torch.device("cpu"), history) < 1e-5


def test_quick_run_writes_json_and_plot(tmp_path) -> None:
    data = recall.main(["--quick", "--threads", "1", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "recall.json").read_text())
    assert (tmp_path / "recall.png").stat().st_size > 0
    assert set(saved["results"]) == set(recall.MODELS) == set(data["results"])
    for model in recall.MODELS:
        r = saved["results"][model]
        assert set(r["accuracy"]) == {"256", "1024"}
        for length in ("256", "1024"):
            assert 0.0 <= r["accuracy"][length] <= 1.0
            assert r["timing"][length]["ms"] > 0
            assert r["timing"][length]["kept_bytes"] > 0
    for model in ("hcam", "attention"):
        assert saved["results"][model]["cache_check_max_abs_diff"] < 1e-4
    assert saved["config"]["quick"] is True
