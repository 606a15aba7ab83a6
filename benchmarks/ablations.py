"""Does each memory module earn its place? Ablations on the lifelong Household suite.

Every condition runs the same houses (one per seed) and replays one task sequence, drawn once
by an oracle run, with objects tidied away between episodes. Conditions:

* ``full``: every module (spatial, temporal, episodic, semantic, working) and the critic;
* ``no_spatial``: the map lives for one episode only (the agent still needs a map to walk);
* ``no_episodic``, ``no_semantic``, ``no_temporal``, ``no_working``: that module left out;
* ``no_critic``: every module, no precondition critic;
* ``none``: the no-memory baseline (a map forgotten at every subgoal).

Reports success rate (95% Wilson interval), steps per success and SPL (95% bootstrap
intervals), and each condition's paired steps against ``full`` on the episodes both solved;
writes ``ablations.json`` and ``ablations.png``.

    python benchmarks/ablations.py --seeds 3 --tasks 30
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
from benchmarks.paired import as_dicts, draw_tasks, paired_steps, same_tasks, spl_summary
from robomem.config import load_config
from robomem.memory.system import ALL_MODULES
from robomem.runner import run


def _without(name: str) -> list[str]:
    return [f"agent.modules.modules=[{','.join(m for m in ALL_MODULES if m != name)}]"]


CONDITIONS: dict[str, list[str]] = {
    "full": [],
    "no_spatial": _without("spatial"),
    "no_episodic": _without("episodic"),
    "no_semantic": _without("semantic"),
    "no_temporal": _without("temporal"),
    "no_working": _without("working"),
    "no_critic": ["agent.critic=false"],
    "none": ["agent.memory=none"],
}
DEFAULT = ["full", "no_spatial", "no_episodic", "no_semantic", "no_critic", "none"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    suite_arguments(ap)
    ap.add_argument("--encoder", default="minilm", help="episodic text encoder: minilm | hash")
    ap.add_argument("--conditions", nargs="+", default=DEFAULT, choices=list(CONDITIONS))
    ap.add_argument("--spl", action="store_true", help="also run the SPL oracle per episode")
    ap.add_argument("--name", default="ablations", help="JSON and plot file name")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", module="gymnasium")
    results = {}
    episodes = {}
    t0 = time.perf_counter()
    tasks = draw_tasks(suite_overrides(args, f"{args.name}_tasks"))
    for name in args.conditions:
        over = [*CONDITIONS[name], *suite_overrides(args, f"{args.name}_{name}"),
                f"spl={'true' if args.spl else 'false'}"]
        if name != "none" and "episodic" not in name:
            over.append(f"agent.modules.options.episodic.encoder={args.encoder}")
        res = run(load_config(None, over), progress=True, tasks=tasks)
        episodes[name] = as_dicts(res.episodes)
        results[name] = {**condition_result(res), **spl_summary(episodes[name])}
        if "full" in episodes and name != "full":
            results[name]["paired_vs_full"] = paired_steps(episodes["full"], episodes[name])
            results[name]["same_tasks_as_full"] = same_tasks(episodes["full"], episodes[name])
        print(f"{name:12s} success {results[name]['success_rate']:.1%}  steps/success "
              f"{results[name]['steps_per_success']}", flush=True)
    summary = {"seeds": args.seeds, "tasks_per_seed": args.tasks, "encoder": args.encoder,
               "relocation_prob": args.relocation, "conditions": results,
               "seconds": time.perf_counter() - t0}
    path = write_json(args.name, summary, args.out)
    plot_conditions(results, f"Ablations, lifelong Household: {args.seeds} houses x "
                             f"{args.tasks} tasks", args.out / f"{args.name}.png")
    print(json.dumps({k: {"success": v["success_rate"], "steps/success": v["steps_per_success"]}
                      for k, v in results.items()}, indent=1))
    print(f"-> {path}")


if __name__ == "__main__":
    main()
