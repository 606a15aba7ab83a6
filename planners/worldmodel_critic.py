"""A critic that asks a trained world model what an action would do before the agent takes it.

:class:`WorldModelCritic` follows the episode: the agent hands it every observation
(:meth:`~WorldModelCritic.observe`) and every action it takes (:meth:`~WorldModelCritic.acted`),
and the critic advances the world model's recurrent state by one step each time (O(1) with the
SSM backbone). Before an interaction skill (pick up, put, open, close, toggle) it imagines that
skill's action from the current state and reads the predicted "last action succeeded" feature
of the next observation (:attr:`FeatureConfig.action_ok_index`); below ``threshold`` it vetoes
the skill with the prediction as the reason, and the planner replans with another object of the
same type. It never vetoes the last known object of a type: the planner would drop it for the
subgoal, and a learned prediction is not certain enough for that (measured:
``benchmarks/worldmodel_critic.py``). The planner and scripts
can also rank whole action sequences with :meth:`~WorldModelCritic.score` (imagined discounted
reward plus predicted success, :meth:`WorldModel.score_actions`).

Enable it with ``robomem run worldmodel_critic=PATH`` (a ``model.pt`` or a training folder from
``robomem train worldmodel``).

Example:
    >>> import torch
    >>> from robomem.planners.worldmodel_critic import WorldModelCritic
    >>> from robomem.worldmodel.features import ACTION_VOCAB, FeatureConfig
    >>> from robomem.worldmodel.model import WorldModel, WorldModelConfig
    >>> feats = FeatureConfig(grid=2)
    >>> _ = torch.manual_seed(0)
    >>> model = WorldModel(WorldModelConfig(obs_dim=feats.dim, n_actions=len(ACTION_VOCAB),
    ...                                     d_model=8, n_layers=1))
    >>> critic = WorldModelCritic(model, feats, threshold=0.2)
    >>> critic.begin_episode()
    >>> len(critic.score([["MoveAhead", "PickupObject"], ["RotateLeft", "Done"]]))
    2
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from robomem.planners.base import PlanContext
from robomem.planners.critic import Critic, Verdict
from robomem.skills import INTERACTION_ACTIONS, Skill
from robomem.types import Action, Observation
from robomem.worldmodel.features import FeatureConfig, action_id, observation_features
from robomem.worldmodel.model import WorldModel

__all__ = ["WorldModelCritic"]


class WorldModelCritic(Critic):
    """Vetoes interaction skills a world model predicts will fail; scores action sequences.

    Args:
        model: a trained :class:`WorldModel` whose observations are :func:`observation_features`.
        features: the feature settings it was trained with.
        threshold: veto when the predicted success of the skill's action is below this, in
            [0, 1]; 0 never vetoes (scoring only).

    Raises:
        ValueError: ``threshold`` outside [0, 1], or a model whose ``obs_dim`` is not
            ``features.dim``.
    """

    def __init__(self, model: WorldModel, features: FeatureConfig, threshold: float = 0.2) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        if model.config.obs_dim != features.dim:
            raise ValueError(f"the model takes {model.config.obs_dim} features per step, the "
                             f"feature settings give {features.dim}")
        self.model = model.eval()
        self.features = features
        self.threshold = threshold
        self._state: Any = None
        self._obs: torch.Tensor | None = None
        self.counters = {"worldmodel_reviews": 0.0, "worldmodel_vetoes": 0.0,
                         "worldmodel_doubts": 0.0}

    @classmethod
    def from_checkpoint(cls, path: str | Path, threshold: float = 0.2,
                        device: str = "auto") -> WorldModelCritic:
        """Load a model trained by ``robomem train worldmodel`` (``model.pt`` or its folder)."""
        from robomem.worldmodel.train import load_worldmodel

        loaded = load_worldmodel(path, device)
        return cls(loaded.model, loaded.features, threshold)

    # ------------------------------------------------------------- episode hooks
    def begin_episode(self) -> None:
        """Forget the last episode's state and counters."""
        self._state, self._obs = None, None
        self.counters = dict.fromkeys(self.counters, 0.0)

    def observe(self, obs: Observation) -> None:
        """Keep the features of the observation the next action is chosen on."""
        self._obs = torch.from_numpy(observation_features(obs, self.features))[None]

    def _id(self, name: str) -> int:
        """The action's id; actions newer than the model read as "other"."""
        i = action_id(name)
        return i if i < self.model.config.n_actions else action_id("other")

    @torch.no_grad()
    def acted(self, action: Action) -> None:
        """Advance the model's state by the last observation and the action taken on it."""
        if self._obs is None:
            return
        a = torch.tensor([self._id(action.name)])
        _, self._state = self.model.observe(self._obs, a, self._state)

    # ------------------------------------------------------------- predictions
    @torch.no_grad()
    def predict_success(self, action: str) -> float:
        """Predicted probability that ``action`` succeeds if taken now, in [0, 1]."""
        if self._obs is None:
            raise RuntimeError("WorldModelCritic.observe must be called before predicting")
        out, _ = self.model.observe(self._obs, torch.tensor([self._id(action)]), self._state)
        value = float(out.next_obs[0, self.features.action_ok_index])
        return min(1.0, max(0.0, value))

    def score(self, candidates: list[list[str]]) -> list[float]:
        """Score action sequences of equal length from the current state; higher is better.

        Raises:
            ValueError: no candidates, or sequences of different or zero length.
        """
        lengths = {len(c) for c in candidates}
        if not candidates or len(lengths) != 1 or 0 in lengths:
            raise ValueError(f"need one or more action sequences of one non-zero length, got "
                             f"lengths {sorted(lengths)}")
        obs = self._obs if self._obs is not None else torch.zeros(1, self.features.dim)
        ids = torch.tensor([[[self._id(a) for a in c] for c in candidates]])
        scores = self.model.score_actions(obs, self._state, ids)
        return [float(s) for s in scores[0]]

    def review(self, skill: Skill, ctx: PlanContext) -> Verdict:
        """Veto an interaction skill whose action the model predicts will fail.

        A veto makes the planner drop the target for the subgoal, so a prediction alone never
        removes the last known object of its type: with no other instance in memory the skill
        is approved and the doubt is counted (``worldmodel_doubts``).
        """
        action = INTERACTION_ACTIONS.get(skill.name)
        if action is None or self._obs is None or self.threshold <= 0.0:
            return Verdict(True)
        self.counters["worldmodel_reviews"] += 1
        p = self.predict_success(action)
        if p < self.threshold:
            node = ctx.scene.node(skill.target) if skill.target else None
            label = node.label if node is not None else skill.label
            others = [n for n in ctx.scene.find(label or "") if n.key != skill.target]
            if not others:
                self.counters["worldmodel_doubts"] += 1
                return Verdict(True)
            self.counters["worldmodel_vetoes"] += 1
            return Verdict(False, f"the world model predicts {action} on {skill.target} fails "
                                  f"(p={p:.2f} < {self.threshold})")
        return Verdict(True)
