from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pytest

from robomem.envs.household.placement import find_spot
from robomem.geometry import AABB
from robomem.memory.navigation import cell_xz
from robomem.memory.rooms import RoomMap
from robomem.memory.scene_graph import HOUSE, ObjectNode, SceneGraph
from robomem.percept import (
    EVENT_CLOSED,
    EVENT_GONE,
    EVENT_OPENED,
    EVENT_PICKED_UP,
    EVENT_PUT_DOWN,
    EVENT_TOGGLED_ON,
    Detection,
    ObjectEvent,
    Percept,
)
from robomem.types import AgentPose
from tests.fixtures.household import face, face_away, make_sim, put_into
from tests.fixtures.memory import gt_detections, make_percept, observe, pick_pickupable
from tests.memory.conftest import Explored

POSE = AgentPose(0.0, 0.9, 0.0, 0.0, 0.0)
K = np.array([[150.0, 0, 49.5], [0, 150.0, 49.5], [0, 0, 1]])


def det(key: str, label: str, center: list[float], size: list[float],
        visible: bool = True) -> Detection:
    return Detection(key, label, AABB.from_center_size(center, size), visible=visible)


def percept(dets: list[Detection], step: int = 0, events: list[ObjectEvent] | None = None,
            depth: float = 0.0, held: str | None = None) -> Percept:
    """Camera at the origin looking along +z (camera frame = world frame, y down)."""
    return Percept(step, 0.1 * step, POSE, np.eye(4), K, np.full((100, 100), depth, np.float32),
                   np.zeros((0, 3), np.float32), dets, events or [], held)


def kitchen() -> list[Detection]:
    return [det("Counter|1", "CounterTop", [0.0, 0.45, 5.0], [1.6, 0.9, 0.6]),
            det("Fridge|1", "Fridge", [3.0, 0.9, 5.0], [0.8, 1.8, 0.7]),
            det("Apple|1", "Apple", [0.3, 0.94, 5.0], [0.08, 0.08, 0.08]),
            det("Egg|1", "Egg", [3.0, 0.8, 5.0], [0.05, 0.06, 0.05]),
            det("Mug|1", "Mug", [1.05, 0.05, 5.0], [0.09, 0.1, 0.09])]


def test_upsert_relations_and_queries() -> None:
    sg = SceneGraph()
    assert sg.update(percept(kitchen())) == []
    apple, egg, mug = sg.node("Apple|1"), sg.node("Egg|1"), sg.node("Mug|1")
    assert apple.parent == "Counter|1" and apple.relation == "on"
    assert egg.parent == "Fridge|1" and egg.relation == "in"
    assert mug.parent is None  # on the floor, beside the counter
    assert ("near", "Counter|1") in sg.relations("Mug|1")
    assert ("near", "Mug|1") in sg.relations("Counter|1")
    assert ("on", "Counter|1") in sg.relations("Apple|1")
    assert ("near", "Counter|1") not in sg.relations("Apple|1")  # on it, so not "near"
    assert [n.key for n in sg.contents("Fridge|1")] == ["Egg|1"]
    assert apple.pickupable and not apple.receptacle and sg.node("Fridge|1").openable
    assert sg.node("Nope") is None and len(sg) == 5 and "Egg|1" in sg
    # confidence rises with sightings, capped at 1
    c0 = apple.confidence
    for step in range(1, 8):
        sg.update(percept([kitchen()[2]], step=step))
    assert apple.confidence == 1.0 > c0 and apple.last_seen == 7 and apple.first_seen == 0


def test_find_and_nearest_rank_candidates() -> None:
    sg = SceneGraph()
    sg.update(percept([det("Cup|a", "Cup", [0, 1, 5], [0.1] * 3)], step=0))
    sg.update(percept([det("Cup|b", "Cup", [4, 1, 5], [0.1] * 3)], step=1))
    assert [n.key for n in sg.find("Cup")] == ["Cup|b", "Cup|a"]  # same confidence: recency
    sg.update(percept([det("Cup|a", "Cup", [0, 1, 5], [0.1] * 3)], step=2))
    assert [n.key for n in sg.find("Cup")] == ["Cup|a", "Cup|b"]  # more confident first
    assert sg.nearest("Cup", (3.5, 5.0)).key == "Cup|b"
    assert sg.nearest("Plate", (0.0, 0.0)) is None and sg.find("Plate") == []


