"""Instructions as people phrase them: every family, the hard forms, and every failure mode."""

from __future__ import annotations

import numpy as np
import pytest

from robomem.envs.household.catalog import KINDS, PICKUPABLE_TYPES
from robomem.envs.household.tasks import PARAPHRASES, instruction_for
from robomem.memory.encoders import make_encoder
from robomem.planners.instruction import InstructionError, parse_instruction
from robomem.planners.vocabulary import MeaningGuesser
from tests.fixtures.world import HOUSEHOLD

ONTO = HOUSEHOLD.ontology


def _read(text: str) -> tuple[str, str, str]:
    g = parse_instruction(text, ONTO)
    return g.family, g.object_type, g.target_type


@pytest.mark.parametrize(("text", "expected"), [
    # heat, cool, clean: verbs, participles, adjectives, the appliance on the way
    ("Put a chilled apple on a kitchen counter.", ("pick_cool_and_place", "Apple", "CounterTop")),
    ("place a microwaved coffee mug inside of the kitchen cabinet",
     ("pick_heat_and_place", "Mug", "Cabinet")),
    ("Heat a mug and place it in the cabinet.", ("pick_heat_and_place", "Mug", "Cabinet")),
    ("Put a warm slice of bread on the counter.", ("pick_heat_and_place", "Bread", "CounterTop")),
    ("Put a rinsed egg in the microwave.", ("pick_clean_and_place", "Egg", "Microwave")),
    ("Place a washed plate on the dining table.", ("pick_clean_and_place", "Plate", "DiningTable")),
    ("Put the potato in the fridge, then put it in the sink.",
     ("pick_cool_and_place", "Potato", "SinkBasin")),
    ("Cook an apple in the microwave, then put it in the fridge.",
     ("pick_heat_and_place", "Apple", "Fridge")),
    # looking at something in the light, in all its forms
    ("Examine the remote control under the light of the floor lamp.",
     ("look_at_in_light", "RemoteControl", "FloorLamp")),
    ("turn on a lamp while holding a bowl", ("look_at_in_light", "Bowl", "FloorLamp")),
    ("Pick up the keys and switch on the desk lamp.", ("look_at_in_light", "KeyChain", "DeskLamp")),
    ("Look at a clock by the light of a lamp.", ("look_at_in_light", "AlarmClock", "FloorLamp")),
    # two objects, plurals, and a container carried with the object in it
    ("Put two knives in the drawer.", ("pick_two_and_place", "Knife", "Drawer")),
    ("Move the apples to the counter.", ("pick_two_and_place", "Apple", "CounterTop")),
    ("Put a bowl with a watch in it on the shelf.", ("pick_movable_and_place", "Watch", "Shelf")),
    ("Place a pan containing a spatula on the kitchen counter.",
     ("pick_movable_and_place", "Spatula", "CounterTop")),
    # where things start, and landmarks, are not destinations
    ("Move a vase from the dresser to the safe.", ("pick_and_place", "Vase", "Safe")),
    ("Take the bowl to the lamp.", ("look_at_in_light", "Bowl", "FloorLamp")),  # holds nothing
    ("Place the salt shaker in the cabinet beside the fridge.",
     ("pick_and_place", "SaltShaker", "Cabinet")),
    ("Put a heated slice of apple in the trash can near the fridge.",
     ("pick_heat_and_place", "Apple", "GarbageCan")),
    ("Put a mug in the cabinet and shut it.", ("place_in_closed", "Mug", "Cabinet")),
    # unknown words: a toaster, a coffee machine, a house plant are AI2-THOR types
    ("Put the mug in the coffee machine.", ("pick_and_place", "Mug", "CoffeeMachine")),
    ("Put the tub of soap in the bathtub.", ("pick_and_place", "SoapBar", "BathtubBasin")),
])
def test_people_phrasings(text: str, expected: tuple[str, str, str]) -> None:
    assert _read(text) == expected


def test_slices_movables_and_ambiguous_words_are_kept() -> None:
    g = parse_instruction("Put a cold slice of lettuce in the trash can.", ONTO)
    assert g.sliced and g.object_type == "Lettuce" and g.target_type == "GarbageCan"
    g = parse_instruction("Put a pan with a spatula in it on the counter.", ONTO)
    assert (g.movable, g.object_type) == ("Pan", "Spatula")
    g = parse_instruction("Move a vase from the dresser to the safe.", ONTO)
    assert (g.source, g.target_type) == ("Dresser", "Safe")  # where it starts, where it goes
    g = parse_instruction("Examine a book under the lamp.", ONTO)
    assert set(g.target_candidates) == {"DeskLamp", "FloorLamp"}  # memory decides which
    g = parse_instruction("Put a knife in the drawer.", ONTO)
    assert g.object_candidates == ("Knife", "ButterKnife")  # a butter knife is a knife too


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty instruction"),
    ("Sing a song to the fridge.", "cannot tell what to do in 'Sing a song to the fridge.'"),
    ("Put a gizmo on the shelf.", "I don't know what 'gizmo' is"),
    ("Put a mug.", "does not say where to put the Mug"),
    ("Turn on the desk lamp.", "does not say what to look at"),
    ("Put a cut apple in a pot.", "a Pot cannot hold things in this world"),
    ("x" * 3000, "at most 2000"),
])
def test_every_failure_says_why(text: str, reason: str) -> None:
    with pytest.raises(InstructionError, match=reason):
        parse_instruction(text, ONTO)


