"""Does knowledge from other houses help in a new one? Semantic memory on unseen houses.

1. Training: the memory agent runs ``--train-seeds`` houses (``--train-tasks`` lifelong tasks
   each) and commits everything to a store: each house's map (useless elsewhere), the
   episodes and, above all, semantic memory's graph of where object types usually are.
2. Test: other houses of the same generator (``--seeds`` from ``--first-seed``), a short
   task sequence each (the first episodes in a house are where knowing "apples are usually in
   the fridge" can cut search), run twice on the SAME drawn tasks: on a copy of the trained
   store, and on an empty store.

Reports success (Wilson), SPL and steps (bootstrap), paired steps on the episodes both
solved, and the memory-guided looks per episode (where semantic and episodic hints act).

    python benchmarks/unseen_houses.py --train-seeds 6 --train-tasks 8 --seeds 12 --tasks 3
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
from benchmarks.paired import as_dicts, draw_tasks, paired_steps, same_tasks, spl_summary
from robomem.config import load_config
from robomem.runner import run


def guided_per_episode(episodes: list[dict[str, Any]]) -> float:
    """Mean memory-guided looks per episode (the planner's ``memory_guided`` counter)."""
    vals = [float(e["policy_stats"].get("memory_guided", 0.0)) for e in episodes]
    return sum(vals) / len(vals) if vals else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    suite_arguments(ap, tasks=3, seeds=12)
    ap.set_defaults(first_seed=100)
    ap.add_argument("--train-seeds", type=int, default=6, help="training houses (seeds 0..)")
    ap.add_argument("--train-tasks", type=int, default=8, help="lifelong tasks per training house")
    ap.add_argument("--encoder", default="minilm", help="episodic text encoder: minilm | hash")
    ap.add_argument("--name", default="unseen_houses")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", module="gymnasium")
    t0 = time.perf_counter()
    trained = args.out / f"{args.name}_trained_store"
    for p in (trained, args.out / f"{args.name}_store_copy", args.out / f"{args.name}_empty"):
        shutil.rmtree(p, ignore_errors=True)
    enc = f"agent.modules.options.episodic.encoder={args.encoder}"
    train = argparse.Namespace(**{**vars(args), "seeds": args.train_seeds, "first_seed": 0,
                                  "tasks": args.train_tasks})
    res = run(load_config(None, [*suite_overrides(train, f"{args.name}_train"), "spl=false",
                                 f"store={trained}", enc]), progress=True)
    training = condition_result(res)
    tasks = draw_tasks(suite_overrides(args, f"{args.name}_tasks"))
    results: dict[str, dict[str, Any]] = {}
    episodes: dict[str, list[dict[str, Any]]] = {}
    for name in ("trained_store", "empty_store"):
        store = args.out / (f"{args.name}_store_copy" if name == "trained_store"
                            else f"{args.name}_empty")
        if name == "trained_store":
            shutil.copytree(trained, store)
        over = [*suite_overrides(args, f"{args.name}_{name}"), "spl=true", f"store={store}",
                enc]
        r = run(load_config(None, over), progress=True, tasks=tasks)
        episodes[name] = as_dicts(r.episodes)
        results[name] = {**condition_result(r), **spl_summary(episodes[name]),
                         "memory_guided_per_episode": guided_per_episode(episodes[name])}
        print(f"{name}: success {results[name]['success_rate']:.1%} SPL {results[name]['spl']} "
              f"guided/episode {results[name]['memory_guided_per_episode']:.2f}", flush=True)
    first = {k: [e for e in v if e["index"] == 0] for k, v in episodes.items()}
    summary = {"train": {"seeds": args.train_seeds, "tasks_per_seed": args.train_tasks,
                         "success_rate": training["success_rate"]},
               "test": {"first_seed": args.first_seed, "seeds": args.seeds,
                        "tasks_per_seed": args.tasks, "size": args.size},
               "conditions": results,
               "same_tasks": same_tasks(episodes["trained_store"], episodes["empty_store"]),
               "paired_steps": paired_steps(episodes["trained_store"], episodes["empty_store"]),
               "paired_steps_first_episode": paired_steps(first["trained_store"],
                                                          first["empty_store"]),
               "seconds": time.perf_counter() - t0}
    path = write_json(args.name, summary, args.out)
    plot_conditions(results, f"Unseen houses: {args.seeds} new houses x {args.tasks} tasks, "
                             f"store from {args.train_seeds} others", args.out / f"{args.name}.png")
    print(json.dumps({k: summary[k] for k in ("same_tasks", "paired_steps",
                                              "paired_steps_first_episode")}, indent=1))
    print(f"-> {path}")


if __name__ == "__main__":
    main()
