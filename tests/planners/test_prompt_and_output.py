"""The prompt builder (budget, order) and answer parsing (JSON only, validated, never run)."""

from __future__ import annotations

import pytest

from robomem.memory.base import Fact, MemoryContext
from robomem.planners.llm_output import InvalidAnswer, extract_json, parse_answer
from robomem.planners.prompt import PromptBuilder, approx_tokens
from robomem.skills import EXPLORE, PICKUP, PUT, SKILL_NAMES
from tests.fixtures.planning import COUNTER, MUG, ctx, kitchen, percept
from tests.fixtures.world import HOUSEHOLD


def _recall(n: int) -> MemoryContext:
    eps = [Fact("episodic", "similar_episode", f"put a mug in cabinet {i}", "succeeded",
                0.9 - i * 0.01, {"plan": [{"skill": "pickup", "label": "Mug"}]})
           for i in range(n)]
    sem = [Fact("semantic", "likely_place", "Mug", "CounterTop", 0.8)]
    events = [Fact("temporal", "last_seen", "Mug", "Mug|1", 1.0)]
    return MemoryContext({"episodic": eps, "semantic": sem, "temporal": events})


def test_system_part_lists_every_skill_and_is_stable() -> None:
    b = PromptBuilder()
    text = b.system()
    assert all(name in text for name in SKILL_NAMES) and '"suitable"' in text
    assert text == PromptBuilder(token_budget=200).system()  # cacheable: no call-specific data


def test_context_order_and_budget() -> None:
    mem = kitchen()
    c = ctx(mem, percept([]), instruction="Put a mug in the cabinet.")
    c.recall = _recall(40)
    b = PromptBuilder(token_budget=2000)
    full = b.context(c, "pick up a Mug", ["Mug", "Cabinet"], ["pickup Mug|2 was rejected"])
    t = full.text
    assert t.index("Task: Put a mug in the cabinet.") < t.index("Feedback") < t.index(
        "Objects in memory") < t.index("Similar past episodes") < t.index("Known regularities")
    objects = t[t.index("Objects in memory"):t.index("Similar past episodes")]
    assert objects.index("Mug|1") < objects.index("CounterTop|1")  # task objects first
    assert "- Mug|1: Mug, on CounterTop|1, 1.3 m" in objects
    assert "- Cabinet|1: Cabinet, open?, 1.9 m" in objects  # openable, state not seen yet
    small = PromptBuilder(token_budget=180).context(c, "pick up a Mug", ["Mug"], ["x"])
    assert small.tokens <= 180 and approx_tokens(small.text) == small.tokens
    assert "Task:" in small.text and "Feedback" in small.text  # never dropped
    assert small.dropped and "more left out" in small.text
    with pytest.raises(ValueError, match="token_budget"):
        PromptBuilder(token_budget=10)


def test_parse_valid_answers() -> None:
    mem = kitchen().scene
    a = parse_answer('```json\n{"subgoals": ["get mug"], "skill": {"name": "pickup", '
                     '"target": "Mug|1"}, "reason": "near"}\n```', mem)
    assert (a.skill.name, a.skill.target, a.skill.label) == (PICKUP, "Mug|1", "Mug")
    assert a.subgoals == ("get mug",) and a.reason == "near"
    b = parse_answer('{"skill": "PUT", "target": "CounterTop|1"}', mem)  # lenient shape, case
    assert (b.skill.name, b.skill.target) == (PUT, "CounterTop|1")
    c = parse_answer('{"skill": {"name": "explore", "target": "Mug|1", "label": "Apple"}}', mem)
    assert (c.skill.name, c.skill.target, c.skill.label) == (EXPLORE, None, "Apple")
    assert extract_json('{"a": [1, {"b": 2}]} trailing {"c": 3}') == {"a": [1, {"b": 2}]}


@pytest.mark.parametrize("text, reason", [
    ("I would pick up the mug.", "no JSON object"),
    ('{"plan": "pickup"}', "needs a 'skill' object"),
    ('{"skill": {"target": "Mug|1"}}', "has no 'name'"),
    ('{"skill": {"name": "fly", "target": "Mug|1"}}', "unknown skill 'fly'; skills: navigate_to"),
    ('{"skill": {"name": "pickup"}}', "needs a 'target'"),
    ('{"skill": {"name": "pickup", "target": "Mug|7"}}', "known Mug keys: Mug|1"),
    ('{"skill": {"name": "open", "target": "Fridge|1"}}', "no Fridge is known yet"),
    ('{"skill": {"name": "pickup", "target": 3}}', "'target' must be a string"),
    ('{"skill": {"name": "done"}, "subgoals": "all"}', "'subgoals' must be a list"),
    ('{"skill": {"name": "__import__(\'os\').system(\'touch /tmp/x\')"}}', "unknown skill"),
])
def test_rejections_explain_themselves(text: str, reason: str) -> None:
    with pytest.raises(InvalidAnswer, match=reason.replace("(", r"\(").replace("|", r"\|")):
        parse_answer(text, kitchen().scene, HOUSEHOLD.label_from_id)


def test_without_the_worlds_id_format_the_hint_stays_generic() -> None:
    with pytest.raises(InvalidAnswer, match="use a key listed under 'Objects in memory'"):
        parse_answer('{"skill": {"name": "pickup", "target": "Mug|7"}}', kitchen().scene)


def test_counter_and_mug_fixture_sanity() -> None:
    mem = kitchen()
    assert mem.graph.node(MUG.key) is not None and mem.graph.node(COUNTER.key) is not None
