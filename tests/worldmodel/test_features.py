"""Observation features and action ids for world models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from robomem.feedback import ActionFeedback, FeedbackCode
from robomem.types import AgentPose, Observation
from robomem.worldmodel.features import (
    ACTION_VOCAB,
    FeatureConfig,
    action_id,
    observation_features,
)


def _obs(rgb: np.ndarray, depth: np.ndarray, ok: bool = True) -> Observation:
    fb = ActionFeedback.ok() if ok else ActionFeedback.failure("", FeedbackCode.UNKNOWN)
    return Observation.single(rgb=rgb, depth=depth, intrinsics=np.eye(3), camera_pose=np.eye(4),
                              agent_pose=AgentPose(2.0, 0.9, -3.0, 90.0, 30.0), feedback=fb)


def test_layout_pooling_and_pose() -> None:
    rgb = np.zeros((6, 8, 3), np.uint8)
    rgb[:3, :4, 0] = 255  # top-left quarter red
    depth = np.full((6, 8), 5.0, np.float32)
    depth[3:, 4:] = 20.0  # beyond max_depth: clipped
    cfg = FeatureConfig(grid=2, max_depth=10.0, position_scale=10.0)
    f = observation_features(_obs(rgb, depth), cfg)
    assert f.shape == (cfg.dim,) == (22,) and f.dtype == np.float32
    rgb_cells = f[:12].reshape(2, 2, 3)
    assert rgb_cells[0, 0, 0] == 1.0 and rgb_cells[0, 1, 0] == 0.0 and rgb_cells[1, 0, 0] == 0.0
    np.testing.assert_allclose(f[12:16], [0.5, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(f[16:21], [0.2, -0.3, 1.0, 0.0, 1 / 3], atol=1e-6)
    assert f[cfg.action_ok_index] == 1.0
    assert observation_features(_obs(rgb, depth, ok=False), cfg)[cfg.action_ok_index] == 0.0


def test_uneven_pooling_matches_manual_means() -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (7, 5, 3)).astype(np.uint8)
    f = observation_features(_obs(rgb, np.ones((7, 5), np.float32)), FeatureConfig(grid=2))
    rows, cols = [slice(0, 3), slice(3, 7)], [slice(0, 2), slice(2, 5)]
    want = np.array([[rgb[r, c].reshape(-1, 3).mean(0) for c in cols] for r in rows]) / 255.0
    np.testing.assert_allclose(f[:12], want.ravel(), rtol=1e-6)


def test_nan_depth_and_too_small_image() -> None:
    depth = np.full((4, 4), np.nan, np.float32)
    f = observation_features(_obs(np.zeros((4, 4, 3), np.uint8), depth), FeatureConfig(grid=2))
    assert np.isfinite(f).all()
    with pytest.raises(ValueError, match="smaller than the 8x8 grid"):
        observation_features(_obs(np.zeros((4, 4, 3), np.uint8), depth), FeatureConfig(grid=8))


def test_action_ids() -> None:
    assert ACTION_VOCAB[action_id("pickup")] == "pickup"
    # "other" keeps id 15; primitives added later come after it, so old ids never move
    assert action_id("Teleport") == action_id("other") == 15
    assert action_id("find") == 16
    assert len(set(map(action_id, ACTION_VOCAB))) == len(ACTION_VOCAB)


def _checkpoint(path: Path, actions: list[str]) -> None:
    from dataclasses import asdict

    import torch

    from robomem.worldmodel.model import WorldModel, WorldModelConfig
    from robomem.worldmodel.train import CHECKPOINT_FORMAT, CHECKPOINT_VERSION

    cfg = WorldModelConfig(obs_dim=FeatureConfig().dim, n_actions=len(actions), d_model=8,
                           n_layers=1)
    torch.save({"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
                "model_config": asdict(cfg), "features": FeatureConfig().to_dict(),
                "actions": actions, "model": WorldModel(cfg).state_dict()}, path)


def test_a_checkpoint_from_before_find_still_loads(tmp_path: Path) -> None:
    from robomem.worldmodel.train import load_worldmodel

    _checkpoint(tmp_path / "model.pt", list(ACTION_VOCAB[:16]))  # the vocabulary before find
    assert load_worldmodel(tmp_path, device="cpu").model.config.n_actions == 16
    _checkpoint(tmp_path / "bad.pt", ["pickup", "other"])
    with pytest.raises(ValueError, match="another action vocabulary"):
        load_worldmodel(tmp_path / "bad.pt", device="cpu")


@pytest.mark.parametrize("kwargs, field", [({"grid": 0}, "grid"), ({"max_depth": 0}, "max_depth"),
                                           ({"position_scale": -1.0}, "position_scale")])
def test_bad_config(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        FeatureConfig(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown feature settings"):
        FeatureConfig.from_dict({"grid": 2, "colour": 1})


def test_an_old_model_reads_find_as_other() -> None:
    from robomem.planners.worldmodel_critic import WorldModelCritic
    from robomem.worldmodel.model import WorldModel, WorldModelConfig

    model = WorldModel(WorldModelConfig(obs_dim=FeatureConfig().dim, n_actions=16, d_model=8,
                                        n_layers=1))
    critic = WorldModelCritic(model, FeatureConfig())
    critic.observe(_obs(np.zeros((8, 8, 3), np.uint8), np.ones((8, 8), np.float32)))
    assert critic.predict_success("find") == critic.predict_success("other")