def test_events_update_nodes() -> None:
    sg = SceneGraph()
    sg.update(percept(kitchen()))
    sg.update(percept([], 1, [ObjectEvent(EVENT_PICKED_UP, "Apple|1", "Apple", 1)],
                      held="Apple|1"))
    apple = sg.node("Apple|1")
    assert apple.held and apple.parent is None
    assert not [r for r, _ in sg.relations("Apple|1") if r in ("in", "on")]
    sg.update(percept([], 2, [ObjectEvent(EVENT_OPENED, "Fridge|1", "Fridge", 2)]))
    assert sg.node("Fridge|1").is_open is True
    sg.update(percept([], 3, [ObjectEvent(EVENT_PUT_DOWN, "Apple|1", "Apple", 3,
                                          detail="Fridge|1")]))
    assert not apple.held and apple.parent == "Fridge|1" and apple.relation == "in"
    assert sg.node("Fridge|1").box.contains(apple.box.center)
    sg.update(percept([], 4, [ObjectEvent(EVENT_CLOSED, "Fridge|1", "Fridge", 4),
                              ObjectEvent(EVENT_TOGGLED_ON, "Mug|1", "Mug", 4)]))
    assert sg.node("Fridge|1").is_open is False and sg.node("Mug|1").is_toggled is True
    assert {n.key for n in sg.contents("Fridge|1")} == {"Apple|1", "Egg|1"}
    # seen again on the counter: geometry wins over the event's parent
    sg.update(percept([det("Apple|1", "Apple", [-0.3, 0.94, 5.0], [0.08] * 3)], 5))
    assert apple.parent == "Counter|1" and apple.relation == "on"
    sg.update(percept([], 6, [ObjectEvent(EVENT_PICKED_UP, "Ghost|1", "Ghost", 6)]))  # unknown
    assert sg.node("Ghost|1") is None
    # put down and seen in the same step: the sighting, not the estimate, places it
    sg.update(percept([], 7, [ObjectEvent(EVENT_PICKED_UP, "Apple|1", "Apple", 7)]))
    spot = det("Apple|1", "Apple", [0.6, 0.94, 5.1], [0.08] * 3)
    sg.update(percept([spot], 8, [ObjectEvent(EVENT_PUT_DOWN, "Apple|1", "Apple", 8,
                                              detail="Counter|1")]))
    assert apple.located and not apple.held and apple.box.center.tolist() == [0.6, 0.94, 5.1]
    assert apple.parent == "Counter|1" and apple.relation == "on"


def test_stale_beliefs_need_an_unoccluded_view() -> None:
    dets = [det("Cup|1", "Cup", [0.0, 0.0, 2.0], [0.1] * 3),
            det("Far|1", "Cup", [0.0, 0.0, 3.5], [0.1] * 3),
            det("Side|1", "Cup", [3.0, 0.0, 1.0], [0.1] * 3),
            det("Table|1", "DiningTable", [0.0, 1.0, 2.0], [1.0, 0.1, 1.0])]
    sg = SceneGraph()
    sg.update(percept(dets))
    # occluded (something at 1 m in front of it), out of range, out of view: kept as they are
    for step in range(1, 4):
        assert sg.update(percept([], step, depth=1.0)) == []
    assert sg.node("Cup|1").confidence == pytest.approx(0.5)
    # in view and the depth shows the floor behind where it was: it is gone
    events = []
    for step in range(4, 7):
        events += sg.update(percept([], step, depth=2.5))
    assert [(e.kind, e.key) for e in events] == [(EVENT_GONE, "Cup|1")]
    assert sg.node("Cup|1") is None and sg.node("Far|1") is not None
    assert sg.node("Side|1") is not None and sg.node("Table|1") is not None  # furniture stays
    assert "Cup|1" not in sg.graph


def test_relations_match_ground_truth_parents() -> None:
    hits = total = 0
    for seed in (0, 5):
        env = make_sim(seed=seed)
        obs, md = observe(env)
        sg = SceneGraph()
        sg.update(make_percept(obs, gt_detections(obs, md, env, everything=True)))
        for e in md["objects"]:
            if (e["pickupable"] or e["parentReceptacles"]) and not e["isPickedUp"]:
                total += 1  # every item, and furniture standing on furniture (Microwave)
                node = sg.node(e["objectId"])
                assert node is not None
                hits += node.parent == (e["parentReceptacles"] or [None])[0]
    assert total > 30 and hits / total >= 0.9


