"""Smoke tests of ``benchmarks/worldmodel.py``: the revisit finder and a --quick run."""

from __future__ import annotations

import json
import math

import numpy as np

from benchmarks import worldmodel


def _walk(moves: list[tuple[float, float, float]]) -> np.ndarray:
    """Poses ``(x, z, yaw)`` after each ``(dx, dz, dyaw)`` move, from the origin facing 0."""
    pose = [(0.0, 0.0, 0.0)]
    for dx, dz, dyaw in moves:
        x, z, yaw = pose[-1]
        pose.append((x + dx, z + dz, (yaw + dyaw) % 360.0))
    return np.asarray(pose)


def test_loop_back_to_the_start_is_a_revisit() -> None:
    # A 2 m x 1.75 m rectangle walked in 30 steps, turning at each corner, back to the start.
    moves = ([(0.25, 0.0, 0.0)] * 8
             + [(0.0, 0.25, 90.0)] + [(0.0, 0.25, 0.0)] * 6
             + [(-0.25, 0.0, 90.0)] + [(-0.25, 0.0, 0.0)] * 7
             + [(0.0, -0.25, 90.0)] + [(0.0, -0.25, 0.0)] * 5 + [(0.0, -0.25, 90.0)])
    pose = _walk(moves)
    assert len(pose) == 31 and np.allclose(pose[30], pose[0])
    revisits = worldmodel.find_revisits(pose, gap=20)
    assert (30, 0) in revisits
    assert all(t - s >= 20 for t, s in revisits)
    assert worldmodel.find_revisits(pose, gap=31) == []  # not long enough ago


def test_no_return_and_turning_in_place_are_not_revisits() -> None:
    straight = _walk([(0.25, 0.0, 0.0)] * 40)
    assert worldmodel.find_revisits(straight, gap=20) == []
    spinning = _walk([(0.0, 0.0, 90.0)] * 40)  # back at each yaw every 4 steps, never away
    assert worldmodel.find_revisits(spinning, gap=20) == []
    # Yaw wraps: 359.9 degrees is the same heading as 0.
    wrap = np.array([[0.0, 0.0, 0.0]] + [[1.0 + i, 0.0, 0.0] for i in range(25)]
                    + [[0.0, 0.0, 359.9]])
    assert worldmodel.find_revisits(wrap, gap=20) == [(26, 0)]


def test_quick_run_writes_json_and_plot(tmp_path) -> None:
    data = worldmodel.main(["--quick", "--out", str(tmp_path), "--runs", str(tmp_path / "runs")])
    saved = json.loads((tmp_path / "worldmodel.json").read_text())
    assert (tmp_path / "worldmodel.png").stat().st_size > 0
    assert saved["config"]["quick"] is True and data["config"]["quick"] is True
    assert saved["config"]["test_episodes"] >= 1 and saved["config"]["train_episodes"] >= 1
    for im in (saved["imagination"], saved["imagination_first_start"]):
        assert len(im["count"]) >= 1 and min(im["count"]) >= 1
        for name in (*worldmodel.BACKBONES, "copy_last"):
            errs = im[name]["mse"] + im[name]["pose_mse"]
            assert errs and all(math.isfinite(e) and e >= 0 for e in errs)
    for name in worldmodel.BACKBONES:
        assert saved["results"][name]["train_seconds"] > 0
        assert saved["results"][name]["parameters"] > 0
        timing = saved["timing"]["batch_1"][name]
        assert set(timing) == {"16", "64"}
        assert all(t["step_ms"] > 0 and t["mean_ms"] > 0 for t in timing.values())
        assert set(saved["recall"][name]) == {f"k{k}{w}" for k in worldmodel.RECALL_K
                                              for w in ("", "_in_window")}
    assert isinstance(saved["recall"]["revisits"], int)
    assert saved["recall"]["too_few"] == (saved["recall"]["revisits"] < worldmodel.MIN_REVISITS)
    ratio = saved["targets"]["speedup_vs_transformer_h64_batch_1"]
    assert ratio["ratio"] > 0 and isinstance(ratio["met"], bool)
