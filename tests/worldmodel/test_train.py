"""Training a world model: it learns, resumes exactly, never loses a checkpoint, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from robomem.cli import main
from robomem.worldmodel.data import TRAJECTORY_DIR, TrajectoryDataset
from robomem.worldmodel.train import TrainConfig, load_worldmodel, train_worldmodel
from tests.fixtures.worldmodel import SMALL_FEATURES, failing_pickups

TINY = {"d_model": 16, "n_layers": 1, "batch_size": 8, "seq_len": 8}


def test_training_lowers_the_validation_loss(tmp_path: Path) -> None:
    data = failing_pickups(12, 16)
    cfg = TrainConfig(steps=120, eval_every=20, val_fraction=0.25, lr=3e-3, **TINY)
    result = train_worldmodel(data, tmp_path, cfg, SMALL_FEATURES, progress=False)
    vals = [h["val_loss"] for h in result.history]
    assert len(vals) == 6 and vals[-1] < 0.7 * vals[0]
    assert result.best_val_loss == min(vals)
    assert (tmp_path / "loss.png").stat().st_size > 0
    assert len((tmp_path / "history.jsonl").read_text().splitlines()) == 6
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["step"] == 120 and metrics["val_episodes"] == 3
    loaded = load_worldmodel(tmp_path)
    assert loaded.features == SMALL_FEATURES and loaded.meta["step"] <= 120


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    data = torch.load(folder / "checkpoint.pt", weights_only=False)
    return dict(data["model"])


def test_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    data = failing_pickups(6, 12)
    full = TrainConfig(steps=12, eval_every=4, checkpoint_every=4, **TINY)
    train_worldmodel(data, tmp_path / "a", full, SMALL_FEATURES, progress=False)
    half = TrainConfig(steps=8, eval_every=4, checkpoint_every=4, **TINY)
    train_worldmodel(data, tmp_path / "b", half, SMALL_FEATURES, progress=False)
    with pytest.raises(ValueError, match="pass --resume"):
        train_worldmodel(data, tmp_path / "b", full, SMALL_FEATURES, progress=False)
    res = train_worldmodel(data, tmp_path / "b", full, SMALL_FEATURES, resume=True,
                           progress=False)
    assert res.step == 12 and len(res.history) == 3
    a, b = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)
    other = TrainConfig(steps=16, eval_every=4, **{**TINY, "d_model": 8})
    with pytest.raises(ValueError, match="d_model"):
        train_worldmodel(data, tmp_path / "b", other, SMALL_FEATURES, resume=True,
                         progress=False)


def test_interrupt_saves_a_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = TrajectoryDataset.sample

    def flaky(self: TrajectoryDataset, batch_size: int, rng: np.random.Generator):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt
        return real(self, batch_size, rng)

    monkeypatch.setattr(TrajectoryDataset, "sample", flaky)
    cfg = TrainConfig(steps=50, checkpoint_every=100, **TINY)
    with pytest.raises(KeyboardInterrupt):
        train_worldmodel(failing_pickups(4, 10), tmp_path, cfg, SMALL_FEATURES, progress=False)
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=False)["step"] == 5


def test_bad_settings_name_the_value() -> None:
    with pytest.raises(ValueError, match="steps must be an int >= 1, got 0"):
        TrainConfig(steps=0)
    with pytest.raises(ValueError, match="d_model must be a int, got 'wide'"):
        TrainConfig.from_overrides({"d_model": "wide"})
    with pytest.raises(ValueError, match=r"unknown training settings \['colour'\]"):
        TrainConfig.from_overrides({"colour": "red"})
    with pytest.raises(ValueError, match="CUDA is not available"):
        if torch.cuda.is_available():
            raise ValueError("CUDA is not available (skipped: CUDA is here)")
        from robomem.worldmodel.train import pick_device

        pick_device("cuda")


def test_cli_trains_and_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "run"
    (run_dir / TRAJECTORY_DIR).mkdir(parents=True)
    for i, t in enumerate(failing_pickups(4, 10)):
        (run_dir / TRAJECTORY_DIR / f"seed0_ep{i:04d}.npz").write_bytes(t.to_bytes())
    args = ["train", "worldmodel", "--data", str(run_dir), "--no-progress", "steps=6",
            "d_model=8", "n_layers=1", "seq_len=8", "batch_size=4", "eval_every=3",
            "val_fraction=0.25"]
    assert main(args) == 0
    assert "trained 6 steps on 4 episodes" in capsys.readouterr().out
    out = run_dir / "worldmodel-ssm"
    assert {"checkpoint.pt", "model.pt", "loss.png"} <= {p.name for p in out.iterdir()}
    assert main(args) == 2 and "--resume" in capsys.readouterr().err
    assert main([*args[:-4], "steps=9", *args[-3:], "--resume"]) == 0
    assert "trained 9 steps" in capsys.readouterr().out
    assert main(["train", "worldmodel", "--data", str(tmp_path / "nothing")]) == 2
    assert "does not exist" in capsys.readouterr().err
