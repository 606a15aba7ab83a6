"""Shared helpers for benchmark scripts: output folder, JSON writing, machine description."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"


def machine() -> dict[str, Any]:
    """A short description of where the figures were measured."""
    return {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d")}


def write_json(name: str, data: dict[str, Any], out: Path | None = None) -> Path:
    """Write ``data`` (plus the machine description) to ``<out>/<name>.json``."""
    folder = out or OUT
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2))
    return path


def bootstrap_ci(xs: list[int] | list[float], n: int = 2000,
                 seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of the mean."""
    import numpy as np

    if not xs:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    a = np.asarray(xs, dtype=np.float64)
    means = rng.choice(a, size=(n, len(a)), replace=True).mean(axis=1)
    return (float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5)))


def condition_result(res: Any) -> dict[str, Any]:
    """Success rate (Wilson CI) and steps per success (bootstrap CI) of a ``RunResult``."""
    import numpy as np

    from robomem.runner import wilson

    eps = res.episodes
    wins = [e.steps for e in eps if e.success]
    k, n = len(wins), len(eps)
    return {"episodes": n, "success_rate": k / n if n else 0.0,
            "success_ci95": list(wilson(k, n)),
            "steps_per_success": float(np.mean(wins)) if wins else None,
            "steps_per_success_ci95": list(bootstrap_ci(wins)),
            "mean_steps": float(np.mean([e.steps for e in eps])) if eps else None,
            "spl": res.metrics.get("spl"), "run_folder": str(res.folder),
            "per_family": res.metrics["per_family"], "latency": res.metrics["latency"],
            "totals": res.metrics.get("totals", {})}


def plot_conditions(results: dict[str, dict[str, Any]], title: str, path: Path) -> Path:
    """Two bar charts: success rate (Wilson CI) and steps per success (bootstrap CI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    with_spl = all(results[c].get("spl_ci95", [None])[0] is not None for c in names)
    fig, axes = plt.subplots(1, 3 if with_spl else 2,
                             figsize=(max(10, 1.6 * len(names)) * (1.4 if with_spl else 1), 3.8))
    a, b = axes[0], axes[1]
    sr = [results[c]["success_rate"] for c in names]
    lo = [results[c]["success_rate"] - results[c]["success_ci95"][0] for c in names]
    hi = [results[c]["success_ci95"][1] - results[c]["success_rate"] for c in names]
    a.bar(names, sr, yerr=[lo, hi], capsize=4, color="#4c72b0")
    a.set_ylim(0, 1.05)
    a.set_ylabel("success rate")
    a.set_title("Success (95% Wilson CI)")
    sps = [results[c]["steps_per_success"] or 0.0 for c in names]
    ci = [results[c]["steps_per_success_ci95"] for c in names]
    err_lo = [max(0.0, s - c[0]) if c[0] == c[0] else 0.0 for s, c in zip(sps, ci, strict=True)]
    err_hi = [max(0.0, c[1] - s) if c[1] == c[1] else 0.0 for s, c in zip(sps, ci, strict=True)]
    b.bar(names, sps, yerr=[err_lo, err_hi], capsize=4, color="#55a868")
    b.set_ylabel("steps per success")
    b.set_title("Steps per success (95% bootstrap CI)")
    if with_spl:
        c = axes[2]
        spl = [results[n]["spl"] for n in names]
        lo_hi = [results[n]["spl_ci95"] for n in names]
        c.bar(names, spl, yerr=[[s - lh[0] for s, lh in zip(spl, lo_hi, strict=True)],
                                [lh[1] - s for s, lh in zip(spl, lo_hi, strict=True)]],
              capsize=4, color="#c44e52")
        c.set_ylim(0, 1.05)
        c.set_ylabel("SPL")
        c.set_title("SPL (95% bootstrap CI)")
    for ax in axes:
        ax.tick_params(axis="x", labelrotation=20)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def suite_arguments(ap: Any, tasks: int = 30, seeds: int = 3) -> None:
    """The lifelong Household suite's command-line options (houses, tasks, size, out)."""
    ap.add_argument("--seeds", type=int, default=seeds, help="houses (N seeds from --first-seed)")
    ap.add_argument("--first-seed", type=int, default=0, help="the first house's seed")
    ap.add_argument("--tasks", type=int, default=tasks, help="lifelong tasks per house")
    ap.add_argument("--size", type=int, default=300, help="image width and height")
    ap.add_argument("--relocation", type=float, default=0.2, help="tidy-up probability")
    ap.add_argument("--n-rooms", type=int, default=None,
                    help="rooms per procedural house (default: the generator's choice)")
    ap.add_argument("--out", type=Path, default=OUT)


def suite_overrides(args: Any, name: str) -> list[str]:
    """``robomem run`` overrides for the lifelong suite ``args`` describes, run ``name``."""
    first = getattr(args, "first_seed", 0)
    seeds = ",".join(str(s) for s in range(first, first + args.seeds))
    return [f"seeds=[{seeds}]", f"episodes={args.tasks}", f"env.width={args.size}",
            f"env.height={args.size}", "env.lifelong=true",
            f"env.relocation_prob={args.relocation}", f"out={args.out / 'runs'}",
            f"name={name}", "save_scene_graphs=false",
            *([f"env.n_rooms={args.n_rooms}"] if getattr(args, "n_rooms", None) else [])]
