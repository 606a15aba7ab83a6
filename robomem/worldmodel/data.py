"""World-model training data: per-episode trajectory files in a run folder, and batches of them.

``robomem run trajectories=true`` records every episode with a :class:`TrajectoryRecorder`
into ``RUN_DIR/trajectories/seed<S>_ep<K>.npz`` (written atomically when the episode ends, so
a crash loses only the episode in progress). A file holds

* ``obs``: ``(L + 1, D)`` float32 observation features (:mod:`robomem.worldmodel.features`),
  from the reset observation to the last one;
* ``actions``: ``(L,)`` int64 action ids; ``reward``: ``(L,)`` float32 env rewards;
* ``success``: ``(L,)`` float32, 1.0 at the last step of a solved episode, else 0.0;
* ``meta``: a JSON string (feature settings, action vocabulary, seed, episode, scene,
  instruction, family, success).

:func:`load_trajectories` reads a run folder back and :class:`TrajectoryDataset` cuts it into
:class:`~robomem.worldmodel.model.WorldModelBatch` windows.

Example:
    >>> import numpy as np
    >>> from robomem.worldmodel.data import Trajectory, TrajectoryDataset
    >>> t = Trajectory(obs=np.zeros((6, 3), np.float32), actions=np.arange(5),
    ...                reward=np.zeros(5, np.float32), success=np.zeros(5, np.float32), meta={})
    >>> batch = TrajectoryDataset([t], seq_len=4).sample(2, np.random.default_rng(0))
    >>> tuple(batch.obs.shape), tuple(batch.next_obs.shape), int(batch.mask.sum())
    ((2, 4, 3), (2, 4, 3), 8)
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from robomem.store.atomic import atomic_write
from robomem.types import Observation
from robomem.worldmodel.features import (
    ACTION_VOCAB,
    FeatureConfig,
    action_id,
    observation_features,
)
from robomem.worldmodel.model import WorldModelBatch

__all__ = [
    "TRAJECTORY_DIR",
    "Trajectory",
    "TrajectoryDataset",
    "TrajectoryRecorder",
    "load_trajectories",
]

TRAJECTORY_DIR = "trajectories"


@dataclass
class Trajectory:
    """One recorded episode (see the module docstring for the arrays)."""

    obs: NDArray[np.float32]
    actions: NDArray[np.int64]
    reward: NDArray[np.float32]
    success: NDArray[np.float32]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.actions)
        if self.obs.ndim != 2 or self.obs.shape[0] != n + 1:
            raise ValueError(f"obs must have shape ({n + 1}, D) for {n} actions, "
                             f"got {self.obs.shape}")
        if self.reward.shape != (n,) or self.success.shape != (n,):
            raise ValueError(f"reward and success must have shape ({n},), got "
                             f"{self.reward.shape} and {self.success.shape}")

    @property
    def length(self) -> int:
        """Number of steps (actions)."""
        return len(self.actions)

    def to_bytes(self) -> bytes:
        """The ``.npz`` file contents."""
        buf = io.BytesIO()
        np.savez_compressed(buf, obs=self.obs, actions=self.actions, reward=self.reward,
                            success=self.success, meta=np.array(json.dumps(self.meta)))
        return buf.getvalue()

    @classmethod
    def load(cls, path: str | Path) -> Trajectory:
        """Read a file written by :meth:`to_bytes`; a damaged file raises ``ValueError``."""
        try:
            with np.load(path, allow_pickle=False) as z:
                return cls(obs=z["obs"].astype(np.float32), actions=z["actions"].astype(np.int64),
                           reward=z["reward"].astype(np.float32),
                           success=z["success"].astype(np.float32),
                           meta=json.loads(str(z["meta"])))
        except (OSError, KeyError, ValueError) as e:
            raise ValueError(f"{path} is not a readable trajectory file: {e}") from e


class TrajectoryRecorder:
    """Records episodes as :class:`Trajectory` files in ``folder``.

    Args:
        folder: where the ``.npz`` files go (created when missing).
        features: the observation feature settings.
    """

    def __init__(self, folder: str | Path, features: FeatureConfig | None = None) -> None:
        self.folder = Path(folder)
        self.features = features or FeatureConfig()
        self._obs: list[NDArray[np.float32]] = []
        self._actions: list[int] = []
        self._rewards: list[float] = []
        self._meta: dict[str, Any] = {}

    def begin(self, obs: Observation, meta: dict[str, Any] | None = None) -> None:
        """Start an episode at its reset observation."""
        self._obs = [observation_features(obs, self.features)]
        self._actions, self._rewards = [], []
        self._meta = dict(meta or {})

    def record(self, action: str, obs: Observation, reward: float) -> None:
        """Record one step: the action taken and the observation and reward it led to."""
        if not self._obs:
            raise RuntimeError("TrajectoryRecorder.record called before begin")
        self._actions.append(action_id(action))
        self._obs.append(observation_features(obs, self.features))
        self._rewards.append(float(reward))

    def end(self, success: bool, name: str) -> Path:
        """Write the episode to ``folder/<name>.npz`` atomically and return the path."""
        n = len(self._actions)
        succ = np.zeros(n, np.float32)
        if success and n:
            succ[-1] = 1.0
        meta = {**self._meta, "success": bool(success), "features": self.features.to_dict(),
                "actions": list(ACTION_VOCAB)}
        traj = Trajectory(np.stack(self._obs), np.asarray(self._actions, np.int64),
                          np.asarray(self._rewards, np.float32), succ, meta)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.npz"
        atomic_write(path, traj.to_bytes())
        self._obs = []
        return path


def load_trajectories(run_dir: str | Path) -> tuple[list[Trajectory], FeatureConfig]:
    """All trajectories of a run folder (or of a folder of ``.npz`` files), in name order.

    Raises:
        ValueError: the folder is missing, holds no trajectories (the message says how to
            record them), a file is damaged, or files disagree on features or actions.
    """
    root = Path(run_dir)
    if not root.is_dir():
        raise ValueError(f"run folder {str(root)!r} does not exist")
    folder = root / TRAJECTORY_DIR if (root / TRAJECTORY_DIR).is_dir() else root
    files = sorted(folder.glob("*.npz"))
    if not files:
        raise ValueError(f"no trajectory files in {str(folder)!r}; record some with "
                         f"`robomem run trajectories=true` and pass its run folder")
    trajs = [Trajectory.load(f) for f in files]
    first = trajs[0].meta
    for f, t in zip(files, trajs, strict=True):
        for key in ("features", "actions"):
            if t.meta.get(key) != first.get(key):
                raise ValueError(f"{f.name} was recorded with different {key} "
                                 f"({t.meta.get(key)}) than {files[0].name} ({first.get(key)})")
    features = FeatureConfig.from_dict(dict(first.get("features", {})))
    if trajs[0].obs.shape[1] != features.dim:
        raise ValueError(f"{files[0].name}: features of size {trajs[0].obs.shape[1]} do not "
                         f"match its settings (size {features.dim})")
    return trajs, features


class TrajectoryDataset:
    """Windows of ``seq_len`` steps cut from trajectories, as world-model batches.

    A window never crosses an episode; a shorter episode is padded and the padding masked.

    Args:
        trajectories: the episodes (at least one with a step).
        seq_len: window length, >= 1.
    """

    def __init__(self, trajectories: list[Trajectory], seq_len: int) -> None:
        if seq_len < 1:
            raise ValueError(f"seq_len must be >= 1, got {seq_len}")
        self.trajectories = [t for t in trajectories if t.length > 0]
        if not self.trajectories:
            raise ValueError("need at least one trajectory with a step")
        self.seq_len = seq_len
        self.dim = int(self.trajectories[0].obs.shape[1])
        lengths = np.array([t.length for t in self.trajectories], dtype=np.float64)
        self._weights = lengths / lengths.sum()  # sample episodes by their number of steps

    def __len__(self) -> int:
        return len(self.trajectories)

    @property
    def steps(self) -> int:
        """Total number of steps."""
        return int(sum(t.length for t in self.trajectories))

    def split(self, val_fraction: float, seed: int = 0) -> tuple[TrajectoryDataset,
                                                                 TrajectoryDataset | None]:
        """Split by episode into (train, validation); validation is None if it would be empty."""
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
        n = len(self.trajectories)
        n_val = round(n * val_fraction)
        if n_val == 0 or n_val == n:
            return self, None
        order = np.random.default_rng(seed).permutation(n)
        val = [self.trajectories[i] for i in sorted(order[:n_val])]
        train = [self.trajectories[i] for i in sorted(order[n_val:])]
        return TrajectoryDataset(train, self.seq_len), TrajectoryDataset(val, self.seq_len)

    def _window(self, traj: Trajectory, start: int) -> tuple[NDArray[Any], ...]:
        length = min(self.seq_len, traj.length - start)
        obs = np.zeros((self.seq_len, self.dim), np.float32)
        nxt = np.zeros_like(obs)
        act = np.zeros(self.seq_len, np.int64)
        rew = np.zeros(self.seq_len, np.float32)
        suc = np.zeros(self.seq_len, np.float32)
        mask = np.zeros(self.seq_len, bool)
        sl = slice(start, start + length)
        obs[:length], nxt[:length] = traj.obs[sl], traj.obs[start + 1:start + 1 + length]
        act[:length], rew[:length], suc[:length] = traj.actions[sl], traj.reward[sl], \
            traj.success[sl]
        mask[:length] = True
        return obs, nxt, act, rew, suc, mask

    def _batch(self, windows: list[tuple[NDArray[Any], ...]]) -> WorldModelBatch:
        cols = [torch.from_numpy(np.stack(c)) for c in zip(*windows, strict=True)]
        resets = torch.zeros(cols[5].shape, dtype=torch.bool)
        resets[:, 0] = True
        return WorldModelBatch(obs=cols[0], next_obs=cols[1], actions=cols[2], reward=cols[3],
                               success=cols[4], mask=cols[5], resets=resets)

    def sample(self, batch_size: int, rng: np.random.Generator) -> WorldModelBatch:
        """``batch_size`` random windows (episodes drawn in proportion to their length)."""
        picks = rng.choice(len(self.trajectories), size=batch_size, p=self._weights)
        windows = []
        for i in picks:
            t = self.trajectories[int(i)]
            start = int(rng.integers(0, max(1, t.length - self.seq_len + 1)))
            windows.append(self._window(t, start))
        return self._batch(windows)

    def batches(self, batch_size: int) -> list[WorldModelBatch]:
        """Every step once, in consecutive windows (for a deterministic validation loss)."""
        windows = [self._window(t, s) for t in self.trajectories
                   for s in range(0, t.length, self.seq_len)]
        return [self._batch(windows[i:i + batch_size])
                for i in range(0, len(windows), batch_size)]
