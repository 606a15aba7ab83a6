"""The agent loop's speed against the simulator's own, in small and large houses.

For each house size, in ONE process:

* the simulator alone: random navigation and look actions in the same houses, steps per
  second (as ``sim_speed.py`` measures it);
* the memory agent end to end (``robomem run`` with full memory, MiniLM episodic encoder,
  SPL off): steps per second over whole episodes, episode end included, the episode-end
  memory work (p50, p99) and episodic recall (p99);
* each ``--modes`` entry: ``background`` (episodic step texts encoded on a worker thread,
  the default) and ``sync`` (encoded when the episode ends, as before), on the same seeded
  episodes; their outcomes must be identical.

``--busy`` runs a busy-looping process beside the measurement (a neighbour on one core).

    python benchmarks/agent_speed.py --rooms 2 6 --episodes 6
    python benchmarks/agent_speed.py --rooms 6 --episodes 6 --busy --name agent_speed_busy
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/x.py` too

from benchmarks.common import OUT, write_json

NAV = ["MoveAhead", "MoveBack", "MoveLeft", "MoveRight", "RotateLeft", "RotateRight",
       "LookUp", "LookDown"]
MODES = {"background": "true", "sync": "false"}


def _burn(stop: Any) -> None:
    x = 0
    while not stop.is_set():
        x = (x * 31 + 7) % 1_000_003


def simulator_speed(n_rooms: int, size: int, seeds: list[int], steps: int) -> dict[str, float]:
    """Env steps per second of random navigation in the same houses."""
    import gymnasium as gym

    import robomem.envs  # noqa: F401

    times: list[float] = []
    for seed in seeds:
        env = gym.make("robomem/Household-v0", width=size, height=size, n_rooms=n_rooms,
                       step_limit=steps + 50)
        env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        for i in range(steps + 10):
            t = time.perf_counter()
            env.step({"action": NAV[int(rng.integers(len(NAV)))], "object": 0})
            if i >= 10:  # the first steps fill the ray caches
                times.append(time.perf_counter() - t)
        env.close()
    a = np.asarray(times)
    return {"steps_per_s": float(1.0 / a.mean()), "step_p50_ms": float(np.median(a) * 1000),
            "step_p99_ms": float(np.percentile(a, 99) * 1000)}


def agent_speed(n_rooms: int, size: int, seeds: list[int], episodes: int, mode: str,
                out: Path) -> dict[str, Any]:
    """The memory agent end to end through ``robomem.runner.run``."""
    from robomem.config import load_config
    from robomem.runner import run

    over = [f"seeds=[{','.join(map(str, seeds))}]", f"episodes={episodes}",
            f"env.n_rooms={n_rooms}", f"env.width={size}", f"env.height={size}", "spl=false",
            "save_scene_graphs=false", f"out={out / 'runs'}", f"name=speed_{n_rooms}_{mode}",
            f"agent.modules.options.episodic.background={MODES[mode]}"]
    t0 = time.perf_counter()
    res = run(load_config(None, over), progress=False)
    wall = time.perf_counter() - t0
    lat = res.metrics["latency"]
    steps = sum(e.steps for e in res.episodes)
    seconds = sum(e.seconds for e in res.episodes)

    def pick(key: str) -> dict[str, float]:
        return {k: round(v, 2) for k, v in lat.get(key, {}).items()}

    return {"episodes": len(res.episodes), "steps": steps,
            "steps_per_episode": steps / len(res.episodes),
            "seconds_per_episode": seconds / len(res.episodes),
            "steps_per_s": steps / seconds, "wall_s": wall,
            "env_step": pick("env_step"), "policy_act": pick("policy_act"),
            "episode_end_episodic": pick("memory_end_episode_episodic"),
            "recall_episodic": pick("memory_recall_episodic"),
            "outcomes": [[e.seed, e.index, e.success, e.steps] for e in res.episodes]}


def plot(results: dict[str, Any], path: Path) -> None:
    """Bars: simulator and agent steps per second per house size and mode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rooms = list(results)
    modes = [m for m in MODES if m in results[rooms[0]]["agent"]]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.8))
    w = 0.8 / (1 + len(modes))
    x = np.arange(len(rooms))
    a.bar(x, [results[r]["simulator"]["steps_per_s"] for r in rooms], w, label="simulator")
    for i, m in enumerate(modes):
        a.bar(x + (i + 1) * w, [results[r]["agent"][m]["steps_per_s"] for r in rooms], w,
              label=f"agent ({m})")
    a.set_xticks(x + w * len(modes) / 2, [f"{r} rooms" for r in rooms])
    a.set_ylabel("steps per second")
    a.set_title("Simulator vs agent end to end")
    a.legend()
    for i, m in enumerate(modes):
        b.bar(x + i * w, [results[r]["agent"][m]["episode_end_episodic"].get("p50_ms", 0) for r in
                          rooms], w, label=f"episode end p50 ({m})")
    b.set_xticks(x + w * (len(modes) - 1) / 2, [f"{r} rooms" for r in rooms])
    b.set_ylabel("ms")
    b.set_title("Episodic memory's episode-end work")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rooms", type=int, nargs="+", default=[2, 6])
    ap.add_argument("--episodes", type=int, default=6, help="episodes per house")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--size", type=int, default=300)
    ap.add_argument("--sim-steps", type=int, default=300, help="simulator-only steps per house")
    ap.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    ap.add_argument("--busy", action="store_true", help="a busy-looping neighbour process")
    ap.add_argument("--name", default="agent_speed")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", module="gymnasium")
    stop = mp.Event()
    neighbour = mp.Process(target=_burn, args=(stop,), daemon=True) if args.busy else None
    if neighbour is not None:
        neighbour.start()
    results: dict[str, Any] = {}
    try:
        for n in args.rooms:
            sim = simulator_speed(n, args.size, args.seeds, args.sim_steps)
            agent = {m: agent_speed(n, args.size, args.seeds, args.episodes, m, args.out)
                     for m in args.modes}
            same = len({json.dumps(a["outcomes"]) for a in agent.values()}) == 1
            results[str(n)] = {"simulator": sim, "agent": agent, "same_outcomes": same,
                               "agent_over_simulator": {m: a["steps_per_s"] / sim["steps_per_s"]
                                                        for m, a in agent.items()}}
            print(f"{n} rooms: simulator {sim['steps_per_s']:.0f} steps/s; " + "; ".join(
                f"agent {m} {a['steps_per_s']:.1f} steps/s, episode end p50 "
                f"{a['episode_end_episodic'].get('p50_ms')} ms, recall p99 "
                f"{a['recall_episodic'].get('p99_ms')} ms" for m, a in agent.items())
                + f"; same outcomes {same}", flush=True)
    finally:
        if neighbour is not None:
            stop.set()
            neighbour.join(5)
    path = write_json(args.name, {"size": args.size, "seeds": args.seeds, "busy": args.busy,
                                  "episodes_per_house": args.episodes, "rooms": results},
                      args.out)
    plot(results, args.out / f"{args.name}.png")
    print(f"-> {path}")


if __name__ == "__main__":
    main()
