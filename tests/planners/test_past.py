"""Instructions about the past: reading them, memory's answer, and the planner acting on it."""

from __future__ import annotations

import numpy as np
import pytest

from robomem.envs.household.past import PAST_PHRASES
from robomem.geometry import AABB
from robomem.memory.base import Fact, MemoryContext
from robomem.memory.builtin import FACT_LAST_MOVED, FACT_LAST_PUT_IN, FACT_LAST_SWITCHED_ON
from robomem.memory.spatial import SpatialMemory
from robomem.memory.temporal import PAST_MOVED, PAST_PUT_IN, PAST_SWITCHED_ON
from robomem.percept import Detection
from robomem.planners.base import PlanContext
from robomem.planners.instruction import InstructionError, parse_instruction
from robomem.planners.past import past_labels, question, read_past, recall_past
from robomem.planners.symbolic import SymbolicPlanner
from robomem.skills import EXPLORE, OPEN, PICKUP, PUT, TOGGLE_OFF, Skill, SkillResult, SkillStatus
from tests.fixtures.planning import CABINET, COUNTER, MUG, percept
from tests.fixtures.world import HOUSEHOLD

ONTO = HOUSEHOLD.ontology


def _box(x: float, z: float, y0: float = 0.0, y1: float = 0.9, w: float = 0.4) -> AABB:
    return AABB(np.array([x, y0, z]), np.array([x + w, y1, z + w]))


MUG2 = Detection("Mug|2", "Mug", _box(3.1, 0.6, 0.9, 1.0, 0.1))  # a second mug, on the cabinet
SHELF = Detection("Shelf|1", "Shelf", _box(0.5, 3.0, 0.0, 1.2))
LAMP_A = Detection("DeskLamp|1", "DeskLamp", _box(1.0, 2.0, 0.8, 1.2, 0.2))
LAMP_B = Detection("FloorLamp|1", "FloorLamp", _box(4.0, 4.0, 0.0, 1.6, 0.3))


def _ctx(mem: SpatialMemory, *facts: Fact, held: str | None = None,
         skill: Skill | None = None, result: SkillResult | None = None) -> PlanContext:
    recall = MemoryContext({"temporal": list(facts)} if facts else {})
    return PlanContext(0, percept([], held=held), mem.scene, skill, result, recall,
                       ontology=ONTO, skills=HOUSEHOLD.skills)


@pytest.mark.parametrize("form", PAST_PHRASES["put_back"])
@pytest.mark.parametrize("words,type_", [("mug", "Mug"), ("key chain", "KeyChain"),
                                         ("remote control", "RemoteControl")])
def test_every_put_back_phrasing_reads(form: str, words: str, type_: str) -> None:
    g = parse_instruction(form.format(o=words), ONTO)
    assert (g.family, g.object_type, g.target_type) == ("put_back", type_, "")


@pytest.mark.parametrize("form", PAST_PHRASES["bring_back"])
@pytest.mark.parametrize("prep,r,t,rt,tt", [("in", "fridge", "dining table", "Fridge",
                                             "DiningTable"),
                                            ("on", "side table", "shelf", "SideTable",
                                             "Shelf")])
def test_every_bring_back_phrasing_reads(form: str, prep: str, r: str, t: str, rt: str,
                                         tt: str) -> None:
    g = parse_instruction(form.format(p=prep, r=r, t=t), ONTO)
    assert (g.family, g.object_type, g.source, g.target_type) == ("bring_back", "", rt, tt)


@pytest.mark.parametrize("form", PAST_PHRASES["switch_off"])
def test_every_switch_off_phrasing_reads_and_keeps_both_lamp_types(form: str) -> None:
    g = parse_instruction(form, ONTO)
    assert g.family == "switch_off"
    assert set(past_labels(g)) == {"DeskLamp", "FloorLamp"}


def test_other_forms_people_use() -> None:
    assert read_past("put back the mug where it was", ONTO).family == "put_back"
    assert read_past("Return the mug to its place.", ONTO).family == "put_back"
    g = read_past("Carry whatever you stored inside the cabinet last week over to the shelf",
                  ONTO)
    assert (g.family, g.source, g.target_type) == ("bring_back", "Cabinet", "Shelf")
    assert read_past("Shut off the lamp that you switched on", ONTO).family == "switch_off"
    # ordinary instructions are not about the past
    for text in ("Put the mug in the sink.", "Turn on the lamp.", "Bring a mug to the shelf."):
        assert read_past(text, ONTO) is None


