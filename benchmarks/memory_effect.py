"""Does memory help? The memory agent against its no-memory self, random and the oracle.

Lifelong Household suites: one house per seed, a sequence of tasks in it, with objects
tidied away between episodes (relocations). Reports success rate (95% Wilson interval) and
steps per success (95% bootstrap interval) per condition, writes JSON and a plot.

    python benchmarks/memory_effect.py --seeds 3 --tasks 30
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/x.py` too

from benchmarks.common import OUT, write_json
from robomem.config import load_config
from robomem.runner import run, wilson

CONDITIONS = {"full": ["policy=agent", "memory=full"], "none": ["policy=agent", "memory=none"],
              "random": ["policy=random"], "oracle": ["policy=oracle"]}


def bootstrap_ci(xs: list[int], n: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of the mean."""
    if not xs:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    a = np.asarray(xs, dtype=np.float64)
    means = rng.choice(a, size=(n, len(a)), replace=True).mean(axis=1)
    return (float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3, help="houses (seeds 0..N-1)")
    ap.add_argument("--tasks", type=int, default=30, help="lifelong tasks per house")
    ap.add_argument("--size", type=int, default=300, help="image width and height")
    ap.add_argument("--relocation", type=float, default=0.2, help="tidy-up probability")
    ap.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=list(CONDITIONS))
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", module="gymnasium")
    seeds = f"seeds=[{','.join(str(s) for s in range(args.seeds))}]"
    results = {}
    t0 = time.perf_counter()
    for name in args.conditions:
        over = [*CONDITIONS[name], seeds, f"episodes={args.tasks}", f"env.width={args.size}",
                f"env.height={args.size}", "env.lifelong=true",
                f"env.relocation_prob={args.relocation}", f"out={args.out / 'runs'}",
                f"name=memory_effect_{name}", "save_scene_graphs=false",
                f"spl={'true' if name in ('full', 'none') else 'false'}"]
        res = run(load_config(None, over), progress=True)
        eps = res.episodes
        wins = [e.steps for e in eps if e.success]
        k, n = len(wins), len(eps)
        results[name] = {
            "episodes": n, "success_rate": k / n, "success_ci95": list(wilson(k, n)),
            "steps_per_success": float(np.mean(wins)) if wins else None,
            "steps_per_success_ci95": list(bootstrap_ci(wins)),
            "spl": res.metrics.get("spl"), "run_folder": str(res.folder),
            "per_family": res.metrics["per_family"],
            "latency": res.metrics["latency"],
        }
        print(f"{name:7s} success {k}/{n} = {k / n:.1%}  steps/success "
              f"{results[name]['steps_per_success']}", flush=True)
    full, none = results.get("full"), results.get("none")
    ratio = None
    if full and none and full["steps_per_success"] and none["steps_per_success"]:
        ratio = none["steps_per_success"] / full["steps_per_success"]
    summary = {"seeds": args.seeds, "tasks_per_seed": args.tasks,
               "relocation_prob": args.relocation, "conditions": results,
               "steps_ratio_none_over_full": ratio,
               "seconds": time.perf_counter() - t0}
    path = write_json("memory_effect", summary, args.out)
    names = list(results)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    sr = [results[c]["success_rate"] for c in names]
    lo = [results[c]["success_rate"] - results[c]["success_ci95"][0] for c in names]
    hi = [results[c]["success_ci95"][1] - results[c]["success_rate"] for c in names]
    a.bar(names, sr, yerr=[lo, hi], capsize=4, color="#4c72b0")
    a.set_ylim(0, 1.05)
    a.set_ylabel("success rate")
    a.set_title("Success (95% Wilson CI)")
    sps = [results[c]["steps_per_success"] or 0.0 for c in names]
    ci = [results[c]["steps_per_success_ci95"] for c in names]
    b.bar(names, sps, yerr=[[max(0.0, s - c[0]) if c[0] == c[0] else 0 for s, c in zip(sps, ci)],
                           [max(0.0, c[1] - s) if c[1] == c[1] else 0 for s, c in zip(sps, ci)]],
          capsize=4, color="#55a868")
    b.set_ylabel("steps per success")
    b.set_title("Steps per success (95% bootstrap CI)")
    fig.suptitle(f"Lifelong Household: {args.seeds} houses x {args.tasks} tasks, "
                 f"relocation {args.relocation}")
    fig.tight_layout()
    fig.savefig(args.out / "memory_effect.png", dpi=120)
    print(json.dumps({k: {"success": v["success_rate"], "steps/success": v["steps_per_success"]}
                      for k, v in results.items()}, indent=1))
    print(f"none/full steps per success: {ratio} -> {path}")


if __name__ == "__main__":
    main()
