"""``benchmarks/past_tasks.py``: the sequence it replays and the figures it reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import past_tasks


def _ep(index: int, family: str, success: bool, recalled: float = 0.0) -> dict[str, object]:
    return {"seed": 0, "index": index, "family": family, "success": success, "steps": 10 + index,
            "policy_stats": {"past_recalled": recalled}}


def test_sequence_pairs_each_question_with_the_setup_it_needs() -> None:
    drawn = [{"family": "pick_and_place", "n": 0}, {"family": "look_at_in_light", "n": 1},
             {"family": "pick_and_place", "n": 2}, {"family": "pick_and_place", "n": 3}]
    seq = past_tasks.build_sequence(drawn, 4)
    assert [t["family"] for t in seq] == ["pick_and_place", "put_back", "pick_and_place",
                                          "bring_back", "look_at_in_light", "switch_off",
                                          "pick_and_place", "put_back"]
    assert [t.get("n") for t in seq[::2]] == [0, 2, 1, 3]  # each drawn task used once
    with pytest.raises(ValueError, match="too few"):
        past_tasks.build_sequence(drawn[:1], 2)


def test_question_result_counts_questions_only() -> None:
    eps = [_ep(0, "pick_and_place", True), _ep(1, "put_back", True, 1.0),
           _ep(2, "pick_and_place", False), _ep(3, "bring_back", False, 1.0),
           _ep(4, "look_at_in_light", True), _ep(5, "pick_and_place", True)]  # not posed
    r = past_tasks.question_result(eps)
    assert (r["n"], r["success_rate"], r["not_posed"]) == (2, 0.5, 1)
    assert r["per_family"]["put_back"]["success_rate"] == 1.0
    assert r["per_family"]["switch_off"]["n"] == 0
    assert r["answered_by_memory"] == 1.0
    assert r["setup_success_rate"] == pytest.approx(2 / 3)


def test_plot_writes_a_figure(tmp_path: Path) -> None:
    r = past_tasks.question_result([_ep(1, "put_back", True), _ep(3, "switch_off", False)])
    out = past_tasks.plot({"full": r, "none": r}, "title", tmp_path / "p.png")
    assert out.stat().st_size > 0
