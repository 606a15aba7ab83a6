"""Household actions: movement, turning, looking, and every object interaction.

Interactions run through ``env.step`` (the Gymnasium API) with objectId strings; scenes are
set up by teleporting the agent in front of objects and, where a test needs a particular
situation, by editing ground truth directly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from robomem import keys
from robomem.envs.household.actions import ACTIONS, DONE, MOVE_ACTIONS, OBJECT_ACTIONS
from robomem.envs.household.catalog import HEATABLE_TYPES
from robomem.envs.household.house import CAMERA_HEIGHT, GRID, forward
from robomem.envs.household.placement import surface
from robomem.envs.household.world import HORIZON_MAX, HORIZON_MIN
from tests.fixtures.household import (
    DEFAULT_SEED,
    MOVE_DIRECTIONS,
    act,
    agent_pose,
    blocked_move,
    face,
    face_away,
    face_from_afar,
    first,
    fitting_item,
    hold,
    make_sim,
    objects_by_id,
    of_type,
    open_cell,
    put_into,
    render_now,
    step,
    yaw_for,
)


@pytest.fixture
def sim():
    """A fresh env (seeded house) per test: interactions mutate the house."""
    return make_sim(DEFAULT_SEED)


def _loose_item(house, exclude_parent_types=()):
    """The biggest pickupable lying on an open (non-openable) surface."""
    loose = [o for o in house.objects.values()
             if o.kind.pickupable and o.parent and not house.objects[o.parent].kind.openable
             and house.objects[o.parent].type not in exclude_parent_types]
    assert loose, "no loose item in the house"
    return max(loose, key=lambda o: (o.box.size[0] * o.box.size[2], o.object_id))


def _held(md):
    return [o["objectId"] for o in md["inventoryObjects"]]


# ------------------------------------------------------------------------------ movement
@pytest.mark.parametrize("yaw", [0, 90, 180, 270])
@pytest.mark.parametrize("action", MOVE_ACTIONS)
def test_move_goes_exactly_one_grid_step_the_right_way(sim, yaw, action):
    x, z = open_cell(sim.world)
    assert sim.world.teleport(x, z, yaw)
    render_now(sim)
    obs, _, _, _, info = step(sim, action)
    md = info[keys.INFO_PRIVILEGED][keys.PRIV_METADATA]
    assert md["lastActionSuccess"], md["errorMessage"]
    assert md["errorMessage"] == ""
    assert md["collided"] is False
    nx, nz, nyaw, nhor = agent_pose(md)
    dx, dz = MOVE_DIRECTIONS[yaw][action]
    assert nx == pytest.approx(x + dx * 0.25, abs=1e-9)
    assert nz == pytest.approx(z + dz * 0.25, abs=1e-9)
    assert math.hypot(nx - x, nz - z) == pytest.approx(0.25, abs=1e-9)
    assert (nyaw, nhor) == (yaw, 0.0)
    assert md["agent"]["position"]["y"] == pytest.approx(0.9)
    # The observation agrees with the metadata.
    np.testing.assert_allclose(obs[keys.OBS_AGENT_POSE], [nx, 0.9, nz, yaw, 0.0], atol=1e-5)
    np.testing.assert_allclose(obs[keys.OBS_CAMERA_POSE][:3, 3], [nx, CAMERA_HEIGHT, nz],
                               atol=1e-9)


@pytest.mark.parametrize("yaw", [0, 90, 180, 270])
def test_move_directions_match_camera_axes(sim, yaw):
    """MoveAhead goes along the camera's z axis and MoveRight along its x axis (OpenCV)."""
    x, z = open_cell(sim.world)
    sim.world.teleport(x, z, yaw)
    pose = render_now(sim).camera_pose
    ahead = MOVE_DIRECTIONS[yaw]["MoveAhead"]
    right = MOVE_DIRECTIONS[yaw]["MoveRight"]
    np.testing.assert_allclose(pose[:3, 2], [ahead[0], 0.0, ahead[1]], atol=1e-9)
    np.testing.assert_allclose(pose[:3, 0], [right[0], 0.0, right[1]], atol=1e-9)
    np.testing.assert_allclose(pose[:3, 1], [0.0, -1.0, 0.0], atol=1e-9)  # y down
    np.testing.assert_allclose(forward(yaw), [ahead[0], 0.0, ahead[1]], atol=1e-9)


