"""AI2-THOR metadata: schema validity (AI2-THOR's published schema) and field semantics."""

from __future__ import annotations

import copy
import json
import math

import jsonschema
import numpy as np
import pytest

from robomem.envs.household.house import CAMERA_HEIGHT
from robomem.envs.household.world import AGENT_Y
from tests.fixtures.household import (
    act,
    face,
    first,
    fitting_item,
    hold,
    load_thor_schema,
    make_env,
    make_sim,
    metadata,
    object_schema,
    objects_by_id,
    put_into,
)

TEMPERATURES = {"RoomTemp", "Hot", "Cold"}


@pytest.fixture(scope="module")
def schema():
    s = load_thor_schema()
    jsonschema.Draft7Validator.check_schema(s)
    return s


@pytest.fixture(scope="module")
def validators(schema):
    obj = object_schema(schema)
    jsonschema.Draft7Validator.check_schema(obj)
    return jsonschema.Draft7Validator(schema), jsonschema.Draft7Validator(obj)


def _errors(validator, doc):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(doc)]


@pytest.fixture(scope="module")
def episode():
    """Metadata from a short episode that opens, toggles, picks up and moves."""
    sim = make_sim(5, 64, 64)
    house = sim.house
    mds = [sim._metadata("Initialize", True, "")]
    fridge = first(house, "Fridge")
    mw = first(house, "Microwave")
    face(sim, fridge.object_id)
    mds.append(act(sim, "OpenObject", fridge.object_id))
    face(sim, mw.object_id)
    mds.append(act(sim, "ToggleObjectOn", mw.object_id))
    item = next(o for o in house.objects.values() if o.kind.pickupable and o.parent
                and not house.objects[o.parent].kind.openable)
    face(sim, item.object_id)
    mds.append(act(sim, "PickupObject", item.object_id))
    for a in ("RotateRight", "MoveAhead", "LookDown", "MoveBack", "PutObject", "LookUp"):
        mds.append(act(sim, a))
    return sim, mds


def _all_metadata(episode):
    _, mds = episode
    out = list(mds)
    env = make_env(lifelong=True)
    _, info = env.reset(seed=2)
    out.append(metadata(info))
    _, info = env.reset()
    out.append(metadata(info))
    env = make_env(scene="FloorPlan1")
    _, info = env.reset(seed=0)
    out.append(metadata(info))
    for a in ("MoveAhead", "RotateLeft", "MoveAhead", "PickupObject"):
        out.append(metadata(env.step({"action": a, "object": 5})[4]))
    return out


# -------------------------------------------------------------------------- the schema
def test_schema_requires_every_published_field(schema):
    obj_required = set(schema["properties"]["objects"]["items"]["required"])
    assert len(obj_required) == 39
    assert {"ObjectTemperature", "axisAlignedBoundingBox", "objectOrientedBoundingBox",
            "parentReceptacles", "receptacleObjectIds", "salientMaterials", "fillLiquid",
            "isMoving", "distance", "visible"} <= obj_required
    assert len(schema["required"]) == 36
    assert {"agent", "objects", "heldObjectPose", "sceneBounds", "visibleRange",
            "screenWidth", "screenHeight", "errorMessage"} <= set(schema["required"])


def test_schema_rejects_broken_metadata(validators, episode):
    top, obj = validators
    md = episode[1][0]
    assert not _errors(top, md)
    for key in ("agent", "objects", "sceneBounds", "errorCode"):
        bad = copy.deepcopy(md)
        del bad[key]
        assert _errors(top, bad), key
    bad = copy.deepcopy(md)
    bad["screenWidth"] = 64.5
    assert _errors(top, bad)
    entry = md["objects"][0]
    for key, value in (("visible", "yes"), ("mass", "heavy"), ("fillLiquid", "water"),
                       ("parentReceptacles", [1]), ("position", {"x": 0, "y": 0})):
        bad = copy.deepcopy(entry)
        bad[key] = value
        assert _errors(obj, bad), key
    bad = copy.deepcopy(entry)
    del bad["axisAlignedBoundingBox"]["size"]
    assert _errors(obj, bad)


