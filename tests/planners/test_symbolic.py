"""The symbolic planner and its critic, on hand-built memories."""

from __future__ import annotations

from robomem.memory.base import Fact, MemoryContext
from robomem.memory.spatial import SpatialMemory
from robomem.percept import EVENT_OPENED, ObjectEvent
from robomem.planners.base import PlanContext
from robomem.planners.critic import PreconditionCritic
from robomem.planners.instruction import make_goal, parse_instruction
from robomem.planners.symbolic import SymbolicPlanner, place_hints, plan_subgoals
from robomem.skills import (
    DONE,
    EXPLORE,
    FIND_MISSED,
    NAVIGATE,
    OPEN,
    PICKUP,
    PUT,
    Skill,
    SkillResult,
    SkillStatus,
)
from tests.fixtures.planning import CABINET, COUNTER, MUG, ctx, percept


def test_subgoals_per_family() -> None:
    kinds = {g.family: [s.kind for s in plan_subgoals(g)] for g in [
        make_goal("pick_and_place", "Mug", "Shelf"),
        make_goal("pick_two_and_place", "Mug", "Shelf", 2),
        make_goal("place_in_closed", "Mug", "Cabinet"),
        make_goal("pick_heat_and_place", "Mug", "Shelf"),
        make_goal("pick_clean_and_place", "Mug", "Shelf"),
        make_goal("look_at_in_light", "Mug", "DeskLamp")]}
    assert kinds["pick_and_place"] == ["pickup", "put"]
    assert kinds["pick_two_and_place"] == ["pickup", "put", "pickup", "put"]
    assert kinds["place_in_closed"] == ["pickup", "put", "close"]
    assert kinds["pick_heat_and_place"] == ["pickup", "put", "on", "off", "pickup", "put"]
    assert kinds["pick_clean_and_place"][1:4] == ["put", "on", "off"]
    assert kinds["look_at_in_light"] == ["pickup", "look"]


def test_closed_loop_through_a_place_in_closed_task() -> None:
    mem = SpatialMemory()
    mem.write(percept([MUG, COUNTER, CABINET]))
    planner = SymbolicPlanner()
    planner.reset(parse_instruction("Put a mug in the cabinet and close it."))
    s1 = planner.next_skill(ctx(mem, percept([])))
    assert (s1.name, s1.target) == (PICKUP, "Mug|1")
    held = percept([], held="Mug|1", step=1)
    mem.write(held)
    ok = SkillResult(SkillStatus.SUCCEEDED)
    s2 = planner.next_skill(ctx(mem, held, s1, ok))
    assert (s2.name, s2.target) == (OPEN, "Cabinet|1")  # it must be open to put inside
    opened = percept([], held="Mug|1", step=2,
                     events=[ObjectEvent(EVENT_OPENED, "Cabinet|1", "Cabinet", 2)])
    mem.write(opened)
    s3 = planner.next_skill(ctx(mem, opened, s2, ok))
    assert (s3.name, s3.target) == (PUT, "Cabinet|1")
    assert planner.stats()["planner_calls"] == 3


def test_unknown_object_explores_then_searches_up_close() -> None:
    mem = SpatialMemory()
    mem.write(percept([COUNTER, CABINET]))
    planner = SymbolicPlanner()
    planner.reset(parse_instruction("Put a mug on the counter top."))
    s1 = planner.next_skill(ctx(mem, percept([])))
    assert (s1.name, s1.label) == (EXPLORE, "Mug")
    failed = SkillResult(SkillStatus.FAILED, "nothing left to explore")
    s2 = planner.next_skill(ctx(mem, percept([]), s1, failed))
    # Mugs usually live on counters: that is searched first, up close.
    assert (s2.name, s2.target) == (NAVIGATE, "CounterTop|1")
    s3 = planner.next_skill(ctx(mem, percept([]), s2, SkillResult(SkillStatus.SUCCEEDED)))
    assert (s3.name, s3.target) == (OPEN, "Cabinet|1")
    s4 = planner.next_skill(ctx(mem, percept([]), s3, SkillResult(SkillStatus.SUCCEEDED)))
    assert s4.name == DONE  # searched everywhere: a clean give-up


