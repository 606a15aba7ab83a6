"""Plots and a markdown report for a run folder (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

MAX_NOTED = 50  # failed episodes whose notes the report lists


def write_plots(folder: Path, episodes: list[dict[str, Any]]) -> list[Path]:
    """Success rate per task family and the distribution of episode lengths."""
    fams: dict[str, list[bool]] = {}
    for e in episodes:
        fams.setdefault(e["family"], []).append(bool(e["success"]))
    names = sorted(fams)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    a.bar(names, [sum(fams[n]) / len(fams[n]) for n in names], color="#4c72b0")
    a.set_ylim(0, 1.05)
    a.set_ylabel("success rate")
    a.set_title("Success by task family")
    a.tick_params(axis="x", rotation=30, labelsize=7)
    ok = [e["steps"] for e in episodes if e["success"]]
    bad = [e["steps"] for e in episodes if not e["success"]]
    b.hist([ok, bad], bins=20, stacked=True, label=["success", "failure"],
           color=["#55a868", "#c44e52"])
    b.set_xlabel("steps per episode")
    b.set_title("Episode length")
    b.legend()
    fig.tight_layout()
    path = folder / "episodes.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


def write_report(folder: Path, name: str, policy: str, m: dict[str, Any],
                 episodes: list[dict[str, Any]] | None = None) -> Path:
    """A short markdown summary next to the metrics (with the policy's notes on failures)."""
    lo, hi = m["success_ci95"]
    sps = m["steps_per_success"]
    lines = [
        f"# robomem run: {name} ({policy})",
        "",
        f"- episodes: {m['episodes']}",
        f"- success rate: {m['success_rate']:.1%} (95% CI {lo:.1%}-{hi:.1%})",
        f"- mean steps: {m['mean_steps']:.1f}; steps per success: "
        f"{'n/a' if sps is None else f'{sps:.1f}'}",
        f"- failed actions per episode: {m['failed_actions_per_episode']:.2f}",
        f"- SPL: {'n/a' if m.get('spl') is None else format(m['spl'], '.3f')}",
        "",
        "| task family | episodes | success |",
        "| --- | --- | --- |",
    ]
    for f, v in sorted(m["per_family"].items()):
        lines.append(f"| {f} | {v['n']} | {v['success_rate']:.0%} |")
    if m.get("totals"):
        lines += ["", "| per episode | mean |", "| --- | --- |"]
        lines += [f"| {k} | {v:.2f} |" for k, v in m["totals"].items()]
    lines += ["", "| latency | p50 ms | p99 ms |", "| --- | --- | --- |"]
    for k, v in m["latency"].items():
        lines.append(f"| {k} | {v['p50_ms']:.2f} | {v['p99_ms']:.2f} |")
    noted = [e for e in episodes or [] if e.get("notes") and not e.get("success")]
    if noted:
        lines += ["", "## Why episodes failed (the agent's own account)", "",
                  "| seed | episode | instruction | notes |", "| --- | --- | --- | --- |"]
        for e in noted[:MAX_NOTED]:
            text = "; ".join(e["notes"]).replace("|", "/")
            instr = str(e.get("instruction", "")).replace("|", "/")
            lines.append(f"| {e['seed']} | {e['index']} | {instr[:80]} | {text[:300]} |")
        if len(noted) > MAX_NOTED:
            lines.append(f"\n{len(noted) - MAX_NOTED} more in episodes.jsonl")
    lines += ["", "![episodes](episodes.png)", ""]
    path = folder / "report.md"
    path.write_text("\n".join(lines))
    return path
