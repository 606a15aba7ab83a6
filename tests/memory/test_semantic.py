"""Semantic memory: the cross-episode knowledge graph, its forgetting curve and persistence."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from robomem.memory.base import MEMORY_MODULES, EpisodeOutcome, EpisodeStart, MemoryQuery
from robomem.memory.semantic import BLOB, FACT_KINDS, SemanticMemory, retention
from robomem.types import Action
from tests.fixtures.semantic import plan, step_input
from tests.fixtures.storage import DictStorage


def outcome(episode: int, *steps: tuple[str, str, str, str]) -> EpisodeOutcome:
    return EpisodeOutcome(episode=episode, scene="house_0", instruction="", family="",
                          success=True, steps=10, plan=plan(*steps))


def only(pairs: list[tuple[str, float]], name: str) -> float:
    """The score of the one pair, which must be for ``name``."""
    assert [n for n, _ in pairs] == [name], pairs
    return pairs[0][1]


def fact(sm: SemanticMemory, kind: str, subject: str, value: str) -> dict[str, Any]:
    rows = [r for r in sm.facts_table()
            if (r["kind"], r["subject"], r["value"]) == (kind, subject, value)]
    assert len(rows) == 1, (kind, subject, value, sm.facts_table())
    return rows[0]


def test_registered_and_settings_checked() -> None:
    assert MEMORY_MODULES.get("semantic") is SemanticMemory
    with pytest.raises(ValueError, match=r"tau must be positive.*got 0"):
        SemanticMemory(tau=0)
    with pytest.raises(ValueError, match="smoothing must be >= 0, got -1"):
        SemanticMemory(smoothing=-1)
    with pytest.raises(ValueError, match="label must be a non-empty string"):
        SemanticMemory().observe_place("", "CounterTop", 0)


def test_repeated_sightings_in_one_episode_count_once() -> None:
    sm = SemanticMemory()
    sm.begin_episode(EpisodeStart(0, "house_0", "find a mug"))
    for step in range(10):  # standing still, looking at the same two mugs
        sm.write(step_input(0, step, [("Mug|1", "CounterTop", "Kitchen"),
                                      ("Mug|2", "CounterTop", "Kitchen")],
                            hidden=["Mug|3"], held="Cup|1"))
    # A held object, one not visible and a room type that says nothing are not counted.
    sm.write(step_input(0, 10, [("Cup|1", "Sink", "Kitchen"), ("Plate|1", "Shelf", "Unknown")],
                        hidden=["Mug|4"], held="Cup|1"))
    row = fact(sm, "found_in", "Mug", "CounterTop")
    assert (row["count"], row["strength"], row["first"], row["last"]) == (2.0, 1, 0, 0)
    assert fact(sm, "found_in_room", "Mug", "Kitchen")["count"] == 2.0
    assert fact(sm, "found_in", "Plate", "Shelf")["count"] == 1.0
    assert not [r for r in sm.facts_table() if r["subject"] in ("Cup", "Plate")
                and r["kind"] == "found_in_room"]
    assert not [r for r in sm.facts_table() if r["subject"] == "Cup"]

    # The next episode counts again (once), and reinforces the fact.
    for step in range(5):
        sm.write(step_input(1, step, [("Mug|1", "CounterTop", "Kitchen")]))
    row = fact(sm, "found_in", "Mug", "CounterTop")
    assert (row["count"], row["strength"], row["first"], row["last"]) == (3.0, 2, 0, 1)

    # A mug moved to another place within an episode is new evidence for that place.
    sm.write(step_input(1, 5, [("Mug|1", "DiningTable", "Kitchen")]))
    assert fact(sm, "found_in", "Mug", "DiningTable")["count"] == 1.0
    assert fact(sm, "found_in_room", "Mug", "Kitchen")["count"] == 3.0


def test_likely_places_ordered_by_evidence() -> None:
    sm = SemanticMemory(smoothing=1.0)
    seen = [(f"Apple|{i}", "CounterTop", "Kitchen") for i in range(3)]
    seen += [("Apple|3", "Fridge", "Kitchen")]
    seen += [(f"Apple|{i}", "DiningTable", "LivingRoom") for i in (4, 5)]
    sm.write(step_input(0, 0, seen))
    got = sm.likely_places("Apple", now_episode=0)
    assert [p for p, _ in got] == ["CounterTop", "DiningTable", "Fridge"]
    assert [s for _, s in got] == pytest.approx([3 / 7, 2 / 7, 1 / 7])  # share of 6 + 1
    assert [p for p, _ in sm.likely_places("Apple", 0, k=2)] == ["CounterTop", "DiningTable"]
    rooms = sm.likely_rooms("Apple", 0)
    assert [r for r, _ in rooms] == ["Kitchen", "LivingRoom"]
    assert [s for _, s in rooms] == pytest.approx([4 / 7, 2 / 7])
    assert sm.likely_places("Giraffe", 0) == [] and sm.likely_rooms("Giraffe", 0) == []


def test_decay_over_episodes_and_reinforcement() -> None:
    tau = 4.0
    sm = SemanticMemory(tau=tau)
    sm.write(step_input(0, 0, [("Mug|1", "CounterTop", "Kitchen")]))
    share = 1 / 2  # one sighting, smoothing 1
    for now in (0, 4, 8):
        assert only(sm.likely_places("Mug", now), "CounterTop") == pytest.approx(
            share * math.exp(-now / tau))
    assert sm.likely_places("Mug", 8)[0][1] < sm.likely_places("Mug", 4)[0][1]
    assert retention(8, 1, 4, tau) == 1.0  # "now" before the last reinforcement: no decay

    sm.reinforce("Mug", "CounterTop", now_episode=8)
    row = fact(sm, "found_in", "Mug", "CounterTop")
    assert (row["count"], row["strength"], row["last"]) == (1.0, 2, 8)  # strength, not evidence
    sm.reinforce("Mug", "CounterTop", now_episode=8)  # once per episode
    assert fact(sm, "found_in", "Mug", "CounterTop")["strength"] == 2
    assert only(sm.likely_places("Mug", 8), "CounterTop") == pytest.approx(share)
    # Strength 2 halves the decay rate: 8 episodes on it keeps what 4 kept at strength 1.
    assert only(sm.likely_places("Mug", 16), "CounterTop") == pytest.approx(
        share * math.exp(-8 / (tau * 2)))

    # Re-observing in a later episode reinforces too.
    sm.write(step_input(9, 0, [("Mug|1", "CounterTop", "Kitchen")]))
    row = fact(sm, "found_in", "Mug", "CounterTop")
    assert (row["count"], row["strength"], row["last"]) == (2.0, 3, 9)
    assert only(sm.likely_places("Mug", 12), "CounterTop") == pytest.approx(
        2 / 3 * math.exp(-3 / (tau * 3)))

    sm.reinforce("Mug", "Kitchen", 10, room=True)
    assert fact(sm, "found_in_room", "Mug", "Kitchen")["strength"] == 3
    with pytest.raises(KeyError, match=r"'Mug' -> 'Sofa'.*known for 'Mug': CounterTop"):
        sm.reinforce("Mug", "Sofa", 10)


def test_skill_success_rates() -> None:
    sm = SemanticMemory()
    sm.end_episode(outcome(0, ("pickup", "Mug", "succeeded", "CounterTop"),
                           ("pickup", "Mug", "failed", ""),
                           ("explore", "", "succeeded", ""),
                           ("put", "Sink", "running", "")))  # unfinished: not counted
    sm.end_episode(outcome(1, ("pickup", "Mug", "succeeded", "CounterTop"),
                           ("pickup", "Apple", "failed", ""),
                           ("explore", "", "failed", "")))
    assert sm.success_rate("pickup", "Mug") == pytest.approx(2 / 3)
    assert sm.success_rate("pickup", "Apple") == 0.0
    assert sm.success_rate("pickup") == pytest.approx(2 / 4)
    assert sm.success_rate("explore") == 0.5
    assert sm.success_rate("put") is None and sm.success_rate("put", "Sink") is None
    assert sm.success_rate("open", "Mug") is None
    # Each successful pickup's `where` is strong evidence (weight 2) for found_in.
    row = fact(sm, "found_in", "Mug", "CounterTop")
    assert (row["count"], row["strength"]) == (4.0, 2)

    before = sm.facts_table()
    with pytest.raises(ValueError, match="unknown status 'maybe'; known: succeeded, failed"):
        sm.end_episode(outcome(2, ("pickup", "Mug", "succeeded", "CounterTop"),
                               ("open", "Fridge", "maybe", "")))
    assert sm.facts_table() == before  # nothing learnt from a bad plan


def test_action_outcomes_and_a_precondition_from_an_error() -> None:
    sm = SemanticMemory()
    err = "Apple|1 is inside closed Fridge|1"
    for step in range(3):  # the same failure, three times in one episode: one episode's evidence
        sm.write(step_input(0, step, [("Apple|1", "Fridge", "Kitchen")],
                            action=Action("pickup", "Apple|1"), success=False, error=err))
    sm.write(step_input(0, 3, action=Action("move_ahead")))
    sm.write(step_input(0, 4, [("Mug|1", "CounterTop", "")],
                        action=Action("pickup", "Mug|1"), success=False,
                        error="Agent's hand is full: already holding Apple|1"))
    row = fact(sm, "action", "pickup", "0.00")
    assert (row["count"], row["success"], row["failure"]) == (4, 0, 4)
    assert fact(sm, "action", "move_ahead", "1.00")["success"] == 1
    assert sm.preconditions("pickup", "Apple") == [("open Fridge", 0.5)]
    assert sm.preconditions("pickup", "Mug") == [("hand empty", 0.5)]
    assert sm.preconditions("put", "Apple") == []
    sm.write(step_input(1, 0, [("Apple|2", "Fridge", "Kitchen")],
                        action=Action("pickup", "Apple|2"), success=False,
                        error="Apple|2 is inside closed Fridge|1"))
    row = fact(sm, "precondition", "pickup:Apple", "open Fridge")
    assert (row["count"], row["strength"], row["last"]) == (2.0, 2, 1)
    assert only(sm.preconditions("pickup", "Apple", now_episode=1),
                "open Fridge") == pytest.approx(2 / 3)


def test_precondition_from_a_plan() -> None:
    sm = SemanticMemory(tau=5.0)
    sm.end_episode(outcome(0, ("navigate_to", "Fridge", "succeeded", ""),
                           ("open", "Fridge", "succeeded", ""),
                           ("pickup", "Apple", "succeeded", "Fridge"),
                           ("open", "Microwave", "succeeded", ""),
                           ("put", "Microwave", "succeeded", "")))
    assert sm.preconditions("pickup", "Apple") == [("open Fridge", 0.5)]
    assert sm.preconditions("put", "Microwave") == [("open Microwave", 0.5)]
    # No open before, or closed again before the pickup: nothing learnt.
    sm.end_episode(outcome(1, ("pickup", "Egg", "succeeded", "Fridge"),
                           ("open", "Cabinet", "succeeded", ""),
                           ("close", "Cabinet", "succeeded", ""),
                           ("pickup", "Cup", "succeeded", "Cabinet"),
                           ("open", "Drawer", "failed", ""),
                           ("pickup", "Spoon", "succeeded", "Drawer")))
    assert sm.preconditions("pickup", "Egg") == []
    assert sm.preconditions("pickup", "Cup") == []
    assert sm.preconditions("pickup", "Spoon") == []
    # Decay: strength 1, last episode 0.
    assert only(sm.preconditions("pickup", "Apple", now_episode=5),
                "open Fridge") == pytest.approx(0.5 * math.exp(-1))


def test_recall_facts_shape() -> None:
    sm = SemanticMemory()
    for ep in range(3):
        sm.write(step_input(ep, 0, [("Apple|1", "Fridge", "Kitchen"),
                                    ("Mug|1", "CounterTop", "Kitchen")]))
    sm.write(step_input(2, 1, [("Apple|2", "DiningTable", "LivingRoom")]))
    sm.end_episode(outcome(2, ("open", "Fridge", "succeeded", ""),
                           ("pickup", "Apple", "succeeded", "Fridge"),
                           ("pickup", "Apple", "failed", "")))
    facts = sm.recall(MemoryQuery(episode=2, step=0, scene="house_0",
                                  labels=("Apple", "Giraffe", "Apple"), k=5))
    assert {f.module for f in facts} == {"semantic"}
    assert {f.kind for f in facts} == set(FACT_KINDS)
    assert [f.score for f in facts] == sorted((f.score for f in facts), reverse=True)
    assert not [f for f in facts if f.subject in ("Mug", "Giraffe")]
    by = {(f.kind, f.subject, f.value): f for f in facts}
    assert len(by) == len(facts)  # the repeated label is answered once
    place = by["likely_place", "Apple", "Fridge"]
    assert place.score == pytest.approx(5 / 7)  # 3 sightings + pickup weight 2, of 6 + 1
    assert place.data == {"label": "Apple", "count": 5.0, "total": 6.0,
                          "share": pytest.approx(5 / 7), "strength": 3, "first": 0, "last": 2,
                          "retention": 1.0}
    assert by["likely_place", "Apple", "DiningTable"].score == pytest.approx(1 / 7)
    assert by["likely_room", "Apple", "Kitchen"].score == pytest.approx(3 / 5)
    skill = by["skill_success", "pickup:Apple", "0.50"]
    assert skill.score == 0.5 and skill.data["success"] == 1 and skill.data["failure"] == 1
    assert ("skill_success", "open:Apple", "1.00") not in by  # open was on the Fridge
    pre = by["precondition", "pickup:Apple", "open Fridge"]
    assert pre.score == 0.5 and pre.data["condition"] == "open Fridge"
    assert pre.text() == "semantic: pickup:Apple precondition open Fridge (0.50)"
    # k limits each kind; a later episode lowers every decaying score.
    one = sm.recall(MemoryQuery(2, 0, "house_0", labels=("Apple",), k=1))
    assert [f.value for f in one if f.kind == "likely_place"] == ["Fridge"]
    later = {(f.kind, f.value): f.score
             for f in sm.recall(MemoryQuery(9, 0, "house_0", labels=("Apple",)))}
    assert later["likely_place", "Fridge"] < place.score
    assert later["skill_success", "0.50"] == 0.5
    assert sm.recall(MemoryQuery(2, 0, "house_0")) == []


def test_save_attach_round_trip_and_reset() -> None:
    sm = SemanticMemory(tau=3.0)
    for ep in range(4):
        sm.write(step_input(ep, 0, [("Apple|1", "Fridge", "Kitchen"),
                                    (f"Mug|{ep}", "CounterTop", "Kitchen")],
                            action=Action("pickup", "Apple|1"), success=ep % 2 == 0,
                            error="Apple|1 is inside closed Fridge|1"))
        sm.end_episode(outcome(ep, ("open", "Fridge", "succeeded", ""),
                               ("pickup", "Apple", "succeeded", "Fridge")))
    storage = DictStorage()
    sm.save(storage)
    assert storage.blob_names() == [BLOB]
    doc = json.loads(storage.blobs[BLOB])
    assert (doc["format"], doc["version"]) == ("robomem.semantic", 1)
    assert {n["id"] for n in doc["graph"]["nodes"]} >= {"type:Apple", "place:Fridge",
                                                       "room:Kitchen", "skill:pickup",
                                                       "action:pickup"}

    back = SemanticMemory(tau=3.0)
    back.attach(storage)
    query = MemoryQuery(6, 0, "house_0", labels=("Apple", "Mug", "Fridge"))
    assert back.recall(query) == sm.recall(query) and len(sm.recall(query)) > 5
    assert back.facts_table() == sm.facts_table()
    assert back.stats() == sm.stats()
    assert SemanticMemory.from_json(sm.to_json(), tau=3.0).recall(query) == sm.recall(query)
    text = storage.blobs[BLOB].decode()
    assert SemanticMemory.from_json(text, tau=3.0).facts_table() == sm.facts_table()
    assert sm.stats() == {"types": 3.0, "places": 2.0, "rooms": 1.0, "skills": 2.0,
                          "actions": 1.0, "facts": float(len(sm.facts_table()))}

    back.attach(DictStorage())  # no blob: nothing changes
    assert back.facts_table() == sm.facts_table()
    back.reset()
    assert back.facts_table() == [] and back.recall(query) == []
    assert back.stats()["facts"] == 0.0


@pytest.mark.parametrize("blob", [b"\xff\xfe", b"not json", b"[1, 2]", b'{"format": "x"}',
                                  b'{"format": "robomem.semantic", "version": 99}',
                                  b'{"format": "robomem.semantic", "version": 1, "graph": 3}',
                                  b'{"format": "robomem.semantic", "version": 1, "graph": '
                                  b'{"nodes": [{"id": "sofa"}], "edges": []}}'])
def test_unreadable_blob_raises(blob: bytes) -> None:
    storage = DictStorage()
    storage.put_blob(BLOB, blob)
    with pytest.raises(ValueError, match="semantic memory blob 'semantic/graph' is unreadable"):
        SemanticMemory().attach(storage)
