"""Does today's memory help tomorrow? The same task sequence run twice on one store.

Pass 1 starts from an empty store and commits every episode to it; pass 2 runs the very
same houses and task sequences (same seeds) starting from what pass 1 stored: its maps,
events, episodes and semantic facts. Fewer steps per success in pass 2 is the point.

    python benchmarks/lifelong.py --seeds 1 --tasks 20
"""

from __future__ import annotations

import argparse
import json
import shutil
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
from robomem.config import load_config
from robomem.runner import run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    suite_arguments(ap, tasks=20, seeds=1)
    ap.add_argument("--encoder", default="minilm", help="episodic text encoder: minilm | hash")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", module="gymnasium")
    store = args.out / "lifelong_store"
    if store.exists():
        shutil.rmtree(store)
    t0 = time.perf_counter()
    # The task sequence: drawn once (by an oracle run, whose moves do not matter), then
    # replayed in both passes, so they face the same tasks in the same houses.
    draw = run(load_config(None, [*suite_overrides(args, "lifelong_tasks"), "policy=oracle",
                                  "spl=false"]), progress=False)
    tasks: dict[int, list[dict[str, Any]]] = {}
    for e in draw.episodes:
        assert e.task is not None
        tasks.setdefault(e.seed, []).append(e.task)
    results = {}
    for name in ("pass_1", "pass_2"):
        over = [*suite_overrides(args, f"lifelong_{name}"), "spl=false", f"store={store}",
                f"agent.modules.options.episodic.encoder={args.encoder}"]
        res = run(load_config(None, over), progress=True, tasks=tasks)
        results[name] = condition_result(res)
        results[name]["instructions"] = [e.instruction for e in res.episodes]
        print(f"{name} success {results[name]['success_rate']:.1%}  steps/success "
              f"{results[name]['steps_per_success']}", flush=True)
    same = results["pass_1"]["instructions"] == results["pass_2"]["instructions"]
    a, b = results["pass_1"]["steps_per_success"], results["pass_2"]["steps_per_success"]
    summary = {"seeds": args.seeds, "tasks_per_seed": args.tasks, "encoder": args.encoder,
               "relocation_prob": args.relocation, "same_task_sequence": same,
               "passes": results, "steps_ratio_pass1_over_pass2": (a / b) if a and b else None,
               "seconds": time.perf_counter() - t0}
    path = write_json("lifelong", summary, args.out)
    plot_conditions(results, f"Lifelong: the same {args.tasks} tasks x {args.seeds} houses, "
                             "twice on one store", args.out / "lifelong.png")
    print(json.dumps({k: {"success": v["success_rate"], "steps/success": v["steps_per_success"]}
                      for k, v in results.items()}, indent=1))
    print(f"same task sequence: {same}; pass1/pass2 steps per success: "
          f"{summary['steps_ratio_pass1_over_pass2']} -> {path}")


if __name__ == "__main__":
    main()
