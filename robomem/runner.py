"""The episode runner behind ``robomem run``: episodes with a progress bar, and a run folder.

A run folder holds ``config.yaml``, ``episodes.jsonl`` (one line per finished episode,
flushed as it ends, so a crash loses nothing already finished), ``metrics.json``, plots
(PNG) and ``report.md``.

Example:
    >>> import tempfile
    >>> from robomem.config import load_config
    >>> from robomem.runner import run
    >>> cfg = load_config(None, ["episodes=1", "env.width=64", "env.height=64",
    ...                          "env.families=[pick_and_place]", f"out={tempfile.mkdtemp()}"])
    >>> result = run(cfg, progress=False)
    >>> result.metrics["episodes"], (result.folder / "report.md").exists()
    (1, True)
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from tqdm import tqdm

import robomem.envs  # noqa: F401  (registers the envs)
from robomem.config import RunConfig, to_yaml
from robomem.policies.base import make_policy, policy_class
from robomem.report import write_plots, write_report
from robomem.types import Observation


@dataclass
class EpisodeRecord:
    """One finished episode."""

    seed: int
    index: int
    instruction: str
    family: str
    success: bool
    steps: int
    failed_actions: int
    seconds: float
    policy_stats: dict[str, float]


@dataclass
class RunResult:
    """What :func:`run` produced."""

    folder: Path
    metrics: dict[str, Any]
    episodes: list[EpisodeRecord]


def make_env(cfg: RunConfig) -> gym.Env[Any, Any]:
    """Build the configured env (unknown ids raise, listing the registered ones)."""
    if cfg.env.id not in gym.registry:
        known = sorted(k for k in gym.registry if k.startswith("robomem/"))
        raise ValueError(f"unknown env {cfg.env.id!r}; registered robomem envs: {known}")
    kw = {k: v for k, v in asdict(cfg.env).items() if k != "id" and v is not None}
    return gym.make(cfg.env.id, **kw)


def _percentiles(xs: list[float]) -> dict[str, float]:
    if not xs:
        return {"p50_ms": 0.0, "p99_ms": 0.0, "mean_ms": 0.0}
    a = np.asarray(xs) * 1000.0
    return {"p50_ms": float(np.percentile(a, 50)), "p99_ms": float(np.percentile(a, 99)),
            "mean_ms": float(a.mean())}


def run(cfg: RunConfig, progress: bool = True, folder: Path | None = None) -> RunResult:
    """Run ``cfg.episodes`` episodes per seed and write the run folder."""
    warnings.filterwarnings("ignore", module="gymnasium")
    policy_class(cfg.policy)  # an unknown name fails here, before any work
    make_env(cfg).close()  # so does a bad env, scene or task family
    out = folder or Path(cfg.out) / f"{time.strftime('%Y%m%d-%H%M%S')}-{cfg.name}-{cfg.policy}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(to_yaml(cfg))
    records: list[EpisodeRecord] = []
    latency: dict[str, list[float]] = {"env_step": [], "policy_act": []}
    total = cfg.episodes * len(cfg.seeds)
    bar = tqdm(total=total, desc=f"robomem run ({cfg.policy})", unit="ep", disable=not progress)
    with (out / "episodes.jsonl").open("a") as log:
        for seed in cfg.seeds:
            env = make_env(cfg)
            policy = make_policy(cfg.policy, env, seed)
            for k in range(cfg.episodes):
                rec = _episode(env, policy, seed, k, latency)
                records.append(rec)
                log.write(json.dumps(asdict(rec)) + "\n")
                log.flush()
                bar.update()
                bar.set_postfix(success=f"{np.mean([r.success for r in records]):.2f}")
            env.close()
    bar.close()
    metrics = summarize(records, latency)
    metrics["policy"] = cfg.policy
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    write_plots(out, records_as_dicts(records))
    write_report(out, cfg.name, cfg.policy, metrics)
    return RunResult(out, metrics, records)


def records_as_dicts(records: list[EpisodeRecord]) -> list[dict[str, Any]]:
    """Episode records as plain dicts."""
    return [asdict(r) for r in records]


def _episode(env: gym.Env[Any, Any], policy: Any, seed: int, k: int,
             latency: dict[str, list[float]]) -> EpisodeRecord:
    t0 = time.perf_counter()
    obs_d, info = env.reset(seed=seed if k == 0 else None)
    obs = Observation.from_gym(obs_d, info)
    policy.reset(obs)
    steps = failed = 0
    success = False
    while True:
        t = time.perf_counter()
        action = policy.act(obs)
        latency["policy_act"].append(time.perf_counter() - t)
        t = time.perf_counter()
        obs_d, _, terminated, truncated, info = env.step(action.to_env())
        latency["env_step"].append(time.perf_counter() - t)
        obs = Observation.from_gym(obs_d, info)
        steps += 1
        md = obs.privileged.get("metadata", {})
        failed += not md.get("lastActionSuccess", True)
        if terminated or truncated:
            success = bool(info.get("success", False))
            break
    task = info.get("task", {})
    return EpisodeRecord(seed, k, obs.instruction, str(task.get("family", "")), success, steps,
                         failed, time.perf_counter() - t0, dict(policy.stats()))


def summarize(records: list[EpisodeRecord], latency: dict[str, list[float]]) -> dict[str, Any]:
    """Success rate (with a 95% Wilson interval), steps, per-family rates and latencies."""
    n = len(records)
    wins = [r for r in records if r.success]
    fams: dict[str, list[bool]] = {}
    for r in records:
        fams.setdefault(r.family, []).append(r.success)
    return {
        "episodes": n,
        "success_rate": len(wins) / n if n else 0.0,
        "success_ci95": list(wilson(len(wins), n)),
        "mean_steps": float(np.mean([r.steps for r in records])) if n else 0.0,
        "steps_per_success": float(np.mean([r.steps for r in wins])) if wins else None,
        "failed_actions_per_episode": float(np.mean([r.failed_actions for r in records])) if n
        else 0.0,
        "per_family": {f: {"n": len(v), "success_rate": sum(v) / len(v)} for f, v in fams.items()},
        "latency": {k: _percentiles(v) for k, v in latency.items()},
    }


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a success rate ``k / n``."""
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (float(max(0.0, c - h)), float(min(1.0, c + h)))
