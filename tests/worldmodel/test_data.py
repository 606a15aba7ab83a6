"""Trajectory files, loading a run folder and cutting batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from robomem.feedback import ActionFeedback, FeedbackCode
from robomem.types import AgentPose, Observation
from robomem.worldmodel.data import (
    Trajectory,
    TrajectoryDataset,
    TrajectoryRecorder,
    load_trajectories,
)
from robomem.worldmodel.features import FeatureConfig, action_id
from tests.fixtures.worldmodel import failing_pickups


def _obs(x: float, ok: bool = True) -> Observation:
    fb = ActionFeedback.ok() if ok else ActionFeedback.failure("", FeedbackCode.UNKNOWN)
    return Observation.single(rgb=np.full((4, 4, 3), 100, np.uint8),
                              depth=np.ones((4, 4), np.float32), intrinsics=np.eye(3),
                              camera_pose=np.eye(4), agent_pose=AgentPose(x, 0.9, 0.0, 0.0, 0.0),
                              feedback=fb)


def test_recorder_round_trip(tmp_path: Path) -> None:
    rec = TrajectoryRecorder(tmp_path / "trajectories", FeatureConfig(grid=2))
    rec.begin(_obs(0.0), {"seed": 3})
    rec.record("move_ahead", _obs(0.25), 0.0)
    rec.record("pickup", _obs(0.25, ok=False), 0.0)
    rec.record("done", _obs(0.25), 1.0)
    path = rec.end(True, "seed3_ep0000")
    t = Trajectory.load(path)
    assert t.length == 3 and t.obs.shape == (4, 22)
    assert list(t.actions) == [action_id(a) for a in ("move_ahead", "pickup", "done")]
    assert list(t.reward) == [0.0, 0.0, 1.0] and list(t.success) == [0.0, 0.0, 1.0]
    assert t.obs[2, -1] == 0.0 and t.obs[1, -1] == 1.0  # the failed pickup
    assert t.meta["seed"] == 3 and t.meta["success"] is True
    trajs, feats = load_trajectories(tmp_path)  # the run folder
    assert feats == FeatureConfig(grid=2) and len(trajs) == 1
    with pytest.raises(RuntimeError, match="before begin"):
        TrajectoryRecorder(tmp_path).record("move_ahead", _obs(0.0), 0.0)


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_trajectories(tmp_path / "missing")
    with pytest.raises(ValueError, match="trajectories=true"):
        load_trajectories(tmp_path)
    a, b = failing_pickups(1, 5), failing_pickups(1, 5, features=FeatureConfig(grid=2))
    (tmp_path / "a.npz").write_bytes(a[0].to_bytes())
    (tmp_path / "b.npz").write_bytes(b[0].to_bytes())
    with pytest.raises(ValueError, match="different features"):
        load_trajectories(tmp_path)
    (tmp_path / "b.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable trajectory"):
        load_trajectories(tmp_path)


def test_trajectory_shape_checks() -> None:
    with pytest.raises(ValueError, match="obs must have shape"):
        Trajectory(np.zeros((3, 2), np.float32), np.zeros(3, np.int64), np.zeros(3, np.float32),
                   np.zeros(3, np.float32))


def test_windows_masks_and_split() -> None:
    trajs = failing_pickups(5, 7, seed=1) + failing_pickups(1, 2, seed=2)
    ds = TrajectoryDataset(trajs, seq_len=4)
    assert ds.steps == 37 and len(ds) == 6
    batch = ds.sample(8, np.random.default_rng(0))
    assert batch.mask is not None and batch.resets is not None
    assert batch.obs.shape == (8, 4, ds.dim) and bool(batch.resets[:, 0].all())
    # every full batch pass covers each step exactly once, and next_obs follows obs
    full = ds.batches(3)
    assert sum(int(b.mask.sum()) for b in full if b.mask is not None) == 37
    first = full[0]
    np.testing.assert_array_equal(first.next_obs[0, :3].numpy(), trajs[0].obs[1:4])
    short = TrajectoryDataset(trajs[-1:], seq_len=4).batches(1)[0]
    assert short.mask is not None and short.mask[0].tolist() == [True, True, False, False]
    train, val = ds.split(0.34, seed=0)
    assert val is not None and len(train) == 4 and len(val) == 2
    assert ds.split(0.0)[1] is None
    with pytest.raises(ValueError, match="val_fraction"):
        ds.split(1.0)
