"""Per-step memory cost as a lifelong memory grows: small and large houses, up to 1,000 episodes.

How do a step's memory write and recall grow with the size of the house and with how much
memory already holds? Two parts:

1. Record. The memory agent runs real lifelong Household episodes in one house per size
   (``--rooms``, default 2 and 6 rooms; ``--size`` 128 px images to keep this cheap) and every
   memory input it gives is recorded, as in ``benchmarks/parallel_memory.py``: the episode
   starts, the per-step inputs (percept, action, goal labels, rooms) and the outcomes. Whole
   episodes only: the episode running when ``--steps`` steps have passed is played to its
   end (at most the task's step limit).
2. Replay. Per house size, ONE fresh memory system with every module (spatial with the
   agent's settings and ontology, temporal, episodic with the ``--encoder`` text encoder,
   semantic, working; built as ``MemoryAgent._build_system`` builds it, modules in turn in
   the caller's thread, the default) lives one lifelong run in that house: the recorded
   episodes are replayed round and round, renumbered 0, 1, 2, ... so episode ids keep
   increasing (same scene name: the same house, one spatial map), until the run has
   ``--episodes`` episodes (default 1,000).

Measured. At each checkpoint ``c`` (``--checkpoints``, default 1 10 30 100 300 1000) the run's
``c``-th episode is measured. It is always the same recorded episode (the house's longest), so
checkpoints differ only in what memory holds: ``c - 1`` finished episodes while it runs, ``c``
after it; the plot's x axis is ``c``. Each of its steps is one ``MemorySystem.write`` and one
``MemorySystem.recall`` (the episode's instruction, the step's goal labels and pose: what a
planner asks; the agent itself recalls only when it plans, so this is a planning step's
cost). Per checkpoint: write, recall and write + recall per step in ms (p50, p99, mean; the
p99 of one episode's 100 to 300 steps is close to its slowest step), the episode end (one
``MemorySystem.end_episode`` call; episodic memory encodes step texts on its background
worker, ``background=True``, so the end hands them over rather than waiting for them; one
sample, so the p50 of the unmeasured episodes' ends since the previous checkpoint is given
too), every module's p50 write and recall, what memory holds (``MemorySystem.stats()``:
episodic episodes and steps, temporal events, semantic nodes and facts, spatial objects)
and the process's resident memory.

Unmeasured episodes (between checkpoints) write every step to temporal, episodic, semantic and
working memory, and to spatial memory until each recorded episode has been written to it
once; after that they skip spatial memory, whose writes cost about 15 times all the rest of
an unmeasured 6-room episode: the replayed views are all in the map by then (checked: after
40 two-room episodes the voxel map, the occupancy grid and the scene graph were the same size
with and without those writes, and a measured spatial write cost the same). ``--full-replay``
writes spatial memory on every replay (about 1.5 s per 6-room episode here: some 30 minutes
at the defaults). Unmeasured episodes recall nothing (a recall changes no memory). Every
measured episode writes and recalls every module.

What grows. Episodic memory keeps one record per episode and every step text (its episode
index and step index grow linearly), temporal memory logs every action and sighting (linear),
semantic memory counts the same places and skills again (its graph stops growing, its counts
do not), working memory is bounded, and the spatial map stops growing once every recorded
view is in it (a real agent's map of a house it knows also stops growing, though its objects
move). Replays repeat texts, and the encoder's cache is filled with every recorded text before
the run, so no checkpoint pays for encoding new text: the figures are the cost of the memory's
data structures as they fill.

Output: ``<out>/memory_cost.json`` and ``<out>/memory_cost.png`` (left: write + recall per
step, p50 and p99, against episodes in memory on a log scale, one line per house size;
right: the episode end), and a table on stdout.

Cost, on 2 CPU cores shared with another benchmark, MiniLM: the smoke run (the second command
below) took 69 s: recording 25 s (2 rooms: 6 episodes, 398 steps) and 11 s (6 rooms: one
320-step episode, cut by its step limit), loading MiniLM (two copies) and filling its cache
about 25 s, replaying 2 s and 7 s. Unmeasured episodes replay in about 0.015 s (2 rooms) and
0.1 s (6 rooms) each (400 and 150 episode runs), so the default run should take about 4
minutes, most of it the 6-room replay, with about 1.5 GB resident at the end.

    python benchmarks/memory_cost.py                    # 2 and 6 rooms, 1,000 episodes each
    python benchmarks/memory_cost.py --episodes 30 --checkpoints 1 10 30 --out /tmp/mc
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from dataclasses import dataclass, replace
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
from robomem.memory.base import (
    EpisodeOutcome,
    EpisodeStart,
    MemoryModule,
    MemoryQuery,
    StepInput,
)
from robomem.memory.builtin import SpatialModule
from robomem.memory.episodic import step_text
from robomem.memory.spatial import SpatialMemoryConfig
from robomem.memory.system import ALL_MODULES, MemorySystem, MemorySystemConfig, build_module
from robomem.ontology import Ontology

HOUSEHOLD = HouseholdEmbodiment()
NAME = "memory_cost"
DEFAULT_CHECKPOINTS = (1, 10, 30, 100, 300, 1000)
UNMEASURED = ("every step written to temporal, episodic, semantic and working memory; spatial "
              "memory too until each recorded episode has been written once, then skipped "
              "(replays add no new view to the map); no recall (it changes nothing)")
UNMEASURED_FULL = "every step written to every module; no recall (it changes nothing)"


@dataclass
class Episode:
    """One recorded episode's memory inputs, in order."""

    start: EpisodeStart
    steps: list[StepInput]
    outcome: EpisodeOutcome

    def renumbered(self, episode: int) -> Episode:
        """The same episode with lifetime index ``episode`` everywhere."""
        return Episode(replace(self.start, episode=episode),
                       [replace(s, episode=episode) for s in self.steps],
                       replace(self.outcome, episode=episode))


