"""The language-model planner: valid answers act, bad ones are fed back, then it falls back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from robomem.agent import AgentConfig, MemoryAgent
from robomem.config import load_config
from robomem.planners.critic import CriticChain, PreconditionCritic
from robomem.planners.instruction import parse_instruction
from robomem.planners.llm import LLMConfig, LLMPlanner
from robomem.planners.llm_critic import LanguageModelCritic
from robomem.planners.lm import (
    Generation,
    GenerationRequest,
    LanguageModel,
    LanguageModelError,
    ScriptedModel,
)
from robomem.runner import run
from robomem.skills import EXPLORE, NAVIGATE, PICKUP, Skill, SkillResult, SkillStatus
from tests.fixtures.planning import ctx, kitchen, percept
from tests.fixtures.world import HOUSEHOLD

PUT_MUG = "Put a mug in the cabinet and close it."


def _planner(answers: list[str], **cfg: object) -> tuple[LLMPlanner, ScriptedModel]:
    model = ScriptedModel(answers)
    planner = LLMPlanner(model, LLMConfig(**cfg))  # type: ignore[arg-type]
    planner.reset(parse_instruction(PUT_MUG))
    return planner, model


def test_valid_answers_choose_the_skills() -> None:
    planner, model = _planner(['{"skill": {"name": "pickup", "target": "Mug|1"}}'])
    skill = planner.next_skill(ctx(kitchen(), percept([]), instruction=PUT_MUG))
    assert (skill.name, skill.target) == (PICKUP, "Mug|1")
    req = model.requests[0]
    assert req.system == planner.builder.system() and "Current subgoal: pick up a Mug" in \
        req.context and "Mug|1: Mug" in req.context
    assert planner.stats()["llm_calls"] == 1 and planner.stats()["fallbacks"] == 0


def test_rejections_are_fed_back_then_the_answer_is_used() -> None:
    planner, model = _planner(['{"skill": {"name": "pickup", "target": "Mug|9"}}',
                               '{"skill": {"name": "pickup", "target": "Mug|1"}}'])
    skill = planner.next_skill(ctx(kitchen(), percept([])))
    assert skill.target == "Mug|1"
    assert "object 'Mug|9' is not in memory; known Mug keys: Mug|1" in model.requests[1].context
    assert planner.stats()["invalid_answers"] == 1 and planner.invalid_streak == 0


def test_garbage_leads_to_fallback_for_that_subgoal_only() -> None:
    planner, model = _planner(["lorem ipsum"], max_invalid=3)
    mem = kitchen()
    s1 = planner.next_skill(ctx(mem, percept([])))
    assert (s1.name, s1.target) == (PICKUP, "Mug|1")  # the symbolic planner's choice
    assert len(model.requests) == 3 and planner.stats()["fallbacks"] == 1
    assert planner.fallbacks[0]["subgoal"] == "pick up a Mug"
    assert "no JSON object" in planner.fallbacks[0]["reason"]
    # the same subgoal stays with the symbolic planner, without asking the model again
    planner.next_skill(ctx(mem, percept([]), s1, SkillResult(SkillStatus.RUNNING)))
    assert len(model.requests) == 3 and planner.stats()["fallback_calls"] == 2
    # the next subgoal goes back to the model
    held = percept([], held="Mug|1", step=1)
    mem.write(held)
    planner.next_skill(ctx(mem, held, s1, SkillResult(SkillStatus.SUCCEEDED)))
    assert len(model.requests) == 6 and planner.subgoal_index == 1


def test_vetoes_are_fed_back() -> None:
    planner, model = _planner(['{"skill": {"name": "put", "target": "CounterTop|1"}}',
                               '{"skill": {"name": "pickup", "target": "Mug|1"}}'])
    skill = planner.next_skill(ctx(kitchen(), percept([])))
    assert skill.name == PICKUP
    assert "put CounterTop|1 was vetoed: nothing is held" in model.requests[1].context
    assert planner.stats()["llm_vetoes"] == 1


def test_done_before_the_task_is_complete_is_rejected() -> None:
    planner, model = _planner(['{"skill": {"name": "done"}}',
                               '{"skill": {"name": "explore", "label": "Mug"}}'])
    assert planner.next_skill(ctx(kitchen(), percept([]))).name == EXPLORE
    assert "'done' was rejected" in model.requests[1].context


class _Down(LanguageModel):
    name = "down"

    def generate(self, request: GenerationRequest) -> Generation:
        raise LanguageModelError("cannot reach http://127.0.0.1:9/v1")


def test_backend_errors_fall_back_without_crashing() -> None:
    planner = LLMPlanner(_Down(), LLMConfig(max_invalid=2))
    planner.reset(parse_instruction(PUT_MUG))
    assert planner.next_skill(ctx(kitchen(), percept([]))).target == "Mug|1"
    # one failed call (the backend retries within its own bound) and the subgoal falls back
    assert planner.stats()["llm_errors"] == 1 and planner.stats()["fallbacks"] == 1
    assert planner.next_skill(ctx(kitchen(), percept([]))).target == "Mug|1"
    assert planner.stats()["llm_calls"] == 1  # not asked again for the same subgoal


def test_failures_and_loop_breaks_reach_the_prompt() -> None:
    planner, model = _planner(['{"skill": {"name": "navigate_to", "target": "Cabinet|1"}}'])
    mem = kitchen()
    s1 = planner.next_skill(ctx(mem, percept([])))
    assert s1.name == NAVIGATE
    planner.break_loop("no progress")
    planner.next_skill(ctx(mem, percept([]), s1, SkillResult(SkillStatus.FAILED, "blocked")))
    text = model.requests[-1].context
    assert "no progress (no progress) while working on Cabinet|1" in text
    assert "navigate_to Cabinet|1 failed: blocked" in text


def test_language_model_critic_vetoes() -> None:
    answers = ['{"skill": {"name": "pickup", "target": "Mug|1"}}',
               '{"suitable": false, "reason": "the mug is dirty"}',
               '{"skill": {"name": "explore", "label": "Mug"}}']
    planner, model = _planner(answers, critic=True)
    assert planner.next_skill(ctx(kitchen(), percept([]))).name == EXPLORE
    assert "unsuitable: the mug is dirty" in model.requests[2].context
    assert model.requests[1].system == model.requests[0].system  # one cached system part
    critic = LanguageModelCritic(ScriptedModel(["no idea"]))
    assert critic.review(Skill(PICKUP, "Mug|1"), ctx(kitchen(), percept([]))).ok
    assert critic.counters["llm_critic_unread"] == 1


def test_agent_wires_the_critics_into_the_llm_planner() -> None:
    cfg = AgentConfig(planner="llm", llm=LLMConfig(backend="scripted",
                                                   options={"answers": ["x"]}))
    agent = MemoryAgent(cfg)
    assert isinstance(agent.planner, LLMPlanner)
    assert isinstance(agent.critic, CriticChain)
    assert isinstance(agent.critic.critics[0], PreconditionCritic)
    no_critic = MemoryAgent(AgentConfig(planner="llm", critic=False,
                                        llm=LLMConfig(backend="scripted",
                                                      options={"answers": ["x"]})))
    assert isinstance(no_critic.critic, CriticChain) and no_critic.critic.critics == []
    agent.close()
    no_critic.close()
    with pytest.raises(KeyError, match="known: "):
        MemoryAgent(AgentConfig(planner="llm", llm=LLMConfig(backend="nope")))


def test_household_episode_with_a_garbage_model_completes(tmp_path: Path) -> None:
    cfg = load_config(None, ["env.width=64", "env.height=64", "episodes=1", "seeds=[0]",
                             "env.families=[pick_and_place]", f"out={tmp_path}", "spl=false",
                             "memory_system.options.episodic.encoder=hash", "planner=llm",
                             "llm.backend=scripted", "llm.options.answers=[garbage]"])
    res = run(cfg, progress=False)
    stats = res.episodes[0].policy_stats
    assert stats["fallbacks"] >= 1 and stats["invalid_answers"] >= 3
    assert res.metrics["episodes"] == 1


def test_household_episode_with_a_tiny_local_model_completes(tmp_path: Path) -> None:
    """The local transformers backend end to end: a random tiny model answers nonsense, the
    answers are rejected and fed back, the symbolic planner takes over, the loop stays closed."""
    from tests.fixtures.tiny_lm import save_tiny_lm

    path = save_tiny_lm(tmp_path / "lm")
    cfg = load_config(None, ["env.width=64", "env.height=64", "episodes=1", "seeds=[0]",
                             "env.families=[pick_and_place]", f"out={tmp_path}", "spl=false",
                             "memory_system.options.episodic.encoder=hash", "planner=llm",
                             "llm.backend=local", f"llm.options.path={path}",
                             "llm.options.device=cpu", "llm.max_new_tokens=12",
                             "llm.token_budget=300"])
    res = run(cfg, progress=False)
    stats = res.episodes[0].policy_stats
    assert stats["llm_calls"] >= 3 and stats["fallbacks"] >= 1
    assert stats["cached_tokens"] > 0  # the system part's KV cache was reused
    assert res.metrics["episodes"] == 1


def test_backend_errors_name_the_settings(tmp_path: Path) -> None:
    from robomem.planners.lm import make_language_model

    with pytest.raises(ValueError, match=r"missing .*'base_url'.*llm\.options"):
        make_language_model("openai")
    bad = load_config(None, ["planner=llm", "llm.backend=nope", f"out={tmp_path}"])
    with pytest.raises(KeyError, match="known: local, openai, scripted"):
        run(bad, progress=False)
    assert not any(tmp_path.iterdir())  # it failed before writing a run folder


def test_loop_detection_and_step_limit_apply_to_the_llm_planner() -> None:
    """A model that keeps sending the agent to the same object makes no progress: the loop
    detector breaks the loop (the model is told), and the episode ends by the step limit or a
    give-up, never by a crash."""
    import re

    from tests.fixtures.household import make_env

    def stubborn(request: GenerationRequest) -> str:
        keys = re.findall(r"^- (\S+\|\S*): ", request.context, flags=re.MULTILINE)
        if not keys:
            return '{"skill": {"name": "explore"}}'
        return json.dumps({"skill": {"name": "navigate_to", "target": keys[-1]}})

    model = ScriptedModel(stubborn)
    from robomem.memory.system import MemorySystemConfig

    agent = MemoryAgent(AgentConfig(
        planner="llm", repeat_limit=3, patience=30,
        modules=MemorySystemConfig(options={"episodic": {"encoder": "hash"}}),
        llm=LLMConfig(backend="scripted", options={"answers": ["unused"]})))
    agent.planner = LLMPlanner(model, LLMConfig())
    env = make_env(step_limit=150, families=["pick_and_place"])
    obs_d, info = env.reset(seed=0)
    obs = HOUSEHOLD.observe(obs_d, info)
    agent.reset(obs)
    steps, done = 0, False
    while not done:
        obs_d, _, terminated, truncated, info = env.step(HOUSEHOLD.command(agent.act(obs)))
        obs = HOUSEHOLD.observe(obs_d, info)
        steps, done = steps + 1, terminated or truncated
    agent.end_episode(bool(info.get("success")), steps)
    agent.close()
    env.close()
    assert agent.counters["loop_breaks"] >= 1 and steps <= 150
    assert any("no progress" in r.context for r in model.requests)
