"""Spatial memory to bytes and back: a scene's map kept between runs."""

from __future__ import annotations

import copy
import io
import json
import pickle
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from robomem.geometry import AABB
from robomem.memory import SpatialMemory, SpatialMemoryConfig
from robomem.percept import EVENT_OPENED, Detection, ObjectEvent, Percept
from robomem.types import AgentPose
from tests.fixtures.household import make_sim
from tests.fixtures.memory import explore, lattice
from tests.memory.conftest import TWO_ROOM_SEED, Explored
from tests.memory.test_occupancy import floor

POSE = AgentPose(6.5, 0.9, 2.0, 0.0, 0.0)  # in the living room of the two-room house


def contents(data: bytes) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """The JSON part and the arrays of a serialised memory (independent of zip timestamps)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return json.loads(arrays.pop("meta").tobytes()), arrays


def npz(**arrays: Any) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def meta_array(meta: dict[str, Any]) -> NDArray[np.uint8]:
    return np.frombuffer(json.dumps(meta).encode(), np.uint8)


def assert_same(a: SpatialMemory, b: SpatialMemory) -> None:
    """Every map, the graph and the bookkeeping are identical."""
    assert a.cfg == b.cfg and a.writes == b.writes
    np.testing.assert_array_equal(a.voxels.keys(), b.voxels.keys())
    assert a.voxels.full == b.voxels.full and a.voxels.voxel == b.voxels.voxel
    for name in ("origin", "grid", "evidence", "height"):
        x, y = getattr(a.grid, name), getattr(b.grid, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    assert a.grid.version == b.grid.version and a.grid.bounds() == b.grid.bounds()
    for name in ("labels", "dist", "origin"):
        x, y = getattr(a.rooms, name), getattr(b.rooms, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    assert (a.rooms.ids, a.rooms.next_id) == (b.rooms.ids, b.rooms.next_id)
    # The scene graph: nodes in the same (insertion) order, same attributes, same edges.
    assert a.graph.to_json(insertion_order=True) == b.graph.to_json(insertion_order=True)
    assert a.graph.rooms == b.graph.rooms
    assert set(a.graph.graph.nodes) == set(b.graph.graph.nodes)
    for v, attrs in a.graph.graph.nodes(data=True):
        assert b.graph.graph.nodes[v] == attrs, v
    assert (sorted((u, v, d["relation"]) for u, v, d in a.graph.graph.edges(data=True))
            == sorted((u, v, d["relation"]) for u, v, d in b.graph.graph.edges(data=True)))


@pytest.fixture(scope="module")
def half_explored() -> SpatialMemory:
    """The two-room house with only its first room toured: frontiers at the doorway."""
    env = make_sim(seed=TWO_ROOM_SEED, n_rooms=2, width=80, height=80)
    assert env.house is not None
    mem = SpatialMemory(SpatialMemoryConfig(rooms_every=10))
    explore(env, mem, lattice(env, every=2, room=env.house.rooms[0].id), with_detections=True)
    return mem


@pytest.mark.parametrize("which", ["explored", "half_explored"])
def test_round_trip_of_a_toured_house(which: str, request: pytest.FixtureRequest) -> None:
    mem = request.getfixturevalue("explored").memory if which == "explored" else (
        request.getfixturevalue("half_explored"))
    data = mem.to_bytes()
    back = SpatialMemory.from_bytes(data)
    assert back is not mem and back.graph is not mem.graph
    assert_same(mem, back)
    assert len(back.graph) > 10 and back.rooms.room_ids() and len(back.voxels) > 1000

    labels = sorted({n.label for n in mem.graph.nodes()})
    for label in labels:
        assert back.where_is(label) == mem.where_is(label), label
        assert back.nearest(label, POSE) == mem.nearest(label, POSE)
    for host in mem.graph.nodes():
        assert back.what_is_in(host.key) == mem.what_is_in(host.key)
    assert any(mem.what_is_in(n.key) for n in mem.graph.nodes())
    xz = np.array([[x, z] for x in np.arange(0, 10, 0.5) for z in np.arange(0, 5, 0.5)])
    assert back.rooms.rooms_of(xz) == mem.rooms.rooms_of(xz)
    np.testing.assert_array_equal(back.grid.disc_clear(xz, 0.2), mem.grid.disc_clear(xz, 0.2))

    for size in (1, 3):
        got, want = back.frontiers(size), mem.frontiers(size)
        assert [(f.centroid_xz, f.size) for f in got] == [(f.centroid_xz, f.size) for f in want]
        for f, g in zip(got, want):
            np.testing.assert_array_equal(f.cells, g.cells)
    if which == "half_explored":
        assert mem.frontiers(3) != []  # the comparison above is not vacuous

    plans = 0
    for node in mem.graph.nodes()[:8]:
        plan = mem.path_to_view(node.key, POSE)
        assert back.path_to_view(node.key, POSE) == plan, node.key
        if plan is not None:
            plans += 1
            assert (back.path_to_view(node.key, POSE, exclude={plan[1]})
                    == mem.path_to_view(node.key, POSE, exclude={plan[1]}))
    assert plans > 0
    assert back.path_to_point(1.5, 1.5, POSE) == mem.path_to_point(1.5, 1.5, POSE)

    # Saving the restored memory again gives the same contents.
    meta, arrays = contents(data)
    meta2, arrays2 = contents(back.to_bytes())
    assert meta2 == meta and arrays2.keys() == arrays.keys()
    for k in arrays:
        np.testing.assert_array_equal(arrays2[k], arrays[k], err_msg=k)
    assert (meta["format"], meta["version"]) == ("robomem.spatial", 1)


def test_restored_memory_goes_on_like_the_original(explored: Explored) -> None:
    mem = copy.deepcopy(explored.memory)  # the session fixture must stay as it is
    back = SpatialMemory.from_bytes(mem.to_bytes())
    fridge = mem.where_is("Fridge")[0]
    counter = mem.where_is("CounterTop")[0]
    top = float(counter.box.hi[1])
    cx, cz = (float(v) for v in counter.box.center[[0, 2]])
    mug = Detection("Mug|new", "Mug", AABB.from_center_size([cx, top + 0.05, cz], [0.1] * 3))
    K = np.array([[150.0, 0, 49.5], [0, 150.0, 49.5], [0, 0, 1]])
    for step, (dets, events) in enumerate([
            ([mug], [ObjectEvent(EVENT_OPENED, fridge.key, "Fridge", 0)]), ([], [])]):
        pts = floor(cx - 1, cx + 1, cz - 1, cz + 1).astype(np.float32)
        p = Percept(500 + step, 50.0, AgentPose(cx, 0.9, cz - 1.0, 0.0, 30.0), np.eye(4), K,
                    np.zeros((100, 100), np.float32), pts, dets, events)
        assert back.write(p) == mem.write(p)
    assert back.update_rooms().ids == mem.update_rooms().ids
    assert_same(mem, back)
    opened = back.graph.node(fridge.key)
    assert back.graph.node("Mug|new") is not None and opened is not None and opened.is_open


def test_settings_on_restore(explored: Explored) -> None:
    data = explored.memory.to_bytes()
    cfg = SpatialMemoryConfig(rooms_every=5, reach=1.2)
    back = SpatialMemory.from_bytes(data, cfg)
    assert back.cfg is cfg and back.graph.near == cfg.near
    with pytest.raises(ValueError, match=r"does not fit the settings: resolution: saved 0.05, "
                                         r"asked 0.1"):
        SpatialMemory.from_bytes(data, SpatialMemoryConfig(resolution=0.1))
    with pytest.raises(ValueError, match=r"obstacle_band: saved \(0.15, 1.8\)"):
        SpatialMemory.from_bytes(data, SpatialMemoryConfig(obstacle_band=(0.1, 1.8)))


@pytest.mark.parametrize("cfg", [SpatialMemoryConfig(),
                                 SpatialMemoryConfig(use_voxels=False, voxel=0.1)])
def test_empty_and_fresh_memories_round_trip(cfg: SpatialMemoryConfig) -> None:
    mem = SpatialMemory(cfg)
    back = SpatialMemory.from_bytes(mem.to_bytes())
    assert_same(mem, back)
    assert back.grid.shape == (0, 0) and len(back.voxels) == 0 and len(back.graph) == 0
    assert back.frontiers() == [] and back.where_is("Mug") == []
    pts = floor(-1, 1, -1, 1).astype(np.float32)
    p = Percept(0, 0.0, AgentPose(0.0, 0.9, 0.0, 0.0, 0.0), np.eye(4), np.eye(3),
                np.zeros((1, 1), np.float32), pts,
                [Detection("Apple|1", "Apple", AABB.from_center_size([0.5, 0.0, 0.5], [0.1] * 3))])
    assert back.write(p) == mem.write(p)
    assert_same(mem, SpatialMemory.from_bytes(back.to_bytes()))


def _bad_inputs() -> list[tuple[str, bytes, str]]:
    good = SpatialMemory().to_bytes()
    meta, arrays = contents(good)
    buf = io.BytesIO()
    np.save(buf, np.arange(3))
    wrong_version = dict(meta, version=99)
    no_grid = {k: v for k, v in meta.items() if k != "grid"}
    bad_grid = {k: v for k, v in arrays.items()}
    bad_grid["grid.grid"] = np.full((2, 3), 7, np.int8)
    return [
        ("empty", b"", "unreadable spatial memory data"),
        ("garbage", b"this is not a map at all", "unreadable spatial memory data"),
        ("random", np.random.default_rng(0).bytes(4096), "unreadable spatial memory data"),
        ("truncated", good[: len(good) // 2], "unreadable spatial memory data"),
        ("npy", buf.getvalue(), "not a compressed npz archive"),
        ("pickle", pickle.dumps({"meta": 1}), "unreadable spatial memory data"),
        ("object array", npz(meta=np.array([{"a": 1}], dtype=object)),
         "unreadable spatial memory data"),
        ("no meta", npz(x=np.zeros(3)), "no readable 'meta' part"),
        ("meta not json", npz(meta=np.frombuffer(b"\xff{", np.uint8)), "no readable 'meta'"),
        ("other format", npz(meta=meta_array({"format": "x"})), "format 'x'"),
        ("version", npz(meta=meta_array(wrong_version), **arrays),
         "unsupported spatial memory version 99; supported: 1"),
        ("missing part", npz(meta=meta_array(no_grid), **arrays), "missing or malformed"),
        ("bad cells", npz(meta=meta_array(meta), **bad_grid), "occupancy arrays do not fit"),
    ]


@pytest.mark.parametrize(("what", "data", "message"), _bad_inputs(),
                         ids=[w for w, _, _ in _bad_inputs()])
def test_unreadable_data_raises(what: str, data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SpatialMemory.from_bytes(data)