def test_an_unknown_word_in_a_past_form_is_an_error_that_quotes_it() -> None:
    with pytest.raises(InstructionError, match="'the flurble'"):
        parse_instruction("Put the flurble back where it was.", ONTO)


def test_the_question_each_family_asks() -> None:
    assert question(read_past("Put the mug back where it was.", ONTO)) == PAST_MOVED
    bring = read_past("Bring what you put in the fridge to the shelf.", ONTO)
    assert question(bring) == PAST_PUT_IN and past_labels(bring) == ("Fridge",)
    assert question(read_past("Turn off the lamp you turned on.", ONTO)) == PAST_SWITCHED_ON
    assert question(parse_instruction("Put a mug on the shelf.", ONTO)) == ""
    assert question(None) == ""


def test_recall_past_takes_the_latest_answer_among_the_types() -> None:
    goal = read_past("Turn off the lamp you turned on last time.", ONTO)
    older = Fact("temporal", FACT_LAST_SWITCHED_ON, "DeskLamp", "DeskLamp|1", 0.5,
                 {"label": "DeskLamp", "time": (2, 30)})
    newer = Fact("temporal", FACT_LAST_SWITCHED_ON, "FloorLamp", "FloorLamp|1", 0.5,
                 {"label": "FloorLamp", "time": (3, 4)})
    ans = recall_past(goal, MemoryContext({"temporal": [older, newer]}))
    assert ans is not None and (ans.key, ans.label) == ("FloorLamp|1", "FloorLamp")
    assert recall_past(goal, MemoryContext()) is None


def _kitchen() -> SpatialMemory:
    mem = SpatialMemory()
    mem.write(percept([MUG, MUG2, COUNTER, CABINET, SHELF]))
    return mem


def test_put_back_with_memory_takes_that_mug_back_to_that_place() -> None:
    mem = _kitchen()
    moved = Fact("temporal", FACT_LAST_MOVED, "Mug", "Mug|2", 0.5,
                 {"from": "Shelf|1", "from_label": "Shelf", "to": "Cabinet|1",
                  "to_label": "Cabinet", "time": (1, 40)})
    p = SymbolicPlanner()
    p.reset(parse_instruction("Put the mug back where it was before.", ONTO))
    s = p.next_skill(_ctx(mem, moved))
    assert (s.name, s.target) == (PICKUP, "Mug|2")  # not the nearer Mug|1
    assert p.stats()["past_recalled"] == 1
    s = p.next_skill(_ctx(mem, moved, held="Mug|2", skill=s,
                          result=SkillResult(SkillStatus.SUCCEEDED)))
    assert (s.name, s.target) == (PUT, "Shelf|1")


def test_a_named_object_not_on_the_map_is_searched_for_not_swapped() -> None:
    mem = SpatialMemory()
    mem.write(percept([MUG, COUNTER]))
    moved = Fact("temporal", FACT_LAST_MOVED, "Mug", "Mug|9", 0.5,
                 {"from": "Shelf|1", "from_label": "Shelf", "time": (1, 40)})
    p = SymbolicPlanner()
    p.reset(parse_instruction("Put the mug back where it was before.", ONTO))
    assert p.next_skill(_ctx(mem, moved)).name == EXPLORE  # not Mug|1


def test_put_back_without_memory_guesses_a_usual_place_other_than_its_own() -> None:
    mem = _kitchen()
    p = SymbolicPlanner()
    p.reset(parse_instruction("Put the mug back where it was before.", ONTO))
    s = p.next_skill(_ctx(mem))
    assert s.name == PICKUP and p.stats()["past_recalled"] == 0
    picked = mem.scene.node(s.target or "")
    assert picked is not None
    s2 = p.next_skill(_ctx(mem, held=s.target, skill=s,
                           result=SkillResult(SkillStatus.SUCCEEDED)))
    usual = set(ONTO.info("Mug").usual_places)
    assert s2.name in (PUT, OPEN) and s2.label in usual and s2.target != picked.parent