def test_a_world_without_an_appliance_cannot_be_asked_to_use_it() -> None:
    from robomem.ontology import Ontology

    onto = Ontology.from_dict({"types": {"Apple": {"pickupable": True},
                                         "Shelf": {"receptacle": True}}})
    with pytest.raises(InstructionError, match="cannot heat things in this world"):
        parse_instruction("Put a heated apple on the shelf.", onto)


def test_unknown_words_by_meaning_with_a_floor() -> None:
    guess = MeaningGuesser(make_encoder("hash"), floor=0.3)
    g = parse_instruction("Put the jewel box on the shelf.", ONTO, guess)  # a known word: no guess
    assert g.object_type == "Box"
    with pytest.raises(InstructionError, match=r"I don't know what 'zzyzx' is; nearest known: "):
        parse_instruction("Put the zzyzx on the shelf.", ONTO, MeaningGuesser(
            make_encoder("hash"), floor=0.99))


@pytest.mark.slow
def test_minilm_maps_descriptions_and_refuses_nonsense() -> None:
    guess = MeaningGuesser()
    assert guess("a device that tells the time", ONTO)[0] == "AlarmClock"
    assert guess("cabbage", ONTO)[0] == "Lettuce"
    found, nearest = guess("giraffe", ONTO)
    assert found == "" and len(nearest) == 3
    g = parse_instruction("Put the cabbage in the fridge.", ONTO, guess)
    assert (g.object_type, g.target_type) == ("Lettuce", "Fridge")


class _Pick:
    def __init__(self, i: int) -> None:
        self.i = i

    def integers(self, n: int) -> int:
        return self.i


@pytest.mark.parametrize("family", sorted(PARAPHRASES))
def test_every_household_paraphrase_reads_back_exactly(family: str) -> None:
    """Each of the simulator's phrasings, for every type it can pose, parses to its task."""
    rng = np.random.default_rng(0)
    recs = ["DeskLamp", "FloorLamp"] if family == "look_at_in_light" else \
        [t for t, k in KINDS.items() if k.receptacle]
    for i in range(len(PARAPHRASES[family])):
        for o in PICKUPABLE_TYPES:
            r = recs[int(rng.integers(len(recs)))]
            text = instruction_for(family, o, r, _Pick(i))  # type: ignore[arg-type]
            g = parse_instruction(text, ONTO)
            assert (g.family, g.object_type, g.target_type) == (family, o, r), text


def test_paraphrased_tasks_are_the_same_tasks() -> None:
    from robomem.envs.household.generator import generate_house
    from robomem.envs.household.tasks import sample_task

    plain, worded = [], []
    for flag, out in ((False, plain), (True, worded)):
        rng = np.random.default_rng(5)
        house = generate_house(np.random.default_rng(1))
        for _ in range(8):
            out.append(sample_task(house, rng, paraphrase=flag))
    assert [(t.family, t.object_type, t.target_type) for t in plain] == \
        [(t.family, t.object_type, t.target_type) for t in worded]
    assert len({t.instruction for t in worded}) > len({t.instruction for t in plain}) // 2
    assert any(a.instruction != b.instruction for a, b in zip(plain, worded, strict=True))


def test_a_language_model_reading_is_validated_against_the_world() -> None:
    from robomem.planners.llm_reader import read_with_model
    from robomem.planners.lm import ScriptedModel

    text = "Make the mug meet the coffee maker."
    good = ScriptedModel(['Sure: {"family": "pick_and_place", "object": "Mug", '
                          '"target": "CoffeeMachine", "count": 1}'])
    g = read_with_model(good, text, ONTO)
    assert (g.family, g.object_type, g.target_type) == ("pick_and_place", "Mug", "CoffeeMachine")
    assert "CoffeeMachine" in good.requests[0].system and text in good.requests[0].context
    for answer, reason in [
        ('{"family": "teleport", "object": "Mug", "target": "Sofa"}', "family 'teleport'"),
        ('{"family": "pick_and_place", "object": "Unicorn", "target": "Sofa"}',
         "object 'Unicorn' is not a type"),
        ("I would rather not.", "not a goal"),
    ]:
        with pytest.raises(InstructionError, match=reason):
            read_with_model(ScriptedModel([answer]), text, ONTO)


def test_the_llm_planner_agent_asks_its_model_when_the_rules_cannot_read() -> None:
    from robomem.agent import AgentConfig, MemoryAgent
    from robomem.memory.system import MemorySystemConfig
    from robomem.planners.llm import LLMConfig
    from tests.fixtures.household import make_env

    env = make_env(64, 64)
    o, info = env.reset(seed=0)
    obs = HOUSEHOLD.observe(o, info)
    obs.instruction = "Put the flibbertigibbet on the coffee maker."  # no rule knows that word
    answers = ['{"family": "pick_and_place", "object": "Mug", "target": "CoffeeMachine"}']
    agent = MemoryAgent(AgentConfig(planner="llm", llm=LLMConfig(
        backend="scripted", options={"answers": answers}),
        modules=MemorySystemConfig(options={"episodic": {"encoder": "hash"}})), HOUSEHOLD)
    agent.guesser = MeaningGuesser(make_encoder("hash"), floor=0.99)  # refuses every guess
    try:
        agent.reset(obs)
        assert agent.error is None and agent.goal is not None
        assert agent.goal.target_type == "CoffeeMachine"
        assert any("asked the language model" in n for n in agent.notes())
    finally:
        agent.close()
        env.close()
