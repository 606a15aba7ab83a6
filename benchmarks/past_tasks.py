"""Tasks about the past: can the agent answer for what it did in an earlier episode?

Each house runs ``--pairs`` pairs of episodes in one lifelong sequence: an ordinary task the
agent does itself (the *setup*: put a mug on the table, look at a book under a lamp), then a
task about it (the *question*):

* ``put_back``: "Put the mug back where it was before." (the very receptacle it came from);
* ``bring_back``: "Bring what you put in the fridge last time to the table." (that object);
* ``switch_off``: "Turn off the lamp you turned on last time." (that lamp, while "someone"
  has switched the house's other lamps on: those must stay on).

The env poses each question from its own record of what the agent did (ground truth), so
the question is about whatever the agent really moved or switched on. The setups are drawn
once (an oracle run) and replayed in every condition; the questions are the same templates,
filled in from each condition's own history. A memoryless agent can only guess: any mug, a
usual place for mugs, anything in the fridge, the nearest lamp that may be on.

Conditions: ``full`` (every module), ``no_temporal`` (full without temporal memory, which
answers these questions) and ``none`` (no memory across episodes). Reports the success on
the questions (Wilson 95% intervals), per family, how often memory answered, and the setups'
success (a question follows a failed setup too when the agent moved something).

    python benchmarks/past_tasks.py --seeds 6 --pairs 6 --n-rooms 4
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

from benchmarks.ablations import CONDITIONS
from benchmarks.common import OUT, suite_overrides, write_json
from benchmarks.paired import as_dicts, draw_tasks
from robomem.config import load_config
from robomem.runner import run, wilson

QUESTIONS = ("put_back", "bring_back", "switch_off")
SETUP = {"put_back": "pick_and_place", "bring_back": "pick_and_place",
         "switch_off": "look_at_in_light"}
SETUP_FAMILIES = "env.families=[pick_and_place,look_at_in_light]"


def build_sequence(drawn: list[dict[str, Any]], pairs: int) -> list[dict[str, Any]]:
    """Setup, question, setup, question, ...: questions cycle through :data:`QUESTIONS`.

    Each setup is the next drawn task of the family its question needs (any drawn task when
    none of that family is left).

    Example:
        >>> drawn = [{"family": "pick_and_place"}, {"family": "look_at_in_light"},
        ...          {"family": "pick_and_place"}]
        >>> [t["family"] for t in build_sequence(drawn, 3)]  # doctest: +NORMALIZE_WHITESPACE
        ['pick_and_place', 'put_back', 'pick_and_place', 'bring_back', 'look_at_in_light',
         'switch_off']
    """
    left = list(drawn)
    seq: list[dict[str, Any]] = []
    for i in range(pairs):
        q = QUESTIONS[i % len(QUESTIONS)]
        pick = next((t for t in left if t["family"] == SETUP[q]), left[0] if left else None)
        if pick is None:
            raise ValueError(f"{len(drawn)} drawn tasks are too few for {pairs} pairs")
        left.remove(pick)
        seq += [pick, {"family": q}]
    return seq


def question_result(episodes: list[dict[str, Any]]) -> dict[str, Any]:
    """Success on the questions (overall and per family), memory's answers, setups' success."""
    asked = [e for e in episodes if e["index"] % 2 == 1]
    posed = [e for e in asked if e["family"] in QUESTIONS]
    setups = [e for e in episodes if e["index"] % 2 == 0]

    def rate(eps: list[dict[str, Any]]) -> dict[str, Any]:
        k, n = sum(bool(e["success"]) for e in eps), len(eps)
        return {"n": n, "success_rate": k / n if n else None, "success_ci95": list(wilson(k, n)),
                "mean_steps": sum(e["steps"] for e in eps) / n if n else None}

    return {**rate(posed), "not_posed": len(asked) - len(posed),
            "per_family": {f: rate([e for e in posed if e["family"] == f]) for f in QUESTIONS},
            "answered_by_memory": sum(float(e["policy_stats"].get("past_recalled", 0.0)) > 0
                                      for e in posed) / max(1, len(posed)),
            "setup_success_rate": sum(bool(e["success"]) for e in setups) / max(1, len(setups))}


def plot(results: dict[str, dict[str, Any]], title: str, path: Path) -> Path:
    """Grouped bars: success on each family of question and overall, per condition."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    groups = [*QUESTIONS, "all"]
    names = list(results)
    fig, ax = plt.subplots(figsize=(9, 3.8))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        r = results[name]
        rows = [r["per_family"][g] if g != "all" else r for g in groups]
        y = [row["success_rate"] or 0.0 for row in rows]
        lo = [max(0.0, v - row["success_ci95"][0]) for v, row in zip(y, rows, strict=True)]
        hi = [max(0.0, row["success_ci95"][1] - v) for v, row in zip(y, rows, strict=True)]
        x = np.arange(len(groups)) + (i - (len(names) - 1) / 2) * width
        ax.bar(x, y, width, yerr=[lo, hi], capsize=3, label=name)
    ax.set_xticks(np.arange(len(groups)), groups)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("success (95% Wilson CI)")
    ax.axhline(0.85, color="grey", ls=":", lw=1)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeds", type=int, default=6, help="houses (N seeds from --first-seed)")
    ap.add_argument("--first-seed", type=int, default=0, help="the first house's seed")
    ap.add_argument("--pairs", type=int, default=6, help="setup + question pairs per house")
    ap.add_argument("--n-rooms", type=int, default=4, help="rooms per house (lamps need 3+)")
    ap.add_argument("--size", type=int, default=300, help="image width and height")
    ap.add_argument("--relocation", type=float, default=0.2, help="tidy-up probability")
    ap.add_argument("--conditions", nargs="+", default=["full", "no_temporal", "none"],
                    choices=list(CONDITIONS))
    ap.add_argument("--name", default="past_tasks")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", module="gymnasium")
    t0 = time.perf_counter()
    draw = argparse.Namespace(**{**vars(args), "tasks": 3 * args.pairs})
    drawn = draw_tasks([*suite_overrides(draw, f"{args.name}_tasks"), SETUP_FAMILIES])
    tasks = {seed: build_sequence(d, args.pairs) for seed, d in drawn.items()}
    suite = argparse.Namespace(**{**vars(args), "tasks": 2 * args.pairs})
    results: dict[str, dict[str, Any]] = {}
    for name in args.conditions:
        over = [*CONDITIONS[name], *suite_overrides(suite, f"{args.name}_{name}"),
                SETUP_FAMILIES, "spl=false"]
        res = run(load_config(None, over), progress=True, tasks=tasks)
        results[name] = {**question_result(as_dicts(res.episodes)),
                         "run_folder": str(res.folder)}
        r = results[name]
        print(f"{name}: questions {r['success_rate']:.1%} of {r['n']} "
              f"(answered by memory {r['answered_by_memory']:.0%}), setups "
              f"{r['setup_success_rate']:.1%}", flush=True)
    summary = {"seeds": args.seeds, "first_seed": args.first_seed, "pairs": args.pairs,
               "n_rooms": args.n_rooms, "size": args.size, "conditions": results,
               "seconds": time.perf_counter() - t0}
    path = write_json(args.name, summary, args.out)
    plot(results, f"Tasks about the past: {args.seeds} houses x {args.pairs} questions, "
                  f"{args.n_rooms} rooms", args.out / f"{args.name}.png")
    print(json.dumps({k: {m: v[m] for m in ("success_rate", "success_ci95", "n")}
                      for k, v in results.items()}, indent=1))
    print(f"-> {path}")


if __name__ == "__main__":
    main()
