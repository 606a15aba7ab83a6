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
import shutil
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from tqdm import tqdm

import robomem.envs  # noqa: F401  (registers the envs)
from robomem.agent import MemoryAgent
from robomem.config import RunConfig, to_yaml
from robomem.embodiment import Embodiment, embodiment_for
from robomem.hf import hide_progress_bars
from robomem.planners.base import planner_class
from robomem.policies.base import Policy, make_policy, memory_agent, policy_class
from robomem.report import write_plots, write_report
from robomem.reservoir import Reservoir
from robomem.store import Store

if TYPE_CHECKING:
    from robomem.worldmodel.data import TrajectoryRecorder


class RunFolderError(ValueError):
    """The run folder cannot be made or written where it was asked for."""


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
    reference_steps: int | None = None  # the oracle's steps for the same episode
    spl: float | None = None  # success weighted by (oracle steps / max(oracle, own steps))
    task: dict[str, Any] | None = None  # the env's task, to replay the same sequence later
    notes: list[str] = field(default_factory=list)  # the policy's account (why it gave up, ...)


EpisodeHook = Callable[[EpisodeRecord, Policy], None]
"""``run(on_episode_end=...)``: called with each finished episode's record and its policy."""


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
    return gym.make(cfg.env.id, **cfg.env.gym_kwargs())


def _percentiles(xs: Sequence[float]) -> dict[str, float]:
    if not xs:
        return {"p50_ms": 0.0, "p99_ms": 0.0, "mean_ms": 0.0}
    a = np.asarray(xs) * 1000.0
    return {"p50_ms": float(np.percentile(a, 50)), "p99_ms": float(np.percentile(a, 99)),
            "mean_ms": float(a.mean())}


def run(cfg: RunConfig, progress: bool = True, folder: Path | None = None,
        tasks: dict[int, list[dict[str, Any]]] | None = None,
        on_episode_end: EpisodeHook | None = None) -> RunResult:
    """Run ``cfg.episodes`` episodes per seed and write the run folder.

    Args:
        cfg: the run configuration.
        progress: show a progress bar.
        folder: the run folder (default: a new one under ``cfg.out``).
        tasks: per seed, the task of each episode (task dicts, e.g. the ``task`` field of
            an earlier run's episodes), to run exactly the same sequence again.
        on_episode_end: called with each episode's record and the policy that ran it, once
            the episode is logged (and, with a store, committed), in the runner's thread;
            e.g. to watch memory use over a long run (``benchmarks/soak.py``).
    """
    warnings.filterwarnings("ignore", module="gymnasium")
    if not progress:  # nor the model loads' bars (a local language model's, say)
        hide_progress_bars()
    policy_class(cfg.policy)  # an unknown name fails here, before any work
    planner_class(cfg.agent.planner)  # so does an unknown planner
    make_env(cfg).close()  # and a bad env, scene or task family
    if cfg.agent.planner == "llm":  # and an unknown language-model backend
        from robomem.planners.lm import backend_class

        backend_class(cfg.agent.llm.backend)
    if cfg.agent.worldmodel_critic:  # and a missing or foreign world-model file
        from robomem.worldmodel.train import load_worldmodel

        load_worldmodel(cfg.agent.worldmodel_critic, "cpu")
    tag = cfg.policy if cfg.policy != "agent" else f"agent-{cfg.agent.memory}"
    out = folder or Path(cfg.out) / f"{time.strftime('%Y%m%d-%H%M%S')}-{cfg.name}-{tag}"
    store = open_store(cfg)  # a locked or unwritable store fails before any folder is made
    try:
        created = make_run_folder(out)
        (out / "config.yaml").write_text(to_yaml(cfg))
    except BaseException:
        if store is not None:
            store.close()
        raise
    records: list[EpisodeRecord] = []
    try:
        return _run_episodes(cfg, out, tag, store, records, progress, tasks, on_episode_end)
    except BaseException:
        if not records and created:  # nothing finished: leave no half-made run folder
            shutil.rmtree(out, ignore_errors=True)
        raise


