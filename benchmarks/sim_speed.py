"""Household simulator speed: env steps per second with RGB-D + instance segmentation.

Each step renders RGB, depth and segmentation, updates visibility and builds the full
AI2-THOR-style metadata. Actions are random navigation and look actions (the common case);
interactions that change geometry rebuild the scene and are measured separately.

    python benchmarks/sim_speed.py --steps 600
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import gymnasium as gym
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/x.py` too

import robomem.envs  # noqa: F401
from benchmarks.common import OUT, write_json
from robomem.envs.household.renderer import Renderer

SIZES = [(224, 224), (300, 300), (640, 480)]
NAV = ["MoveAhead", "MoveBack", "MoveLeft", "MoveRight", "RotateLeft", "RotateRight",
       "LookUp", "LookDown"]


def measure(width: int, height: int, steps: int, seed: int) -> dict[str, float]:
    # one episode long enough for every timed step (stepping past its end raises ResetNeeded)
    env = gym.make("robomem/Household-v0", width=width, height=height, step_limit=steps + 100)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    inner = env.unwrapped
    for _ in range(20):  # warm-up: caches of ray directions per view
        env.step({"action": NAV[int(rng.integers(len(NAV)))], "object": 0})
    times = []
    for _ in range(steps):
        a = NAV[int(rng.integers(len(NAV)))]
        t = time.perf_counter()
        env.step({"action": a, "object": 0})
        times.append(time.perf_counter() - t)
    r = Renderer(width, height)
    r.set_scene(inner.house)
    w = inner.world
    t = time.perf_counter()
    for i in range(steps // 2):
        r.render(w.agent.camera, 90.0 * (i % 4), 30.0)
    render_ms = (time.perf_counter() - t) / (steps // 2) * 1000
    t = time.perf_counter()
    for _ in range(20):
        r.set_scene(inner.house)
    rebuild_ms = (time.perf_counter() - t) / 20 * 1000
    env.close()
    a = np.asarray(times) * 1000
    return {"width": width, "height": height, "steps_per_s": float(1000 / a.mean()),
            "step_ms_p50": float(np.percentile(a, 50)), "step_ms_p99": float(np.percentile(a, 99)),
            "render_only_ms": render_ms, "scene_rebuild_ms": rebuild_ms}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--steps", type=int, default=600, help="timed steps per resolution")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", module="gymnasium")
    rows = [measure(w, h, args.steps, args.seed) for w, h in SIZES]
    path = write_json("sim_speed", {"steps": args.steps, "results": rows}, args.out)
    labels = [f"{r['width']}x{r['height']}" for r in rows]
    plt.figure(figsize=(6, 3.5))
    plt.bar(labels, [r["steps_per_s"] for r in rows], color="#4c72b0")
    plt.axhline(100, color="k", ls="--", lw=1, label="target at 300x300: 100 steps/s")
    plt.ylabel("env steps per second")
    plt.title("Household-v0: RGB-D + segmentation + metadata, CPU")
    plt.legend()
    plt.tight_layout()
    plt.savefig(args.out / "sim_speed.png", dpi=120)
    print("| resolution | steps/s | step p50 ms | step p99 ms | render only ms "
          "| scene rebuild ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for lab, r in zip(labels, rows):
        print(f"| {lab} | {r['steps_per_s']:.0f} | {r['step_ms_p50']:.1f} | {r['step_ms_p99']:.1f} "
              f"| {r['render_only_ms']:.1f} | {r['scene_rebuild_ms']:.1f} |")
    print(f"-> {path}")


if __name__ == "__main__":
    main()
