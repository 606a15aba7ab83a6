"""Training a world model from recorded runs: ``robomem train worldmodel --data RUN_DIR``.

:func:`train_worldmodel` trains a :class:`~robomem.worldmodel.model.WorldModel` on the
trajectories of one or more run folders (``robomem run trajectories=true``), with a progress
bar, a validation loss on held-out episodes, checkpoints written atomically every
``checkpoint_every`` steps (and on Ctrl-C), resuming from the last checkpoint, and a loss plot.
The output folder holds

* ``checkpoint.pt``: the latest state (model, optimiser, step, history, random states);
* ``model.pt``: the weights with the lowest validation loss (what the critic loads);
* ``history.jsonl``: one line per evaluation; ``loss.png``: the curves; ``metrics.json``.

Example:
    >>> import tempfile
    >>> import numpy as np
    >>> from robomem.worldmodel.data import Trajectory
    >>> from robomem.worldmodel.train import TrainConfig, load_worldmodel, train_worldmodel
    >>> rng = np.random.default_rng(0)
    >>> trajs = [Trajectory(rng.random((9, 70), dtype=np.float32), rng.integers(0, 16, 8),
    ...                     np.zeros(8, np.float32), np.zeros(8, np.float32), {})
    ...          for _ in range(4)]
    >>> out = tempfile.mkdtemp()
    >>> cfg = TrainConfig(steps=4, batch_size=2, seq_len=8, d_model=16, eval_every=2)
    >>> result = train_worldmodel(trajs, out, cfg, progress=False)
    >>> result.step, sorted(p.name for p in result.folder.iterdir())[:3]
    (4, ['checkpoint.pt', 'history.jsonl', 'loss.png'])
    >>> load_worldmodel(result.folder / "model.pt").features.dim
    70
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from robomem.store.atomic import atomic_write
from robomem.untrusted import quote
from robomem.worldmodel.data import Trajectory, TrajectoryDataset
from robomem.worldmodel.features import ACTION_VOCAB, FeatureConfig
from robomem.worldmodel.model import WorldModel, WorldModelConfig

__all__ = ["LoadedWorldModel", "TrainConfig", "TrainResult", "load_worldmodel",
           "pick_device", "read_checkpoint", "train_worldmodel"]

CHECKPOINT_FORMAT = "robomem-worldmodel"
CHECKPOINT_VERSION = 1
MODEL_KEYS = ("backbone", "d_model", "n_layers")


@dataclass(frozen=True)
class TrainConfig:
    """Settings of :func:`train_worldmodel`.

    Attributes:
        backbone: ``"ssm"`` or ``"transformer"``.
        d_model: backbone width.
        n_layers: backbone depth.
        steps: optimiser steps in total (a resumed run continues up to this number).
        batch_size: windows per step.
        seq_len: steps per window.
        lr: Adam learning rate.
        grad_clip: gradient-norm clip (0 turns it off).
        val_fraction: share of episodes held out for validation.
        eval_every: steps between validation losses.
        checkpoint_every: steps between checkpoints.
        seed: seeds the split, the sampling and the initial weights.
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...

    Raises:
        ValueError: on a bad value; the message names it.
    """

    backbone: str = "ssm"
    d_model: int = 64
    n_layers: int = 2
    steps: int = 2000
    batch_size: int = 16
    seq_len: int = 64
    lr: float = 1e-3
    grad_clip: float = 1.0
    val_fraction: float = 0.1
    eval_every: int = 100
    checkpoint_every: int = 500
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        for name in ("d_model", "n_layers", "steps", "batch_size", "seq_len", "eval_every",
                     "checkpoint_every"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be an int >= 1, got {v!r}")
        if not self.lr > 0 or not self.grad_clip >= 0:
            raise ValueError(f"lr must be > 0 and grad_clip >= 0, got {self.lr}, "
                             f"{self.grad_clip}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")

    @classmethod
    def from_overrides(cls, overrides: dict[str, str]) -> TrainConfig:
        """Build from ``key -> text`` pairs, converting each to its field's type."""
        types = {f.name: type(getattr(cls(), f.name)) for f in fields(cls)}
        unknown = sorted(set(overrides) - set(types))
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; known: {sorted(types)}")
        values: dict[str, Any] = {}
        for k, v in overrides.items():
            try:
                values[k] = types[k](v)
            except ValueError:
                raise ValueError(f"{k} must be a {types[k].__name__}, got {v!r}") from None
        return cls(**values)


@dataclass
class TrainResult:
    """What :func:`train_worldmodel` produced."""

    folder: Path
    step: int
    history: list[dict[str, float]] = field(default_factory=list)
    best_val_loss: float | None = None


