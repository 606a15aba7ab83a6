"""``benchmarks/headline.py``: the "Does memory help?" figure from suite results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import headline


def cond(rate: float) -> dict[str, object]:
    return {"success_rate": rate, "success_ci95": [max(0.0, rate - 0.1), min(1.0, rate + 0.1)]}


def test_figure_from_the_suites_present(tmp_path: Path) -> None:
    (tmp_path / "large_houses.json").write_text(json.dumps(
        {"conditions": {"full": cond(0.75), "none": cond(0.4)}}))
    (tmp_path / "tabletop_memory.json").write_text(json.dumps(
        {"memory": {"press_again": {"full": cond(1.0), "none": cond(0.3)}}}))
    data = headline.suites(tmp_path)
    assert list(data) == ["tabletop:\npress_again", "large houses\n(6 rooms)"]
    assert data["large houses\n(6 rooms)"][0][1] == 0.75
    assert data["large houses\n(6 rooms)"][1][2] == pytest.approx((0.3, 0.5))
    png = headline.main(["--results", str(tmp_path), "--out", str(tmp_path / "h.png")])
    assert png.stat().st_size > 0


def test_no_results_says_so(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no suite results in"):
        headline.main(["--results", str(tmp_path)])