def test_move_accepts_action_indices(sim):
    x, z = open_cell(sim.world)
    sim.world.teleport(x, z, 90.0)
    md = act(sim, ACTIONS.index("MoveAhead"))
    assert md["lastAction"] == "MoveAhead" and md["lastActionSuccess"]
    assert agent_pose(md)[:2] == pytest.approx((x - 0.25, z))


def test_move_there_and_back_returns_to_start(sim):
    x, z = open_cell(sim.world, steps=2)
    sim.world.teleport(x, z, 180.0)
    for a in ("MoveAhead", "MoveLeft", "MoveBack", "MoveRight"):
        assert act(sim, a)["lastActionSuccess"]
    md = act(sim, "RotateLeft")
    assert agent_pose(md) == pytest.approx((x, z, 90.0, 0.0))


@pytest.mark.parametrize("action", MOVE_ACTIONS)
def test_walking_into_a_wall_fails_and_keeps_the_pose(sim, action):
    x, z, d, blocker = blocked_move(sim.world, "wall")
    yaw = yaw_for(action, d)
    assert sim.world.teleport(x, z, yaw)
    md = act(sim, action)
    assert md["lastActionSuccess"] is False
    assert md["collided"] is True
    assert blocker in md["errorMessage"]
    assert agent_pose(md) == pytest.approx((x, z, yaw, 0.0))
    # The next action clears the collision flag.
    assert act(sim, "RotateRight")["collided"] is False


def test_walking_into_furniture_fails_and_names_it(sim):
    x, z, d, blocker = blocked_move(sim.world, "furniture")
    yaw = yaw_for("MoveAhead", d)
    assert sim.world.teleport(x, z, yaw)
    md = act(sim, "MoveAhead")
    assert md["lastActionSuccess"] is False and md["collided"] is True
    assert blocker in md["errorMessage"]
    assert agent_pose(md) == pytest.approx((x, z, yaw, 0.0))


def test_agent_never_leaves_free_space_on_a_random_walk(sim):
    rng = np.random.default_rng(0)
    world = sim.world
    for _ in range(150):
        a = MOVE_ACTIONS[int(rng.integers(4))] if rng.random() < 0.7 else "RotateRight"
        md = act(sim, a)
        x, z, _, _ = agent_pose(md)
        assert world.nav.is_free(x, z), (x, z)
        assert abs(x / GRID - round(x / GRID)) < 1e-9 and abs(z / GRID - round(z / GRID)) < 1e-9


# ------------------------------------------------------------------------ turning, looking
@pytest.mark.parametrize("yaw", [0, 90, 180, 270])
def test_rotate_changes_yaw_by_90(sim, yaw):
    x, z = open_cell(sim.world)
    sim.world.teleport(x, z, yaw)
    md = act(sim, "RotateRight")
    assert md["lastActionSuccess"]
    assert agent_pose(md) == pytest.approx((x, z, (yaw + 90) % 360, 0.0))
    md = act(sim, "RotateLeft")
    assert agent_pose(md) == pytest.approx((x, z, yaw, 0.0))
    md = act(sim, "RotateLeft")
    assert agent_pose(md)[2] == pytest.approx((yaw - 90) % 360)
    assert 0.0 <= md["agent"]["rotation"]["y"] < 360.0


def test_four_right_turns_come_full_circle(sim):
    yaw0 = sim.world.agent.yaw
    for k in range(1, 5):
        md = act(sim, "RotateRight")
        assert agent_pose(md)[2] == pytest.approx((yaw0 + 90 * k) % 360)


def test_look_down_and_up_step_30_and_fail_at_the_clamps(sim):
    x, z = open_cell(sim.world)
    sim.world.teleport(x, z, 0.0, 0.0)
    for expect in (30.0, 60.0):
        md = act(sim, "LookDown")
        assert md["lastActionSuccess"] and md["agent"]["cameraHorizon"] == expect
    assert HORIZON_MAX == 60.0
    md = act(sim, "LookDown")
    assert md["lastActionSuccess"] is False
    assert md["errorMessage"]
    assert md["agent"]["cameraHorizon"] == 60.0
    for expect in (30.0, 0.0, -30.0):
        md = act(sim, "LookUp")
        assert md["lastActionSuccess"] and md["agent"]["cameraHorizon"] == expect
    assert HORIZON_MIN == -30.0
    md = act(sim, "LookUp")
    assert md["lastActionSuccess"] is False
    assert md["errorMessage"]
    assert md["agent"]["cameraHorizon"] == -30.0
    assert agent_pose(md)[:3] == pytest.approx((x, z, 0.0))


