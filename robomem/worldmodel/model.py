"""An action-conditioned world model on a pluggable sequence backbone (SSM or transformer).

:class:`WorldModel` embeds an observation embedding ``(B, L, obs_dim)`` and a discrete action
``(B, L)``, runs a :class:`~robomem.worldmodel.backbone.Backbone` and predicts, for every step,
the next observation embedding, the reward and a success logit. Training uses the whole-sequence
path (:meth:`WorldModel.forward`, :meth:`WorldModel.loss`); imagination and planning use the
one-step path (:meth:`WorldModel.observe`, :meth:`WorldModel.imagine`,
:meth:`WorldModel.score_actions`), which costs O(1) per step with the SSM backbone and one new
KV entry per step with the transformer.

Example:
    >>> import torch
    >>> from robomem.worldmodel.model import WorldModel, WorldModelConfig
    >>> _ = torch.manual_seed(0)
    >>> cfg = WorldModelConfig(obs_dim=4, n_actions=3, d_model=8, n_layers=1)
    >>> model = WorldModel(cfg).eval()
    >>> out = model(torch.randn(2, 5, 4), torch.randint(0, 3, (2, 5)))
    >>> tuple(out.next_obs.shape), tuple(out.reward.shape), tuple(out.success_logit.shape)
    ((2, 5, 4), (2, 5), (2, 5))
    >>> actions = torch.zeros(2, 6, dtype=torch.long)
    >>> pred, reward, success, state = model.imagine(torch.randn(2, 4), None, actions)
    >>> tuple(pred.shape), tuple(reward.shape)
    ((2, 6, 4), (2, 6))
    >>> tuple(model.score_actions(torch.randn(2, 4), state, torch.zeros(2, 3, 4).long()).shape)
    (2, 3)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from robomem.worldmodel.backbone import BACKBONES, Backbone, make_backbone
from robomem.worldmodel.ssm import SSMState
from robomem.worldmodel.transformer import KVCache

__all__ = ["WorldModel", "WorldModelBatch", "WorldModelConfig", "WorldModelOutput"]


def _check_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")


def _check_weight(name: str, value: object) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0.0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")


@dataclass(frozen=True)
class WorldModelConfig:
    """Configuration of a :class:`WorldModel`.

    Attributes:
        obs_dim: size ``D`` of an observation embedding, >= 1.
        n_actions: number of discrete actions, >= 1.
        d_model: backbone width, >= 1.
        n_layers: backbone depth, >= 1.
        backbone: a name registered in ``BACKBONES`` (``"ssm"``, ``"transformer"``).
        backbone_kwargs: extra backbone arguments (e.g. ``{"n_heads": 4}``, ``{"d_state": 8}``).
            For ``"transformer"``, ``n_heads`` defaults to 4 if it divides ``d_model``, else 1.
        obs_weight: weight of the next-observation MSE, >= 0.
        reward_weight: weight of the reward MSE, >= 0.
        success_weight: weight of the success BCE, >= 0.
        discount: discount of predicted rewards in :meth:`WorldModel.score_actions`, in (0, 1].
        success_bonus: weight of the predicted success probability in
            :meth:`WorldModel.score_actions`, >= 0.

    Raises:
        ValueError: on a bad value; the message names the field and the value.
    """

    obs_dim: int
    n_actions: int
    d_model: int = 128
    n_layers: int = 2
    backbone: str = "ssm"
    backbone_kwargs: dict[str, Any] = field(default_factory=dict)
    obs_weight: float = 1.0
    reward_weight: float = 1.0
    success_weight: float = 1.0
    discount: float = 0.99
    success_bonus: float = 1.0

    def __post_init__(self) -> None:
        for name in ("obs_dim", "n_actions", "d_model", "n_layers"):
            _check_int(name, getattr(self, name))
        if self.backbone not in BACKBONES:
            known = ", ".join(BACKBONES.names())
            raise ValueError(f"unknown backbone {self.backbone!r}; known: {known}")
        if not isinstance(self.backbone_kwargs, dict):
            raise ValueError(f"backbone_kwargs must be a dict, got {self.backbone_kwargs!r}")
        for name in ("obs_weight", "reward_weight", "success_weight", "success_bonus"):
            _check_weight(name, getattr(self, name))
        d = self.discount
        if not isinstance(d, (int, float)) or isinstance(d, bool) or not 0.0 < d <= 1.0:
            raise ValueError(f"discount must be in (0, 1], got {d!r}")


class WorldModelOutput(NamedTuple):
    """Per-step predictions (leading dims ``(B, L)`` for sequences, ``(B,)`` for one step).

    Attributes:
        next_obs: predicted next observation embedding, ``(..., obs_dim)``.
        reward: predicted reward, ``(...)``.
        success_logit: predicted success logit, ``(...)``.
    """

    next_obs: Tensor
    reward: Tensor
    success_logit: Tensor


@dataclass
class WorldModelBatch:
    """A training batch of ``B`` sequences of length ``L``.

    Attributes:
        obs: observation embeddings, ``(B, L, D)``.
        actions: actions taken at each step, ``(B, L)`` long.
        next_obs: the observation embedding after each action, ``(B, L, D)``.
        reward: reward of each step, ``(B, L)``.
        success: 1.0 where the task is solved after the step, else 0.0, ``(B, L)`` float.
        resets: optional bool ``(B, L)``; True at ``t`` starts a new episode.
        mask: optional bool ``(B, L)``; False steps (padding) are left out of the loss.
    """

    obs: Tensor
    actions: Tensor
    next_obs: Tensor
    reward: Tensor
    success: Tensor
    resets: Tensor | None = None
    mask: Tensor | None = None


def _repeat_state(state: Any, k: int) -> Any:
    """Repeat every batch row of a backbone state ``k`` times (row ``b`` -> rows ``b*k..``)."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.repeat_interleave(k, dim=0)
    if isinstance(state, SSMState):
        return SSMState(conv=_repeat_state(state.conv, k), ssm=_repeat_state(state.ssm, k))
    if isinstance(state, KVCache):
        return KVCache(
            keys=[_repeat_state(t, k) for t in state.keys],
            values=[_repeat_state(t, k) for t in state.values],
            start=_repeat_state(state.start, k),
            pos=_repeat_state(state.pos, k),
        )
    if isinstance(state, (list, tuple)):
        return type(state)(_repeat_state(s, k) for s in state)
    raise TypeError(f"cannot repeat a backbone state of type {type(state).__name__}")


