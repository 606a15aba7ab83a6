"""Does memory help? The memory agent against its no-memory self, random and the oracle.

Lifelong Household suites: one house per seed, a sequence of tasks in it, with objects
tidied away between episodes (relocations). The task sequence is drawn ONCE (an oracle run)
and every condition replays it, so all rows answer the same questions.

Reports per condition: success rate (95% Wilson interval), steps per success (95%
bootstrap), SPL (95% bootstrap), and for full against none the steps on the episodes both
solved (paired, with a bootstrap interval of the ratio) and the success ratio. Writes JSON
and a plot.

    python benchmarks/memory_effect.py --seeds 3 --tasks 30
    python benchmarks/memory_effect.py --seeds 3 --tasks 20 --n-rooms 6 --name large_houses
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/x.py` too

from benchmarks.common import (
    condition_result,
    plot_conditions,
    suite_arguments,
    suite_overrides,
    write_json,
)
from benchmarks.paired import (
    as_dicts,
    draw_tasks,
    paired_steps,
    same_tasks,
    spl_summary,
    success_ratio,
)
from robomem.config import load_config
from robomem.runner import run

CONDITIONS = {"full": ["policy=agent", "agent.memory=full"],
              "none": ["policy=agent", "agent.memory=none"],
              "random": ["policy=random"], "oracle": ["policy=oracle"]}


def compare(episodes: dict[str, list[dict[str, Any]]], a: str = "full",
            b: str = "none") -> dict[str, Any] | None:
    """Paired steps, success ratio and whether the tasks matched, for conditions a and b."""
    if a not in episodes or b not in episodes:
        return None
    return {"conditions": [a, b], "same_tasks": same_tasks(episodes[a], episodes[b]),
            "paired_steps": paired_steps(episodes[a], episodes[b]),
            "success_ratio": success_ratio(episodes[a], episodes[b])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    suite_arguments(ap)
    ap.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=list(CONDITIONS))
    ap.add_argument("--name", default="memory_effect", help="JSON and plot file name")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", module="gymnasium")
    results: dict[str, dict[str, Any]] = {}
    episodes: dict[str, list[dict[str, Any]]] = {}
    t0 = time.perf_counter()
    tasks = draw_tasks(suite_overrides(args, f"{args.name}_tasks"))
    for name in args.conditions:
        over = [*CONDITIONS[name], *suite_overrides(args, f"{args.name}_{name}"),
                f"spl={'true' if name in ('full', 'none') else 'false'}"]
        res = run(load_config(None, over), progress=True, tasks=tasks)
        results[name] = {**condition_result(res), **spl_summary(as_dicts(res.episodes))}
        episodes[name] = as_dicts(res.episodes)
        print(f"{name:7s} success {results[name]['success_rate']:.1%}  steps/success "
              f"{results[name]['steps_per_success']}  SPL {results[name]['spl']}", flush=True)
    comparison = compare(episodes)
    summary = {"seeds": args.seeds, "first_seed": args.first_seed, "tasks_per_seed": args.tasks,
               "n_rooms": args.n_rooms, "relocation_prob": args.relocation,
               "conditions": results, "full_vs_none": comparison,
               "seconds": time.perf_counter() - t0}
    path = write_json(args.name, summary, args.out)
    rooms = f", {args.n_rooms} rooms" if args.n_rooms else ""
    plot_conditions(results, f"Lifelong Household: {args.seeds} houses x {args.tasks} tasks"
                             f"{rooms}, relocation {args.relocation}",
                    args.out / f"{args.name}.png")
    print(json.dumps({k: {"success": v["success_rate"], "steps/success": v["steps_per_success"],
                          "spl": v["spl"]} for k, v in results.items()}, indent=1))
    print(f"full vs none: {json.dumps(comparison)} -> {path}")


if __name__ == "__main__":
    main()