@dataclass
class Recording:
    """A house's recorded episodes and the agent's spatial settings and ontology."""

    rooms: int
    episodes: list[Episode]
    spatial: SpatialMemoryConfig
    ontology: Ontology
    seconds: float


def agent_config(encoder: str) -> AgentConfig:
    """The memory agent with every module, run in turn, and the given episodic encoder."""
    return AgentConfig(modules=MemorySystemConfig(
        parallel=False, options={"episodic": {"encoder": encoder}}))


def record(steps: int, size: int, seed: int, rooms: int, encoder: str) -> Recording:
    """Run the memory agent in one lifelong house and record its memory inputs by episode.

    Whole episodes only: the episode running when ``steps`` steps have passed is played to
    its end (the task's step limit at most).
    """
    t0 = time.perf_counter()
    agent = MemoryAgent(agent_config(encoder))
    episodes: list[Episode] = []
    current: dict[str, Any] = {}
    system = agent.system
    real_begin, real_write, real_end = system.begin_episode, system.write, system.end_episode

    def begin(start: EpisodeStart) -> None:
        current.update(start=start, steps=[])
        real_begin(start)

    def write(step: StepInput) -> list[str]:
        current["steps"].append(step)
        return real_write(step)

    def end(outcome: EpisodeOutcome) -> None:
        episodes.append(Episode(current["start"], current["steps"], outcome))
        current.clear()
        real_end(outcome)

    system.begin_episode = begin  # type: ignore[method-assign]
    system.write = write  # type: ignore[method-assign]
    system.end_episode = end  # type: ignore[method-assign]
    env = gym.make("robomem/Household-v0", width=size, height=size, lifelong=True,
                   n_rooms=rooms)
    try:
        obs_d, info = env.reset(seed=seed)
        obs = HOUSEHOLD.observe(obs_d, info)
        agent.reset(obs)
        n = in_episode = 0
        while True:  # the env's step limit ends every episode
            obs_d, _, term, trunc, info = env.step(HOUSEHOLD.command(agent.act(obs)))
            obs = HOUSEHOLD.observe(obs_d, info)
            n += 1
            in_episode += 1
            if term or trunc:
                agent.end_episode(bool(info.get("success")), in_episode)
                if n >= steps:
                    break
                obs_d, info = env.reset()
                obs = HOUSEHOLD.observe(obs_d, info)
                agent.reset(obs)
                in_episode = 0
    finally:
        env.close()
        agent.close()
    episodes = [e for e in episodes if e.steps]
    if not episodes:
        raise RuntimeError(f"no episode with steps was recorded in {steps} steps")
    return Recording(rooms, episodes, agent.cfg.spatial, agent.embodiment.ontology,
                     time.perf_counter() - t0)


