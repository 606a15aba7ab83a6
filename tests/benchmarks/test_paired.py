"""Fair comparisons: one drawn task sequence replayed by every condition, paired statistics."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from benchmarks import memory_effect
from benchmarks.paired import draw_tasks, paired_steps, same_tasks, spl_summary, success_ratio


def ep(seed: int, index: int, success: bool, steps: int, spl: float | None = None,
       family: str = "pick_and_place") -> dict[str, object]:
    return {"seed": seed, "index": index, "success": success, "steps": steps, "spl": spl,
            "task": {"family": family, "object_type": "Mug", "target_type": "Shelf",
                     "count": 1, "instruction": "Put a mug on the shelf."}}


def test_paired_steps_use_only_episodes_both_solved() -> None:
    full = [ep(0, 0, True, 20), ep(0, 1, True, 40), ep(1, 0, False, 200), ep(1, 1, True, 30)]
    none = [ep(0, 0, True, 50), ep(0, 1, False, 200), ep(1, 0, True, 90), ep(1, 1, True, 90)]
    p = paired_steps(full, none)
    assert p["pairs"] == 2 and p["mean_a"] == 25.0 and p["mean_b"] == 70.0
    assert p["ratio_b_over_a"] == pytest.approx(2.8)
    lo, hi = p["ratio_ci95"]
    assert lo <= p["ratio_b_over_a"] <= hi  # 50/20 = 2.5 and 90/30 = 3 bound the resamples
    assert lo >= 2.5 - 1e-9 and hi <= 3.0 + 1e-9
    assert paired_steps(full[2:3], none[1:2])["ratio_b_over_a"] is None
    assert success_ratio(full, none) == pytest.approx(1.0)
    assert success_ratio(full, [ep(0, 0, False, 9)]) is None


def test_spl_summary_and_task_matching() -> None:
    eps = [ep(0, 0, True, 10, 1.0), ep(0, 1, False, 10, 0.0), ep(0, 2, True, 10, None)]
    s = spl_summary(eps)
    assert s["spl"] == 0.5 and 0.0 <= s["spl_ci95"][0] <= 0.5 <= s["spl_ci95"][1] <= 1.0
    assert spl_summary([ep(0, 0, True, 1)])["spl"] is None
    assert same_tasks(eps, [ep(0, 0, False, 99), ep(0, 1, True, 5), ep(0, 2, True, 1)])
    assert not same_tasks(eps, [ep(0, 0, True, 10, family="look_at_in_light"), *eps[1:]])
    assert memory_effect.compare({"full": eps}) is None


def test_every_condition_replays_the_drawn_sequence(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    over = ["seeds=[3]", "episodes=2", "env.width=48", "env.height=48", "env.lifelong=true",
            f"out={tmp_path / 'runs'}", "name=draw", "save_scene_graphs=false"]
    tasks = draw_tasks(over)
    assert list(tasks) == [3] and len(tasks[3]) == 2
    monkeypatch.setattr(sys, "argv", [
        "memory_effect.py", "--seeds", "1", "--first-seed", "3", "--tasks", "2", "--size", "48",
        "--conditions", "none", "random", "--out", str(tmp_path / "out"), "--name", "me"])
    monkeypatch.setattr(memory_effect, "CONDITIONS", {
        **memory_effect.CONDITIONS,
        "none": [*memory_effect.CONDITIONS["none"], "agent.modules.options.episodic.encoder=hash"]})
    memory_effect.main()
    import json

    data = json.loads((tmp_path / "out" / "me.json").read_text())
    assert set(data["conditions"]) == {"none", "random"} and data["full_vs_none"] is None
    assert (tmp_path / "out" / "me.png").stat().st_size > 0
    rows = [json.loads(line) for run in ("none", "random") for line in
            next((tmp_path / "out" / "runs").glob(f"*me_{run}*")).joinpath(
                "episodes.jsonl").read_text().splitlines()]
    drawn = [(t["family"], t["object_type"], t["target_type"]) for t in tasks[3]]
    for cond in (rows[:2], rows[2:]):
        assert [(r["task"]["family"], r["task"]["object_type"], r["task"]["target_type"])
                for r in cond] == drawn
