"""Fair comparisons of conditions: one drawn task sequence, paired steps, SPL with intervals.

Every condition of a comparison must face the same tasks. In a lifelong house the next task
would otherwise be drawn from the state that each condition's own actions left, so two
conditions would soon be answering different questions. :func:`draw_tasks` draws the
sequence once (an oracle run, whose moves only decide the house it samples from) and every
condition replays it through ``run(..., tasks=...)``.

Steps per success alone hides the effect of memory: a weak condition only succeeds on easy
episodes. :func:`paired_steps` compares steps on the episodes that both conditions solved,
and :func:`spl_summary` charges failures (SPL, with a bootstrap interval).

Example:
    >>> a = [{"seed": 0, "index": 0, "success": True, "steps": 20, "spl": 0.5},
    ...      {"seed": 0, "index": 1, "success": True, "steps": 30, "spl": 0.4}]
    >>> b = [{"seed": 0, "index": 0, "success": True, "steps": 60, "spl": 0.2},
    ...      {"seed": 0, "index": 1, "success": False, "steps": 99, "spl": 0.0}]
    >>> p = paired_steps(a, b)
    >>> p["pairs"], p["mean_a"], p["mean_b"], p["ratio_b_over_a"]
    (1, 20.0, 60.0, 3.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

Episode = Mapping[str, Any]
TASK_KEYS = ("family", "object_type", "target_type", "count", "instruction")


def _key(e: Episode) -> tuple[int, int]:
    return int(e["seed"]), int(e["index"])


def draw_tasks(overrides: list[str]) -> dict[int, list[dict[str, Any]]]:
    """Draw one lifelong task sequence per house with an oracle run of ``overrides``.

    Returns:
        Per seed, the task dict of every episode, for ``run(cfg, tasks=...)``.
    """
    from robomem.config import load_config
    from robomem.runner import run

    res = run(load_config(None, [*overrides, "policy=oracle", "spl=false"]), progress=False)
    tasks: dict[int, list[dict[str, Any]]] = {}
    for e in res.episodes:
        if e.task is None:
            raise RuntimeError(f"the oracle's episode {e.seed}/{e.index} recorded no task")
        tasks.setdefault(e.seed, []).append(e.task)
    return tasks


def as_dicts(episodes: Sequence[Any]) -> list[dict[str, Any]]:
    """Episode records (``EpisodeRecord`` or dicts) as dicts."""
    from dataclasses import asdict, is_dataclass

    return [asdict(e) if is_dataclass(e) and not isinstance(e, type) else dict(e)
            for e in episodes]


def paired_steps(a: Sequence[Episode], b: Sequence[Episode], n_boot: int = 2000,
                 seed: int = 0) -> dict[str, Any]:
    """Steps of two conditions on the episodes (same seed and index) that both solved.

    Returns:
        ``pairs``, ``mean_a``, ``mean_b``, ``ratio_b_over_a`` (``None`` without pairs) and its
        95% bootstrap interval over the pairs, ``ratio_ci95``.
    """
    solved_b = {_key(e): float(e["steps"]) for e in b if e["success"]}
    pairs = [(float(e["steps"]), solved_b[_key(e)]) for e in a
             if e["success"] and _key(e) in solved_b]
    out: dict[str, Any] = {"pairs": len(pairs), "mean_a": None, "mean_b": None,
                           "ratio_b_over_a": None, "ratio_ci95": [None, None]}
    if not pairs:
        return out
    arr = np.asarray(pairs)
    out["mean_a"], out["mean_b"] = float(arr[:, 0].mean()), float(arr[:, 1].mean())
    out["ratio_b_over_a"] = out["mean_b"] / out["mean_a"]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(arr), size=(n_boot, len(arr)))
    ratios = arr[idx, 1].mean(axis=1) / arr[idx, 0].mean(axis=1)
    out["ratio_ci95"] = [float(np.percentile(ratios, 2.5)), float(np.percentile(ratios, 97.5))]
    return out


def spl_summary(episodes: Sequence[Episode], n_boot: int = 2000,
                seed: int = 0) -> dict[str, Any]:
    """Mean SPL and its 95% bootstrap interval over the episodes that have one."""
    vals = np.asarray([float(e["spl"]) for e in episodes if e.get("spl") is not None])
    if not len(vals):
        return {"spl": None, "spl_ci95": [None, None]}
    rng = np.random.default_rng(seed)
    means = vals[rng.integers(0, len(vals), size=(n_boot, len(vals)))].mean(axis=1)
    return {"spl": float(vals.mean()),
            "spl_ci95": [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]}


def success_ratio(a: Sequence[Episode], b: Sequence[Episode]) -> float | None:
    """Success rate of ``a`` over that of ``b`` (``None`` when ``b`` never succeeds)."""
    ra = float(np.mean([bool(e["success"]) for e in a])) if a else 0.0
    rb = float(np.mean([bool(e["success"]) for e in b])) if b else 0.0
    return ra / rb if rb else None


def same_tasks(a: Sequence[Episode], b: Sequence[Episode]) -> bool:
    """Whether two conditions ran the same tasks, episode for episode."""
    def tasks(eps: Sequence[Episode]) -> dict[tuple[int, int], tuple[Any, ...]]:
        return {_key(e): tuple((e.get("task") or {}).get(k) for k in TASK_KEYS) for e in eps}

    return tasks(a) == tasks(b)
