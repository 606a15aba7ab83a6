from __future__ import annotations

from robomem.envs.household.catalog import KINDS, PICKUPABLE_TYPES
from robomem.ontology import NEUTRAL, TypeInfo, known_types, type_info


def test_known_types_match_the_catalog() -> None:
    assert set(known_types()) == set(KINDS)
    for name in PICKUPABLE_TYPES:
        info = type_info(name)
        assert info.pickupable and not info.receptacle and info.usual_places


def test_affordances_and_containers() -> None:
    fridge, counter, sink = type_info("Fridge"), type_info("CounterTop"), type_info("SinkBasin")
    assert fridge.receptacle and fridge.openable and fridge.container and not fridge.pickupable
    assert counter.receptacle and not counter.container and not counter.openable
    assert sink.container  # things go into a basin
    micro = type_info("Microwave")
    assert micro.toggleable and micro.openable and micro.container
    faucet = type_info("Faucet")
    assert faucet.toggleable and not faucet.receptacle and faucet.furniture
    assert "Fridge" in type_info("Apple").usual_places
    assert not type_info("Apple").furniture and counter.furniture


def test_unknown_labels_are_neutral_not_errors() -> None:
    for label in ("Giraffe", "", "mug"):
        assert type_info(label) == NEUTRAL == TypeInfo()
    assert not NEUTRAL.pickupable and NEUTRAL.usual_places == ()


def test_type_info_is_cached() -> None:
    assert type_info("Mug") is type_info("Mug")