# ------------------------------------------------------------------------- validation
def test_every_step_validates_against_the_thor_schema(validators, episode):
    top, obj = validators
    for md in _all_metadata(episode):
        assert not _errors(top, md), _errors(top, md)[:5]
        assert md["objects"]
        for entry in md["objects"]:
            errs = _errors(obj, entry)
            assert not errs, (entry["objectId"], errs[:5])


def test_metadata_is_plain_json(episode):
    for md in episode[1]:
        assert json.loads(json.dumps(md)) == md  # no numpy scalars, tuples or NaNs


# -------------------------------------------------------------------------- semantics
def test_parent_and_child_links_agree(episode):
    for md in _all_metadata(episode):
        objs = objects_by_id(md)
        assert len(objs) == len(md["objects"])  # ids are unique
        for oid, o in objs.items():
            for p in o["parentReceptacles"] or []:
                assert p in objs, (oid, p)
                assert objs[p]["receptacle"] is True
                assert oid in objs[p]["receptacleObjectIds"], (oid, p)
            if o["receptacle"]:
                assert isinstance(o["receptacleObjectIds"], list)
                for c in o["receptacleObjectIds"]:
                    assert objs[c]["parentReceptacles"] == [oid], (oid, c)
            else:
                assert o["receptacleObjectIds"] is None
            if o["pickupable"] and not o["isPickedUp"]:
                assert o["parentReceptacles"], f"{oid} floats: no parent receptacle"


def test_picked_up_flags_match_the_inventory(episode):
    _, mds = episode
    held_seen = False
    for md in mds:
        picked = {o["objectId"] for o in md["objects"] if o["isPickedUp"]}
        inventory = {o["objectId"] for o in md["inventoryObjects"]}
        assert picked == inventory and len(inventory) <= 1
        for inv in md["inventoryObjects"]:
            assert inv["objectType"] == objects_by_id(md)[inv["objectId"]]["objectType"]
            held_seen = True
            pos = objects_by_id(md)[inv["objectId"]]["position"]
            assert md["heldObjectPose"]["position"] == pytest.approx(pos)
            assert objects_by_id(md)[inv["objectId"]]["parentReceptacles"] is None
    assert held_seen


def test_visible_flags_match_the_world():
    sim = make_sim(1, 64, 64)
    rng = np.random.default_rng(0)
    n_visible = 0
    for _ in range(30):
        a = ["MoveAhead", "RotateRight", "RotateLeft", "LookDown", "LookUp"][int(rng.integers(5))]
        md = act(sim, a)
        flags = {o["objectId"] for o in md["objects"] if o["visible"]}
        assert flags == sim.world.visible
        n_visible += len(flags)
    assert n_visible > 0


def test_distance_is_camera_to_centre(episode):
    for md in episode[1]:
        cam = md["cameraPosition"]
        c = (cam["x"], cam["y"], cam["z"])
        for o in md["objects"]:
            p = o["position"]
            assert o["distance"] == pytest.approx(math.dist(c, (p["x"], p["y"], p["z"])))
            box = o["axisAlignedBoundingBox"]
            if not (o["openable"] and o["isOpen"]):  # an open door widens the box
                assert p == pytest.approx(box["center"])
            lo = [box["center"][k] - box["size"][k] / 2 - 1e-6 for k in "xyz"]
            hi = [box["center"][k] + box["size"][k] / 2 + 1e-6 for k in "xyz"]
            assert all(lo[i] <= p[k] <= hi[i] for i, k in enumerate("xyz"))


