"""Smoke test of ``benchmarks/worldmodel_critic.py`` on one short episode per condition."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import worldmodel_critic
from benchmarks.common import suite_overrides
from robomem.worldmodel.features import FeatureConfig
from robomem.worldmodel.train import TrainConfig, train_worldmodel
from tests.fixtures.worldmodel import PICKUP, failing_pickups


def test_runs_each_condition_and_writes_json(tmp_path: Path) -> None:
    feats = FeatureConfig()
    cfg = TrainConfig(steps=2, d_model=8, n_layers=1, batch_size=2, seq_len=4, val_fraction=0.0,
                      eval_every=1)
    train_worldmodel(failing_pickups(2, 6, features=feats), tmp_path / "wm", cfg, feats,
                     progress=False)
    summary = worldmodel_critic.main(["--model", str(tmp_path / "wm"), "--first-seed", "7",
                                      "--seeds", "1", "--tasks", "1", "--size", "64",
                                      "--thresholds", "0.3", "--out", str(tmp_path)])
    conditions = summary["conditions"]
    assert isinstance(conditions, dict) and set(conditions) == {"no_wm_critic", "wm_critic_0.3"}
    assert conditions["wm_critic_0.3"]["totals"]["worldmodel_reviews"] >= 0
    assert "worldmodel_reviews" not in conditions["no_wm_critic"]["totals"]
    data = json.loads((tmp_path / "worldmodel_critic.json").read_text())
    assert data["first_seed"] == 7 and (tmp_path / "worldmodel_critic.png").exists()


def test_suite_seeds_start_at_first_seed(tmp_path: Path) -> None:
    class Args:
        seeds, first_seed, tasks, size, relocation, out = 2, 10, 3, 64, 0.2, tmp_path

    assert "seeds=[10,11]" in suite_overrides(Args(), "x")


def test_roc_auc_and_failure_prediction(tmp_path: Path) -> None:
    import numpy as np

    from robomem.worldmodel.data import TRAJECTORY_DIR

    auc = worldmodel_critic.roc_auc
    assert auc(np.array([0.9, 0.8, 0.1, 0.2]), np.array([True, True, False, False])) == 1.0
    assert auc(np.array([0.5, 0.5]), np.array([True, False])) == 0.5
    assert np.isnan(auc(np.array([0.5]), np.array([True])))
    feats = FeatureConfig(grid=1)
    data = failing_pickups(3, 12, features=feats)
    (tmp_path / TRAJECTORY_DIR).mkdir()
    for i, t in enumerate(data):
        (tmp_path / TRAJECTORY_DIR / f"e{i}.npz").write_bytes(t.to_bytes())
    cfg = TrainConfig(steps=2, d_model=8, n_layers=1, batch_size=2, seq_len=4, val_fraction=0.0)
    train_worldmodel(data, tmp_path / "wm", cfg, feats, progress=False)
    fit = worldmodel_critic.failure_prediction(str(tmp_path / "wm"), str(tmp_path))
    picks = sum(int((t.actions == PICKUP).sum()) for t in data)
    assert fit["object_actions"] == picks and 0.0 <= fit["auc_in_sample"] <= 1.0
    assert 0.0 < fit["failed_share"] < 1.0
