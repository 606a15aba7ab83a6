"""A full memory write and recall per step: parallel fan-out versus one module after another.

The memory agent runs real lifelong Household episodes once and its per-step memory inputs
(percepts, actions, goal labels) and queries are recorded. They are then replayed through two
fresh memory systems with every module (spatial, temporal, episodic with the packaged
MiniLM encoder, semantic, working): one fanning out to a worker thread per module, one
calling the modules in turn in the caller's thread. Each step is one ``write`` and one
``recall``; both systems see the same inputs and must recall the same facts (checked).
Rounds alternate between the two so machine noise hits both alike. ``--flush-every 1``
makes episodic memory run its text encoder on every step (per-step embeddings written as
they come), the case where a second module has real work to overlap with spatial memory.

    python benchmarks/parallel_memory.py --steps 300 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/x.py` too

import gymnasium as gym

import robomem.envs  # noqa: F401
from benchmarks.common import OUT, write_json
from robomem.agent import AgentConfig, MemoryAgent
from robomem.envs.household.embodiment import HouseholdEmbodiment
from robomem.memory.base import EpisodeOutcome, EpisodeStart, MemoryQuery, StepInput
from robomem.memory.system import MemorySystem, MemorySystemConfig

HOUSEHOLD = HouseholdEmbodiment()

Event = tuple[str, Any]


def record(steps: int, size: int, seed: int) -> list[Event]:
    """Run the agent and record every memory call it makes, in order."""
    agent = MemoryAgent(AgentConfig(modules=MemorySystemConfig(parallel=False)))
    calls: list[Event] = []
    sys_ = agent.system
    for hook in ("begin_episode", "write", "recall", "end_episode"):
        real = getattr(sys_, hook)

        def spy(arg: Any, real: Any = real, hook: str = hook) -> Any:
            calls.append((hook, arg))
            return real(arg)

        setattr(sys_, hook, spy)
    env = gym.make("robomem/Household-v0", width=size, height=size, lifelong=True)
    obs_d, info = env.reset(seed=seed)
    obs = HOUSEHOLD.observe(obs_d, info)
    agent.reset(obs)
    n = 0
    while n < steps:
        obs_d, _, term, trunc, info = env.step(HOUSEHOLD.command(agent.act(obs)))
        obs = HOUSEHOLD.observe(obs_d, info)
        n += 1
        if term or trunc:
            agent.end_episode(bool(info.get("success")), n)
            obs_d, info = env.reset()
            obs = HOUSEHOLD.observe(obs_d, info)
            agent.reset(obs)
    env.close()
    agent.close()
    return calls


def replay(calls: list[Event], parallel: bool, flush_every: int = 512
           ) -> tuple[list[float], list[Any]]:
    """Per-step seconds of write + recall, and every recall's facts."""
    options = {"episodic": {"flush_every": flush_every}}
    system = MemorySystem.from_config(MemorySystemConfig(parallel=parallel, options=options))
    per_step: list[float] = []
    facts: list[Any] = []
    t_write = 0.0
    for hook, arg in calls:
        if hook == "begin_episode":
            assert isinstance(arg, EpisodeStart)
            system.begin_episode(arg)
        elif hook == "end_episode":
            assert isinstance(arg, EpisodeOutcome)
            system.end_episode(arg)
        elif hook == "write":
            assert isinstance(arg, StepInput)
            t = time.perf_counter()
            system.write(arg)
            t_write = time.perf_counter() - t
        else:
            assert isinstance(arg, MemoryQuery)
            t = time.perf_counter()
            ctx = system.recall(arg)
            per_step.append(t_write + time.perf_counter() - t)
            facts.append(ctx.all())
    system.close()
    return per_step, facts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--steps", type=int, default=300, help="env steps to record")
    ap.add_argument("--rounds", type=int, default=3, help="replays of each mode (alternating)")
    ap.add_argument("--size", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--flush-every", type=int, default=512,
                    help="episodic step texts per encoder batch (1: the model runs every step)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", module="gymnasium")
    calls = record(args.steps, args.size, args.seed)
    # replay every recorded step as write + recall (the agent recalls only when it plans)
    steps: list[Event] = []
    last_q: MemoryQuery | None = None
    for hook, arg in calls:
        if hook == "recall":
            last_q = arg
            continue
        steps.append((hook, arg))
        if hook == "write" and last_q is not None:
            q = MemoryQuery(arg.episode, arg.step, arg.scene, last_q.instruction, arg.labels,
                            arg.percept.agent_pose)
            steps.append(("recall", q))
    replay(steps[:40], True, args.flush_every)  # warm-up: load the encoder, fill caches
    times: dict[str, list[float]] = {"sequential": [], "parallel": []}
    facts: dict[str, Any] = {}
    for _ in range(args.rounds):
        for mode in ("sequential", "parallel"):
            t, f = replay(steps, mode == "parallel", args.flush_every)
            times[mode].extend(t)
            facts[mode] = f
    same = facts["sequential"] == facts["parallel"]
    stats = {m: {"steps": len(v), "mean_ms": float(np.mean(v) * 1000),
                 "p50_ms": float(np.percentile(v, 50) * 1000),
                 "p99_ms": float(np.percentile(v, 99) * 1000), "total_s": float(np.sum(v))}
             for m, v in times.items()}
    speedup = stats["sequential"]["total_s"] / stats["parallel"]["total_s"]
    out = {"steps_recorded": args.steps, "rounds": args.rounds, "same_facts": same,
           "flush_every": args.flush_every,
           "modes": stats, "speedup": speedup}
    name = "parallel_memory" + ("" if args.flush_every == 512 else f"_flush{args.flush_every}")
    path = write_json(name, out, args.out)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for m, c in (("sequential", "#c44e52"), ("parallel", "#4c72b0")):
        ax.hist(np.asarray(times[m]) * 1000, bins=60, alpha=0.6, color=c,
                label=f"{m}: mean {stats[m]['mean_ms']:.1f} ms")
    ax.set_xlabel("write + recall per step (ms)")
    ax.set_ylabel("steps")
    ax.set_title(f"Full memory per step: parallel {speedup:.2f}x faster")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out / f"{name}.png", dpi=120)
    print(json.dumps(out, indent=1))
    print(f"-> {path}")


if __name__ == "__main__":
    main()
