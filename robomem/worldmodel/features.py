"""Observation embeddings and action ids for world models, computed from any :class:`Observation`.

A world model needs a compact vector per step. :func:`observation_features` makes one from what
every env and bridge provides, with no learned encoder (so a run log is usable for training
without a model, and the same vector is computed again at planning time):

* the RGB image averaged over a ``grid x grid`` lattice of cells (``3 grid^2`` values in [0, 1]);
* the depth image averaged the same way, divided by ``max_depth`` and clipped to [0, 1]
  (``grid^2`` values);
* the agent pose: ``x / position_scale``, ``z / position_scale``, ``sin(yaw)``, ``cos(yaw)``,
  ``horizon / 90`` (5 values);
* whether the action that led here succeeded (1 value, 1.0 after a reset), at
  :attr:`FeatureConfig.action_ok_index`, so that a model predicting the next embedding also
  predicts whether an action will fail: the world-model critic reads it.

Actions are ids over robomem's primitive actions (:data:`ACTION_VOCAB`, in
:mod:`robomem.primitives`' fixed order, the same in every world); any other name maps to the last
id, ``"other"``.

Example:
    >>> import numpy as np
    >>> from robomem.types import AgentPose, Observation
    >>> from robomem.worldmodel.features import FeatureConfig, action_id, observation_features
    >>> obs = Observation.single(
    ...     rgb=np.full((8, 8, 3), 255, np.uint8), depth=np.ones((8, 8), np.float32),
    ...     intrinsics=np.eye(3), camera_pose=np.eye(4),
    ...     agent_pose=AgentPose(0.0, 0.9, 0.0, 90.0, 0.0))
    >>> cfg = FeatureConfig(grid=2)
    >>> f = observation_features(obs, cfg)
    >>> f.shape == (cfg.dim,), float(f[0]), float(f[cfg.action_ok_index])
    (True, 1.0, 1.0)
    >>> action_id("pickup"), action_id("teleport") == ACTION_VOCAB.index("other")
    (8, True)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from robomem.primitives import PRIMITIVES
from robomem.types import Observation

__all__ = [
    "ACTION_VOCAB",
    "FeatureConfig",
    "action_id",
    "observation_features",
]

OTHER_ACTION = "other"
_FIRST_VOCAB = 15  # the primitives that existed when "other" was added (ids must not move)
# Primitives added later come after "other", so trained models keep their action ids.
ACTION_VOCAB: tuple[str, ...] = (*PRIMITIVES[:_FIRST_VOCAB], OTHER_ACTION,
                                 *PRIMITIVES[_FIRST_VOCAB:])
_ACTION_IDS = {name: i for i, name in enumerate(ACTION_VOCAB)}
POSE_FEATURES = 5


@dataclass(frozen=True)
class FeatureConfig:
    """How :func:`observation_features` summarises an observation.

    Attributes:
        grid: cells per side of the pooling lattice, >= 1.
        max_depth: depth (metres) that maps to 1.0, > 0.
        position_scale: metres that map to 1.0 in the pose features, > 0.

    Raises:
        ValueError: on a bad value; the message names it.
    """

    grid: int = 4
    max_depth: float = 10.0
    position_scale: float = 10.0

    def __post_init__(self) -> None:
        if not isinstance(self.grid, int) or isinstance(self.grid, bool) or self.grid < 1:
            raise ValueError(f"grid must be an int >= 1, got {self.grid!r}")
        for name in ("max_depth", "position_scale"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise ValueError(f"{name} must be a number > 0, got {value!r}")

    @property
    def dim(self) -> int:
        """Length of a feature vector."""
        return 4 * self.grid * self.grid + POSE_FEATURES + 1

    @property
    def action_ok_index(self) -> int:
        """Index of the "last action succeeded" feature (the last one)."""
        return self.dim - 1

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (:meth:`from_dict` reads it back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        """Read a dict written by :meth:`to_dict`; unknown keys are an error."""
        known = {"grid", "max_depth", "position_scale"}
        extra = sorted(set(data) - known)
        if extra:
            raise ValueError(f"unknown feature settings {extra}; known: {sorted(known)}")
        return cls(**data)


def action_id(name: str) -> int:
    """The id of an action name in :data:`ACTION_VOCAB` (unknown names -> ``"other"``)."""
    return _ACTION_IDS.get(name, _ACTION_IDS[OTHER_ACTION])


def _pool(image: NDArray[Any], grid: int) -> NDArray[np.float64]:
    """Mean of ``image`` (H, W[, C]) over a ``grid x grid`` lattice -> (grid, grid[, C])."""
    h, w = image.shape[:2]
    if h < grid or w < grid:
        raise ValueError(f"an image of {h}x{w} pixels is smaller than the {grid}x{grid} grid")
    rows = np.linspace(0, h, grid + 1).astype(int)[:-1]
    cols = np.linspace(0, w, grid + 1).astype(int)[:-1]
    img = np.asarray(image, dtype=np.float64)
    sums = np.add.reduceat(np.add.reduceat(img, rows, axis=0), cols, axis=1)
    counts = np.outer(np.diff(np.append(rows, h)), np.diff(np.append(cols, w)))
    if img.ndim == 3:
        counts = counts[:, :, None]
    result: NDArray[np.float64] = sums / counts
    return result


def observation_features(obs: Observation, cfg: FeatureConfig | None = None) -> NDArray[np.float32]:
    """The world-model embedding of one observation (see the module docstring for the layout).

    Args:
        obs: any robomem observation.
        cfg: the pooling settings (default :class:`FeatureConfig`).

    Returns:
        A float32 vector of length ``cfg.dim``.

    Raises:
        ValueError: an image is smaller than the grid.
    """
    cfg = cfg or FeatureConfig()
    rgb = _pool(obs.rgb, cfg.grid) / 255.0
    depth = np.nan_to_num(np.asarray(obs.depth, dtype=np.float64), nan=0.0, posinf=cfg.max_depth)
    depth = np.clip(_pool(depth, cfg.grid) / cfg.max_depth, 0.0, 1.0)
    p = obs.agent_pose
    yaw = math.radians(p.yaw)
    pose = np.array([p.x / cfg.position_scale, p.z / cfg.position_scale, math.sin(yaw),
                     math.cos(yaw), p.horizon / 90.0])
    ok = np.array([1.0 if obs.action_success else 0.0])
    return np.concatenate([rgb.ravel(), depth.ravel(), pose, ok]).astype(np.float32)
