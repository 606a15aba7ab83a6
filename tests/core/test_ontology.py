"""The ontology loader: a world's object vocabulary from data, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from robomem.ontology import NEUTRAL, Ontology, OntologyError, TypeInfo, words_of

TOY = {"types": {
    "Crate": {"receptacle": True, "openable": True, "container": True, "synonyms": ["box"]},
    "Gem": {"pickupable": True, "places": ["Crate"], "synonyms": ["jewel"]},
    "Oven": {"receptacle": True, "toggleable": True, "container": True, "appliance": True},
    "Floor": {"structure": True}},
    "roles": {"heat": {"put": "Oven", "switch": "Oven"}},
    "rooms": [{"room": "Kitchen", "any": ["Oven"]}, {"room": "Store", "all": ["Crate", "Gem"]}]}


def test_types_affordances_words_roles_and_rooms() -> None:
    onto = Ontology.from_dict(TOY, "toy")
    assert onto.info("Crate").container and onto.info("Gem").usual_places == ("Crate",)
    assert onto.info("Giraffe") is NEUTRAL and TypeInfo() == NEUTRAL
    assert not onto.info("Gem").furniture and onto.info("Crate").furniture
    words = onto.words()
    assert (words["box"], words["boxes"], words["jewels"], words["gem"]) == \
        ("Crate", "Crate", "Gem", "Gem")
    assert onto.role("heat") is not None and onto.role("heat").switch == "Oven"  # type: ignore[union-attr]
    assert onto.role("cool") is None
    assert onto.room_type({"Oven"}) == "Kitchen"
    assert onto.room_type({"Crate"}) == "Unknown" and onto.room_type({"Crate", "Gem"}) == "Store"
    assert onto.appliances() == {"Oven"} and onto.structure() == {"Floor"}
    assert onto.types() == ("Crate", "Floor", "Gem", "Oven") and len(onto) == 4 and "Gem" in onto


def test_words_of_splits_camel_case_and_acronyms() -> None:
    assert [words_of(t) for t in ("CounterTop", "TVStand", "CD", "HousePlant")] == \
        ["counter top", "tv stand", "cd", "house plant"]


@pytest.mark.parametrize(("bad", "message"), [
    ({"types": {}}, "non-empty 'types'"),
    ({"types": {"bad name": {}}}, "CamelCase"),
    ({"types": {"Gem": {"pickable": True}}}, "unknown key 'pickable'"),
    ({"types": {"Gem": {"pickupable": "yes"}}}, "pickupable must be true or false"),
    ({"types": {"Gem": {"synonyms": "jewel"}}}, "synonyms must be a list"),
    ({"types": {"Gem": {"synonyms": ["stone"]}, "Rock": {"synonyms": ["stone"]}}},
     "synonym 'stone' names both"),
    ({"types": {"Gem": {}}, "roles": {"fry": {"put": "Gem"}}}, "unknown role 'fry'"),
    ({"types": {"Gem": {}}, "roles": {"heat": {"put": "Oven"}}}, "'Oven' is not a type"),
    ({"types": {"Gem": {}}, "rooms": [{"room": "Hall"}]}, "needs 'room' and 'any' or 'all'"),
    ({"format": "other", "types": {"Gem": {}}}, "not a robomem ontology"),
])
def test_bad_ontologies_say_what_is_wrong(bad: dict[str, object], message: str) -> None:
    with pytest.raises(OntologyError, match=message):
        Ontology.from_dict(bad)


def test_load_reads_yaml_and_names_the_file(tmp_path: Path) -> None:
    good = tmp_path / "toy.yaml"
    good.write_text("format: robomem.ontology\ntypes:\n  Gem: {pickupable: true}\n")
    assert Ontology.load(good).info("Gem").pickupable
    bad = tmp_path / "bad.yaml"
    bad.write_text("types:\n  Gem: {colour: red}\n")
    with pytest.raises(OntologyError, match=r"bad\.yaml.*unknown key 'colour'"):
        Ontology.load(bad)
    with pytest.raises(OntologyError, match="cannot read ontology"):
        Ontology.load(tmp_path / "missing.yaml")