@dataclass
class LoadedWorldModel:
    """A trained model with the feature settings it was trained on."""

    model: WorldModel
    features: FeatureConfig
    meta: dict[str, Any]


def pick_device(name: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else as given (checked)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but CUDA is not available here; "
                         f"use device=cpu or device=auto")
    return dev


def _save(path: Path, payload: dict[str, Any]) -> None:
    buf = io.BytesIO()
    torch.save(payload, buf)
    atomic_write(path, buf.getvalue())


def read_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """A checkpoint's contents, read as data only, with its format checked before use.

    ``torch.load(..., weights_only=True)`` unpickles tensors, containers and numbers only: a
    file whose pickle would call a function (``os.system``, ...) is refused before anything in
    it runs. World-model files get shared between labs; they are never trusted as code.

    Raises:
        ValueError: not a torch file, not weights-only, or not a robomem world-model checkpoint.
    """
    import pickle

    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, AttributeError, ValueError,
            TypeError, ImportError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(f"{path} is not a robomem world-model checkpoint: it cannot be read "
                         f"as weights-only torch data ({first[:200]})") from None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a robomem world-model checkpoint (no "
                         f"format={CHECKPOINT_FORMAT!r} entry)")
    if data.get("version") != CHECKPOINT_VERSION:
        raise ValueError(f"{path} is a version {quote(data.get('version'))} checkpoint; this "
                         f"robomem reads version {CHECKPOINT_VERSION}")
    missing = [k for k in ("model_config", "features", "actions", "model") if k not in data]
    if missing or not isinstance(data["model_config"], dict) \
            or not isinstance(data["features"], dict) or not isinstance(data["model"], dict):
        raise ValueError(f"{path} is an incomplete world-model checkpoint (missing or malformed:"
                         f" {', '.join(missing) or 'model_config, features or model'})")
    return data


