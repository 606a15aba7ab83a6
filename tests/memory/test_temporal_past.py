"""Temporal memory answers questions about earlier episodes (tasks about the past)."""

from __future__ import annotations

import numpy as np

from robomem.memory.base import MemoryQuery, StepInput
from robomem.memory.builtin import (
    FACT_LAST_MOVED,
    FACT_LAST_PUT_IN,
    FACT_LAST_SWITCHED_ON,
    TemporalModule,
)
from robomem.memory.temporal import (
    PAST_MOVED,
    PAST_PUT_IN,
    PAST_SWITCHED_ON,
    PUT_IN,
    EventRecord,
    TemporalMemory,
)
from robomem.percept import (
    EVENT_PICKED_UP,
    EVENT_PUT_DOWN,
    EVENT_TOGGLED_ON,
    ObjectEvent,
    Percept,
)
from robomem.types import AgentPose


def _percept(step: int, events: list[ObjectEvent]) -> Percept:
    return Percept(step, 0.0, AgentPose(0.0, 0.9, 0.0, 0.0, 0.0), np.eye(4), np.eye(3),
                   np.zeros((2, 2), np.float32), np.zeros((0, 3), np.float32), [], events)


def _moves() -> TemporalModule:
    """Episode 1: Mug|1 from Shelf|1 to Fridge|1, lamp on; episode 2: Mug|2 to Shelf|1."""
    tm = TemporalModule()
    log = tm.memory
    for ep, key, label in ((0, "Shelf|1", "Shelf"), (0, "Fridge|1", "Fridge")):
        log.append(EventRecord(ep, 0, "seen", key, label))
    steps = [
        (1, 3, [ObjectEvent(EVENT_PICKED_UP, "Mug|1", "Mug", 3)], {"Mug|1": "Shelf|1"}),
        (1, 9, [ObjectEvent(EVENT_PUT_DOWN, "Mug|1", "Mug", 9, "Fridge|1")], {}),
        (1, 12, [ObjectEvent(EVENT_TOGGLED_ON, "DeskLamp|1", "DeskLamp", 12)], {}),
        (2, 4, [ObjectEvent(EVENT_PICKED_UP, "Mug|2", "Mug", 4)], {"Mug|2": "Fridge|1"}),
        (2, 8, [ObjectEvent(EVENT_PUT_DOWN, "Mug|2", "Mug", 8, "Shelf|1")], {}),
    ]
    for ep, step, events, sources in steps:
        tm.write(StepInput(ep, step, "house", _percept(step, events), None, sources=sources))
    return tm


def test_a_pickup_records_where_it_was_taken_from() -> None:
    rec = _moves().memory.latest(EVENT_PICKED_UP, "Mug", (9, 0), key="Mug|1")
    assert rec is not None and rec.detail == "Shelf|1"


def test_latest_only_counts_what_came_before() -> None:
    log = _moves().memory
    assert log.latest(EVENT_PUT_DOWN, "Mug", (3, 0)).key == "Mug|2"
    assert log.latest(EVENT_PUT_DOWN, "Mug", (2, 0)).key == "Mug|1"
    assert log.latest(EVENT_PUT_DOWN, "Mug", (1, 0)) is None
    assert log.latest(PUT_IN, "Fridge", (3, 0)).key == "Mug|1"
    assert log.latest(PUT_IN, "Shelf", (3, 0)).key == "Mug|2"
    assert log.latest(EVENT_PUT_DOWN, "Apple", (3, 0)) is None
    assert log.label_of("Fridge|1") == "Fridge"


def test_recall_answers_each_question_about_earlier_episodes_only() -> None:
    tm = _moves()
    moved = tm.recall(MemoryQuery(3, 0, "house", labels=("Mug",), past=PAST_MOVED))
    f = next(f for f in moved if f.kind == FACT_LAST_MOVED)
    assert (f.value, f.data["from"], f.data["from_label"], f.data["to"]) == \
        ("Mug|2", "Fridge|1", "Fridge", "Shelf|1")
    # asked during episode 2, its own moves are not "last time"
    f = next(f for f in tm.recall(MemoryQuery(2, 50, "house", labels=("Mug",),
                                              past=PAST_MOVED)) if f.kind == FACT_LAST_MOVED)
    assert (f.value, f.data["from"]) == ("Mug|1", "Shelf|1")
    put = tm.recall(MemoryQuery(3, 0, "house", labels=("Fridge",), past=PAST_PUT_IN))
    assert [(f.value, f.data["label"]) for f in put if f.kind == FACT_LAST_PUT_IN] == \
        [("Mug|1", "Mug")]
    on = tm.recall(MemoryQuery(3, 0, "house", labels=("DeskLamp", "FloorLamp"),
                               past=PAST_SWITCHED_ON))
    assert [f.value for f in on if f.kind == FACT_LAST_SWITCHED_ON] == ["DeskLamp|1"]
    plain = tm.recall(MemoryQuery(3, 0, "house", labels=("Mug",)))
    assert not [f for f in plain if f.kind.startswith("last_") and f.kind != "last_seen"]


def test_answers_survive_a_store_round_trip() -> None:
    from tests.fixtures.storage import DictStorage

    tm = _moves()
    storage = DictStorage()
    tm.save(storage)
    again = TemporalModule()
    again.attach(storage)
    f = next(f for f in again.recall(MemoryQuery(3, 0, "house", labels=("Mug",),
                                                 past=PAST_MOVED)) if f.kind == FACT_LAST_MOVED)
    assert (f.value, f.data["from"]) == ("Mug|2", "Fridge|1")


def test_the_by_kind_index_does_not_grow_with_sightings() -> None:
    log = TemporalMemory()
    for step in range(2000):
        log.append(EventRecord(0, step, "seen", "Mug|1", "Mug"))
    log.append(EventRecord(0, 2001, EVENT_PUT_DOWN, "Mug|1", "Mug", "Shelf|1"))
    assert sum(len(v) for v in log._by_kind.values()) == 1
    assert log.latest(EVENT_PUT_DOWN, "Mug", (1, 0)) is not None
