"""Latency samples stay bounded over a lifelong run and still estimate the percentiles."""

from __future__ import annotations

import numpy as np
import pytest

from robomem.memory.system import MemorySystem, MemorySystemConfig
from robomem.reservoir import Reservoir


def test_bounded_and_uniform() -> None:
    r = Reservoir(capacity=2000, seed=1)
    for x in range(200_000):
        r.add(float(x))
    assert len(r) == 2000 and r.seen == 200_000
    p50, p99 = np.percentile(r, [50, 99])
    assert abs(p50 - 100_000) < 8_000 and abs(p99 - 198_000) < 2_000


def test_below_capacity_keeps_everything_in_order() -> None:
    r = Reservoir(capacity=10)
    for x in (3.0, 1.0, 2.0):
        r.add(x)
    assert list(r) == [3.0, 1.0, 2.0]


def test_same_stream_same_sample() -> None:
    a, b = Reservoir(capacity=5, seed=7), Reservoir(capacity=5, seed=7)
    for x in range(1000):
        a.add(float(x))
        b.add(float(x))
    assert list(a) == list(b)


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity must be at least 1, got 0"):
        Reservoir(capacity=0)


def test_memory_system_timings_are_reservoirs() -> None:
    system = MemorySystem.from_config(MemorySystemConfig(modules=["temporal", "working"]))
    system.reset()
    assert all(isinstance(v, Reservoir) for v in system.timings_ms.values())
    assert system.timings_ms  # reset was timed
