"""Tests of ``benchmarks/instructions.py`` on a small made-up file (not the real ALFRED data)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import robomem.planners.instruction as instruction
from benchmarks import instructions


def _line(text: str, task: str, obj: str, recep: str, mrecep: str | None = None,
          sliced: bool = False) -> dict[str, Any]:
    return {"instruction": text, "task_type": task, "object": obj, "receptacle": recep,
            "mrecep": mrecep, "sliced": sliced, "source": "test"}


LINES = [
    _line("Put a mug on the shelf.", "pick_and_place_simple", "Mug", "Shelf"),
    _line("Put two key chains in the drawer.", "pick_two_obj_and_place", "KeyChain", "Drawer"),
    _line("Examine a book under the lamp.", "look_at_obj_in_light", "Book", "DeskLamp"),
    _line("Heat an apple and put it on the counter.", "pick_heat_then_place_in_recep", "Apple",
          "CounterTop"),
    _line("Put a spoon in a mug on the counter.", "pick_and_place_with_movable_recep", "Spoon",
          "CounterTop", mrecep="Mug"),
    _line("Xyzzy plugh frobnicate.", "pick_cool_then_place_in_recep", "Tomato", "CounterTop"),
    _line("Rinse a plate and put it in the cabinet.", "pick_clean_then_place_in_recep",
          "Plate", "Cabinet"),
]
CRASH = _line("Put a pen in the box.", "pick_and_place_simple", "Pen", "Box")


def _write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_real_parser_writes_json_failures_and_plot(tmp_path: Path) -> None:
    data = _write(tmp_path / "few.jsonl", LINES)
    out = tmp_path / "out"
    summary = instructions.main(["--data", str(data), "--out", str(out)])
    saved = json.loads((out / "instructions.json").read_text())
    assert (out / "instructions.png").stat().st_size > 0
    assert saved["lines"] == len(LINES) == summary["lines"]
    assert {"machine", "headline", "overall", "supported", "per_family", "top_failures",
            "seconds", "parse_seconds", "ms_per_instruction"} <= set(saved)
    assert saved["seconds"] > 0
    overall = saved["overall"]
    assert overall["n"] == len(LINES)
    assert saved["supported"]["n"] == len(LINES) - 1  # all but the movable line
    assert set(saved["per_family"]) == set(instructions.FAMILIES.values())
    assert all(s["n"] == 1 for s in saved["per_family"].values())
    assert "movable_right" in saved["per_family"]["pick_movable_and_place"]
    # The gibberish line cannot be parsed: wrong on all, with its reason.
    cool = saved["per_family"]["pick_cool_and_place"]
    assert cool["parsed"] == 0 and cool["all_resolved_right"] == 0
    assert cool["reasoned"] == 1
    assert overall["parsed"] <= len(LINES) - 1
    for key in ("family", "object_strict", "receptacle_strict", "all_strict"):
        assert 0 <= overall[f"{key}_right"] <= overall["parsed"]
    assert overall["all_strict_right"] <= overall["all_resolved_right"]
    assert overall["not_all_right"] == len(LINES) - overall["all_resolved_right"]
    assert overall["not_all_right"] == (overall["reasoned"] + overall["wrong_goal"]
                                        + overall["error_without_reason"] + overall["crash"])
    head = saved["headline"]
    assert head["supported_lines"] == len(LINES) - 1
    assert head["all_three_right_resolved_supported"] == pytest.approx(
        saved["supported"]["all_resolved_right"] / (len(LINES) - 1))
    assert sum(f["count"] for f in saved["top_failures"]) == overall["not_all_right"]
    failing = [json.loads(x) for x in (out / instructions.FAILURES).read_text().splitlines()]
    assert len(failing) == overall["not_all_right"]
    gibberish = next(f for f in failing if f["instruction"] == "Xyzzy plugh frobnicate.")
    assert gibberish["outcome"] == "reasoned" and gibberish["reason"]


def test_scoring_with_a_stub_parser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exact counts, with a stand-in parser whose answers are known."""

    def goal(family: str, obj: str, target: str, movable: str = "",
             targets: tuple[str, ...] = ()) -> SimpleNamespace:
        return SimpleNamespace(family=family, object_type=obj, target_type=target, count=1,
                               movable=movable, sliced=False, object_candidates=(),
                               target_candidates=targets)

    answers = {
        LINES[0]["instruction"]: goal("pick_and_place", "Mug", "Shelf"),  # right
        LINES[1]["instruction"]: goal("pick_two_and_place", "KeyChain", "Cabinet"),  # recep
        LINES[2]["instruction"]: goal("look_at_in_light", "Book", "FloorLamp",
                                      targets=("DeskLamp", "FloorLamp")),  # resolved only
        LINES[3]["instruction"]: goal("pick_and_place", "Apple", "CounterTop"),  # family
        LINES[4]["instruction"]: goal("pick_movable_and_place", "Spoon", "CounterTop"),  # mov.
        LINES[6]["instruction"]: goal("pick_clean_and_place", "Plate", "Cabinet"),  # right
    }

    def parse(text: str, ontology: Any, **_: Any) -> Any:
        if text == CRASH["instruction"]:
            raise KeyError("boom")
        if text not in answers:
            raise instruction.InstructionError(f"I don't know what 'xyzzy' is (in {text!r})")
        return answers[text]

    monkeypatch.setattr(instruction, "parse_instruction", parse)
    data = _write(tmp_path / "few.jsonl", [*LINES, CRASH])
    instructions.main(["--data", str(data), "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "instructions.json").read_text())
    o = saved["overall"]
    assert (o["n"], o["parsed"], o["family_right"]) == (8, 6, 5)
    assert (o["object_strict_right"], o["object_resolved_right"]) == (6, 6)
    assert (o["receptacle_strict_right"], o["receptacle_resolved_right"]) == (3, 4)
    assert (o["all_strict_right"], o["all_resolved_right"]) == (2, 3)
    assert (o["not_all_right"], o["reasoned"], o["wrong_goal"], o["crash"]) == (5, 1, 3, 1)
    mov = saved["per_family"]["pick_movable_and_place"]
    assert (mov["object_strict_right"], mov["receptacle_resolved_right"],
            mov["movable_right"]) == (1, 0, 0)
    assert saved["supported"]["n"] == 7
    assert saved["headline"]["all_three_right_resolved_supported"] == pytest.approx(3 / 7)
    assert saved["headline"]["goal_met"] is False
    gots = {f["got"] if isinstance(f["got"], str) else "/".join(f["got"])
            for f in saved["top_failures"]}
    assert "error: I don't know what 'xyzzy' is (in <instruction>)" in gots
    assert "pick_and_place/Spoon/CounterTop+-" not in gots  # the family was right here
    assert "pick_movable_and_place/Spoon/CounterTop+-" in gots
    assert "error: KeyError: 'boom'" in gots
    assert len(saved["top_failures"]) == 5


def test_limit(tmp_path: Path) -> None:
    data = _write(tmp_path / "few.jsonl", LINES)
    summary = instructions.main(["--data", str(data), "--out", str(tmp_path), "--limit", "3"])
    assert summary["lines"] == 3 and summary["limit"] == 3


def test_missing_data_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(SystemExit) as e:
        instructions.main(["--data", str(missing), "--out", str(tmp_path)])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "shared/data/README.md" in err
    assert not (tmp_path / "instructions.json").exists()