def test_looking_down_tilts_the_camera_down(sim):
    x, z = open_cell(sim.world)
    sim.world.teleport(x, z, 0.0, 0.0)
    obs = step(sim, "LookDown")[0]
    fwd = obs[keys.OBS_CAMERA_POSE][:3, 2]
    np.testing.assert_allclose(fwd, [0.0, -math.sin(math.radians(30)),
                                     math.cos(math.radians(30))], atol=1e-9)


# --------------------------------------------------------------------- pick up and put
def test_pickup_then_put_back(sim):
    house = sim.house
    item = _loose_item(house)
    host = house.objects[item.parent]
    face(sim, item.object_id)
    md = act(sim, "PickupObject", item.object_id)
    assert md["lastActionSuccess"], md["errorMessage"]
    objs = objects_by_id(md)
    assert objs[item.object_id]["isPickedUp"] is True
    assert objs[item.object_id]["parentReceptacles"] is None
    assert item.object_id not in objs[host.object_id]["receptacleObjectIds"]
    assert _held(md) == [item.object_id]
    assert sim.world.agent.held == item.object_id
    face(sim, host.object_id)
    md = act(sim, "PutObject", host.object_id)
    assert md["lastActionSuccess"], md["errorMessage"]
    objs = objects_by_id(md)
    assert objs[item.object_id]["isPickedUp"] is False
    assert objs[item.object_id]["parentReceptacles"] == [host.object_id]
    assert item.object_id in objs[host.object_id]["receptacleObjectIds"]
    assert _held(md) == []
    s = surface(host)
    assert item.box.lo[1] == pytest.approx(s.y, abs=1e-9)
    assert s.rect.contains(item.box.footprint, tol=1e-9)


def test_pickup_fails_when_the_object_is_not_in_view(sim):
    item = _loose_item(sim.house)
    face_away(sim, item.object_id)
    md = act(sim, "PickupObject", item.object_id)
    assert md["lastActionSuccess"] is False and md["errorMessage"]
    assert _held(md) == [] and item.parent is not None and not item.is_picked_up


def test_pickup_fails_when_the_object_is_too_far(sim):
    item = _loose_item(sim.house)
    face_from_afar(sim, item.object_id)
    md = act(sim, "PickupObject", item.object_id)
    assert md["lastActionSuccess"] is False
    assert "1.5" in md["errorMessage"]
    assert _held(md) == [] and not item.is_picked_up


def test_pickup_fails_for_furniture(sim):
    counter = first(sim.house, "CounterTop")
    face(sim, counter.object_id)
    md = act(sim, "PickupObject", counter.object_id)
    assert md["lastActionSuccess"] is False
    assert "not pickupable" in md["errorMessage"]
    assert _held(md) == []


def test_pickup_fails_with_a_full_hand(sim):
    house = sim.house
    a = _loose_item(house)
    b = next(o for o in house.objects.values() if o.kind.pickupable and o is not a
             and o.parent and not house.objects[o.parent].kind.openable)
    hold(sim, a)
    face(sim, b.object_id)
    md = act(sim, "PickupObject", b.object_id)
    assert md["lastActionSuccess"] is False
    assert a.object_id in md["errorMessage"]
    assert _held(md) == [a.object_id] and not b.is_picked_up


def test_put_fails_with_an_empty_hand(sim):
    counter = first(sim.house, "CounterTop")
    face(sim, counter.object_id)
    md = act(sim, "PutObject", counter.object_id)
    assert md["lastActionSuccess"] is False and md["errorMessage"]


def test_put_fails_on_a_non_receptacle(sim):
    house = sim.house
    item = _loose_item(house)
    faucet = first(house, "Faucet")
    hold(sim, item)
    face(sim, faucet.object_id)
    md = act(sim, "PutObject", faucet.object_id)
    assert md["lastActionSuccess"] is False
    assert "not a receptacle" in md["errorMessage"]
    assert _held(md) == [item.object_id]


