from __future__ import annotations

import numpy as np
import pytest

from robomem.envs.household.generator import generate_house
from robomem.envs.household.tasks import FAMILIES, instruction_for, sample_task
from robomem.planners.instruction import Goal, InstructionError, parse_instruction


def test_every_generated_instruction_parses_back() -> None:
    seen = set()
    for seed in range(8):
        house = generate_house(seed)
        rng = np.random.default_rng(seed)
        for _ in range(25):
            t = sample_task(house, rng)
            g = parse_instruction(t.instruction)
            assert g == Goal(t.family, t.object_type, t.target_type, t.count), t.instruction
            seen.add(t.family)
    assert seen == set(FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_with_every_object_word(family: str) -> None:
    from robomem.envs.household.catalog import PICKUPABLE_TYPES

    target = "DeskLamp" if family == "look_at_in_light" else "CounterTop"
    for obj in PICKUPABLE_TYPES:
        g = parse_instruction(instruction_for(family, obj, target))
        assert (g.family, g.object_type, g.target_type) == (family, obj, target)


@pytest.mark.parametrize("text, expected", [
    ("Place the mug onto the shelf", Goal("pick_and_place", "Mug", "Shelf")),
    ("put an apple in the fridge.", Goal("pick_and_place", "Apple", "Fridge")),
    ("Warm up a potato and place it on the dining table.",
     Goal("pick_heat_and_place", "Potato", "DiningTable")),
    ("Wash a plate and put it in the cabinet.", Goal("pick_clean_and_place", "Plate", "Cabinet")),
    ("Look at a book under the floor lamp.", Goal("look_at_in_light", "Book", "FloorLamp")),
    ("Put two knives in the drawer.", Goal("pick_two_and_place", "Knife", "Drawer", 2)),
])
def test_paraphrases(text: str, expected: Goal) -> None:
    assert parse_instruction(text) == expected


@pytest.mark.parametrize("text, needle", [
    ("", "empty instruction"),
    ("Dance with the sofa.", "cannot tell what to do in 'Dance with the sofa.'"),
    ("Put a unicorn on the shelf.", "I don't know what 'unicorn' is"),
    ("Put a mug.", "does not say where to put the Mug"),
    ("Turn on the desk lamp.", "does not say what to look at"),
])
def test_unparseable_instructions_say_why(text: str, needle: str) -> None:
    with pytest.raises(InstructionError, match=needle):
        parse_instruction(text)