def make_run_folder(out: Path) -> bool:
    """Create the run folder; returns whether it was new.

    Raises:
        RunFolderError: the place is a file, or cannot be written (the message names it).
    """
    for parent in (out, *out.parents):
        if parent.exists() and not parent.is_dir():
            raise RunFolderError(f"cannot make run folder {str(out)!r}: {str(parent)!r} is a "
                                 f"file, not a folder; pass another --out")
    existed = out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise RunFolderError(f"cannot write run folder {str(out)!r}: {e.strerror or e}; pass "
                             f"an --out you can write to") from None
    return not existed


def _run_episodes(cfg: RunConfig, out: Path, tag: str, store: Store | None,
                  records: list[EpisodeRecord], progress: bool,
                  tasks: dict[int, list[dict[str, Any]]] | None,
                  on_episode_end: EpisodeHook | None = None) -> RunResult:
    """Run every episode into ``out`` (appending to ``records``) and write the results."""
    # bounded samples: a run of weeks keeps percentiles, not every step's time
    latency: dict[str, Reservoir] = {"env_step": Reservoir(), "policy_act": Reservoir()}
    total = cfg.episodes * len(cfg.seeds)
    bar = tqdm(total=total, desc=f"robomem run ({tag})", unit="ep", disable=not progress)
    recorder = None
    if cfg.trajectories:  # torch is imported only when world-model data is recorded
        from robomem.worldmodel.data import TRAJECTORY_DIR, TrajectoryRecorder

        recorder = TrajectoryRecorder(out / TRAJECTORY_DIR)
    try:
        with (out / "episodes.jsonl").open("a") as log:
            for seed in cfg.seeds:
                env = make_env(cfg)
                policy = build_policy(cfg, env, seed)
                attach = getattr(env.unwrapped, "attach_memory", None)
                if callable(attach) and isinstance(policy, MemoryAgent):
                    attach(policy.reader())  # an env that shows memory (ROS 2 topics)
                if store is not None:
                    if not isinstance(policy, MemoryAgent):
                        raise ValueError(f"store={cfg.store!r}: a lifelong store is kept by "
                                         f"the mobile memory agent; {type(policy).__name__} "
                                         f"keeps none")
                    policy.attach_store(store)
                for k in range(cfg.episodes):
                    task = tasks[seed][k] if tasks is not None else None
                    rec = _episode(env, policy, seed, k, latency, cfg.spl, task, recorder)
                    records.append(rec)
                    log.write(json.dumps(asdict(rec)) + "\n")
                    log.flush()
                    bar.update()
                    bar.set_postfix(success=f"{np.mean([r.success for r in records]):.2f}")
                    if on_episode_end is not None:
                        on_episode_end(rec, policy)
                for key, values in policy.timings().items():
                    samples = latency.setdefault(key, Reservoir())
                    for v in values:
                        samples.add(v / 1000.0)
                memory = getattr(policy, "memory", None)
                if cfg.save_scene_graphs and memory is not None and hasattr(memory, "export"):
                    memory.export(out / "scene_graphs" / f"seed_{seed}")
                close = getattr(policy, "close", None)
                if callable(close):
                    close()
                env.close()
    finally:
        bar.close()
        if store is not None:
            store.close()
    metrics = summarize(records, latency)
    metrics["policy"] = tag
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    write_plots(out, records_as_dicts(records))
    write_report(out, cfg.name, cfg.policy, metrics, records_as_dicts(records))
    return RunResult(out, metrics, records)


def records_as_dicts(records: list[EpisodeRecord]) -> list[dict[str, Any]]:
    """Episode records as plain dicts."""
    return [asdict(r) for r in records]