def test_gone_only_when_its_spot_is_seen_empty() -> None:
    env = make_sim(seed=5, width=96, height=96)
    item = pick_pickupable(env)
    face(env, item.object_id)
    a = env.world.agent
    seen_from = (a.x, a.z, a.yaw, a.horizon)
    sg = SceneGraph()
    obs, md = observe(env)
    sg.update(make_percept(obs, gt_detections(obs, md, env), step=0))
    assert sg.node(item.object_id) is not None
    # move it away (somewhere out of this view) while the agent is not looking
    rng = np.random.default_rng(0)
    host = next(o for o in env.house.objects.values()
                if o.kind.receptacle and not o.kind.openable
                and o.room != env.house.objects[item.parent].room
                and find_spot(env.house, o, item.type, rng, ignore=item.object_id) is not None)
    face_away(env, item.object_id)
    put_into(env, item, host)
    for step in range(1, 4):
        obs, md = observe(env, rebuild=True)
        assert sg.update(make_percept(obs, gt_detections(obs, md, env), step=step)) == []
    assert sg.node(item.object_id).confidence >= 0.5
    # look at its old spot: it is not there
    assert env.world.teleport(*seen_from)
    gone = []
    for step in range(4, 7):
        obs, md = observe(env)
        gone += sg.update(make_percept(obs, gt_detections(obs, md, env), step=step))
    assert [(e.kind, e.key) for e in gone] == [(EVENT_GONE, item.object_id)]
    assert sg.node(item.object_id) is None


def test_json_roundtrip_and_graphml(tmp_path, explored: Explored) -> None:
    sg = explored.memory.graph
    assert sg.rooms and all(n.room for n in sg.nodes() if not n.pickupable)
    data = json.loads(json.dumps(sg.to_json()))
    back = SceneGraph.from_json(data)
    assert back.to_json() == data
    assert [n.to_dict() for n in back.nodes()] == [n.to_dict() for n in sg.nodes()]
    sg.save_json(tmp_path / "g.json")
    assert json.loads((tmp_path / "g.json").read_text()) == data
    sg.save_graphml(tmp_path / "g.graphml")
    g = nx.read_graphml(tmp_path / "g.graphml")
    assert set(g.nodes) == set(sg.graph.nodes) and g.number_of_edges() == sg.graph.number_of_edges()
    fridge = next(n for n in sg.nodes() if n.label == "Fridge")
    attrs = g.nodes[fridge.key]
    assert attrs["label"] == "Fridge" and attrs["lo_y"] == pytest.approx(fridge.box.lo[1])
    assert g.nodes[HOUSE]["kind"] == "house"
    assert {d["relation"] for _, _, d in g.edges(data=True)} >= {"contains", "on", "near"}


def test_rooms_in_the_graph(explored: Explored) -> None:
    sg = explored.memory.graph
    rooms = [v for v, k in sg.graph.nodes(data="kind") if k == "room"]
    assert len(rooms) == 2 and all(sg.graph.has_edge(HOUSE, r) for r in rooms)
    assert sorted(sg.rooms.values()) == ["Kitchen", "LivingRoom"]
    for n in sg.nodes():
        if not n.pickupable:
            assert sg.graph.has_edge(f"room:{n.room}", n.key)
    kitchen_room = next(r for r, t in sg.rooms.items() if t == "Kitchen")
    fridge = next(n for n in sg.nodes() if n.label == "Fridge")
    assert fridge.room == kitchen_room
    empty = SceneGraph()
    empty.set_rooms(RoomMap())
    assert empty.rooms == {} and list(empty.graph.nodes) == [HOUSE]


def test_object_node_records() -> None:
    n = ObjectNode("Mug|1", "Mug", AABB(np.zeros(3), np.ones(3)), 0, 2, is_open=None)
    assert ObjectNode.from_dict(n.to_dict()) == n and n != ObjectNode.from_dict(
        {**n.to_dict(), "held": True})
    assert "is_open" not in n.flat() and n.flat()["hi_z"] == 1.0
    assert n.center == (0.5, 0.5, 0.5) and cell_xz((0, 0)) == (0.0, 0.0)