def test_a_find_that_shows_nothing_searches_receptacles_for_that_label_only() -> None:
    mem = SpatialMemory()
    mem.write(percept([COUNTER, CABINET]))
    planner = SymbolicPlanner()
    planner.reset(parse_instruction("Put a mug on the counter top."))
    s1 = planner.next_skill(ctx(mem, percept([])))
    missed = SkillResult(SkillStatus.FAILED, f"{FIND_MISSED} (Mug)")
    s2 = planner.next_skill(ctx(mem, percept([]), s1, missed))
    assert (s2.name, s2.target) == (NAVIGATE, "CounterTop|1")  # searched up close at once
    assert planner.found_hidden == {"Mug"} and not planner.explore_exhausted


def test_critic_vetoes_unmet_preconditions() -> None:
    mem = SpatialMemory()
    mem.write(percept([MUG, COUNTER, CABINET]))
    critic = PreconditionCritic()
    full = ctx(mem, percept([], held="Mug|1"))
    empty = ctx(mem, percept([]))
    assert not critic.review(Skill(PICKUP, "Mug|1", "Mug"), full).ok
    assert "hand is full" in critic.review(Skill(PICKUP, "Mug|1", "Mug"), full).reason
    assert not critic.review(Skill(PUT, "CounterTop|1", "CounterTop"), empty).ok
    v = critic.review(Skill(PUT, "Cabinet|1", "Cabinet"), full)
    assert not v.ok and "closed" in v.reason
    assert critic.review(Skill(PUT, "CounterTop|1", "CounterTop"), full).ok
    assert not critic.review(Skill(PICKUP, "Ghost|9", "Mug"), empty).ok


def test_a_failed_target_is_retried_once_then_blacklisted() -> None:
    mem = SpatialMemory()
    mem.write(percept([MUG, COUNTER]))
    planner = SymbolicPlanner()
    planner.reset(parse_instruction("Put a mug on the counter top."))
    failed = SkillResult(SkillStatus.FAILED, "cannot see Mug|1")
    s = planner.next_skill(ctx(mem, percept([])))
    s = planner.next_skill(ctx(mem, percept([]), s, failed))
    assert (s.name, s.target) == (PICKUP, "Mug|1")
    s = planner.next_skill(ctx(mem, percept([]), s, failed))
    assert s.name == EXPLORE and planner.stats()["replans"] == 2


def _recall(*facts: Fact) -> MemoryContext:
    out: dict[str, list[Fact]] = {}
    for f in facts:
        out.setdefault(f.module, []).append(f)
    return MemoryContext(out)


def test_memory_guides_search_before_exploring() -> None:
    mem = SpatialMemory()
    mem.write(percept([COUNTER, CABINET]))  # no mug on the map
    goal = parse_instruction("Put a mug on the counter top.")
    plain = SymbolicPlanner()
    plain.reset(goal)
    assert plain.next_skill(ctx(mem, percept([]))).name == EXPLORE
    semantic = Fact("semantic", "likely_place", "Mug", "Cabinet", 0.7)
    planner = SymbolicPlanner()
    planner.reset(goal)
    c = PlanContext(0, percept([]), mem.scene, None, None, _recall(semantic))
    s = planner.next_skill(c)
    assert (s.name, s.target) == (OPEN, "Cabinet|1")  # a closed cabinet: look inside
    assert planner.stats()["memory_guided"] == 1
    # it does not look in the same place twice: the next call explores
    assert planner.next_skill(c).name == EXPLORE
    # too weak a hint is not worth a detour
    weak = SymbolicPlanner()
    weak.reset(goal)
    c = PlanContext(0, percept([]), mem.scene, None, None,
                    _recall(Fact("semantic", "likely_place", "Mug", "Cabinet", 0.1)))
    assert weak.next_skill(c).name == EXPLORE


