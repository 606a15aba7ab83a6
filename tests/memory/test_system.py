"""The memory system: registry, parallel fan-out equal to sequential, deadlines, errors."""

from __future__ import annotations

import threading
import time
from typing import ClassVar

import pytest

from robomem.memory.base import MEMORY_MODULES, Fact, MemoryModule, MemoryQuery, StepInput
from robomem.memory.builtin import SpatialModule, TemporalModule, WorkingModule
from robomem.memory.system import MemorySystem, MemorySystemConfig, build_module
from tests.fixtures.steps import start, step_input
from tests.fixtures.storage import DictStorage


class Slow(MemoryModule):
    """Sleeps in every hook; records the order of its writes and the thread it ran on."""

    name = "slow"
    blocking: ClassVar[bool] = False

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.steps: list[int] = []
        self.threads: set[str] = set()

    def write(self, step: StepInput) -> None:
        time.sleep(self.delay)
        self.steps.append(step.step)
        self.threads.add(threading.current_thread().name)

    def recall(self, query: MemoryQuery) -> list[Fact]:
        time.sleep(self.delay)
        return [Fact(self.name, "count", "steps", str(len(self.steps)))]

    def reset(self) -> None:
        self.steps = []


class BlockingSlow(Slow):
    blocking: ClassVar[bool] = True


class LightSlow(Slow):
    name = "light"
    light: ClassVar[bool] = True


class Broken(MemoryModule):
    name = "broken"

    def write(self, step: StepInput) -> None:
        raise RuntimeError("disk on fire")

    def recall(self, query: MemoryQuery) -> list[Fact]:
        return []

    def reset(self) -> None:
        pass


def _drive(system: MemorySystem, episodes: int = 2, steps: int = 6) -> list[list[Fact]]:
    out = []
    for e in range(episodes):
        system.begin_episode(start(e))
        for s in range(steps):
            labels = ["Mug", "Fridge", "Apple"][: 1 + s % 3]
            system.write(step_input(e, s, labels, goal=("Mug", "Fridge")))
            ctx = system.recall(MemoryQuery(e, s, "house", "put a mug in the fridge",
                                            ("Mug", "Fridge")))
            assert ctx.late == ()
            out.append(ctx.all())
    return out


def test_registry_lists_modules_and_refuses_duplicates() -> None:
    assert {"spatial", "temporal", "episodic", "semantic", "working"} <= set(
        MEMORY_MODULES.names())
    with pytest.raises(ValueError, match="temporal"):  # another class under a built-in name
        MEMORY_MODULES.register("temporal")(WorkingModule)
    MEMORY_MODULES.get("temporal")
    with pytest.raises(ValueError, match="temporal"):  # and, once loaded, even the same one
        MEMORY_MODULES.register("temporal")(TemporalModule)
    with pytest.raises(KeyError, match=r"known: .*episodic"):
        build_module("hippocampus")
    with pytest.raises(ValueError, match="bad options for memory module 'working'"):
        build_module("working", {"size": 3})


def test_config_validates() -> None:
    with pytest.raises(ValueError, match="must not repeat"):
        MemorySystemConfig(modules=["working", "working"])
    with pytest.raises(ValueError, match="deadline_ms must be positive"):
        MemorySystemConfig(deadline_ms=0)
    with pytest.raises(ValueError, match="not enabled: \\['episodic'\\]"):
        MemorySystemConfig(modules=["working"], options={"episodic": {}})


def test_parallel_equals_sequential() -> None:
    def make(parallel: bool) -> MemorySystem:
        return MemorySystem([SpatialModule(), TemporalModule(), WorkingModule(capacity=3),
                             Slow(0.001)], parallel=parallel)

    par, seq = make(True), make(False)
    try:
        a, b = _drive(par), _drive(seq)
        assert a == b
        assert len(a) == 12 and all(a)  # something was recalled every step
        assert par.stats() == seq.stats()
    finally:
        par.close()
        seq.close()


def test_modules_run_side_by_side_on_their_own_threads() -> None:
    mods = [Slow(0.1)]
    other = Slow(0.1)
    other.name = "slow2"  # type: ignore[misc]
    system = MemorySystem([*mods, other], parallel=True)
    t0 = time.perf_counter()
    system.write(step_input(0, 0))
    elapsed = time.perf_counter() - t0
    system.close()
    assert elapsed < 0.18, f"two 0.1 s writes took {elapsed:.3f} s: not in parallel"
    assert mods[0].threads != other.threads


def test_light_modules_run_in_the_callers_thread_meanwhile() -> None:
    heavy, light = Slow(0.1), LightSlow(0.1)
    system = MemorySystem([heavy, light], parallel=True)
    t0 = time.perf_counter()
    system.write(step_input(0, 0))
    elapsed = time.perf_counter() - t0
    system.close()
    assert light.threads == {threading.current_thread().name}
    assert heavy.threads != light.threads
    assert elapsed < 0.18, f"the light module did not overlap the heavy one ({elapsed:.3f} s)"


def test_late_module_is_left_out_and_catches_up_in_order() -> None:
    slow = Slow(0.2)
    system = MemorySystem([TemporalModule(), slow], parallel=True, deadline_ms=30)
    system.begin_episode(start(0))
    t0 = time.perf_counter()
    late = system.write(step_input(0, 0, ["Mug"]))
    assert late == ["slow"]
    ctx = system.recall(MemoryQuery(0, 1, "house", labels=("Mug",)))
    assert time.perf_counter() - t0 < 0.15, "the deadline did not bound the wait"
    assert ctx.late == ("slow",) and "temporal" in ctx.facts and "slow" not in ctx.facts
    system.write(step_input(0, 1, ["Mug"]))
    system.sync()
    assert slow.steps == [0, 1]  # nothing lost, in order
    assert system.late_counts["slow"] >= 2
    system.close()


def test_blocking_module_is_always_awaited() -> None:
    slow = BlockingSlow(0.1)
    system = MemorySystem([slow], parallel=True, deadline_ms=10)
    try:
        assert system.write(step_input(0, 0)) == []
        assert slow.steps == [0]
    finally:
        system.close()


def test_module_errors_surface() -> None:
    for parallel in (True, False):
        system = MemorySystem([TemporalModule(), Broken()], parallel=parallel)
        with pytest.raises(RuntimeError, match="disk on fire"):
            system.write(step_input(0, 0))
        system._pending = {n: [] for n in system.names}
        system.close()


def test_attach_and_save_round_trip_the_episode_counter_and_modules() -> None:
    storage = DictStorage()
    system = MemorySystem([TemporalModule()], parallel=True)
    _drive(system, episodes=2, steps=3)
    from robomem.memory.base import EpisodeOutcome

    system.end_episode(EpisodeOutcome(1, "house", "x", "pick_and_place", True, 3))
    system.save(storage)
    system.close()
    again = MemorySystem([TemporalModule()], parallel=False)
    again.attach(storage)
    assert again.next_episode == 2
    before = system.module("temporal")
    after = again.module("temporal")
    assert isinstance(before, TemporalModule) and isinstance(after, TemporalModule)
    assert after.memory.records() == before.memory.records()
    assert storage.count("event") == len(before.memory)