def build_system(rec: Recording, encoder: str) -> MemorySystem:
    """Every module, as ``MemoryAgent`` builds them (spatial: the agent's settings, lifelong)."""
    mods: list[MemoryModule] = []
    for name in ALL_MODULES:
        if name == "spatial":
            mods.append(SpatialModule("lifelong", rec.spatial, rec.ontology))
        else:
            mods.append(build_module(name, {"encoder": encoder} if name == "episodic" else {}))
    return MemorySystem(mods, parallel=False)


def query_for(ep: Episode, step: StepInput) -> MemoryQuery:
    """What a planner asks at ``step``: the instruction, the goal's labels, the pose."""
    return MemoryQuery(step.episode, step.step, step.scene, ep.start.instruction, step.labels,
                       step.percept.agent_pose)


def play(system: MemorySystem, ep: Episode) -> tuple[list[float], list[float], float]:
    """One measured episode: per-step write and recall seconds, and the episode end's."""
    system.begin_episode(ep.start)
    writes: list[float] = []
    recalls: list[float] = []
    for step in ep.steps:
        q = query_for(ep, step)
        t0 = time.perf_counter()
        system.write(step)
        t1 = time.perf_counter()
        system.recall(q)
        t2 = time.perf_counter()
        writes.append(t1 - t0)
        recalls.append(t2 - t1)
    t0 = time.perf_counter()
    system.end_episode(ep.outcome)
    return writes, recalls, time.perf_counter() - t0


def fill(system: MemorySystem, ep: Episode) -> float:
    """One unmeasured episode (every step written, nothing recalled); the end's seconds."""
    system.begin_episode(ep.start)
    for step in ep.steps:
        system.write(step)
    t0 = time.perf_counter()
    system.end_episode(ep.outcome)
    return time.perf_counter() - t0


def warm_encoder(system: MemorySystem, rec: Recording) -> int:
    """Put every recorded step text and instruction in the episodic encoder's cache.

    Replays repeat texts, so without this only the first checkpoint would pay for encoding
    new text (on the background worker, competing for the cores). Returns the texts.
    """
    texts = {e.start.instruction for e in rec.episodes} | {
        e.outcome.instruction for e in rec.episodes} | {
        step_text(s) for e in rec.episodes for s in e.steps}
    texts = {t for t in texts if t.strip()}
    encoder = getattr(system.module("episodic"), "encoder", None)
    if encoder is not None and texts:
        encoder.encode(sorted(texts))
    return len(texts)


