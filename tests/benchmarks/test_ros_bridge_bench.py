"""``benchmarks/ros_bridge.py`` on a 3-second stream (its figures are the benchmark's job)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures.ros import needs_ros, needs_rosbridge, next_domain

pytestmark = [needs_ros, needs_rosbridge]


def test_a_short_stream_reaches_every_subscriber(tmp_path: Path) -> None:
    from benchmarks import ros_bridge

    summary = ros_bridge.main(["--seconds", "3", "--agent-seeds", "0", "--bridge-seconds", "3",
                               "--bridge-compression", "png",
                               "--domain", str(next_domain()), "--out", str(tmp_path)])
    s = summary["stream"]
    assert s["sent"] >= 60 and len(s["subscribers"]) == 4
    for sub in s["subscribers"]:
        for stream in ("rgb", "depth", "odom"):
            assert sub[stream]["received"] >= 0.8 * s["sent"], (stream, sub)
            assert 0 < sub[stream]["p50_ms"] <= sub[stream]["p99_ms"]
    assert len(s["publisher_rss_mb"]) >= 2
    w = summary["rosbridge"]  # the same stream through a rosbridge server, PNG-compressed
    assert w["sent"] >= 60 and len(w["clients"]) == 4 and w["compression"] == "png"
    for client in w["clients"]:
        assert client["rgb"]["received"] > 0 and client["odom"]["received"] > 0, client
        assert client["stats"]["rosbridge_bad"] == 0
    assert len(w["server_rss_mb"]) >= 2
    saved = json.loads((tmp_path / "ros_bridge.json").read_text())
    assert saved["stream"]["sent"] == s["sent"]
    assert (tmp_path / "ros_bridge.png").stat().st_size > 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ros_bridge.json", "ros_bridge.png"]