def test_agent_and_camera_fields(episode):
    sim, mds = episode
    md = act(sim, "RotateRight")
    a = sim.world.agent
    assert md["agent"]["position"] == pytest.approx({"x": a.x, "y": AGENT_Y, "z": a.z})
    assert md["agent"]["rotation"] == pytest.approx({"x": 0.0, "y": a.yaw, "z": 0.0})
    assert md["agent"]["cameraHorizon"] == a.horizon
    assert md["cameraPosition"] == pytest.approx({"x": a.x, "y": CAMERA_HEIGHT, "z": a.z})
    assert (md["screenWidth"], md["screenHeight"]) == (64, 64)
    assert md["fov"] == 90.0
    assert md["lastAction"] == "RotateRight" and md["lastActionSuccess"] is True
    assert md["errorMessage"] == "" and md["errorCode"] is None
    assert md["sceneName"] == sim.house.name
    times = [m["currentTime"] for m in mds] + [md["currentTime"]]
    assert times == sorted(times) and times[-1] > times[0]


def test_scene_bounds_hold_every_object(episode):
    for md in episode[1]:
        b = md["sceneBounds"]
        lo = np.array([b["center"][k] - b["size"][k] / 2 for k in "xyz"]) - 1e-6
        hi = np.array([b["center"][k] + b["size"][k] / 2 for k in "xyz"]) + 1e-6
        for o in md["objects"]:
            pts = np.array(o["axisAlignedBoundingBox"]["cornerPoints"])
            assert pts.shape == (8, 3)
            assert ((pts >= lo) & (pts <= hi)).all(), o["objectId"]


def test_object_fields_follow_their_kind(episode):
    for md in episode[1]:
        for o in md["objects"]:
            assert o["objectId"].split("|")[0] == o["objectType"]
            assert o["ObjectTemperature"] in TEMPERATURES
            assert o["salientMaterials"] and all(isinstance(m, str) for m in o["salientMaterials"])
            if o["pickupable"]:
                assert o["mass"] > 0 and not o["openable"] and not o["receptacle"]
            if not o["openable"]:
                assert o["isOpen"] is False
            if not o["toggleable"]:
                assert o["isToggled"] is False
            if not o["dirtyable"]:
                assert o["isDirty"] is False
            if not o["cookable"]:
                assert o["isCooked"] is False
            if o["isHeatSource"]:
                assert o["isToggled"] and o["objectType"] in ("Microwave", "StoveBurner")
            assert o["isColdSource"] is (o["objectType"] == "Fridge")
            size = o["axisAlignedBoundingBox"]["size"]
            assert min(size.values()) > 0


def test_state_changes_show_up_in_metadata():
    sim = make_sim(5, 64, 64)
    house = sim.house
    fridge = first(house, "Fridge")
    mw = first(house, "Microwave")
    item = fitting_item(house, fridge)
    put_into(sim, item, fridge)
    item.temperature, item.is_dirty = "Hot", item.kind.dirtyable
    md = sim._metadata("Pass", True, "")
    o = objects_by_id(md)[item.object_id]
    assert o["parentReceptacles"] == [fridge.object_id]
    assert item.object_id in objects_by_id(md)[fridge.object_id]["receptacleObjectIds"]
    assert o["ObjectTemperature"] == "Hot" and o["isDirty"] is item.kind.dirtyable
    mw.is_toggled = True
    hold(sim, item)
    md = sim._metadata("Pass", True, "")
    assert objects_by_id(md)[mw.object_id]["isHeatSource"] is True
    assert objects_by_id(md)[mw.object_id]["isToggled"] is True
    assert item.object_id not in objects_by_id(md)[fridge.object_id]["receptacleObjectIds"]
    assert md["inventoryObjects"] == [{"objectId": item.object_id, "objectType": item.type}]


def test_failed_action_metadata():
    sim = make_sim(5, 64, 64)
    md = act(sim, "PutObject", first(sim.house, "CounterTop").object_id)
    assert md["lastAction"] == "PutObject"
    assert md["lastActionSuccess"] is False and md["errorMessage"]
