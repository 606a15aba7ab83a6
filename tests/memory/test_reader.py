"""MemoryReader: questions people ask a robot's memory, answered from the scene graph."""

from __future__ import annotations

import gymnasium as gym
import pytest

from robomem.agent import AgentConfig, MemoryAgent
from robomem.embodiment import embodiment_for
from robomem.geometry import AABB
from robomem.memory.base import Fact
from robomem.memory.object_node import ObjectNode
from robomem.memory.reader import MemoryReader
from robomem.memory.scene_graph import SceneGraph
from robomem.memory.system import MemorySystemConfig
from robomem.ontology import default_ontology, words_of
from robomem.reservoir import Reservoir
from robomem.runner import _episode


def _node(key: str, center: list[float], parent: str | None = None, **kw: object) -> ObjectNode:
    label = key.split("|")[0]
    return ObjectNode(key, label, AABB.from_center_size(center, [0.2, 0.2, 0.2]), 0,
                      int(kw.pop("last_seen", 3)), float(kw.pop("confidence", 0.7)),  # type: ignore[arg-type]
                      parent=parent, relation="in" if parent else None, **kw)  # type: ignore[arg-type]


@pytest.fixture
def graph() -> SceneGraph:
    g = SceneGraph()
    for n in (_node("Fridge|1", [1, 1, 2], receptacle=True, room="room_0"),
              _node("Apple|2", [1, 1, 2.1], "Fridge|1", pickupable=True, last_seen=9),
              _node("DeskLamp|3", [4, 1, 4], room="room_1"),
              _node("FloorLamp|4", [5, 0.5, 1], room="room_1"),
              _node("Mug|5", [0, 1, 0], pickupable=True, held=True)):
        g._nodes[n.key] = n
    g._sync_edges()
    return g


def _reader(g: SceneGraph, **kw: object) -> MemoryReader:
    return MemoryReader(g, default_ontology(),
                        room_types={"room_0": "Kitchen", "room_1": "LivingRoom"}, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("question", ["Where is the apple?", "where are the apples",
                                      "find an apple", "have you seen my apple?",
                                      "where did you leave the apple?"])
def test_where_questions_in_their_forms(graph: SceneGraph, question: str) -> None:
    a = _reader(graph).ask(question)
    assert a.ok and a.kind == "where" and a.types[0] == "Apple"
    (obj,) = a.objects
    assert obj["key"] == "Apple|2" and obj["parent"] == "Fridge|1"
    assert obj["center"] == [1.0, 1.0, 2.1] and obj["size"] == [0.2, 0.2, 0.2]
    assert "in the Fridge (Fridge|1)" in a.text and "step 9" in a.text


def test_a_category_word_asks_for_every_kind(graph: SceneGraph) -> None:
    a = _reader(graph).ask("where is the lamp?")
    assert {o["key"] for o in a.objects} == {"DeskLamp|3", "FloorLamp|4"}
    assert all(o["room_type"] == "LivingRoom" for o in a.objects)
    assert "in the LivingRoom" in a.text


def test_contents_held_and_unseen(graph: SceneGraph) -> None:
    r = _reader(graph)
    a = r.ask("What's in the fridge?")
    assert a.ok and a.kind == "contents" and [o["key"] for o in a.objects] == ["Apple|2"]
    assert a.text == "In Fridge (Fridge|1): Apple (Apple|2)."
    assert "in my hand" in r.ask("where is the mug").text
    unseen = r.ask("where is the kettle?")
    assert unseen.ok and not unseen.objects and "not seen a Kettle" in unseen.text
    assert "nothing in or on the desk lamp" in r.ask("what is on the desk lamp").text


def test_what_it_cannot_answer_says_why(graph: SceneGraph) -> None:
    r = _reader(graph)
    a = r.ask("where is the appel?")
    assert not a.ok and "'appel'" in a.text and "nearest known: Apple" in a.text
    b = r.ask("sing me a song")
    assert not b.ok and b.kind == "unknown" and "where is the X?" in b.text
    c = r.ask("recall the moment when I opened the fridge")
    assert not c.ok and "no episodic memory" in c.text
    long = r.ask("where is the " + "x" * 10_000)
    assert not long.ok and len(long.text) < 300


def test_moments_come_from_episodic_recall(graph: SceneGraph) -> None:
    asked: list[tuple[str, int]] = []

    def moments(text: str, k: int) -> list[Fact]:
        asked.append((text, k))
        return [Fact("episodic", "moment", text, "opened Fridge|1", 0.9,
                     {"episode": 2, "step": 14, "scene": "house_3"})]

    a = _reader(graph, moments=moments).ask("Recall the moment when I opened the fridge?")
    assert asked == [("i opened the fridge", 3)]
    assert a.ok and a.moments[0]["episode"] == 2 and a.moments[0]["step"] == 14
    assert a.text == "Episode 2, step 14: opened Fridge|1."
    assert a.to_dict()["moments"][0]["scene"] == "house_3"


def test_an_agents_reader_answers_from_what_it_saw() -> None:
    env = gym.make("robomem/Household-v0", width=64, height=64)
    agent = MemoryAgent(AgentConfig(modules=MemorySystemConfig(
        options={"episodic": {"encoder": "hash"}})), embodiment_for(env))
    try:
        latency = {"env_step": Reservoir(), "policy_act": Reservoir()}
        _episode(env, agent, 0, 0, latency, False)
        reader = agent.reader()
        graph = agent.memory.graph
        node = next(n for n in graph.nodes() if n.pickupable)
        a = reader.ask(f"where is the {words_of(node.label)}?")
        assert node.key in {o["key"] for o in a.objects}
        assert len(reader.objects()) == len(graph)
        moment = reader.ask("recall the moment when I picked something up")
        assert moment.ok and moment.moments
    finally:
        agent.close()
        env.close()