def test_bring_back_with_memory_takes_the_named_object() -> None:
    mem = _kitchen()
    put_in = Fact("temporal", FACT_LAST_PUT_IN, "Cabinet", "Mug|2", 0.5,
                  {"label": "Mug", "to": "Cabinet|1", "time": (1, 9)})
    p = SymbolicPlanner()
    p.reset(parse_instruction("Bring what you put on the cabinet last time to the shelf.",
                              ONTO))
    s = p.next_skill(_ctx(mem, put_in))
    assert (s.name, s.target) == (PICKUP, "Mug|2")


def test_bring_back_without_memory_takes_something_from_that_receptacle() -> None:
    mem = SpatialMemory()
    mem.write(percept([COUNTER, CABINET, SHELF]))
    p = SymbolicPlanner()
    p.reset(parse_instruction("Bring what you put in the cabinet last time to the shelf.",
                              ONTO))
    s = p.next_skill(_ctx(mem))
    assert (s.name, s.target) == (OPEN, "Cabinet|1")  # look inside the only cabinet
    mem.write(percept([MUG2]))
    s = p.next_skill(_ctx(mem, skill=s, result=SkillResult(SkillStatus.SUCCEEDED)))
    assert (s.name, s.target) == (PICKUP, "Mug|2")  # what is found on it
    s = p.next_skill(_ctx(mem, held="Mug|2", skill=s,
                          result=SkillResult(SkillStatus.SUCCEEDED)))
    assert (s.name, s.label) == (PUT, "Shelf")


def test_switch_off_with_memory_picks_that_lamp_and_stops_there() -> None:
    mem = SpatialMemory()
    mem.write(percept([LAMP_A, LAMP_B]))
    on = Fact("temporal", FACT_LAST_SWITCHED_ON, "FloorLamp", "FloorLamp|1", 0.5,
              {"label": "FloorLamp", "time": (1, 3)})
    p = SymbolicPlanner()
    p.reset(parse_instruction("Turn off the lamp you turned on last time.", ONTO))
    s = p.next_skill(_ctx(mem, on))
    assert (s.name, s.target) == (TOGGLE_OFF, "FloorLamp|1")  # not the nearer desk lamp
    assert p.next_skill(_ctx(mem, on, skill=s, result=SkillResult(SkillStatus.SUCCEEDED))
                        ).name == "done"


def test_switch_off_without_memory_switches_off_one_lamp_only() -> None:
    mem = SpatialMemory()
    mem.write(percept([LAMP_A, LAMP_B]))
    p = SymbolicPlanner()
    p.reset(parse_instruction("Turn off the lamp you turned on last time.", ONTO))
    s = p.next_skill(_ctx(mem))
    assert (s.name, s.target) == (TOGGLE_OFF, "DeskLamp|1")  # the nearest: a guess
    assert p.next_skill(_ctx(mem, skill=s, result=SkillResult(SkillStatus.SUCCEEDED))
                        ).name == "done"


def test_a_named_object_not_where_memory_says_is_looked_for_then_retried_when_seen() -> None:
    mem = _kitchen()
    moved = Fact("temporal", FACT_LAST_MOVED, "Mug", "Mug|2", 0.5,
                 {"from": "Shelf|1", "from_label": "Shelf", "time": (1, 40)})
    p = SymbolicPlanner()
    p.reset(parse_instruction("Put the mug back where it was before.", ONTO))
    s = p.next_skill(_ctx(mem, moved))
    for _ in range(2):  # it is not there: the pickup fails twice
        s = p.next_skill(_ctx(mem, moved, skill=Skill(PICKUP, "Mug|2", "Mug"),
                              result=SkillResult(SkillStatus.FAILED, "not there")))
    # the other mug in view would end a search for "a mug" at once: walk frontiers instead
    assert s.name == EXPLORE and not s.label
    seen = percept([MUG2])
    seen.detections[0].visible = True
    c = PlanContext(0, seen, mem.scene, s, SkillResult(SkillStatus.SUCCEEDED),
                    MemoryContext({"temporal": [moved]}), ontology=ONTO,
                    skills=HOUSEHOLD.skills)
    s = p.next_skill(c)
    assert (s.name, s.target) == (PICKUP, "Mug|2")
