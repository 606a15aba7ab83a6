"""The world-model critic: it learns when an action fails, vetoes it, and runs inside the agent."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from robomem.config import load_config
from robomem.memory.spatial import SpatialMemory
from robomem.planners.base import PlanContext
from robomem.planners.critic import CriticChain
from robomem.planners.worldmodel_critic import WorldModelCritic
from robomem.runner import run
from robomem.skills import NAVIGATE, PICKUP, Skill
from robomem.types import Action, AgentPose, Observation
from robomem.worldmodel.data import TRAJECTORY_DIR, Trajectory
from robomem.worldmodel.features import FeatureConfig
from robomem.worldmodel.train import TrainConfig, train_worldmodel
from tests.fixtures.worldmodel import SMALL_FEATURES, failing_pickups


def _obs(red: int) -> Observation:
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = red  # feature 0 with grid=1: the mean red level
    return Observation.single(rgb=rgb, depth=np.ones((8, 8), np.float32), intrinsics=np.eye(3),
                       camera_pose=np.eye(4), agent_pose=AgentPose(0.0, 0.9, 0.0, 0.0, 0.0))


def _ctx(mugs: int = 2) -> PlanContext:
    """A context whose memory knows ``mugs`` mugs (Mug|1, Mug|2, ...)."""
    from robomem.geometry import AABB
    from robomem.percept import Detection
    from tests.fixtures.planning import percept

    mem = SpatialMemory()
    mem.write(percept([Detection(f"Mug|{i}", "Mug", AABB(np.array([i, 0.9, 1.0]),
                                                          np.array([i + 0.1, 1.0, 1.1])))
                       for i in range(1, mugs + 1)]))
    return PlanContext(0, percept([]), mem.scene, None, None)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wm")
    cfg = TrainConfig(steps=150, d_model=16, n_layers=1, batch_size=16, seq_len=8, lr=3e-3,
                      val_fraction=0.0, eval_every=50)
    train_worldmodel(failing_pickups(16, 16), out, cfg, SMALL_FEATURES, progress=False)
    return out


def test_learned_failure_rule_vetoes_pickups(trained: Path) -> None:
    critic = WorldModelCritic.from_checkpoint(trained, threshold=0.5, device="cpu")
    critic.begin_episode()
    critic.observe(_obs(220))
    assert critic.predict_success("pickup") > 0.7
    assert critic.predict_success("move_ahead") > 0.7
    pickup = Skill(PICKUP, target="Mug|1", label="Mug")
    assert critic.review(pickup, _ctx()).ok
    critic.observe(_obs(30))
    assert critic.predict_success("pickup") < 0.3
    verdict = critic.review(pickup, _ctx())
    assert not verdict.ok and "pickup on Mug|1 fails" in verdict.reason
    assert critic.review(Skill(NAVIGATE, target="Mug|1"), _ctx()).ok  # not an interaction
    assert critic.counters["worldmodel_reviews"] == 2.0
    assert critic.counters["worldmodel_vetoes"] == 1.0
    # the last known mug is never vetoed away: the doubt is counted instead
    assert critic.review(pickup, _ctx(mugs=1)).ok
    assert critic.counters["worldmodel_doubts"] == 1.0
    scores = critic.score([["move_ahead", "pickup"], ["rotate_left", "done"]])
    assert len(scores) == 2 and all(np.isfinite(scores))
    never = WorldModelCritic.from_checkpoint(trained, threshold=0.0, device="cpu")
    never.observe(_obs(30))
    assert never.review(pickup, _ctx()).ok


def test_state_follows_the_episode(trained: Path) -> None:
    critic = WorldModelCritic.from_checkpoint(trained / "model.pt", device="cpu")
    critic.begin_episode()
    critic.observe(_obs(220))
    before = critic.predict_success("pickup")
    for _ in range(3):
        critic.acted(Action("move_ahead"))
    assert critic._state is not None
    chain = CriticChain([critic])
    chain.begin_episode()  # hooks pass through a chain
    assert critic._state is None and critic.counters["worldmodel_reviews"] == 0.0
    critic.observe(_obs(220))
    assert critic.predict_success("pickup") == pytest.approx(before, abs=1e-6)
    with pytest.raises(ValueError, match="one non-zero length"):
        critic.score([["move_ahead"], ["move_ahead", "done"]])


def test_bad_arguments(trained: Path, tmp_path: Path) -> None:
    critic = WorldModelCritic.from_checkpoint(trained, device="cpu")
    with pytest.raises(RuntimeError, match="observe must be called"):
        critic.predict_success("pickup")
    with pytest.raises(ValueError, match="threshold"):
        WorldModelCritic(critic.model, SMALL_FEATURES, threshold=1.5)
    with pytest.raises(ValueError, match="feature settings give 70"):
        WorldModelCritic(critic.model, FeatureConfig())
    with pytest.raises(ValueError, match="does not exist"):
        WorldModelCritic.from_checkpoint(tmp_path / "none.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a robomem world-model checkpoint"):
        WorldModelCritic.from_checkpoint(tmp_path / "other.pt")


def test_agent_runs_with_the_critic_and_records_trajectories(tmp_path: Path) -> None:
    feats = FeatureConfig()  # what the runner records
    cfg = TrainConfig(steps=2, d_model=8, n_layers=1, batch_size=2, seq_len=4, val_fraction=0.0,
                      eval_every=1)
    train_worldmodel(failing_pickups(2, 6, features=feats), tmp_path / "wm", cfg, feats,
                     progress=False)
    run_cfg = load_config(None, ["env.width=64", "env.height=64", "episodes=1", "seeds=[0]",
                                 "env.families=[pick_and_place]", f"out={tmp_path}",
                                 "spl=false", "memory_system.options.episodic.encoder=hash",
                                 f"worldmodel_critic={tmp_path / 'wm'}", "trajectories=true"])
    res = run(run_cfg, progress=False)
    ep = res.episodes[0]
    assert ep.policy_stats["worldmodel_reviews"] >= 1
    files = sorted((res.folder / TRAJECTORY_DIR).glob("*.npz"))
    assert [f.name for f in files] == ["seed0_ep0000.npz"]
    traj = Trajectory.load(files[0])
    assert traj.length == ep.steps and traj.obs.shape == (ep.steps + 1, feats.dim)
    assert traj.meta["success"] == ep.success and float(traj.success.sum()) == float(ep.success)
    assert json.loads((res.folder / "metrics.json").read_text())["episodes"] == 1
    bad = load_config(None, [f"worldmodel_critic={tmp_path / 'missing'}", f"out={tmp_path}"])
    with pytest.raises(ValueError, match="does not exist"):
        run(bad, progress=False)
