"""Does memory decide the tabletop's tasks? And how fast is the tabletop?

Two parts, measured in the same run:

- **memory**: for each memory-dependent task of robomem/Tabletop-v0, ``--episodes`` seeded
  episodes with the keyframe agent's memory on (``agent.memory=full``) and off (``none``),
  through ``robomem run`` itself. Both conditions run the same seeded task sequence (seed 0's
  episodes 0..N-1). Reported: success with a 95% Wilson interval, the chance rate of guessing
  every decisive step (1/3 per hidden fact), and how many decisive targets memory recalled
  versus guessed.
- **speed**: the env alone with all five cameras at ``--size`` (RLBench's default 128x128):
  steps per second of end-effector pose actions (``move_ee``) and of keyframe skills, and the
  render time per camera.

Usage:
    python benchmarks/tabletop_memory.py --episodes 50 --out benchmarks/results
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import OUT, write_json  # noqa: E402

TASKS = ("put_block_back", "reopen_drawer", "press_again", "restore_table")
CONDITIONS = ("full", "none")


def memory_part(episodes: int, size: int, folder: Path) -> dict[str, Any]:
    """Success with and without memory on every task (same seeded sequence)."""
    from robomem.config import load_config
    from robomem.envs.tabletop.tasks import TASKS as FACTS
    from robomem.runner import run, wilson

    out: dict[str, Any] = {}
    for task in TASKS:
        out[task] = {"chance": (1 / 3) ** len(FACTS[task])}
        for mem in CONDITIONS:
            cfg = load_config(ROOT / "launch" / "tabletop.yaml", [
                f"env.task={task}", f"env.width={size}", f"env.height={size}",
                f"episodes={episodes}", "seeds=[0]", f"agent.memory={mem}", f"out={folder}",
                f"name=tabletop-{task}"])
            res = run(cfg, progress=True)
            k, n = sum(e.success for e in res.episodes), len(res.episodes)
            totals = res.metrics.get("totals", {})
            out[task][mem] = {
                "episodes": n, "successes": k, "success_rate": k / n,
                "success_ci95": list(wilson(k, n)),
                "mean_steps": float(np.mean([e.steps for e in res.episodes])),
                "recalled_per_episode": totals.get("recalled", 0.0),
                "guessed_per_episode": totals.get("guessed", 0.0),
                "policy_act_ms_p50": res.metrics["latency"].get("policy_act", {}).get("p50_ms"),
                "env_step_ms_p50": res.metrics["latency"].get("env_step", {}).get("p50_ms"),
            }
            print(f"{task:15s} memory={mem:4s} {k}/{n} = {k / n:.2f} "
                  f"[{wilson(k, n)[0]:.2f}, {wilson(k, n)[1]:.2f}] "
                  f"(chance {out[task]['chance']:.3f})", flush=True)
    return out


def speed_part(size: int, steps: int) -> dict[str, Any]:
    """Steps per second of the env with all five cameras."""
    import gymnasium as gym

    import robomem.envs  # noqa: F401
    from robomem.envs.tabletop.cameras import CAMERAS, render

    env = gym.make("robomem/Tabletop-v0", width=size, height=size)
    obs, _ = env.reset(seed=0)
    down = obs["gripper_pose"][3:]
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    for _ in range(steps):  # poses over the table, gripper down (robomem's y-up frame)
        pos = [rng.uniform(-0.25, 0.25), rng.uniform(0.1, 0.35), rng.uniform(0.45, 0.85)]
        env.step({"action": "move_ee", "pose": [*pos, *down], "gripper": 1})
    move_s = (time.perf_counter() - t) / steps
    skills = [{"action": "pick", "object": "Block|1"}, {"action": "place", "object": "Plate|1"}]
    t, n = time.perf_counter(), 0
    while n < steps:
        env.reset(seed=n)
        for a in skills:
            env.step(a)
            n += 1
    skill_s = (time.perf_counter() - t) / n
    scene = env.unwrapped.scene
    per_cam: dict[str, float] = {}
    for spec in CAMERAS:
        t = time.perf_counter()
        for _ in range(10):
            render(scene.p, scene.cid, spec, size, size, scene.hand_pose())
        per_cam[spec.name] = (time.perf_counter() - t) / 10 * 1000
    env.close()
    return {"size": size, "cameras": len(CAMERAS), "move_ee_steps_per_s": 1 / move_s,
            "move_ee_ms": move_s * 1000, "skill_steps_per_s": 1 / skill_s,
            "skill_ms": skill_s * 1000, "render_ms_per_camera": per_cam}


def plot(mem: dict[str, Any], path: Path) -> None:
    """Success per task with and without memory (95% Wilson CI), chance marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.8))
    x = np.arange(len(TASKS))
    for i, (cond, color) in enumerate(zip(CONDITIONS, ("#4c72b0", "#dd8452"), strict=True)):
        rates = np.array([mem[t][cond]["success_rate"] for t in TASKS])
        lo = rates - np.array([mem[t][cond]["success_ci95"][0] for t in TASKS])
        hi = np.array([mem[t][cond]["success_ci95"][1] for t in TASKS]) - rates
        ax.bar(x + (i - 0.5) * 0.38, rates, 0.36, yerr=[lo, hi], capsize=4, color=color,
               label=f"memory={cond}")
    for j, t in enumerate(TASKS):
        ax.hlines(mem[t]["chance"], j - 0.4, j + 0.4, colors="k", linestyles="dashed",
                  label="chance" if j == 0 else None)
    ax.set_xticks(x, TASKS)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("success rate (95% Wilson CI)")
    ax.set_title(f"Tabletop-v0: the keyframe agent with and without memory "
                 f"({mem[TASKS[0]]['full']['episodes']} seeded episodes each)")
    ax.legend(loc="center right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    """Run both parts and write JSON and a plot."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--episodes", type=int, default=50, help="episodes per task and condition")
    ap.add_argument("--size", type=int, default=128, help="camera width and height (pixels)")
    ap.add_argument("--speed-steps", type=int, default=40, help="steps timed per action kind")
    ap.add_argument("--out", type=Path, default=OUT, help="folder for the JSON and plot")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mem = memory_part(args.episodes, args.size, Path(tmp))
    speed = speed_part(args.size, args.speed_steps)
    print(f"speed at {args.size}x{args.size}, 5 cameras: move_ee "
          f"{speed['move_ee_steps_per_s']:.1f} steps/s, skills {speed['skill_steps_per_s']:.1f} "
          f"steps/s, render {np.mean(list(speed['render_ms_per_camera'].values())):.1f} "
          f"ms per camera")
    path = write_json("tabletop_memory", {"episodes": args.episodes, "size": args.size,
                                          "memory": mem, "speed": speed}, args.out)
    plot(mem, args.out / "tabletop_memory.png")
    print(f"wrote {path} and {args.out / 'tabletop_memory.png'}")


if __name__ == "__main__":
    main()
