"""The "Does memory help?" figure: success with memory against without, suite by suite.

Reads the committed results of the suites (``benchmarks/results/*.json``) and draws one
grouped bar chart with 95% intervals: the tabletop memory tasks, large houses (6 rooms), the
lifelong suite (its committed run predates the replayed task sequence: each condition drew
its own tasks), tasks about the past, and unseen houses (a store from other houses against
an empty one). Suites whose JSON is missing are left out. Nothing is re-run.

    python benchmarks/headline.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/x.py` too

RESULTS = Path(__file__).resolve().parent / "results"
Bar = tuple[str, float, tuple[float, float]]  # label, success rate, 95% interval


def _cond(c: dict[str, Any], label: str) -> Bar:
    return label, float(c["success_rate"]), (float(c["success_ci95"][0]),
                                             float(c["success_ci95"][1]))


def suites(folder: Path) -> dict[str, tuple[Bar, Bar]]:
    """Per suite: (with memory, without) success bars, from the JSON files in ``folder``."""
    out: dict[str, tuple[Bar, Bar]] = {}

    def load(name: str) -> dict[str, Any] | None:
        p = folder / f"{name}.json"
        return json.loads(p.read_text()) if p.exists() else None

    if (t := load("tabletop_memory")) is not None:
        for task, r in t["memory"].items():
            out[f"tabletop:\n{task}"] = (_cond(r["full"], "memory"), _cond(r["none"], "none"))
    if (d := load("large_houses")) is not None:
        c = d["conditions"]
        out["large houses\n(6 rooms)"] = (_cond(c["full"], "memory"), _cond(c["none"], "none"))
    if (d := load("ablations")) is not None and {"full", "none"} <= set(d["conditions"]):
        c = d["conditions"]
        out["lifelong, 2-4 rooms\n(older: own task draws)"] = (_cond(c["full"], "memory"),
                                                               _cond(c["none"], "none"))
    if (d := load("past_tasks")) is not None and {"full", "none"} <= set(d["conditions"]):
        c = d["conditions"]
        out["tasks about\nthe past"] = (_cond(c["full"], "memory"), _cond(c["none"], "none"))
    if (d := load("unseen_houses")) is not None:
        c = d["conditions"]
        out["unseen houses\n(store vs empty)"] = (_cond(c["trained_store"], "memory"),
                                                  _cond(c["empty_store"], "none"))
    return out


def plot(data: dict[str, tuple[Bar, Bar]], path: Path) -> Path:
    """Grouped bars: with memory (blue) and without (grey), 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(data)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(8.0, 1.3 * len(names)), 4.2))
    for i, (colour, label) in enumerate((("#4c72b0", "with memory"),
                                         ("#8c8c8c", "without (or empty store)"))):
        vals = [data[n][i][1] for n in names]
        err = [[v - data[n][i][2][0] for v, n in zip(vals, names, strict=True)],
               [data[n][i][2][1] - v for v, n in zip(vals, names, strict=True)]]
        ax.bar(x + (i - 0.5) * 0.38, vals, 0.38, yerr=err, capsize=3, color=colour, label=label)
    ax.set_xticks(x, names, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("success rate (95% Wilson CI)")
    ax.set_title("Does memory help? The same seeded tasks with and without memory")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> Path:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--results", type=Path, default=RESULTS, help="folder of suite JSON files")
    ap.add_argument("--out", type=Path, default=RESULTS / "headline.png")
    args = ap.parse_args(argv)
    data = suites(args.results)
    if not data:
        raise SystemExit(f"no suite results in {args.results}; run the suites first")
    for name, (a, b) in data.items():
        print(f"{name.replace(chr(10), ' '):40s} {a[1]:.2f} vs {b[1]:.2f}")
    return plot(data, args.out)


if __name__ == "__main__":
    print(f"-> {main()}")
