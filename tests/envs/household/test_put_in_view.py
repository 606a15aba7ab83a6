"""PutObject only puts things where the agent sees them, and within reach."""

from __future__ import annotations

import numpy as np

from robomem.envs.household.house import Box
from robomem.envs.household.oracle import OraclePolicy
from robomem.envs.household.world import VISIBILITY_DISTANCE
from tests.fixtures.household import act, face, fitting_item, hold, make_sim, of_type
from tests.fixtures.world import HOUSEHOLD


def test_put_object_lands_in_view_and_reach() -> None:
    sim = make_sim(5, 128, 128)
    hosts = of_type(sim.house, "CounterTop", "DiningTable", "Shelf", "SideTable", "Desk")
    assert hosts
    done = 0
    for host in hosts[:4]:
        item = fitting_item(sim.house, host)
        hold(sim, item)
        face(sim, host.object_id)
        md = act(sim, "PutObject", host.object_id)
        if not md["lastActionSuccess"]:
            assert "No valid positions" in md["errorMessage"]
            continue
        assert item.parent == host.object_id
        assert item.object_id in sim.world.visible  # the next frame shows it, within reach
        cam = sim.world.agent.camera
        assert item.box.distance_to(cam) <= VISIBILITY_DISTANCE
        done += 1
    assert done >= 2


def test_spot_check_rejects_hidden_and_far_spots() -> None:
    sim = make_sim(5, 96, 96)
    cam = np.array(sim.world.agent.camera)
    behind = cam - 0.6 * np.array(sim.last_frame.camera_pose[:3, 2])
    assert not sim._spot_in_view(Box.from_center(behind, (0.05, 0.05, 0.05)))
    ahead = cam + 3.0 * np.array(sim.last_frame.camera_pose[:3, 2])
    assert not sim._spot_in_view(Box.from_center(ahead, (0.05, 0.05, 0.05)))  # too far


def test_oracle_puts_down_a_foreign_object_first() -> None:
    sim = make_sim(5, 96, 96, families=["pick_and_place"])
    task = sim.task
    assert task is not None
    other = next(o for o in sim.house.objects.values()
                 if o.kind.pickupable and o.type != task.object_type)
    hold(sim, other)
    sim._observe()
    policy = OraclePolicy(sim)
    obs = HOUSEHOLD.observe(sim._obs(), sim._info(sim._metadata("Initialize", True, ""),
                                                        False))
    policy.reset(obs)
    assert policy.plan[0].kind == "put"
    for _ in range(task.step_limit):
        a = policy.act(obs)
        o, _, term, trunc, info = sim.step(HOUSEHOLD.command(a))
        obs = HOUSEHOLD.observe(o, info)
        if term or trunc:
            break
    assert info["success"]
