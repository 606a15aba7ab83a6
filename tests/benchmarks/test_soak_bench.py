"""``benchmarks/soak.py`` and the two causes of the lifelong run's memory growth it found."""

from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path

from benchmarks import soak
from robomem.agent import release_free_heap
from tests.fixtures.household import make_sim


def test_short_soak_writes_json_and_plot(tmp_path: Path) -> None:
    out = tmp_path / "out"
    data = soak.main(["--episodes", "3", "--width", "48", "--height", "48", "--warmup", "1",
                      "--store", str(tmp_path / "store"), "--out", str(out),
                      "agent.modules.options.episodic.encoder=hash", "spl=false"])
    saved = json.loads((out / "soak.json").read_text())
    assert (out / "soak.png").stat().st_size > 0
    assert saved["episodes"] == data["episodes"] == 3
    assert [r["episode"] for r in saved["per_episode"]] == [0, 1, 2]
    for r in saved["per_episode"]:
        assert r["rss_mb"] > 0 and r["fds"] > 0 and r["threads"] > 0
        assert set(r["modules_mb"]) == {"spatial", "temporal", "episodic", "semantic",
                                        "working"}
    assert saved["per_episode"][-1]["store_mb"] > 0  # every episode was committed to it
    assert saved["fds_end"] == saved["fds_first"]


def test_a_dropped_clone_is_freed_without_the_cycle_collector() -> None:
    env = make_sim(width=32, height=32)
    clone = env.clone()
    assert clone.world is not None and clone.world.spot_in_view is not None
    ref = weakref.ref(clone)
    was = gc.isenabled()
    gc.disable()
    try:
        del clone  # its world's spot_in_view must not hold it (env -> world -> env)
        assert ref() is None
    finally:
        if was:
            gc.enable()
    env.close()


def test_release_free_heap_is_safe_to_call() -> None:
    assert release_free_heap() in (True, False)
