"""``benchmarks/ros_bridge.py`` on a 3-second stream (its figures are the benchmark's job)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures.ros import needs_ros, next_domain

pytestmark = needs_ros


def test_a_short_stream_reaches_every_subscriber(tmp_path: Path) -> None:
    from benchmarks import ros_bridge

    summary = ros_bridge.main(["--seconds", "3", "--agent-seeds", "0",
                               "--domain", str(next_domain()), "--out", str(tmp_path)])
    s = summary["stream"]
    assert s["sent"] >= 60 and len(s["subscribers"]) == 4
    for sub in s["subscribers"]:
        for stream in ("rgb", "depth", "odom"):
            assert sub[stream]["received"] >= 0.8 * s["sent"], (stream, sub)
            assert 0 < sub[stream]["p50_ms"] <= sub[stream]["p99_ms"]
    assert len(s["publisher_rss_mb"]) >= 2
    saved = json.loads((tmp_path / "ros_bridge.json").read_text())
    assert saved["stream"]["sent"] == s["sent"]
    assert (tmp_path / "ros_bridge.png").stat().st_size > 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ros_bridge.json", "ros_bridge.png"]
