"""The same agent, the same tasks: robomem/Household-v0 directly and through robomem/AI2THOR-v0.

Each ALFRED family's tasks are drawn once, seeded, by Household-v0 in one scene; every
condition then runs that same task list:

- ``household``: the memory agent on robomem/Household-v0;
- ``ai2thor``: the same agent through robomem/AI2THOR-v0, i.e. the real, unmodified
  ``ai2thor.controller.Controller`` driving the FIFO stand-in of ``tests/fixtures`` (the
  Household world rendered and described in AI2-THOR's frame, ids and wording: the bridge is
  all that differs);
- ``ai2thor+find``: the same, navigating with EB-ALFRED's "find X" (``executor.find``: the
  env teleports the agent to face the target) instead of walking on its map.

With ``--alfred`` (``../shared/data/alfred-instructions.jsonl``, not in the repository), each
task's instruction is an ALFRED annotator's sentence for the same family, object and
receptacle types where one exists: people's words reach the agent through the bridge and the
instruction parser, with AI2-THOR's vocabulary.

Usage:
    python benchmarks/thor_bridge.py --tasks 4 --out benchmarks/results \\
        --alfred ../shared/data/alfred-instructions.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from tqdm import tqdm

import robomem.envs  # noqa: F401  (registers the envs)
from benchmarks.common import OUT, write_json
from robomem.agent import AgentConfig, MemoryAgent
from robomem.embodiment import embodiment_for
from robomem.memory.system import MemorySystemConfig
from robomem.policies.executor import ExecutorConfig
from robomem.reservoir import Reservoir
from robomem.runner import _episode
from tests.fixtures.thor_standin import standin_kwargs

FAMILIES = ("pick_and_place", "place_in_closed", "pick_two_and_place", "pick_heat_and_place",
            "pick_cool_and_place", "pick_clean_and_place", "look_at_in_light")
CONDITIONS = ("household", "ai2thor", "ai2thor+find")
SIZE = 128
# ALFRED's task types for robomem's families (../shared/data/README.md)
ALFRED_TYPES = {"pick_and_place": "pick_and_place_simple",
                "pick_two_and_place": "pick_two_obj_and_place",
                "pick_heat_and_place": "pick_heat_then_place_in_recep",
                "pick_cool_and_place": "pick_cool_then_place_in_recep",
                "pick_clean_and_place": "pick_clean_then_place_in_recep",
                "look_at_in_light": "look_at_obj_in_light"}


def draw_tasks(scene: str, per_family: int, seed: int) -> list[dict[str, Any]]:
    """``per_family`` tasks of each family, drawn by Household-v0 (seeded)."""
    out = []
    for f, family in enumerate(FAMILIES):
        env = gym.make("robomem/Household-v0", scene=scene, width=64, height=64,
                       families=[family], paraphrase=False)
        for i in range(per_family):
            _, info = env.reset(seed=seed + 1000 * f + i)
            out.append({k: info["task"][k] for k in ("family", "object_type", "target_type",
                                                      "count", "instruction")})
        env.close()
    return out


def alfred_sentences(tasks: list[dict[str, Any]], path: Path, seed: int) -> int:
    """Swap in an ALFRED sentence with the same family and types; returns how many."""
    lines = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    rng = np.random.default_rng(seed)
    swapped = 0
    for t in tasks:
        kind = ALFRED_TYPES.get(t["family"])
        same = [x["instruction"].strip() for x in lines if x["task_type"] == kind and
                x["object"] == t["object_type"] and x["receptacle"] == t["target_type"]
                and not x["sliced"]]
        if same:
            t["instruction"] = same[int(rng.integers(len(same)))]
            swapped += 1
    return swapped


def run_condition(name: str, scene: str, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every task once under condition ``name``: success, steps, the agent's notes."""
    if name == "household":
        env = gym.make("robomem/Household-v0", scene=scene, width=SIZE, height=SIZE,
                       paraphrase=False)
    else:
        kwargs = standin_kwargs(SIZE, SIZE)
        kwargs["scene"] = scene
        env = gym.make("robomem/AI2THOR-v0", **kwargs)
    cfg = AgentConfig(modules=MemorySystemConfig(options={"episodic": {"encoder": "hash"}}),
                      executor=ExecutorConfig(find=name.endswith("+find")))
    out = []
    try:
        for task in tqdm(tasks, desc=name, leave=False):
            agent = MemoryAgent(cfg, embodiment_for(env))
            try:
                latency = {"env_step": Reservoir(), "policy_act": Reservoir()}
                rec = _episode(env, agent, 0, 0, latency, False, task)
            finally:
                agent.close()
            out.append({"family": task["family"], "instruction": task["instruction"],
                        "success": rec.success, "steps": rec.steps, "notes": rec.notes,
                        "finds": rec.policy_stats.get("finds", 0.0)})
    finally:
        env.close()
    return out


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Success per family and condition; steps on the tasks every condition solved."""
    table: dict[str, dict[str, Any]] = {}
    for name, rows in runs.items():
        per = {f: [r["success"] for r in rows if r["family"] == f] for f in FAMILIES}
        table[name] = {"success": float(np.mean([r["success"] for r in rows])),
                       "per_family": {f: f"{sum(v)}/{len(v)}" for f, v in per.items() if v}}
    n = len(next(iter(runs.values())))
    both = [i for i in range(n) if all(runs[c][i]["success"] for c in runs)]
    for name, rows in runs.items():
        table[name]["paired_mean_steps"] = (float(np.mean([rows[i]["steps"] for i in both]))
                                            if both else None)
    return {"conditions": table, "paired_tasks": len(both), "tasks": n}


def plot(summary: dict[str, Any], path: Path) -> None:
    """Success per family, one bar per condition."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conds = summary["conditions"]
    fams = [f for f in FAMILIES if f in next(iter(conds.values()))["per_family"]]
    fig, ax = plt.subplots(figsize=(11, 3.8))
    width = 0.8 / len(conds)
    for k, (name, row) in enumerate(conds.items()):
        vals = []
        for f in fams:
            a, b = row["per_family"][f].split("/")
            vals.append(int(a) / int(b))
        ax.bar(np.arange(len(fams)) + k * width, vals, width, label=name)
    ax.set_xticks(np.arange(len(fams)) + width * (len(conds) - 1) / 2)
    ax.set_xticklabels([f.replace("_and_place", "") for f in fams], rotation=15)
    ax.set_ylim(0, 1.3)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_ylabel("success rate")
    ax.set_title("The same tasks on Household-v0 and through AI2THOR-v0 (stand-in)")
    ax.legend(loc="upper center", ncol=len(conds), frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scene", default="FloorPlan1", help="the Household scene both run")
    ap.add_argument("--tasks", type=int, default=4, help="tasks per family")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--alfred", type=Path, default=None,
                    help="alfred-instructions.jsonl: use people's sentences where they fit")
    ap.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=CONDITIONS)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    tasks = draw_tasks(args.scene, args.tasks, args.seed)
    swapped = alfred_sentences(tasks, args.alfred, args.seed) if args.alfred else 0
    runs = {c: run_condition(c, args.scene, tasks) for c in args.conditions}
    summary = summarize(runs)
    summary.update({"scene": args.scene, "tasks_per_family": args.tasks, "seed": args.seed,
                    "alfred_sentences": swapped, "seconds": time.perf_counter() - t0,
                    "episodes": runs})
    path = write_json("thor_bridge", summary, args.out)
    plot(summary, args.out / "thor_bridge.png")
    for name, row in summary["conditions"].items():
        print(f"{name:14s} success {row['success']:.1%}  paired steps "
              f"{row['paired_mean_steps']}  {row['per_family']}")
    print(f"{summary['paired_tasks']}/{summary['tasks']} tasks solved by all; "
          f"{swapped} ALFRED sentences; {path}")
    return summary


if __name__ == "__main__":
    main()
