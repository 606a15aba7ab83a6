"""Temporal memory (the event log) and working memory (the bounded buffer)."""

from __future__ import annotations

import numpy as np
import pytest

from robomem.geometry import AABB
from robomem.memory.temporal import EventRecord, TemporalMemory
from robomem.memory.working import WorkingMemory
from robomem.percept import EVENT_MOVED, EVENT_PICKED_UP, Detection, ObjectEvent, Percept
from robomem.types import AgentPose

BOX = AABB(np.zeros(3), np.ones(3))


def _percept(step: int, seen: list[str], events: list[ObjectEvent] | None = None) -> Percept:
    return Percept(step=step, timestamp=0.0, agent_pose=AgentPose(0, 0.9, 0, 0, 0),
                   camera_pose=np.eye(4), intrinsics=np.eye(3),
                   depth=np.zeros((4, 4), np.float32), points=np.zeros((0, 3), np.float32),
                   detections=[Detection(k, k.split("|")[0], BOX) for k in seen],
                   events=events or [])


def test_log_queries() -> None:
    tm = TemporalMemory()
    tm.write(_percept(1, ["Mug|1", "Apple|1"]), episode=0, rooms={"Mug|1": "room_0"})
    tm.write(_percept(5, ["Mug|1"], [ObjectEvent(EVENT_MOVED, "Apple|1", "Apple", 5)]),
             episode=0, rooms={"Apple|1": "room_1"})
    tm.write(_percept(2, ["Apple|1"], [ObjectEvent(EVENT_PICKED_UP, "Apple|1", "Apple", 2)]),
             episode=1)
    assert len(tm) == 6
    assert tm.last("Mug|1").time == (0, 5)  # when did I last see the mug
    assert tm.last("Apple").time == (1, 2)  # by label too
    assert [r.kind for r in tm.changed_since((0, 3))] == ["moved", "picked_up"]
    assert [r.key for r in tm.changed_since((0, 0), room="room_1")] == ["Apple|1"]
    before = tm.before("Apple|1", "picked_up", limit=2)
    assert [r.time for r in before] == [(0, 5), (0, 5)]
    assert tm.before("Apple|1", "opened") == []
    assert [r.step for r in tm.window((0, 2), (1, 0))] == [5, 5]


def test_log_is_append_only_in_time_order() -> None:
    tm = TemporalMemory()
    tm.append(EventRecord(1, 10, "seen", "Mug|1", "Mug"))
    with pytest.raises(ValueError, match=r"older than the last one at \(1, 10\)"):
        tm.append(EventRecord(1, 9, "seen", "Mug|1", "Mug"))
    tm.reset()
    assert len(tm) == 0 and tm.last("Mug|1") is None


# a: used at 0, 3, 4 (relevance 1); b: at 1, 5 (relevance 0.2); c: at 2 (relevance 1).
@pytest.mark.parametrize("policy, victim", [("lru", "c"), ("lfu", "c"),
                                            ("recency_relevance", "b")])
def test_replacement_policies(policy: str, victim: str) -> None:
    wm = WorkingMemory(capacity=3, policy=policy, half_life=5.0)
    wm.put("a", 1, step=0, relevance=1.0)
    wm.put("b", 2, step=1, relevance=0.2)
    wm.put("c", 3, step=2, relevance=1.0)
    for s in (3, 4):
        wm.get("a", step=s)
    wm.get("b", step=5)
    assert wm.put("d", 4, step=6) == victim
    assert victim not in wm and len(wm) == 3 and wm.evicted == [victim]


def test_working_memory_validates_and_orders() -> None:
    with pytest.raises(ValueError, match="unknown replacement policy 'fifo'"):
        WorkingMemory(policy="fifo")
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        WorkingMemory(capacity=0)
    wm = WorkingMemory(capacity=4, policy="recency_relevance", half_life=2.0)
    wm.put("old", 1, step=0, relevance=1.0)
    wm.put("new", 2, step=10, relevance=0.5)
    assert [k for k, _ in wm.items(step=10)] == ["new", "old"]
    assert wm.put("new", 5, step=11) is None and wm.get("new", step=12) == 5
