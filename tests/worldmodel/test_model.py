"""Tests for robomem.worldmodel.model (the action-conditioned WorldModel)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from robomem.worldmodel.model import (
    WorldModel,
    WorldModelBatch,
    WorldModelConfig,
    WorldModelOutput,
)

BACKBONES = ["ssm", "transformer"]
KWARGS: dict[str, dict[str, Any]] = {"ssm": {"d_state": 4}, "transformer": {"n_heads": 2}}
OBS_DIM, N_ACTIONS, GOAL = 4, 3, 2


def _model(name: str, seed: int = 0) -> WorldModel:
    torch.manual_seed(seed)
    cfg = WorldModelConfig(
        obs_dim=OBS_DIM,
        n_actions=N_ACTIONS,
        d_model=16,
        n_layers=1,
        backbone=name,
        backbone_kwargs=KWARGS[name],
    )
    return WorldModel(cfg)


def _data(seed: int = 0, bsz: int = 8, length: int = 6) -> WorldModelBatch:
    """next_obs = obs rolled by the action; reward = success = 1 exactly at the goal action."""
    g = torch.Generator().manual_seed(seed)
    obs = torch.randn(bsz, length, OBS_DIM, generator=g)
    actions = torch.randint(0, N_ACTIONS, (bsz, length), generator=g)
    next_obs = torch.stack(
        [
            torch.stack([obs[b, t].roll(int(actions[b, t])) for t in range(length)])
            for b in range(bsz)
        ]
    )
    reward = (actions == GOAL).float()
    mask = torch.ones(bsz, length, dtype=torch.bool)
    mask[0, -2:] = False
    return WorldModelBatch(obs, actions, next_obs, reward, reward.clone(), None, mask)


_TRAINED: dict[str, tuple[WorldModel, float, float]] = {}


def _trained(name: str) -> tuple[WorldModel, float, float]:
    """A model trained 30 Adam steps (cached per backbone), with initial and final loss."""
    if name not in _TRAINED:
        model = _model(name)
        batch = _data()
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        losses = []
        for _ in range(30):
            loss, metrics = model.loss(batch)
            assert torch.isfinite(loss)
            assert set(metrics) == {"loss", "obs", "reward", "success"}
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(metrics["loss"])
        _, final = model.loss(batch)
        _TRAINED[name] = (model.eval(), losses[0], final["loss"])
    return _TRAINED[name]


@pytest.mark.parametrize("name", BACKBONES)
def test_output_shapes(name: str) -> None:
    model = _model(name).eval()
    obs = torch.randn(3, 5, OBS_DIM)
    actions = torch.randint(0, N_ACTIONS, (3, 5))
    resets = torch.zeros(3, 5, dtype=torch.bool)
    resets[1, 2] = True
    out = model(obs, actions, resets)
    assert isinstance(out, WorldModelOutput)
    assert out.next_obs.shape == (3, 5, OBS_DIM)
    assert out.reward.shape == (3, 5)
    assert out.success_logit.shape == (3, 5)
    step_out, _ = model.observe(obs[:, 0], actions[:, 0], None)
    assert step_out.next_obs.shape == (3, OBS_DIM)
    assert step_out.reward.shape == (3,)
    pred, reward, success, _ = model.imagine(obs[:, 0], None, actions)
    assert pred.shape == (3, 5, OBS_DIM) and reward.shape == (3, 5) and success.shape == (3, 5)
    assert bool(((success >= 0) & (success <= 1)).all())
    assert model.score_actions(obs[:, 0], None, torch.zeros(3, 4, 2).long()).shape == (3, 4)


@pytest.mark.parametrize("name", BACKBONES)
def test_loss_decreases(name: str) -> None:
    _, initial, final = _trained(name)
    assert final < 0.5 * initial


@pytest.mark.parametrize("name", BACKBONES)
def test_loss_mask_ignores_padding(name: str) -> None:
    model = _model(name).eval()
    batch = _data(seed=1)
    loss_a, _ = model.loss(batch)
    batch.next_obs[0, -1] += 100.0  # masked-out step
    loss_b, _ = model.loss(batch)
    torch.testing.assert_close(loss_a, loss_b)
    batch.next_obs[1, -1] += 100.0  # a kept step
    loss_c, _ = model.loss(batch)
    assert float(loss_c.detach()) > float(loss_a.detach()) + 1.0


@pytest.mark.parametrize("name", BACKBONES)
def test_imagine_first_step_matches_forward(name: str) -> None:
    model = _model(name, seed=2).eval()
    obs0 = torch.randn(2, OBS_DIM)
    actions = torch.randint(0, N_ACTIONS, (2, 4))
    with torch.no_grad():
        pred, reward, success, _ = model.imagine(obs0, None, actions)
        out = model(obs0[:, None], actions[:, :1])
    torch.testing.assert_close(pred[:, 0], out.next_obs[:, 0], atol=1e-5, rtol=0)
    torch.testing.assert_close(reward[:, 0], out.reward[:, 0], atol=1e-5, rtol=0)
    torch.testing.assert_close(
        success[:, 0], torch.sigmoid(out.success_logit[:, 0]), atol=1e-5, rtol=0
    )


@pytest.mark.parametrize("name", BACKBONES)
def test_imagine_equals_teacher_forced_forward(name: str) -> None:
    model = _model(name, seed=3).eval()
    torch.manual_seed(3)
    # A real prefix observed step by step, then imagination continues from its state.
    prefix_obs = torch.randn(2, 3, OBS_DIM)
    prefix_act = torch.randint(0, N_ACTIONS, (2, 3))
    obs0 = torch.randn(2, OBS_DIM)
    actions = torch.randint(0, N_ACTIONS, (2, 5))
    with torch.no_grad():
        state = model.init_state(2)
        for t in range(3):
            _, state = model.observe(prefix_obs[:, t], prefix_act[:, t], state)
        pred, reward, success, _ = model.imagine(obs0, state, actions)
        seq_obs = torch.cat([prefix_obs, obs0[:, None], pred[:, :-1]], dim=1)
        out = model(seq_obs, torch.cat([prefix_act, actions], dim=1))
    torch.testing.assert_close(pred, out.next_obs[:, 3:], atol=1e-4, rtol=0)
    torch.testing.assert_close(reward, out.reward[:, 3:], atol=1e-4, rtol=0)
    torch.testing.assert_close(success, torch.sigmoid(out.success_logit[:, 3:]), atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", BACKBONES)
def test_score_actions_ranks_rewarded_sequence_first(name: str) -> None:
    model, _, _ = _trained(name)
    torch.manual_seed(4)
    obs = torch.randn(3, OBS_DIM)
    candidates = torch.stack(
        [torch.full((3, 3), GOAL), torch.zeros(3, 3, dtype=torch.long)], dim=1
    )  # (B=3, K=2, H=3): all-goal vs never-goal
    scores = model.score_actions(obs, None, candidates)
    assert scores.shape == (3, 2)
    assert bool((scores[:, 0] > scores[:, 1]).all())


@pytest.mark.parametrize("name", BACKBONES)
def test_score_actions_does_not_mutate_state(name: str) -> None:
    model = _model(name, seed=5).eval()
    obs = torch.randn(2, 3, OBS_DIM)
    acts = torch.randint(0, N_ACTIONS, (2, 3))
    with torch.no_grad():
        state = None
        for t in range(3):
            _, state = model.observe(obs[:, t], acts[:, t], state)
        before = model.imagine(obs[:, -1], state, acts)
        snapshot = [t.clone() for t in _tensors(state)]
        scores = model.score_actions(obs[:, -1], state, torch.randint(0, N_ACTIONS, (2, 4, 3)))
        after = model.imagine(obs[:, -1], state, acts)
    assert scores.shape == (2, 4)
    for a, b in zip(snapshot, _tensors(state)):
        assert torch.equal(a, b)
    for a, b in zip(before[:3], after[:3]):
        assert torch.equal(a, b)
    # Scoring one candidate per row equals imagining it from the same state.
    cand = torch.randint(0, N_ACTIONS, (2, 1, 3))
    with torch.no_grad():
        _, reward, success, _ = model.imagine(obs[:, -1], state, cand[:, 0])
    w = model.config.discount ** torch.arange(3, dtype=reward.dtype)
    expected = (reward * w).sum(1) + model.config.success_bonus * (success * w).amax(1)
    torch.testing.assert_close(
        model.score_actions(obs[:, -1], state, cand)[:, 0], expected, atol=1e-5, rtol=0
    )


def _tensors(state: Any) -> list[torch.Tensor]:
    if isinstance(state, torch.Tensor):
        return [state]
    if isinstance(state, (list, tuple)):
        return [t for s in state for t in _tensors(s)]
    return [t for v in vars(state).values() for t in _tensors(v)]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"obs_dim": 0}, "obs_dim"),
        ({"n_actions": -1}, "n_actions"),
        ({"d_model": 2.5}, "d_model"),
        ({"n_layers": 0}, "n_layers"),
        ({"backbone": "lstm"}, "lstm"),
        ({"reward_weight": -1.0}, "reward_weight"),
        ({"discount": 0.0}, "discount"),
        ({"discount": 1.5}, "1.5"),
    ],
)
def test_bad_config_raises(kwargs: dict[str, Any], match: str) -> None:
    base: dict[str, Any] = {"obs_dim": OBS_DIM, "n_actions": N_ACTIONS}
    with pytest.raises(ValueError, match=match):
        WorldModelConfig(**{**base, **kwargs})


def test_bad_inputs_raise() -> None:
    model = _model("ssm")
    with pytest.raises(ValueError, match="actions must be in"):
        model(torch.randn(1, 2, OBS_DIM), torch.tensor([[0, N_ACTIONS]]))
    with pytest.raises(ValueError, match="obs must have shape"):
        model(torch.randn(1, 2, OBS_DIM + 1), torch.zeros(1, 2).long())
