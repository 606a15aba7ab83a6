"""``robomem inspect STORE``: what a lifelong store holds, as text, pictures and a report.

It opens the store read-only (so it works while a run is writing to it) and writes into an
output folder (default ``STORE-inspect`` beside the store; never inside it):

* ``scene_<name>.png``: each remembered scene's map from above: occupancy grid and scene
  graph (objects at their boxes' centres, in/on edges to their receptacles);
* ``timeline.png``: events per episode by kind, and each episode's steps and outcome;
* ``report.md``: the summary, the episodes table, and the semantic facts.

:func:`recall_moments` answers "recall the moment when ..." from a store
(``robomem inspect STORE --moment TEXT``) with episodic memory's HCAM chunked recall.

Example:
    >>> import tempfile
    >>> from robomem.inspection import inspect_store
    >>> from robomem.store import Store
    >>> path = tempfile.mkdtemp()
    >>> Store.open(path).close()
    >>> report = inspect_store(path, out=tempfile.mkdtemp())
    >>> report.summary["records"], report.report.name
    ({}, 'report.md')
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from robomem.memory.base import Fact
from robomem.memory.semantic import SemanticMemory
from robomem.memory.spatial import SpatialMemory
from robomem.store import Store
from robomem.untrusted import loads_json


@dataclass
class InspectReport:
    """What :func:`inspect_store` found and wrote."""

    summary: dict[str, Any]
    episodes: list[dict[str, Any]]
    facts: list[dict[str, Any]]
    report: Path
    pictures: list[Path] = field(default_factory=list)

    def text(self) -> str:
        """A short plain-text summary for the terminal."""
        s = self.summary
        wins = sum(bool(e.get("success")) for e in self.episodes)
        size = s.get("bytes", {}).get("total", 0)
        lines = [f"store {s.get('path', '')}: schema v{s.get('schema_version', '?')}, "
                 f"{size / 1e6:.1f} MB",
                 f"episodes: {len(self.episodes)} ({wins} succeeded)",
                 "records: " + (", ".join(f"{k} {v}" for k, v in sorted(s["records"].items()))
                                or "none"),
                 f"semantic facts: {len(self.facts)}",
                 f"report: {self.report}"]
        lines += [f"picture: {p}" for p in self.pictures]
        return "\n".join(lines)


def default_output(store: Path) -> Path:
    """``STORE-inspect`` beside the store, or ``./STORE-inspect`` where that is not writable."""
    name = f"{store.resolve().name or 'store'}-inspect"
    parent = store.resolve().parent
    return parent / name if os.access(parent, os.W_OK) else Path.cwd() / name


def inspect_store(path: str | Path, out: str | Path | None = None,
                  max_episodes: int = 200) -> InspectReport:
    """Summarise the store at ``path`` into ``out`` (default :func:`default_output`).

    The store is opened read-only and nothing is written into it (an ``out`` inside it is
    refused).

    Raises:
        robomem.store.StoreError: not a store, or a corrupt one (nothing is changed).
    """
    store = Store.open(path, readonly=True)
    try:
        summary = dict(store.summary())
        blobs = summary.get("blobs", {})
        if isinstance(blobs, dict) and "by_prefix" in blobs:  # counts, not every frame's name
            blobs["by_prefix"] = {k: len(v) for k, v in blobs["by_prefix"].items()}
        folder = Path(out) if out is not None else default_output(Path(path))
        if folder.resolve().is_relative_to(Path(path).resolve()):
            raise ValueError(f"inspect writes nothing into the store it reads; pick an --out "
                             f"outside {path}")
        folder.mkdir(parents=True, exist_ok=True)
        episodes = [dict(r.data, episode=r.episode) for r in store.records("episode")]
        events = [(r.episode, str(r.data.get("kind", ""))) for r in store.records("event")]
        raw = store.get_blob("semantic/graph")
        facts = SemanticMemory.from_json(loads_json(raw)).facts_table() if raw else []
        pictures = [_scene_picture(store, name, folder)
                    for name in store.blob_names("spatial/")]
        if episodes or events:
            pictures.append(_timeline(episodes, events, folder / "timeline.png"))
        report = _report(folder / "report.md", summary, episodes[-max_episodes:], facts,
                         pictures)
    finally:
        store.close()
    return InspectReport(summary, episodes, facts, report, pictures)


def _scene_picture(store: Store, blob: str, folder: Path) -> Path:
    """Occupancy grid plus scene graph, seen from above."""
    raw = store.get_blob(blob)
    assert raw is not None
    mem = SpatialMemory.from_bytes(raw)
    scene = blob.split("/", 1)[1]
    fig, ax = plt.subplots(figsize=(8, 8))
    img = mem.grid.image()
    if img.size:
        x0, z0, x1, z1 = mem.grid.bounds()  # the image has +z up and +x to the left
        ax.imshow(img, extent=(x1, x0, z0, z1), origin="upper", alpha=0.6)
    nodes = mem.graph.nodes()
    pos = {n.key: (float(n.box.center[0]), float(n.box.center[2])) for n in nodes}
    for n in nodes:
        if n.parent and n.parent in pos:
            (xa, za), (xb, zb) = pos[n.key], pos[n.parent]
            ax.plot([xa, xb], [za, zb], color="tab:gray", lw=0.8)
    for n in nodes:
        x, z = pos[n.key]
        color = "tab:orange" if n.pickupable else "tab:blue"
        ax.scatter([x], [z], s=18 if n.pickupable else 36, color=color, zorder=3)
        ax.annotate(n.label, (x, z), fontsize=6, xytext=(2, 2), textcoords="offset points")
    ax.set_title(f"{scene}: {len(nodes)} objects (blue: furniture, orange: pickupable)")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("z (m)")
    ax.set_aspect("equal")
    path = folder / f"scene_{_safe(scene)}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _timeline(episodes: list[dict[str, Any]], events: list[tuple[int, str]],
              path: Path) -> Path:
    """Events per episode by kind (stacked), and steps per episode by outcome."""
    fig, (a, b) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    kinds = sorted({k for _, k in events})
    eps = sorted({e for e, _ in events} | {int(x["episode"]) for x in episodes})
    bottom = np.zeros(len(eps))
    index = {e: i for i, e in enumerate(eps)}
    for kind in kinds:
        counts = np.zeros(len(eps))
        for e, k in events:
            if k == kind:
                counts[index[e]] += 1
        a.bar(eps, counts, bottom=bottom, label=kind)
        bottom += counts
    a.set_ylabel("events")
    if kinds:
        a.legend(fontsize=7, ncol=4)
    for ok, color in ((True, "tab:green"), (False, "tab:red")):
        xs = [int(x["episode"]) for x in episodes if bool(x.get("success")) is ok]
        ys = [int(x.get("steps", 0)) for x in episodes if bool(x.get("success")) is ok]
        b.bar(xs, ys, color=color, label="succeeded" if ok else "failed")
    b.set_ylabel("steps")
    b.set_xlabel("episode")
    b.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _report(path: Path, summary: dict[str, Any], episodes: list[dict[str, Any]],
            facts: list[dict[str, Any]], pictures: list[Path]) -> Path:
    lines = ["# robomem store", "", "```", json.dumps(summary, indent=2, default=str), "```",
             ""]
    lines += [f"![{p.stem}]({p.name})" for p in pictures]
    lines += ["", "## Episodes", "", "| episode | scene | instruction | outcome | steps | digest |",
              "| --- | --- | --- | --- | --- | --- |"]
    for e in episodes:
        lines.append(f"| {e.get('episode')} | {e.get('scene', '')} | {e.get('instruction', '')} "
                     f"| {'succeeded' if e.get('success') else 'failed'} | {e.get('steps', '')} "
                     f"| {e.get('summary', '')} |")
    lines += ["", "## Semantic facts", ""]
    if facts:
        cols = list(facts[0].keys())
        lines += ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
        lines += ["| " + " | ".join(_cell(f.get(c)) for c in cols) + " |" for f in facts]
    else:
        lines.append("none yet")
    path.write_text("\n".join(lines) + "\n")
    return path


def _cell(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def recall_moments(path: str | Path, text: str, k: int = 3) -> list[Fact]:
    """The ``k`` stored steps best matching ``text`` (read-only), best first.

    The steps are searched with the encoder that embedded most of them (its name is kept with
    every stored row), so their stored vectors are used as they are.

    Raises:
        robomem.store.StoreError: not a store, or a corrupt one.
        ValueError: an empty ``text`` or ``k`` below 1.
    """
    from collections import Counter

    from robomem.memory.chunk_recall import as_facts
    from robomem.memory.episodic import STEP_KIND, EpisodicMemory

    if not text.strip() or k < 1:
        raise ValueError(f"need a non-empty text and k >= 1, got {text!r} and {k}")
    store = Store.open(path, readonly=True)
    try:
        names = Counter(str(r.data.get("encoder", "minilm")) for r in store.records(STEP_KIND))
        encoder = names.most_common(1)[0][0] if names else "minilm"
        mem = EpisodicMemory(encoder=encoder)
        mem.attach(store)
    finally:
        store.close()
    return as_facts(mem.moments(text, k))


def moments_text(facts: list[Fact]) -> str:
    """Recalled moments as terminal lines: where, score, the step, and its context."""
    if not facts:
        return "no steps stored"
    lines = []
    for f in facts:
        d = f.data
        lines.append(f"episode {d['episode']} step {d['step']} in {d['scene']} "
                     f"(score {f.score:.2f}, chunk score {d['chunk_score']:.2f}):")
        lines += [f"  {'>' if c['step'] == d['step'] else ' '} {c['text']}"
                  for c in d["context"]]
    return "\n".join(lines)
