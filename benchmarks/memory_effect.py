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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/x.py` too

from benchmarks.common import (
    condition_result,
    plot_conditions,
    suite_arguments,
    suite_overrides,
    write_json,
)
from robomem.config import load_config
from robomem.runner import run

CONDITIONS = {"full": ["policy=agent", "agent.memory=full"],
              "none": ["policy=agent", "agent.memory=none"],
              "random": ["policy=random"], "oracle": ["policy=oracle"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    suite_arguments(ap)
    ap.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=list(CONDITIONS))
    args = ap.parse_args()
    warnings.filterwarnings("ignore", module="gymnasium")
    results = {}
    t0 = time.perf_counter()
    for name in args.conditions:
        over = [*CONDITIONS[name], *suite_overrides(args, f"memory_effect_{name}"),
                f"spl={'true' if name in ('full', 'none') else 'false'}"]
        res = run(load_config(None, over), progress=True)
        results[name] = condition_result(res)
        print(f"{name:7s} success {results[name]['success_rate']:.1%}  steps/success "
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
    plot_conditions(results, f"Lifelong Household: {args.seeds} houses x {args.tasks} tasks, "
                             f"relocation {args.relocation}", args.out / "memory_effect.png")
    print(json.dumps({k: {"success": v["success_rate"], "steps/success": v["steps_per_success"]}
                      for k, v in results.items()}, indent=1))
    print(f"none/full steps per success: {ratio} -> {path}")


if __name__ == "__main__":
    main()
