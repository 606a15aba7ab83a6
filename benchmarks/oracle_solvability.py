"""Does the privileged oracle solve generated Household tasks? (Proves tasks are solvable.)

Runs lifelong sequences of tasks in procedural houses, one house per seed, and reports the
success rate overall and per task family, with a bar plot.

    python benchmarks/oracle_solvability.py --seeds 20 --tasks-per-seed 10
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import gymnasium as gym
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/x.py` too

import robomem.envs  # noqa: F401
from benchmarks.common import OUT, write_json
from robomem.envs.household.oracle import run_oracle_episode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeds", type=int, default=20, help="houses (one per seed)")
    ap.add_argument("--tasks-per-seed", type=int, default=10, help="lifelong tasks per house")
    ap.add_argument("--size", type=int, default=300, help="image width and height")
    ap.add_argument("--out", type=Path, default=OUT, help="folder for JSON and PNG")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", module="gymnasium")
    rows = []
    t0 = time.perf_counter()
    bar = tqdm(total=args.seeds * args.tasks_per_seed, desc="oracle episodes")
    for s in range(args.seeds):
        env = gym.make("robomem/Household-v0", width=args.size, height=args.size, lifelong=True)
        for k in range(args.tasks_per_seed):
            r = run_oracle_episode(env, seed=s if k == 0 else None)
            rows.append({"seed": s, "index": k, **r})
            bar.update()
        env.close()
    bar.close()
    fam: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        fam[r["task"]["family"]].append(r["success"])
    rate = sum(r["success"] for r in rows) / len(rows)
    result = {
        "episodes": len(rows), "success_rate": rate,
        "mean_steps": sum(r["steps"] for r in rows) / len(rows),
        "per_family": {f: {"n": len(v), "success_rate": sum(v) / len(v)} for f, v in fam.items()},
        "failures": [{"seed": r["seed"], "index": r["index"],
                      "instruction": r["task"]["instruction"], "steps": r["steps"],
                      "gave_up": r["gave_up"]} for r in rows if not r["success"]],
        "seconds": time.perf_counter() - t0,
    }
    path = write_json("oracle_solvability", result, args.out)
    names = sorted(fam)
    plt.figure(figsize=(8, 3.5))
    plt.bar(names, [sum(fam[n]) / len(fam[n]) for n in names], color="#4c72b0")
    plt.axhline(0.95, color="k", ls="--", lw=1, label="target 0.95")
    plt.ylim(0, 1.05)
    plt.ylabel("oracle success rate")
    plt.xticks(rotation=25, ha="right", fontsize=8)
    plt.title(f"Oracle on {len(rows)} generated tasks ({args.seeds} houses): {rate:.1%}")
    plt.legend()
    plt.tight_layout()
    plt.savefig(args.out / "oracle_solvability.png", dpi=120)
    print(f"success {rate:.3f} over {len(rows)} tasks; mean steps {result['mean_steps']:.1f}; "
          f"{result['seconds']:.0f} s -> {path}")
    for f in names:
        print(f"  {f:24s} {sum(fam[f])}/{len(fam[f])}")


if __name__ == "__main__":
    main()