def rss_mb() -> float | None:
    """This process's resident memory in MB (Linux ``/proc``; None elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _ms(xs: list[float]) -> dict[str, float]:
    a = np.asarray(xs) * 1000.0
    return {"p50": float(np.percentile(a, 50)), "p99": float(np.percentile(a, 99)),
            "mean": float(a.mean())}


def _module_p50(system: MemorySystem) -> dict[str, dict[str, float]]:
    """p50 ms per module of the hooks timed since ``system.timings_ms`` was last cleared."""
    out: dict[str, dict[str, float]] = {}
    for key, samples in sorted(system.timings_ms.items()):
        hook, _, module = key.partition("_")
        if hook in ("write", "recall") and samples:
            out.setdefault(module, {})[hook] = float(np.percentile(samples, 50))
    return out


def lifelong(rec: Recording, encoder: str, episodes: int, checkpoints: list[int],
             full_replay: bool = False, progress: bool = True) -> dict[str, Any]:
    """Replay ``rec`` into one memory system for ``episodes`` episodes, measuring checkpoints.

    Episode ``n`` (1-based) is the probe (the longest recorded episode) when ``n`` is a
    checkpoint, else the next recorded episode in recorded order, round and round. Unmeasured
    episodes write every module until each recorded episode has been written once with the
    spatial map; after that they skip spatial memory (the views are in the map already)
    unless ``full_replay``.
    """
    system = build_system(rec, encoder)
    no_spatial = MemorySystem([m for m in system.modules if m.name != "spatial"],
                              parallel=False)  # the same module objects, spatial left out
    n_texts = warm_encoder(system, rec)
    probe = max(range(len(rec.episodes)), key=lambda i: len(rec.episodes[i].steps))
    mapped: set[int] = set()  # recorded episodes written with spatial memory
    rows: list[dict[str, Any]] = []
    marks = set(checkpoints)
    counts = {"measured": 0, "filled_with_spatial": 0, "filled_without_spatial": 0}
    t_start = time.perf_counter()
    k = 0
    ends: list[float] = []  # the unmeasured episodes' ends since the last checkpoint
    try:
        for n in range(1, episodes + 1):
            if n not in marks:
                i = k % len(rec.episodes)
                k += 1
                full = full_replay or i not in mapped
                ep = rec.episodes[i].renumbered(n - 1)
                ends.append(fill(system if full else no_spatial, ep))
                mapped.add(i)
                counts["filled_with_spatial" if full else "filled_without_spatial"] += 1
                continue
            system.sync()
            system.timings_ms = {}
            writes, recalls, end = play(system, rec.episodes[probe].renumbered(n - 1))
            mapped.add(probe)
            counts["measured"] += 1
            total = [w + r for w, r in zip(writes, recalls, strict=True)]
            rows.append({"episodes": n, "steps": len(writes), "write_ms": _ms(writes),
                         "recall_ms": _ms(recalls), "step_ms": _ms(total),
                         "end_ms": end * 1000.0,
                         "end_ms_unmeasured_p50": (float(np.median(ends)) * 1000.0 if ends
                                                   else None),
                         "modules_p50_ms": _module_p50(system),
                         "memory": system.stats(), "rss_mb": rss_mb(),
                         "elapsed_s": time.perf_counter() - t_start})
            if progress:
                r = rows[-1]
                print(f"  {rec.rooms} rooms, {n:5d} episodes: step p50 {r['step_ms']['p50']:7.2f}"
                      f" ms, p99 {r['step_ms']['p99']:7.2f} ms, end {r['end_ms']:7.1f} ms "
                      f"({r['elapsed_s']:.0f} s)", flush=True)
            ends = []
    finally:
        system.close()
    probe_ep = rec.episodes[probe]
    return {"rooms": rec.rooms, "scene": probe_ep.start.scene,
            "recorded_episodes": len(rec.episodes),
            "recorded_steps": [len(e.steps) for e in rec.episodes],
            "recorded_success": [e.outcome.success for e in rec.episodes],
            "probe": {"index": probe, "steps": len(probe_ep.steps),
                      "instruction": probe_ep.start.instruction,
                      "success": probe_ep.outcome.success},
            "episodes_played": counts, "texts_warmed": n_texts, "record_s": rec.seconds,
            "replay_s": time.perf_counter() - t_start, "checkpoints": rows}


def plot(results: list[dict[str, Any]], path: Path) -> Path:
    """Per-step write + recall (p50, p99) and the episode end against episodes in memory."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    colors = ["#4c72b0", "#c44e52", "#55a868", "#8172b2", "#ccb974"]
    for res, c in zip(results, colors * 4, strict=False):
        xs = [r["episodes"] for r in res["checkpoints"]]
        a.plot(xs, [r["step_ms"]["p50"] for r in res["checkpoints"]], "o-", color=c,
               label=f"{res['rooms']} rooms, p50")
        a.plot(xs, [r["step_ms"]["p99"] for r in res["checkpoints"]], "s--", color=c,
               label=f"{res['rooms']} rooms, p99")
        b.plot(xs, [r["end_ms"] for r in res["checkpoints"]], "o-", color=c,
               label=f"{res['rooms']} rooms, measured episode")
        fills = [(r["episodes"], r["end_ms_unmeasured_p50"]) for r in res["checkpoints"]
                 if r["end_ms_unmeasured_p50"] is not None]
        if fills:
            b.plot(*zip(*fills, strict=True), "s:", color=c,
                   label=f"{res['rooms']} rooms, p50 of the episodes before")
    a.set_ylabel("write + recall per step (ms)")
    a.set_title("Per-step memory cost")
    b.set_ylabel("end_episode (ms)")
    b.set_title("Episode end")
    ticks = sorted({r["episodes"] for res in results for r in res["checkpoints"]})
    for ax in (a, b):
        ax.set_xscale("log")
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("episodes in memory")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Record, replay, write ``memory_cost.json`` and ``memory_cost.png``; returns the data."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--episodes", type=int, default=1000,
                    help="episodes in each lifelong run (default 1000)")
    ap.add_argument("--checkpoints", type=int, nargs="+", default=list(DEFAULT_CHECKPOINTS),
                    help="episode counts at which one episode is measured (default: "
                         f"{' '.join(map(str, DEFAULT_CHECKPOINTS))}; those above --episodes "
                         "are dropped)")
    ap.add_argument("--rooms", type=int, nargs="+", default=[2, 6],
                    help="house sizes in rooms, one lifelong run each (default 2 6)")
    ap.add_argument("--steps", type=int, default=300,
                    help="agent steps recorded per house (default 300)")
    ap.add_argument("--size", type=int, default=128,
                    help="camera image width and height while recording (default 128)")
    ap.add_argument("--seed", type=int, default=0, help="the house seed (default 0)")
    ap.add_argument("--encoder", default="minilm", choices=("minilm", "hash"),
                    help="episodic memory's text encoder (default minilm; hash for tests)")
    ap.add_argument("--full-replay", action="store_true",
                    help="unmeasured episodes write spatial memory too, on every replay (by "
                         "default they skip it once every recorded view is in the map)")
    ap.add_argument("--out", type=Path, default=OUT, help="output folder")
    args = ap.parse_args(argv)
    if args.episodes < 1 or args.steps < 1:
        ap.error("--episodes and --steps must be at least 1")
    checkpoints = sorted({c for c in args.checkpoints if 1 <= c <= args.episodes})
    if not checkpoints:
        ap.error(f"no checkpoint between 1 and --episodes ({args.episodes})")
    warnings.filterwarnings("ignore", module="gymnasium")
    t0 = time.perf_counter()
    results = []
    for rooms in args.rooms:
        rec = record(args.steps, args.size, args.seed, rooms, args.encoder)
        print(f"{rooms} rooms: recorded {len(rec.episodes)} episodes, "
              f"{sum(len(e.steps) for e in rec.episodes)} steps in {rec.seconds:.1f} s",
              flush=True)
        results.append(lifelong(rec, args.encoder, args.episodes, checkpoints,
                                args.full_replay))
    out = {"config": {"episodes": args.episodes, "checkpoints": checkpoints,
                      "rooms": args.rooms, "steps_recorded": args.steps, "size": args.size,
                      "seed": args.seed, "encoder": args.encoder,
                      "modules": list(ALL_MODULES), "parallel": False,
                      "full_replay": args.full_replay,
                      "unmeasured_episodes": UNMEASURED_FULL if args.full_replay
                      else UNMEASURED},
           "houses": results, "total_s": time.perf_counter() - t0}
    path = write_json(NAME, out, args.out)
    plot(results, args.out / f"{NAME}.png")
    print(f"\n{'rooms':>5} {'episodes':>8} {'steps':>5} {'write p50':>9} {'recall p50':>10} "
          f"{'step p50':>8} {'step p99':>8} {'end ms':>8} {'ep. steps':>9} {'events':>8}")
    for res in results:
        for r in res["checkpoints"]:
            m = r["memory"]
            print(f"{res['rooms']:>5} {r['episodes']:>8} {r['steps']:>5} "
                  f"{r['write_ms']['p50']:>9.2f} {r['recall_ms']['p50']:>10.2f} "
                  f"{r['step_ms']['p50']:>8.2f} {r['step_ms']['p99']:>8.2f} {r['end_ms']:>8.1f} "
                  f"{m.get('episodic_steps', 0):>9.0f} {m.get('temporal_events', 0):>8.0f}")
    print(f"-> {path} ({out['total_s']:.0f} s)")
    return out


if __name__ == "__main__":
    main()
