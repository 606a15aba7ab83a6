from __future__ import annotations

import json

import networkx as nx
import numpy as np
from PIL import Image

from robomem.geometry import AABB
from robomem.memory import SpatialMemory, SpatialMemoryConfig, cell_of, cell_xz
from robomem.percept import EVENT_GONE, EVENT_OPENED, Detection, ObjectEvent, Percept
from robomem.types import AgentPose
from tests.fixtures.memory import free_of
from tests.memory.conftest import Explored
from tests.memory.test_occupancy import floor

POSE = AgentPose(0.0, 0.9, 0.0, 0.0, 0.0)


def synthetic(step: int, dets: list[Detection], events: list[ObjectEvent] | None = None,
              depth: float = 0.0) -> Percept:
    K = np.array([[150.0, 0, 49.5], [0, 150.0, 49.5], [0, 0, 1]])
    return Percept(step, 0.1 * step, POSE, np.eye(4), K, np.full((100, 100), depth, np.float32),
                   floor(-2, 4, -2, 4).astype(np.float32), dets, events or [])


def test_write_returns_percept_events_then_graph_events() -> None:
    mem = SpatialMemory(SpatialMemoryConfig(rooms_every=1))
    cup = Detection("Cup|1", "Cup", AABB.from_center_size([0.0, 0.0, 2.0], [0.1] * 3))
    opened = ObjectEvent(EVENT_OPENED, "Fridge|1", "Fridge", 0)
    assert mem.write(synthetic(0, [cup], [opened])) == [opened]
    assert mem.rooms.room_ids() == ["room_0"] and mem.graph.rooms == {"room_0": "Unknown"}
    assert mem.graph.node("Cup|1").room == "room_0"
    out = []
    for step in range(1, 4):
        out += mem.write(synthetic(step, [], depth=2.5))
    assert [(e.kind, e.key) for e in out] == [(EVENT_GONE, "Cup|1")]
    assert len(mem.voxels) > 0 and mem.writes == 4
    mem.reset()
    assert len(mem.voxels) == 0 and len(mem.graph) == 0 and mem.grid.shape == (0, 0)
    assert mem.rooms.room_ids() == [] and mem.writes == 0


def test_queries_in_an_explored_house(explored: Explored) -> None:
    env, mem = explored.env, explored.memory
    md = env._metadata("Query", True, "")
    parents = {e["objectId"]: (e["parentReceptacles"] or [None])[0] for e in md["objects"]}
    counter = mem.where_is("CounterTop")[0]
    inside = {n.key for n in mem.what_is_in(counter.key)}
    assert inside and all(parents[k] == counter.key for k in inside)
    assert mem.where_is("Giraffe") == []
    fridge = mem.where_is("Fridge")[0]
    x, z = fridge.center[0] + 1.0, fridge.center[2]
    assert mem.nearest("Fridge", AgentPose(x, 0.9, z, 0.0, 0.0)).key == fridge.key
    assert mem.nearest("Giraffe", POSE) is None
    assert mem.frontiers(min_size=10) == []  # every room was toured: nothing left to explore


def test_path_to_view(explored: Explored) -> None:
    env, mem = explored.env, explored.memory
    pose = AgentPose(6.5, 0.9, 2.0, 0.0, 0.0)  # in the living room
    assert free_of(env, pose.x, pose.z)
    for label in ("Fridge", "Microwave", "Spoon"):
        node = mem.where_is(label)[0]
        got = mem.path_to_view(node.key, pose)
        assert got is not None, label
        path, goal = got
        assert path[0] == cell_of(pose.x, pose.z) and path[-1] == goal
        gx, gz = cell_xz(goal)
        assert node.box.distance_to((gx, 1.5, gz)) <= mem.cfg.reach + 1e-9
        assert free_of(env, gx, gz)
        again = mem.path_to_view(node.key, pose, exclude={goal})
        assert again is not None and again[1] != goal
    blocked = {(path[0], path[1])}
    detour = mem.path_to_view(node.key, pose, blocked_edges=blocked)
    assert detour is not None and detour[0][1] != path[1]
    assert mem.path_to_view("Nope|1", pose) is None
    to_point = mem.path_to_point(1.5, 1.5, pose)
    assert to_point is not None and np.hypot(*(np.array(cell_xz(to_point[1])) - 1.5)) <= 0.5


def test_export(tmp_path, explored: Explored) -> None:
    paths = explored.memory.export(tmp_path / "out")
    assert {p.name for p in paths.values()} == {"scene_graph.json", "scene_graph.graphml",
                                                "occupancy.png"}
    data = json.loads(paths["json"].read_text())
    assert len(data["nodes"]) == len(explored.memory.graph)
    graph = nx.read_graphml(paths["graphml"])
    assert graph.number_of_nodes() == explored.memory.graph.graph.number_of_nodes()
    img = np.asarray(Image.open(paths["occupancy"]))
    assert img.shape == explored.memory.grid.image().shape
    empty = SpatialMemory().export(tmp_path / "empty")
    assert Image.open(empty["occupancy"]).size == (1, 1)