def test_episodic_success_beats_semantic_and_failures_are_avoided() -> None:
    mem = SpatialMemory()
    mem.write(percept([COUNTER, CABINET]))
    won = Fact("episodic", "similar_episode", "put a mug on the shelf", "succeeded", 0.9,
               {"success": True, "plan": [{"skill": PICKUP, "label": "Mug", "target": "Mug|1",
                                           "status": "succeeded", "where": "CounterTop",
                                           "where_key": "CounterTop|1"}]})
    semantic = Fact("semantic", "likely_place", "Mug", "Cabinet", 0.7)
    keys, labels, avoid = place_hints("Mug", PlanContext(0, percept([]), mem.scene, None, None,
                                                         _recall(won, semantic)))
    assert keys == {"CounterTop|1": 0.9} and labels["Cabinet"] == 0.7 and avoid == set()
    planner = SymbolicPlanner()
    planner.reset(parse_instruction("Put a mug on the counter top."))
    s = planner.next_skill(PlanContext(0, percept([]), mem.scene, None, None,
                                       _recall(won, semantic)))
    assert s.target == "CounterTop|1"
    lost = Fact("episodic", "similar_episode", "put a mug on the shelf", "failed", 0.9,
                {"success": False, "plan": [{"skill": OPEN, "label": "Cabinet",
                                             "target": "Cabinet|1", "status": "failed"}]})
    planner.reset(parse_instruction("Put a mug on the counter top."))
    s = planner.next_skill(PlanContext(0, percept([]), mem.scene, None, None,
                                       _recall(lost, semantic)))
    assert s.name == EXPLORE  # the only hinted place failed before: 0.7 - 1 is too weak


def test_a_near_identical_past_episode_beats_an_old_belief() -> None:
    mem = SpatialMemory()
    mem.write(percept([MUG, COUNTER, CABINET]))
    goal = parse_instruction("Put a mug on the counter top.")
    hint = Fact("episodic", "similar_episode", "put a mug on the counter top", "succeeded",
                1.0, {"success": True, "plan": [
                    {"skill": PICKUP, "label": "Mug", "target": "Mug|1", "status": "succeeded",
                     "where": "Cabinet", "where_key": "Cabinet|1"}]})

    def seen(inherited: bool) -> Fact:
        return Fact("spatial", "seen", "Mug", "Mug|1", 0.5, {"inherited": inherited})

    fresh = SymbolicPlanner()
    fresh.reset(goal)
    s = fresh.next_skill(PlanContext(0, percept([]), mem.scene, None, None,
                                     _recall(hint, seen(False))))
    assert (s.name, s.target) == (PICKUP, "Mug|1")  # seen today: trust the map
    old = SymbolicPlanner()
    old.reset(goal)
    c = PlanContext(0, percept([]), mem.scene, None, None, _recall(hint, seen(True)))
    s = old.next_skill(c)
    assert (s.name, s.target) == (OPEN, "Cabinet|1")  # a belief from another day: check first
    assert old.next_skill(c).name == PICKUP  # looked there: back to the map's belief


def test_the_object_where_the_sentence_says_it_starts_is_picked() -> None:
    import numpy as np

    from robomem.geometry import AABB
    from robomem.memory.spatial import SpatialMemory
    from robomem.percept import Detection
    from robomem.planners.instruction import parse_instruction
    from tests.fixtures.world import HOUSEHOLD

    table = Detection("DiningTable|1", "DiningTable",
                      AABB(np.array([0.0, 0.0, 2.6]), np.array([1.0, 0.75, 3.4])))
    far_mug = Detection("Mug|2", "Mug", AABB(np.array([0.4, 0.75, 3.0]), np.array([0.5, 0.85,
                                                                                    3.1])))
    mem = SpatialMemory()
    mem.write(percept([MUG, COUNTER, table, far_mug]))
    assert {mem.scene.node(n.parent).label for n in mem.scene.find("Mug")  # type: ignore[union-attr]
            if n.parent} == {"CounterTop", "DiningTable"}
    for host, want in (("dining table", "Mug|2"), ("counter", "Mug|1")):
        goal = parse_instruction(f"Move the mug from the {host} to the shelf.",
                                 HOUSEHOLD.ontology)
        planner = SymbolicPlanner()
        planner.reset(goal)
        assert planner.next_skill(ctx(mem, percept([]))).target == want, host
