"""World state and visibility: what the agent can see and reach, teleports and resets."""

from __future__ import annotations

import numpy as np
import pytest

from robomem.envs.household.generator import reachable_cells
from robomem.envs.household.house import GRID
from robomem.envs.household.world import VISIBILITY_DISTANCE, World
from tests.fixtures.household import (
    DEFAULT_SEED,
    act,
    face,
    face_from_afar,
    first,
    fitting_item,
    make_sim,
    make_world,
    objects_by_id,
    put_into,
    render_now,
)


@pytest.fixture
def sim():
    return make_sim(DEFAULT_SEED, 96, 96)


def _visible_from_pixels(sim, frame):
    """Visible objectIds computed from the frame alone: pixels hit within 1.5 m."""
    by_seg = {o.seg_id: o.object_id for o in sim.house.objects.values()}
    near = frame.segmentation[(frame.hit_distance <= VISIBILITY_DISTANCE)
                              & (frame.segmentation > 0)]
    return {by_seg[int(s)] for s in np.unique(near) if int(s) in by_seg}


# --------------------------------------------------------------------------- visibility
def largest_loose_item(house):
    """The biggest pickupable standing on an open surface (easy to see from afar)."""
    return max((o for o in house.objects.values() if o.kind.pickupable and o.parent
                and not house.objects[o.parent].kind.openable),
               key=lambda o: o.box.size[0] * o.box.size[2])


@pytest.mark.parametrize("pick", ["item", "CounterTop", "Fridge", "Faucet"])
def test_object_in_view_and_in_range_is_visible(sim, pick):
    house = sim.house
    obj = largest_loose_item(house) if pick == "item" else first(house, pick)
    frame = face(sim, obj.object_id)
    mask = frame.segmentation == obj.seg_id
    assert mask.any()
    assert frame.hit_distance[mask].min() <= VISIBILITY_DISTANCE
    md = act(sim, "RotateRight")
    md = act(sim, "RotateLeft")  # back to the same view, through the env
    assert obj.object_id in sim.world.visible
    assert objects_by_id(md)[obj.object_id]["visible"] is True


@pytest.mark.parametrize("type_", ["CounterTop", "Fridge", "item"])
def test_the_same_object_from_beyond_range_is_not_visible(sim, type_):
    house = sim.house
    obj = largest_loose_item(house) if type_ == "item" else first(house, type_)
    frame = face_from_afar(sim, obj.object_id)
    assert (frame.segmentation == obj.seg_id).sum() >= 3  # in the picture...
    assert obj.object_id not in sim.world.visible  # ...but too far to count as visible
    md = sim._metadata("Pass", True, "")
    assert objects_by_id(md)[obj.object_id]["visible"] is False
    assert objects_by_id(md)[obj.object_id]["distance"] > VISIBILITY_DISTANCE


def test_visible_set_is_exactly_the_objects_hit_within_range(sim):
    rng = np.random.default_rng(3)
    cells = sorted(reachable_cells(sim.house))
    seen_any = False
    for _ in range(25):
        i, j = cells[int(rng.integers(len(cells)))]
        sim.world.teleport(i * GRID, j * GRID, float(rng.integers(4)) * 90.0,
                           float(rng.choice([-30.0, 0.0, 30.0, 60.0])))
        frame = render_now(sim)
        expect = _visible_from_pixels(sim, frame)
        assert sim.world.visible == expect
        md = sim._metadata("Pass", True, "")
        assert {o["objectId"] for o in md["objects"] if o["visible"]} == expect
        seen_any |= bool(expect)
    assert seen_any


@pytest.mark.parametrize("type_", ["Fridge", "Cabinet"])
def test_item_in_a_closed_container_is_hidden_until_it_is_opened(sim, type_):
    house = sim.house
    box = first(house, type_)
    item = fitting_item(house, box)
    box.is_open = True
    for seed in range(10):  # find a spot inside that can be seen through the open front
        put_into(sim, item, box, seed=seed)
        try:
            face(sim, item.object_id, max_dist=1.5)
            break
        except AssertionError:
            continue
    else:
        raise AssertionError(f"no spot in {box.object_id} can be seen through its front")
    assert item.object_id in sim.world.visible
    md = act(sim, "CloseObject", box.object_id)
    assert md["lastActionSuccess"], md["errorMessage"]
    assert item.object_id not in sim.world.visible
    assert objects_by_id(md)[item.object_id]["visible"] is False
    assert item.seg_id not in sim._frame.segmentation  # fully enclosed: not one pixel
    assert box.object_id in sim.world.visible
    md = act(sim, "OpenObject", box.object_id)
    assert md["lastActionSuccess"], md["errorMessage"]
    assert item.object_id in sim.world.visible
    assert objects_by_id(md)[item.object_id]["visible"] is True


# ------------------------------------------------------------------- teleport and reset
def test_reset_agent_puts_the_agent_on_a_reachable_grid_cell():
    w = make_world(4)
    cells = reachable_cells(w.house)
    for _ in range(20):
        w.reset_agent()
        a = w.agent
        assert (round(a.x / GRID), round(a.z / GRID)) in cells
        assert a.x == pytest.approx(round(a.x / GRID) * GRID)
        assert a.z == pytest.approx(round(a.z / GRID) * GRID)
        assert a.yaw in (0.0, 90.0, 180.0, 270.0)
        assert a.horizon == 0.0


def test_reset_agent_is_seeded():
    a = make_world(4, world_seed=11).agent
    b = make_world(4, world_seed=11).agent
    assert (a.x, a.z, a.yaw) == (b.x, b.z, b.yaw)


def test_teleport_refuses_blocked_spots():
    w = make_world(2)
    before = (w.agent.x, w.agent.z, w.agent.yaw)
    furniture = next(o for o in w.house.objects.values()
                     if not o.kind.pickupable and o.parent is None)
    cx, _, cz = furniture.box.center
    assert w.teleport(cx, cz, 0.0) is False  # inside a piece of furniture
    b = w.house.bounds
    assert w.teleport(b.x0 - 1.0, b.z0 - 1.0, 0.0) is False  # outside the house
    assert (w.agent.x, w.agent.z, w.agent.yaw) == before


def test_act_reports_unknown_objects_and_actions_without_raising():
    w = World(make_world(3).house)
    w.reset_agent()
    r = w.act("PickupObject", "Nothing|1")
    assert r.success is False and r.error == "Object ID 'Nothing|1' does not exist"
    r = w.act("Fly")
    assert r.success is False and "Fly" in r.error
    r = w.act("PickupObject")
    assert r.success is False and r.error


@pytest.mark.parametrize("seed", [0, 3, 5])
def test_every_item_in_an_open_container_can_be_seen_from_somewhere(seed):
    """Items generated inside containers can be found and picked up once opened."""
    sim = make_sim(seed, 96, 96)
    house = sim.house
    inside = [o for o in house.objects.values()
              if o.kind.pickupable and o.parent and house.objects[o.parent].kind.openable]
    assert inside
    for item in inside:  # open just its container: another open door may block the view
        parent = house.objects[item.parent]
        parent.is_open = True
        sim.world.version += 1
        face(sim, item.object_id, max_dist=1.5, limit=400)
        parent.is_open = False
        sim.world.version += 1