def build_policy(cfg: RunConfig, env: gym.Env[Any, Any], seed: int) -> Policy:
    """The configured agent: the memory agent with its memory mode, or a registered policy."""
    if cfg.policy == "agent":
        return memory_agent(cfg.agent, embodiment_for(env), seed)
    return make_policy(cfg.policy, env, seed)


def open_store(cfg: RunConfig) -> Store | None:
    """The run's lifelong store (``store=PATH``), opened for writing, or None."""
    if cfg.store is None:
        return None
    if cfg.policy != "agent" or cfg.agent.memory != "full":
        raise ValueError(f"store={cfg.store!r} needs the memory agent with memory=full "
                         f"(agent.memory); this run uses policy={cfg.policy!r}, agent.memory="
                         f"{cfg.agent.memory!r}")
    return Store.open(cfg.store)


def reference_steps(env: gym.Env[Any, Any], embodiment: Embodiment | None = None) -> int | None:
    """SPL's reference: the steps a shortest solution of the current episode takes.

    Where the env's embodiment can tell (the Household simulator's privileged oracle), else
    ``None``.
    """
    return (embodiment or embodiment_for(env)).reference_steps(env)


def _episode(env: gym.Env[Any, Any], policy: Policy, seed: int, k: int,
             latency: dict[str, Reservoir], spl: bool,
             task: dict[str, Any] | None = None,
             recorder: TrajectoryRecorder | None = None) -> EpisodeRecord:
    t0 = time.perf_counter()
    obs_d, info = env.reset(seed=seed if k == 0 else None,
                            options={"task": task} if task is not None else None)
    emb = embodiment_for(env)
    obs = emb.observe(obs_d, info)
    ref = reference_steps(env, emb) if spl else None
    policy.reset(obs)
    if recorder is not None:
        recorder.begin(obs, {"seed": seed, "episode": k, "scene": obs.scene,
                             "instruction": obs.instruction})
    steps = failed = 0
    success = False
    while True:
        t = time.perf_counter()
        action = policy.act(obs)
        latency["policy_act"].add(time.perf_counter() - t)
        t = time.perf_counter()
        obs_d, reward, terminated, truncated, info = env.step(emb.command(action))
        latency["env_step"].add(time.perf_counter() - t)
        obs = emb.observe(obs_d, info)
        if recorder is not None:
            recorder.record(action.name, obs, float(reward))
        steps += 1
        failed += not obs.action_success
        if terminated or truncated:
            success = emb.success(info)
            break
    policy.end_episode(success, steps)
    env_task = dict(info.get("task", {}))
    if recorder is not None:
        recorder.end(success, f"seed{seed}_ep{k:04d}")
    spl_value = (ref / max(ref, steps) if success and ref else 0.0) if ref is not None else None
    return EpisodeRecord(seed, k, obs.instruction, str(env_task.get("family", "")), success,
                         steps, failed, time.perf_counter() - t0, dict(policy.stats()), ref,
                         spl_value, env_task or None, list(policy.notes()))


def summarize(records: list[EpisodeRecord],
              latency: Mapping[str, Sequence[float]]) -> dict[str, Any]:
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
        "spl": (float(np.mean([r.spl for r in records if r.spl is not None]))
                if any(r.spl is not None for r in records) else None),
        "totals": _totals(records),
        "per_family": {f: {"n": len(v), "success_rate": sum(v) / len(v)} for f, v in fams.items()},
        "latency": {k: _percentiles(v) for k, v in latency.items()},
    }


def _totals(records: list[EpisodeRecord]) -> dict[str, float]:
    """Per-episode means of the policy counters (planner calls, replans, loop breaks...)."""
    keys_ = sorted({k for r in records for k in r.policy_stats})
    return {k: float(np.mean([r.policy_stats.get(k, 0.0) for r in records])) for k in keys_}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a success rate ``k / n``."""
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (float(max(0.0, c - h)), float(min(1.0, c + h)))
