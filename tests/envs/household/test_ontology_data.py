"""The Household world's ontology data file: AI2-THOR's types, consistent with the catalog."""

from __future__ import annotations

import pytest

from robomem.envs.household.catalog import KINDS, PICKUPABLE_TYPES
from robomem.planners.instruction import InstructionError, parse_instruction
from tests.fixtures.world import HOUSEHOLD

ONTO = HOUSEHOLD.ontology


def test_the_catalog_kinds_are_in_the_ontology_exactly() -> None:
    for name, k in KINDS.items():
        info = ONTO.info(name)
        assert (info.receptacle, info.pickupable, info.openable, info.toggleable) == \
            (k.receptacle, k.pickupable, k.openable, k.toggleable), name
        assert info.container == (k.receptacle and k.style in ("container", "basin")), name
        assert info.usual_places == tuple(k.usual_places), name
    for name in PICKUPABLE_TYPES:
        assert ONTO.info(name).pickupable and ONTO.info(name).usual_places


def test_it_knows_ai2thor_types_beyond_the_catalog() -> None:
    assert len(ONTO) > 100 and len(ONTO) > len(KINDS) + 50
    for t in ("Toaster", "CoffeeMachine", "HousePlant", "GarbageCan", "Kettle", "Ladle"):
        assert t in ONTO and t not in KINDS
    assert ONTO.info("Toaster").toggleable and ONTO.info("Kettle").pickupable
    assert ONTO.structure() == {"Floor", "Wall", "Ceiling"}
    assert ONTO.room_type({"SinkBasin", "CounterTop"}) == "Kitchen"
    assert ONTO.room_type({"SinkBasin", "Toilet"}) == "Bathroom"


@pytest.mark.parametrize(("text", "obj", "target"), [
    ("Put a mug on the toaster.", "Mug", "Toaster"),
    ("Put the mug in the coffee machine.", "Mug", "CoffeeMachine"),
    ("Place a house plant on the table.", "HousePlant", "DiningTable"),
    ("Put the kettle on the stove.", "Kettle", "StoveBurner"),
])
def test_instructions_naming_ai2thor_types_parse(text: str, obj: str, target: str) -> None:
    g = parse_instruction(text, ONTO)
    assert (g.object_type, g.target_type) == (obj, target)


def test_state_change_families_take_the_worlds_appliances() -> None:
    g = parse_instruction("Heat an apple and put it on the counter.", ONTO)
    assert (g.appliance, g.switch) == ("Microwave", "Microwave")
    g = parse_instruction("Clean a mug and put it on the shelf.", ONTO)
    assert (g.appliance, g.switch) == ("SinkBasin", "Faucet")
    with pytest.raises(InstructionError, match="I don't know what 'giraffe' is"):
        parse_instruction("Put a giraffe on the table.", ONTO)