def load_worldmodel(path: str | Path, device: str = "auto") -> LoadedWorldModel:
    """Load ``model.pt`` or ``checkpoint.pt`` written by :func:`train_worldmodel`.

    Raises:
        ValueError: the file is missing or is not a robomem world-model checkpoint.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "model.pt"
    if not p.exists():
        raise ValueError(f"world-model file {str(p)!r} does not exist; train one with "
                         f"`robomem train worldmodel --data RUN_DIR`")
    data = read_checkpoint(p)
    saved = data.get("actions")
    # A checkpoint from before a primitive was appended is a prefix (its actions keep their
    # ids; the critic reads newer actions as "other").
    if not isinstance(saved, list) or saved != list(ACTION_VOCAB[:len(saved)]) or \
            "other" not in saved:
        raise ValueError(f"{p} was trained on another action vocabulary: "
                         f"{quote(data.get('actions'))}")
    try:
        model = WorldModel(WorldModelConfig(**data["model_config"]))
        model.load_state_dict(data["model"])
    except (TypeError, ValueError, RuntimeError, KeyError) as e:
        raise ValueError(f"{p}: the weights do not fit the model it describes: "
                         f"{str(e).splitlines()[0][:200]}") from None
    model.to(pick_device(device)).eval()
    return LoadedWorldModel(model, FeatureConfig.from_dict(data["features"]),
                            {k: data[k] for k in ("step", "train_config", "best_val_loss")
                             if k in data})


def _validate(model: WorldModel, val: TrajectoryDataset | None,
              batch_size: int) -> dict[str, float] | None:
    if val is None:
        return None
    model.eval()
    sums: dict[str, float] = {}
    weight = 0.0
    with torch.no_grad():
        for batch in val.batches(batch_size):
            assert batch.mask is not None
            n = float(batch.mask.sum())
            _, parts = model.loss(batch)
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v * n
            weight += n
    model.train()
    return {f"val_{k}": v / max(weight, 1.0) for k, v in sums.items()}


def plot_history(history: list[dict[str, float]], path: Path) -> None:
    """Training and validation loss against step (log scale) into ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    steps = [h["step"] for h in history]
    ax.plot(steps, [h["loss"] for h in history], label="train")
    if history and "val_loss" in history[0]:
        ax.plot(steps, [h["val_loss"] for h in history], label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.set_title("world-model training")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def train_worldmodel(data: list[Trajectory], out: str | Path, cfg: TrainConfig,
                     features: FeatureConfig | None = None, resume: bool = False,
                     progress: bool = True) -> TrainResult:
    """Train (or resume training) a world model on recorded trajectories.

    Args:
        data: the episodes (:func:`~robomem.worldmodel.data.load_trajectories`).
        out: the output folder.
        cfg: the training settings.
        features: the feature settings the data was recorded with (stored in the checkpoint).
        resume: continue from ``out/checkpoint.pt``; without it an existing checkpoint is an
            error rather than being overwritten.
        progress: show a progress bar.

    Returns:
        A :class:`TrainResult`.

    Raises:
        ValueError: no usable data, an existing checkpoint without ``resume``, or a resumed
            checkpoint whose model settings differ from ``cfg``.
    """
    folder = Path(out)
    ckpt_path = folder / "checkpoint.pt"
    if ckpt_path.exists() and not resume:
        raise ValueError(f"{ckpt_path} exists; pass --resume to continue it, or another --out")
    folder.mkdir(parents=True, exist_ok=True)
    features = features or FeatureConfig()
    dataset = TrajectoryDataset(data, cfg.seq_len)
    if dataset.dim != features.dim:
        raise ValueError(f"the data has {dataset.dim} features per step but the feature "
                         f"settings {features} give {features.dim}")
    train, val = dataset.split(cfg.val_fraction, cfg.seed)
    device = pick_device(cfg.device)
    torch.manual_seed(cfg.seed)
    mcfg = WorldModelConfig(obs_dim=dataset.dim, n_actions=len(ACTION_VOCAB),
                            d_model=cfg.d_model, n_layers=cfg.n_layers, backbone=cfg.backbone)
    model = WorldModel(mcfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    rng = np.random.default_rng(cfg.seed)
    step, history, best = 0, [], math.inf
    if resume and ckpt_path.exists():
        ck = read_checkpoint(ckpt_path, map_location=device)
        old = ck["train_config"]
        changed = [k for k in MODEL_KEYS if old.get(k) != getattr(cfg, k)]
        if changed:
            raise ValueError(f"cannot resume {ckpt_path}: {changed} differ from the checkpoint "
                             f"({ {k: old.get(k) for k in changed} })")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        step, history = int(ck["step"]), list(ck["history"])
        best = float(ck.get("best_val_loss") or math.inf)
        rng.bit_generator.state = ck["rng"]["numpy"]
        torch.set_rng_state(ck["rng"]["torch"])
        # evaluations logged after the last checkpoint are redone: keep the log in step
        (folder / "history.jsonl").write_text("".join(json.dumps(h) + "\n" for h in history))

    def payload(weights_only: bool) -> dict[str, Any]:
        p: dict[str, Any] = {
            "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
            "model_config": asdict(mcfg), "features": features.to_dict(),
            "actions": list(ACTION_VOCAB), "train_config": asdict(cfg), "step": step,
            "best_val_loss": None if math.isinf(best) else best,
            "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        }
        if not weights_only:
            p.update(optimizer=opt.state_dict(), history=history,
                     rng={"numpy": rng.bit_generator.state, "torch": torch.get_rng_state()})
        return p

    def checkpoint() -> None:
        _save(ckpt_path, payload(weights_only=False))
        if val is None:  # without validation data the latest weights are the model
            _save(folder / "model.pt", payload(weights_only=True))
        if history:
            plot_history(history, folder / "loss.png")

    model.train()
    bar = tqdm(total=cfg.steps, initial=step, desc=f"train worldmodel ({cfg.backbone})",
               unit="step", disable=not progress)
    running: dict[str, float] = {}
    n_running = 0
    try:
        while step < cfg.steps:
            batch = train.sample(cfg.batch_size, rng)
            loss, parts = model.loss(batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            step += 1
            for k, v in parts.items():
                running[k] = running.get(k, 0.0) + v
            n_running += 1
            bar.update()
            bar.set_postfix(loss=f"{parts['loss']:.4f}")
            if step % cfg.eval_every == 0 or step == cfg.steps:
                entry: dict[str, float] = {"step": step,
                                           **{k: v / n_running for k, v in running.items()}}
                running, n_running = {}, 0
                val_parts = _validate(model, val, cfg.batch_size)
                if val_parts is not None:
                    entry.update(val_parts)
                    if val_parts["val_loss"] < best:
                        best = val_parts["val_loss"]
                        _save(folder / "model.pt", payload(weights_only=True))
                history.append(entry)
                with (folder / "history.jsonl").open("a") as f:
                    f.write(json.dumps(entry) + "\n")
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                checkpoint()
    except KeyboardInterrupt:
        checkpoint()  # nothing learned is lost: `--resume` continues from here
        raise
    finally:
        bar.close()
    metrics = {"step": step, "episodes": len(dataset), "steps_of_data": dataset.steps,
               "train_episodes": len(train), "val_episodes": 0 if val is None else len(val),
               "best_val_loss": None if math.isinf(best) else best,
               "final": history[-1] if history else None, "device": str(device)}
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return TrainResult(folder, step, history, None if math.isinf(best) else best)