def test_put_fails_on_an_out_of_sight_receptacle(sim):
    house = sim.house
    item = _loose_item(house)
    counter = first(house, "CounterTop")
    hold(sim, item)
    face_away(sim, counter.object_id)
    md = act(sim, "PutObject", counter.object_id)
    assert md["lastActionSuccess"] is False and md["errorMessage"]
    assert _held(md) == [item.object_id]


def test_put_into_a_closed_fridge_fails_until_it_is_opened(sim):
    house = sim.house
    fridge = first(house, "Fridge")
    item = fitting_item(house, fridge, exclude=tuple(o.object_id for o in house.children(
        fridge.object_id)))
    hold(sim, item)
    face(sim, fridge.object_id)
    md = act(sim, "PutObject", fridge.object_id)
    assert md["lastActionSuccess"] is False and "closed" in md["errorMessage"]
    assert _held(md) == [item.object_id]
    md = act(sim, "OpenObject", fridge.object_id)
    assert md["lastActionSuccess"] and objects_by_id(md)[fridge.object_id]["isOpen"]
    md = act(sim, "PutObject", fridge.object_id)
    assert md["lastActionSuccess"], md["errorMessage"]
    o = objects_by_id(md)[item.object_id]
    assert o["parentReceptacles"] == [fridge.object_id]
    assert o["ObjectTemperature"] == "Cold"  # cooling: anything put in a fridge gets cold


def test_pickup_from_a_closed_container_fails(sim):
    house = sim.house
    fridge = first(house, "Fridge")
    item = fitting_item(house, fridge)
    put_into(sim, item, fridge)
    # Closed: the item is hidden, so the env refuses.
    face(sim, fridge.object_id)
    assert item.object_id not in sim.world.visible
    md = act(sim, "PickupObject", item.object_id)
    assert md["lastActionSuccess"] is False and md["errorMessage"]
    # Even if the item were still marked visible, the closed door stops the pick-up.
    fridge.is_open = True
    face(sim, item.object_id)
    fridge.is_open = False  # closed behind the renderer's back: visibility is now stale
    res = sim.world.act("PickupObject", item.object_id)
    assert res.success is False and "closed" in res.error and fridge.object_id in res.error
    # Opened for real, the pick-up works.
    fridge.is_open = True
    face(sim, item.object_id)
    md = act(sim, "PickupObject", item.object_id)
    assert md["lastActionSuccess"], md["errorMessage"]


def test_held_object_travels_with_the_agent(sim):
    item = _loose_item(sim.house)
    face(sim, item.object_id)
    assert act(sim, "PickupObject", item.object_id)["lastActionSuccess"]
    for a in ("RotateRight", "MoveAhead", "RotateLeft", "MoveBack", "LookDown"):
        md = act(sim, a)
        ag = sim.world.agent
        fx, _, fz = forward(ag.yaw)
        pos = objects_by_id(md)[item.object_id]["position"]
        expect = (ag.x + 0.4 * fx, CAMERA_HEIGHT - 0.3, ag.z + 0.4 * fz)
        assert (pos["x"], pos["y"], pos["z"]) == pytest.approx(expect, abs=1e-6), a
        hp = md["heldObjectPose"]["position"]
        assert (hp["x"], hp["y"], hp["z"]) == pytest.approx(expect, abs=1e-6), a
    # A held object is not drawn.
    assert item.seg_id not in render_now(sim).segmentation


# ------------------------------------------------------------------------ open / close
@pytest.mark.parametrize("type_", ["Fridge", "Cabinet", "Microwave"])
def test_open_and_close(sim, type_):
    obj = first(sim.house, type_)
    face(sim, obj.object_id)
    md = act(sim, "OpenObject", obj.object_id)
    assert md["lastActionSuccess"] and objects_by_id(md)[obj.object_id]["isOpen"] is True
    md = act(sim, "OpenObject", obj.object_id)
    assert md["lastActionSuccess"] is False and "already open" in md["errorMessage"]
    md = act(sim, "CloseObject", obj.object_id)
    assert md["lastActionSuccess"] and objects_by_id(md)[obj.object_id]["isOpen"] is False
    md = act(sim, "CloseObject", obj.object_id)
    assert md["lastActionSuccess"] is False and "already closed" in md["errorMessage"]


