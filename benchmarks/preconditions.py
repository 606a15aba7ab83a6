"""Preconditions: does the critic turn a would-be failure into its fix, or only veto it?

Tasks whose skills fail unless something is done first: putting into a closed fridge,
drawer or microwave, taking from a closed cabinet (``place_in_closed``, ``pick_cool_and_place``,
``pick_heat_and_place`` and ``pick_and_place`` from a lifelong house whose containers
start closed). The symbolic planner normally opens things itself. Here it is run with
``agent.planner_preconditions=false``, as a planner that does not reason about preconditions
(a language model) would act, and the critic must cover for it:

* ``planner``: the planner handles preconditions itself (the reference);
* ``critic_fixes``: the planner does not; the precondition critic vetoes with the fix
  ("open it first") and the planner runs the fix;
* ``critic_veto``: the planner does not; the critic only vetoes (the planner gives up on that
  target and looks for another);
* ``no_critic``: the planner does not, and nothing checks: the world refuses the skill.

Every condition replays the same drawn task sequence, with full memory. Reports success
(Wilson 95% intervals), SPL and the critic's vetoes and fixes per episode.

    python benchmarks/preconditions.py --seeds 4 --tasks 10
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
from benchmarks.paired import as_dicts, draw_tasks, paired_steps, same_tasks, spl_summary
from robomem.config import load_config
from robomem.runner import run

FAMILIES = "env.families=[place_in_closed,pick_cool_and_place,pick_heat_and_place,pick_and_place]"
NAIVE = "agent.planner_preconditions=false"
CONDITIONS: dict[str, list[str]] = {
    "planner": [],
    "critic_fixes": [NAIVE],
    "critic_veto": [NAIVE, "agent.critic_fixes=false"],
    "no_critic": [NAIVE, "agent.critic=false"],
}


def per_episode(episodes: list[dict[str, Any]], key: str) -> float:
    """Mean of a planner counter per episode."""
    vals = [float(e["policy_stats"].get(key, 0.0)) for e in episodes]
    return sum(vals) / len(vals) if vals else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    suite_arguments(ap, tasks=10, seeds=4)
    ap.set_defaults(n_rooms=2)
    ap.add_argument("--conditions", nargs="+", default=list(CONDITIONS),
                    choices=list(CONDITIONS))
    ap.add_argument("--name", default="preconditions")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", module="gymnasium")
    t0 = time.perf_counter()
    tasks = draw_tasks([*suite_overrides(args, f"{args.name}_tasks"), FAMILIES])
    results: dict[str, dict[str, Any]] = {}
    episodes: dict[str, list[dict[str, Any]]] = {}
    for name in args.conditions:
        over = [*CONDITIONS[name], *suite_overrides(args, f"{args.name}_{name}"), FAMILIES,
                "spl=true"]
        res = run(load_config(None, over), progress=True, tasks=tasks)
        episodes[name] = as_dicts(res.episodes)
        results[name] = {**condition_result(res), **spl_summary(episodes[name]),
                         "vetoes_per_episode": per_episode(episodes[name], "vetoes"),
                         "fixes_per_episode": per_episode(episodes[name], "fixes")}
        r = results[name]
        print(f"{name}: success {r['success_rate']:.1%} SPL {r['spl']} vetoes/ep "
              f"{r['vetoes_per_episode']:.2f} fixes/ep {r['fixes_per_episode']:.2f}", flush=True)
    first = args.conditions[0]
    summary = {"seeds": args.seeds, "tasks_per_seed": args.tasks, "n_rooms": args.n_rooms,
               "size": args.size, "conditions": results,
               "same_tasks": {n: same_tasks(episodes[first], episodes[n])
                              for n in args.conditions[1:]},
               "paired_steps_vs_first": {n: paired_steps(episodes[n], episodes[first])
                                         for n in args.conditions[1:]},
               "seconds": time.perf_counter() - t0}
    path = write_json(args.name, summary, args.out)
    plot_conditions(results, f"Preconditions: {args.seeds} houses x {args.tasks} tasks, "
                             f"closed containers", args.out / f"{args.name}.png")
    print(json.dumps({n: {k: results[n][k] for k in ("success_rate", "success_ci95", "spl")}
                      for n in results}, indent=1))
    print(f"-> {path}")


if __name__ == "__main__":
    main()
