"""Critics that turn a would-be failure into its fix ("open it first") instead of a veto."""

from __future__ import annotations

from robomem.planners.critic import CriticChain, PreconditionCritic
from robomem.planners.instruction import parse_instruction
from robomem.planners.llm import LLMConfig, LLMPlanner
from robomem.planners.lm import ScriptedModel
from robomem.planners.symbolic import SymbolicPlanner
from robomem.skills import EXPLORE, OPEN, PICKUP, PUT, Skill, SkillResult, SkillStatus
from tests.fixtures.planning import MUG, ctx, kitchen, percept


def test_vetoes_carry_the_skill_that_fixes_them() -> None:
    mem = kitchen()
    critic = PreconditionCritic()
    holding = ctx(mem, percept([], held="Mug|1"))
    v = critic.review(Skill(PUT, "Cabinet|1", "Cabinet"), holding)
    assert not v.ok and v.fix == Skill(OPEN, "Cabinet|1", "Cabinet")
    v = critic.review(Skill(PICKUP, "Mug|1", "Mug"), holding)
    assert not v.ok and v.fix is not None and (v.fix.name, v.fix.target) == (PUT, "CounterTop|1")
    assert not critic.review(Skill(PUT, "CounterTop|1", "CounterTop"),
                             ctx(mem, percept([]))).fix  # nothing held: no fix for that
    veto_only = PreconditionCritic(fixes=False)
    v = veto_only.review(Skill(PUT, "Cabinet|1", "Cabinet"), holding)
    assert not v.ok and v.fix is None and "closed" in v.reason


def _put_in_cabinet(critic: PreconditionCritic) -> tuple[SymbolicPlanner, Skill]:
    mem = kitchen()
    p = SymbolicPlanner(CriticChain([critic]), preconditions=False)
    p.reset(parse_instruction("Put a mug in the cabinet."))
    s = p.next_skill(ctx(mem, percept([])))
    assert (s.name, s.target) == (PICKUP, "Mug|1")
    s = p.next_skill(ctx(mem, percept([], held="Mug|1"), s,
                         SkillResult(SkillStatus.SUCCEEDED)))
    return p, s


def test_a_planner_that_skips_preconditions_gets_the_fix_from_the_critic() -> None:
    p, s = _put_in_cabinet(PreconditionCritic())
    assert (s.name, s.target) == (OPEN, "Cabinet|1")  # not a veto: the fix
    assert p.stats()["fixes"] == 1 and p.stats()["vetoes"] == 1


def test_a_veto_only_critic_makes_it_give_up_on_the_target() -> None:
    p, s = _put_in_cabinet(PreconditionCritic(fixes=False))
    assert s.name == EXPLORE  # the only cabinet is blacklisted: look for another
    assert p.stats()["fixes"] == 0 and p.stats()["vetoes"] == 1


def test_the_planner_with_its_own_preconditions_needs_no_veto() -> None:
    mem = kitchen()
    p = SymbolicPlanner()
    p.reset(parse_instruction("Put a mug in the cabinet."))
    s = p.next_skill(ctx(mem, percept([])))
    s = p.next_skill(ctx(mem, percept([], held="Mug|1"), s, SkillResult(SkillStatus.SUCCEEDED)))
    assert s.name == OPEN and p.stats()["vetoes"] == 0


def test_the_language_model_planner_runs_the_fix_too() -> None:
    model = ScriptedModel(['{"skill": {"name": "put", "target": "Cabinet|1"}}'])
    planner = LLMPlanner(model, LLMConfig())
    planner.reset(parse_instruction("Put a mug in the cabinet and close it."))
    mem = kitchen()
    held = percept([MUG], held="Mug|1", step=1)
    mem.write(held)
    s = planner.next_skill(ctx(mem, held, Skill(PICKUP, "Mug|1", "Mug"),
                               SkillResult(SkillStatus.SUCCEEDED)))
    assert (s.name, s.target) == (OPEN, "Cabinet|1")
    assert planner.stats()["llm_fixes"] == 1 and planner.stats()["llm_vetoes"] == 0