def test_open_fails_on_non_openable_and_out_of_sight(sim):
    counter = first(sim.house, "CounterTop")
    face(sim, counter.object_id)
    md = act(sim, "OpenObject", counter.object_id)
    assert md["lastActionSuccess"] is False and "not openable" in md["errorMessage"]
    fridge = first(sim.house, "Fridge")
    face_away(sim, fridge.object_id)
    md = act(sim, "OpenObject", fridge.object_id)
    assert md["lastActionSuccess"] is False and md["errorMessage"]
    assert fridge.is_open is False


# ------------------------------------------------------------------------------ toggling
@pytest.mark.parametrize("type_", ["Faucet", "Microwave", "StoveBurner", "DeskLamp"])
def test_toggle_on_and_off(sim, type_):
    obj = first(sim.house, type_)
    face(sim, obj.object_id)
    md = act(sim, "ToggleObjectOn", obj.object_id)
    assert md["lastActionSuccess"], md["errorMessage"]
    assert objects_by_id(md)[obj.object_id]["isToggled"] is True
    md = act(sim, "ToggleObjectOn", obj.object_id)
    assert md["lastActionSuccess"] is False and "already on" in md["errorMessage"]
    md = act(sim, "ToggleObjectOff", obj.object_id)
    assert md["lastActionSuccess"] and objects_by_id(md)[obj.object_id]["isToggled"] is False
    md = act(sim, "ToggleObjectOff", obj.object_id)
    assert md["lastActionSuccess"] is False and "already off" in md["errorMessage"]


def test_toggle_fails_on_non_toggleable_and_out_of_sight(sim):
    counter = first(sim.house, "CounterTop")
    face(sim, counter.object_id)
    md = act(sim, "ToggleObjectOn", counter.object_id)
    assert md["lastActionSuccess"] is False and "not toggleable" in md["errorMessage"]
    lamp = first(sim.house, "DeskLamp")
    face_away(sim, lamp.object_id)
    md = act(sim, "ToggleObjectOn", lamp.object_id)
    assert md["lastActionSuccess"] is False and md["errorMessage"]
    assert lamp.is_toggled is False


@pytest.mark.parametrize(("action", "type_"), [
    ("OpenObject", "Fridge"), ("CloseObject", "Fridge"), ("ToggleObjectOn", "FloorLamp"),
    ("ToggleObjectOff", "FloorLamp"), ("PutObject", "CounterTop"), ("PickupObject", "item"),
])
def test_interactions_fail_beyond_range_and_leave_state_alone(sim, action, type_):
    house = sim.house
    obj = _loose_item(house) if type_ == "item" else first(house, type_)
    if action == "CloseObject":
        obj.is_open = True
    if action == "ToggleObjectOff":
        obj.is_toggled = True
    if action == "PutObject":
        hold(sim, next(o for o in house.objects.values() if o.kind.pickupable))
    state = (obj.is_open, obj.is_toggled, obj.parent, obj.box, sim.world.agent.held)
    face_from_afar(sim, obj.object_id)
    md = act(sim, action, obj.object_id)
    assert md["lastActionSuccess"] is False
    assert obj.object_id in md["errorMessage"] and "1.5" in md["errorMessage"]
    assert (obj.is_open, obj.is_toggled, obj.parent, obj.box, sim.world.agent.held) == state


# --------------------------------------------------------------------- state changes
def test_heat_in_a_microwave(sim):
    house = sim.house
    mw = first(house, "Microwave")
    item = fitting_item(house, mw, types=HEATABLE_TYPES)
    hold(sim, item)
    face(sim, mw.object_id)
    assert act(sim, "OpenObject", mw.object_id)["lastActionSuccess"]
    md = act(sim, "PutObject", mw.object_id)
    assert md["lastActionSuccess"], md["errorMessage"]
    assert objects_by_id(md)[item.object_id]["ObjectTemperature"] == "RoomTemp"  # still off
    assert act(sim, "CloseObject", mw.object_id)["lastActionSuccess"]
    md = act(sim, "ToggleObjectOn", mw.object_id)
    assert md["lastActionSuccess"], md["errorMessage"]
    o = objects_by_id(md)[item.object_id]
    assert o["ObjectTemperature"] == "Hot"
    assert o["isCooked"] is item.kind.cookable
    assert objects_by_id(md)[mw.object_id]["isHeatSource"] is True