class WorldModel(nn.Module):
    """Predicts next observation embedding, reward and success from (observation, action).

    The input at step ``t`` is ``in_proj([obs_proj(obs_t), action_emb(a_t)])`` (``d_model``);
    the backbone output ``h_t`` feeds three heads. The next-observation head is residual:
    ``next_obs_t = obs_t + obs_head(h_t)``.

    Args:
        config: the :class:`WorldModelConfig`.
    """

    def __init__(self, config: WorldModelConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        kwargs = dict(config.backbone_kwargs)
        if config.backbone == "transformer":
            kwargs.setdefault("n_heads", 4 if d % 4 == 0 else 1)
        self.obs_proj = nn.Linear(config.obs_dim, d)
        self.action_emb = nn.Embedding(config.n_actions, d)
        self.in_proj = nn.Linear(2 * d, d)
        self.backbone: Backbone[Any] = make_backbone(config.backbone, d, config.n_layers, **kwargs)
        self.obs_head = nn.Linear(d, config.obs_dim)
        self.reward_head = nn.Linear(d, 1)
        self.success_head = nn.Linear(d, 1)

    @property
    def device(self) -> torch.device:
        """The device of the parameters."""
        return self.obs_proj.weight.device

    def _check_inputs(self, obs: Tensor, actions: Tensor) -> None:
        d, n = self.config.obs_dim, self.config.n_actions
        if obs.shape[-1] != d or obs.shape[:-1] != actions.shape:
            raise ValueError(
                f"obs must have shape (*, {d}) and actions the leading shape of obs; got "
                f"obs {tuple(obs.shape)}, actions {tuple(actions.shape)}"
            )
        if actions.numel() and (int(actions.min()) < 0 or int(actions.max()) >= n):
            raise ValueError(
                f"actions must be in [0, {n}), got range "
                f"[{int(actions.min())}, {int(actions.max())}]"
            )

    def _embed(self, obs: Tensor, actions: Tensor) -> Tensor:
        obs = obs.to(self.device, self.obs_proj.weight.dtype)
        actions = actions.to(self.device, torch.long)
        x = torch.cat([self.obs_proj(obs), self.action_emb(actions)], dim=-1)
        out: Tensor = self.in_proj(x)
        return out

    def _heads(self, obs: Tensor, h: Tensor) -> WorldModelOutput:
        obs = obs.to(self.device, self.obs_proj.weight.dtype)
        return WorldModelOutput(
            next_obs=obs + self.obs_head(h),
            reward=self.reward_head(h).squeeze(-1),
            success_logit=self.success_head(h).squeeze(-1),
        )

    def forward(
        self, obs: Tensor, actions: Tensor, resets: Tensor | None = None
    ) -> WorldModelOutput:
        """Predict every step of whole sequences (teacher forcing).

        Args:
            obs: observation embeddings, ``(B, L, obs_dim)``.
            actions: actions, ``(B, L)`` long in ``[0, n_actions)``.
            resets: optional bool ``(B, L)``; True at ``t`` starts a new episode.

        Returns:
            :class:`WorldModelOutput` with ``next_obs (B, L, obs_dim)``, ``reward (B, L)``,
            ``success_logit (B, L)``.

        Raises:
            ValueError: on a bad shape or an out-of-range action.
        """
        if obs.dim() != 3:
            raise ValueError(f"obs must have shape (B, L, D), got {tuple(obs.shape)}")
        self._check_inputs(obs, actions)
        if resets is not None:
            resets = resets.to(self.device)
        h = self.backbone(self._embed(obs, actions), resets)
        return self._heads(obs, h)

    def loss(self, batch: WorldModelBatch) -> tuple[Tensor, dict[str, float]]:
        """Weighted sum of next-observation MSE, reward MSE and success BCE (masked means).

        Args:
            batch: a :class:`WorldModelBatch`.

        Returns:
            The scalar loss and a dict of floats (``"loss"``, ``"obs"``, ``"reward"``,
            ``"success"``).

        Raises:
            ValueError: on mismatched shapes.
        """
        bsz, length = batch.actions.shape
        for name, value, shape in (
            ("next_obs", batch.next_obs, tuple(batch.obs.shape)),
            ("reward", batch.reward, (bsz, length)),
            ("success", batch.success, (bsz, length)),
            ("mask", batch.mask, (bsz, length)),
        ):
            if value is not None and tuple(value.shape) != shape:
                raise ValueError(f"{name} must have shape {shape}, got {tuple(value.shape)}")
        out = self(batch.obs, batch.actions, batch.resets)
        dtype = out.reward.dtype
        if batch.mask is None:
            m = torch.ones(bsz, length, device=self.device, dtype=dtype)
        else:
            m = batch.mask.to(self.device, dtype)
        denom = m.sum().clamp_min(1.0)
        next_obs = batch.next_obs.to(self.device, dtype)
        obs_err = ((out.next_obs - next_obs) ** 2).mean(dim=-1)
        obs_loss = (obs_err * m).sum() / denom
        rew_loss = (((out.reward - batch.reward.to(self.device, dtype)) ** 2) * m).sum() / denom
        bce = F.binary_cross_entropy_with_logits(
            out.success_logit, batch.success.to(self.device, dtype), reduction="none"
        )
        suc_loss = (bce * m).sum() / denom
        cfg = self.config
        total = (
            cfg.obs_weight * obs_loss + cfg.reward_weight * rew_loss + cfg.success_weight * suc_loss
        )
        metrics = {
            "loss": float(total.detach()),
            "obs": float(obs_loss.detach()),
            "reward": float(rew_loss.detach()),
            "success": float(suc_loss.detach()),
        }
        return total, metrics

    def init_state(self, batch: int) -> Any:
        """A fresh backbone state for ``batch`` rows, on the parameters' device."""
        return self.backbone.init_state(batch, self.device, self.obs_proj.weight.dtype)

    def observe(
        self, obs_t: Tensor, action_t: Tensor, state: Any = None, resets: Tensor | None = None
    ) -> tuple[WorldModelOutput, Any]:
        """Advance one real or imagined step.

        Args:
            obs_t: observation embedding, ``(B, obs_dim)``.
            action_t: action, ``(B,)`` long.
            state: the backbone state from the previous step, or None to start fresh.
            resets: optional bool ``(B,)``; True starts a new episode in that row here.

        Returns:
            :class:`WorldModelOutput` with ``next_obs (B, obs_dim)``, ``reward (B,)``,
            ``success_logit (B,)``, and the new backbone state (the given one is not modified).
        """
        if obs_t.dim() != 2:
            raise ValueError(f"obs_t must have shape (B, D), got {tuple(obs_t.shape)}")
        self._check_inputs(obs_t, action_t)
        if resets is not None:
            resets = resets.to(self.device)
        h, new_state = self.backbone.step(self._embed(obs_t, action_t), state, resets)
        return self._heads(obs_t, h), new_state

    def imagine(
        self, obs0: Tensor, state: Any, actions: Tensor
    ) -> tuple[Tensor, Tensor, Tensor, Any]:
        """Roll the model forward on its own predictions for ``H`` steps.

        Step ``h`` feeds the predicted observation of step ``h - 1`` (``obs0`` at ``h = 0``)
        with ``actions[:, h]`` through :meth:`observe`.

        Args:
            obs0: the current observation embedding, ``(B, obs_dim)``.
            state: the backbone state before ``obs0`` (None for a fresh episode).
            actions: the action sequence, ``(B, H)`` long, ``H >= 1``.

        Returns:
            ``pred_obs (B, H, obs_dim)``, ``reward (B, H)``, ``success_prob (B, H)`` and the
            backbone state after the last step.

        Raises:
            ValueError: on a bad shape.
        """
        if actions.dim() != 2 or actions.shape[1] < 1 or obs0.dim() != 2:
            raise ValueError(
                f"need obs0 (B, D) and actions (B, H>=1); got obs0 {tuple(obs0.shape)}, "
                f"actions {tuple(actions.shape)}"
            )
        obs = obs0
        preds: list[WorldModelOutput] = []
        for h in range(actions.shape[1]):
            out, state = self.observe(obs, actions[:, h], state)
            preds.append(out)
            obs = out.next_obs
        pred_obs = torch.stack([p.next_obs for p in preds], dim=1)
        reward = torch.stack([p.reward for p in preds], dim=1)
        success = torch.sigmoid(torch.stack([p.success_logit for p in preds], dim=1))
        return pred_obs, reward, success, state

    @torch.no_grad()
    def score_actions(
        self,
        obs: Tensor,
        state: Any,
        candidates: Tensor,
        discount: float | None = None,
        success_bonus: float | None = None,
    ) -> Tensor:
        """Score ``K`` candidate action sequences per row by imagining each one.

        ``score = sum_h discount**h * reward_h + success_bonus * max_h discount**h * p_h``,
        where ``p_h`` is the predicted success probability. The caller's state is not changed
        (it is copied ``K`` times per row).

        Args:
            obs: the current observation embedding, ``(B, obs_dim)``.
            state: the backbone state before ``obs`` (None for a fresh episode).
            candidates: action sequences, ``(B, K, H)`` long.
            discount: reward discount; ``config.discount`` if None.
            success_bonus: success weight; ``config.success_bonus`` if None.

        Returns:
            Scores, ``(B, K)``; higher is better.

        Raises:
            ValueError: on a bad shape.
        """
        if candidates.dim() != 3 or obs.dim() != 2 or candidates.shape[0] != obs.shape[0]:
            raise ValueError(
                f"need obs (B, D) and candidates (B, K, H); got obs {tuple(obs.shape)}, "
                f"candidates {tuple(candidates.shape)}"
            )
        gamma = self.config.discount if discount is None else discount
        bonus = self.config.success_bonus if success_bonus is None else success_bonus
        bsz, k, horizon = candidates.shape
        obs_k = obs.repeat_interleave(k, dim=0)
        state_k = _repeat_state(state, k)
        _, reward, success, _ = self.imagine(obs_k, state_k, candidates.reshape(bsz * k, horizon))
        weights = gamma ** torch.arange(horizon, device=reward.device, dtype=reward.dtype)
        ret = (reward * weights).sum(dim=1) + bonus * (success * weights).amax(dim=1)
        return ret.reshape(bsz, k)
