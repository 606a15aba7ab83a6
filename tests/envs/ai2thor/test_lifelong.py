"""Lifelong robomem/AI2THOR-v0: objects moved between episodes with SetObjectPoses."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from robomem import keys
from robomem.envs.ai2thor.lifelong import SURFACES, choose_moves, landing, object_poses
from tests.fixtures.thor_standin import standin_kwargs


def _item(oid: str, parent: str, held: bool = False) -> dict[str, Any]:
    return {"name": oid.replace("|", "_"), "objectId": oid, "objectType": oid.split("|")[0],
            "pickupable": True, "moveable": False, "isPickedUp": held,
            "parentReceptacles": None if held else [parent],
            "position": {"x": 0.0, "y": 1.0, "z": 0.0}, "rotation": {"x": 0, "y": 0, "z": 0}}


def _surface(oid: str) -> dict[str, Any]:
    return {"name": oid, "objectId": oid, "objectType": oid.split("|")[0], "pickupable": False,
            "moveable": False, "receptacle": True, "position": {"x": 0.0, "y": 0.0, "z": 0.0},
            "rotation": {"x": 0, "y": 0, "z": 0}}


MD = {"objects": [_item("Mug|1", "CounterTop|1"), _item("Apple|2", "Fridge|1"),
                  _item("Pen|3", "", held=True), _surface("CounterTop|1"),
                  _surface("DiningTable|1"), _surface("Fridge|1")]}


def test_only_loose_things_on_surfaces_move_and_only_to_other_surfaces() -> None:
    assert choose_moves(MD, np.random.default_rng(0), 0.0) == []
    moves = choose_moves(MD, np.random.default_rng(0), 1.0)
    # the apple is in the fridge, the pen is in the hand: only the mug moves, to the table
    assert [(m.object_id, m.receptacle_id) for m in moves] == [("Mug|1", "DiningTable|1")]


def test_set_object_poses_lists_every_movable_thing_not_held() -> None:
    poses = object_poses(MD, {"Mug|1": {"x": 2.0, "y": 0.8, "z": 1.0}})
    assert [p["objectName"] for p in poses] == ["Mug_1", "Apple_2"]  # AI2-THOR drops the rest
    assert poses[0]["position"] == {"x": 2.0, "y": 0.8, "z": 1.0}
    assert poses[1]["position"] == MD["objects"][1]["position"]


def test_landing_keeps_the_pivot_height_above_the_bottom() -> None:
    obj = {"position": {"x": 0, "y": 1.0, "z": 0},
           "axisAlignedBoundingBox": {"center": {"x": 0, "y": 1.05, "z": 0},
                                      "size": {"x": 0.1, "y": 0.3, "z": 0.1}}}
    assert landing(obj, {"x": 1.0, "y": 0.5, "z": 2.0}) == {"x": 1.0, "y": 0.6, "z": 2.0}


def _where(info: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    md = info[keys.INFO_PRIVILEGED][keys.PRIV_METADATA]
    return {o["objectId"]: (tuple(o["parentReceptacles"] or ()),
                            tuple(round(o["position"][a], 3) for a in "xyz"))
            for o in md["objects"]}


@pytest.mark.parametrize("lifelong", [True, False])
def test_between_episodes_the_scene_keeps_or_resets(lifelong: bool) -> None:
    env = gym.make("robomem/AI2THOR-v0", **standin_kwargs(64, 64), lifelong=lifelong,
                   relocation_prob=0.5)
    try:
        _, info = env.reset(seed=3)
        before = _where(info)
        agent_before = info[keys.INFO_PRIVILEGED][keys.PRIV_METADATA]["agent"]["position"]
        _, info = env.reset()
        after = _where(info)
        moved = info[keys.INFO_PRIVILEGED][keys.PRIV_RELOCATED]
        assert set(after) == set(before)  # SetObjectPoses listed everything: nothing vanished
        if not lifelong:
            assert moved == [] and after == before
            return
        assert moved, "with relocation_prob 0.5 some of the loose objects should move"
        for oid in moved:
            assert after[oid][0] != before[oid][0], oid
            assert after[oid][0][0].split("|")[0] in SURFACES
        assert all(after[o] == before[o] for o in before if o not in moved)
        agent_after = info[keys.INFO_PRIVILEGED][keys.PRIV_METADATA]["agent"]["position"]
        assert agent_after != agent_before
    finally:
        env.close()
