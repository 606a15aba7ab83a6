"""EB-ALFRED's "find X" on robomem/AI2THOR-v0: poses from metadata, and the real Controller path."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import pytest

from robomem.agent import AgentConfig, MemoryAgent
from robomem.embodiment import EmbodimentError, default_embodiment, embodiment_for
from robomem.envs.ai2thor.find import find_poses, target_object
from robomem.feedback import FeedbackCode
from robomem.memory.system import MemorySystemConfig
from robomem.policies.executor import ExecutorConfig
from tests.fixtures.thor_standin import standin_kwargs


def _md(objects: list[dict[str, Any]], agent: tuple[float, float] = (0.0, 0.0)
        ) -> dict[str, Any]:
    return {"agent": {"position": {"x": agent[0], "y": 0.9, "z": agent[1]}},
            "cameraPosition": {"x": agent[0], "y": 1.575, "z": agent[1]}, "objects": objects}


def _obj(oid: str, x: float, y: float, z: float) -> dict[str, Any]:
    return {"objectId": oid, "objectType": oid.split("|")[0],
            "position": {"x": x, "y": y, "z": z},
            "axisAlignedBoundingBox": {"center": {"x": x, "y": y, "z": z}}}


GRID = [{"x": i * 0.25, "y": 0.9, "z": j * 0.25} for i in range(-8, 9) for j in range(-8, 9)]


@pytest.mark.parametrize(("where", "yaw"), [((0.0, 1.0), 0.0), ((1.0, 0.0), 90.0),
                                            ((0.0, -1.0), 180.0), ((-1.0, 0.0), 270.0)])
def test_the_pose_faces_the_object_in_ai2thors_frame(where: tuple[float, float],
                                                      yaw: float) -> None:
    # rotation.y 0 faces +z and 90 faces +x. The object stands against a wall 1.5 m from the
    # origin; the nearest reachable point is 0.25 m in front of it.
    x, z = 1.5 * where[0], 1.5 * where[1]
    reachable = [p for p in GRID if p["x"] * where[0] + p["z"] * where[1] <= 1.25]
    pose = find_poses(_md([_obj("Mug|1", x, 0.9, z)]), reachable, "Mug|1")[0]
    assert pose.rotation == yaw
    assert math.hypot(pose.position["x"] - x, pose.position["z"] - z) == pytest.approx(0.25)


def test_the_pitch_looks_down_at_low_things_and_is_clamped() -> None:
    low = find_poses(_md([_obj("Apple|1", 1.0, 0.0, 0.0)]), GRID, "Apple|1")[0]
    assert low.horizon == 60.0  # 1.575 m above, 0.25 m away: clamped to AI2-THOR's 60 down
    high = find_poses(_md([_obj("Painting|1", 2.0, 3.0, 0.0)]), GRID, "Painting|1")[0]
    assert high.horizon == -30.0  # far above the camera: clamped to 30 up


def test_a_type_names_its_nearest_instance_and_unknown_names_give_nothing() -> None:
    md = _md([_obj("Mug|far", 3.0, 0.9, 0.0), _obj("Mug|near", 1.0, 0.9, 0.0)])
    found = target_object(md, "Mug")
    assert found is not None and found["objectId"] == "Mug|near"
    assert find_poses(md, GRID, "Mug")[0].object_id == "Mug|near"
    assert find_poses(md, GRID, "Gizmo") == []
    assert find_poses(md, [], "Mug") == []


def test_a_type_prefers_one_in_the_open_and_another_than_the_one_in_view() -> None:
    shut = {**_obj("Potato|shut", 0.5, 0.3, 0.0), "parentReceptacles": ["Cabinet|1"]}
    cabinet = {**_obj("Cabinet|1", 0.5, 0.4, 0.0), "openable": True, "isOpen": False}
    loose = {**_obj("Potato|loose", 3.0, 0.9, 0.0), "parentReceptacles": ["CounterTop|1"]}
    md = _md([shut, cabinet, loose])
    assert target_object(md, "Potato")["objectId"] == "Potato|loose"  # type: ignore[index]
    # the loose one is in view (say, just put down): find another, even a shut-in one
    md = _md([shut, cabinet, {**loose, "visible": True}])
    assert target_object(md, "Potato")["objectId"] == "Potato|shut"  # type: ignore[index]
    md = _md([shut, {**cabinet, "isOpen": True}, loose])
    assert target_object(md, "Potato")["objectId"] == "Potato|shut"  # open now, and nearer


@pytest.fixture
def thor() -> Any:
    env = gym.make("robomem/AI2THOR-v0", **standin_kwargs(96, 96))
    yield env
    env.close()


def test_find_teleports_through_the_controller_to_a_view_of_the_object(thor: Any) -> None:
    emb = embodiment_for(thor)
    raw, info = thor.reset(seed=0)
    md = info["privileged"]["metadata"]
    hidden = [o for o in md["objects"] if not o["visible"] and o.get("parentReceptacles")
              and o["pickupable"] and not any(p.split("|")[0] == "Fridge"
                                               for p in o["parentReceptacles"])]
    assert hidden, "the scene should have pickupable objects out of view"
    target = hidden[0]
    raw, _, _, _, info = thor.step({"action": "Find", "object": target["objectId"]})
    obs = emb.observe(raw, info)
    assert obs.action_success, obs.feedback
    assert target["objectId"] in obs.object_ids.values()
    seen = {o["objectId"]: o["visible"] for o in obs.privileged["metadata"]["objects"]}
    assert seen[target["objectId"]]
    assert obs.step == 1  # one step, however many teleports it took


def test_find_of_an_unknown_thing_fails_with_a_code(thor: Any) -> None:
    emb = embodiment_for(thor)
    thor.reset(seed=0)
    raw, _, _, _, info = thor.step({"action": "Find", "object": "Gizmo"})
    obs = emb.observe(raw, info)
    assert not obs.action_success
    assert obs.feedback.code is FeedbackCode.UNKNOWN_OBJECT
    assert "Gizmo" in obs.feedback.message


def test_the_agent_refuses_find_where_the_world_cannot_teleport() -> None:
    cfg = AgentConfig(executor=ExecutorConfig(find=True))
    with pytest.raises(EmbodimentError, match="find"):
        MemoryAgent(cfg, default_embodiment())


def test_the_agent_uses_find_on_ai2thor(thor: Any) -> None:
    hashing = MemorySystemConfig(options={"episodic": {"encoder": "hash"}})
    agent = MemoryAgent(AgentConfig(modules=hashing, executor=ExecutorConfig(find=True)),
                        embodiment_for(thor))
    try:
        raw, info = thor.reset(seed=0, options={"task": {
            "family": "pick_and_place", "object_type": "Mug", "target_type": "DiningTable"}})
        emb = embodiment_for(thor)
        agent.reset(emb.observe(raw, info))
        sent = []
        for _ in range(30):
            action = agent.act(emb.observe(raw, info))
            sent.append(action.name)
            raw, _, term, trunc, info = thor.step(emb.command(action))
            if term or trunc:
                break
        assert info["success"], sent
        # find the mug, pick it up, find the table, put it there (walking takes ~90 steps)
        assert sent == ["find", "pickup", "find", "put"], sent
    finally:
        agent.close()