def test_put_into_a_running_microwave_heats(sim):
    house = sim.house
    mw = first(house, "Microwave")
    item = fitting_item(house, mw, types=HEATABLE_TYPES)
    mw.is_open, mw.is_toggled = True, True
    hold(sim, item)
    face(sim, mw.object_id)
    md = act(sim, "PutObject", mw.object_id)
    assert md["lastActionSuccess"], md["errorMessage"]
    assert objects_by_id(md)[item.object_id]["ObjectTemperature"] == "Hot"


def test_cool_in_a_fridge(sim):
    house = sim.house
    fridge = first(house, "Fridge")
    counter = first(house, "CounterTop")
    item = fitting_item(house, fridge, types=("Apple", "Tomato", "Potato", "Bread", "Egg",
                                              "Lettuce", "Mug", "Cup", "Bowl", "Bottle"))
    put_into(sim, item, counter)
    item.temperature = "RoomTemp"
    face(sim, item.object_id)
    assert act(sim, "PickupObject", item.object_id)["lastActionSuccess"]
    face(sim, fridge.object_id)
    assert act(sim, "OpenObject", fridge.object_id)["lastActionSuccess"]
    md = act(sim, "PutObject", fridge.object_id)
    assert md["lastActionSuccess"], md["errorMessage"]
    assert objects_by_id(md)[item.object_id]["ObjectTemperature"] == "Cold"
    assert objects_by_id(md)[fridge.object_id]["isColdSource"] is True


def test_clean_under_a_running_faucet(sim):
    house = sim.house
    sink = first(house, "SinkBasin")
    faucet = next(f for f in of_type(house, "Faucet") if f.attached_to == sink.object_id)
    item = fitting_item(house, sink, types=("Mug", "Cup", "Bowl", "Plate", "Pan", "Pot",
                                            "Knife", "Fork", "Spoon"))
    item.is_dirty = True
    hold(sim, item)
    face(sim, sink.object_id)
    md = act(sim, "PutObject", sink.object_id)
    assert md["lastActionSuccess"], md["errorMessage"]
    assert objects_by_id(md)[item.object_id]["isDirty"] is True  # water still off
    face(sim, faucet.object_id)
    md = act(sim, "ToggleObjectOn", faucet.object_id)
    assert md["lastActionSuccess"], md["errorMessage"]
    assert objects_by_id(md)[item.object_id]["isDirty"] is False


def test_running_water_does_not_clean_things_elsewhere(sim):
    house = sim.house
    sink = first(house, "SinkBasin")
    faucet = next(f for f in of_type(house, "Faucet") if f.attached_to == sink.object_id)
    counter = first(house, "CounterTop")
    item = fitting_item(house, counter, types=("Mug", "Cup", "Bowl", "Plate", "Knife",
                                               "Fork", "Spoon", "Pan", "Pot"))
    put_into(sim, item, counter)
    item.is_dirty = True
    face(sim, faucet.object_id)
    assert act(sim, "ToggleObjectOn", faucet.object_id)["lastActionSuccess"]
    assert item.is_dirty is True


# ------------------------------------------------------------------------- robustness
def test_object_actions_without_a_valid_object_fail_cleanly(sim):
    for a in OBJECT_ACTIONS:
        md = act(sim, a)  # instance 0: nothing
        assert md["lastActionSuccess"] is False and a in md["errorMessage"]
        md = act(sim, a, "Nothing|+00.00|+00.00|+00.00")
        assert md["lastActionSuccess"] is False and "does not exist" in md["errorMessage"]
    assert sim.world.act("Teleport").success is False


def test_random_actions_never_raise_and_report_errors(sim):
    """A long random episode: failures come back as lastActionSuccess False, never raise."""
    rng = np.random.default_rng(1)
    for _ in range(300):
        a = int(rng.integers(len(ACTIONS)))
        seg = sim._frame.segmentation
        ids = np.unique(seg)
        obj = int(rng.choice(ids)) if rng.random() < 0.8 else int(rng.integers(1024))
        md = act(sim, a, obj)
        assert md["lastAction"] == ACTIONS[a]
        if md["lastActionSuccess"]:
            assert md["errorMessage"] == ""
        else:
            assert isinstance(md["errorMessage"], str) and md["errorMessage"]
        held = sim.world.agent.held
        assert _held(md) == ([held] if held else [])
        if ACTIONS[a] == DONE:  # Done ends the episode; start another to go on
            sim.reset()
