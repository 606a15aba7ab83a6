"""robomem/Tabletop-v0: the scene, the skills, the move_ee action, cameras and errors."""

from __future__ import annotations

import numpy as np
import pytest

from robomem.embodiment import embodiment_for
from robomem.envs.tabletop.cameras import CAMERA_NAMES, depth_from_zbuffer
from robomem.envs.tabletop.config import TabletopEnvConfig
from robomem.feedback import FeedbackCode
from robomem.geometry import AABB
from robomem.preprocess.pointcloud import backproject_indices
from robomem.types import Action
from tests.fixtures.tabletop import make_tabletop


def test_five_rlbench_cameras_with_metric_depth_and_instances() -> None:
    env = make_tabletop()
    obs, info = env.reset(seed=0)
    assert tuple(obs["cameras"]) == CAMERA_NAMES
    objects = info["privileged"]["objects"]
    emb = embodiment_for(env)
    o = emb.observe(obs, info)
    for name, cam in o.cameras.items():
        assert cam.rgb.shape == (48, 48, 3) and cam.depth is not None
        assert cam.segmentation is not None
        # each object's back-projected pixels land in its ground-truth box (robomem's frame)
        for inst, key in cam.object_ids.items():
            idx = np.flatnonzero(cam.segmentation.reshape(-1) == inst)
            pts = backproject_indices(cam.depth, cam.intrinsics, cam.pose, idx)
            box = AABB(np.array(objects[key]["lo"]) - 0.003,
                       np.array(objects[key]["hi"]) + 0.003)
            assert all(box.contains(p) for p in pts), (name, key)
    # the table and the arm are structure: stripped from the labels
    assert all(lab not in ("Table", "Robot") for c in o.cameras.values()
               for lab in c.labels.values())
    env.close()


def test_the_cameras_option_and_resolution() -> None:
    env = make_tabletop(cameras=["wrist", "front"], width=32, height=24)
    obs, _ = env.reset(seed=0)
    assert list(obs["cameras"]) == ["wrist", "front"]
    assert obs["cameras"]["front"]["rgb"].shape == (24, 32, 3)
    env.close()


def test_depth_from_the_zbuffer() -> None:
    near, far = 0.01, 3.5
    # a point at 1 m: OpenGL's z-buffer value for it inverts back to 1 m
    d = 1.0
    z = (far / (far - near)) * (1 - near / d)
    assert depth_from_zbuffer(np.array([z]), near, far)[0] == pytest.approx(1.0, rel=1e-5)


def test_skills_change_the_world_and_end_at_home() -> None:
    env = make_tabletop("reopen_drawer")
    obs, info = env.reset(seed=2)
    drawer = info["task"]["drawer"]
    home = obs["joint_positions"].copy()
    assert info["privileged"]["drawers"][drawer]
    obs, _, _, _, info = env.step({"action": "close_drawer", "object": drawer})
    assert info["action_success"] and not any(info["privileged"]["drawers"].values())
    np.testing.assert_allclose(obs["joint_positions"], home, atol=1e-9)
    assert obs["instruction"] == "open the drawer that was open before"
    env.close()


def test_failures_speak_the_embodiments_words() -> None:
    env = make_tabletop()
    emb = embodiment_for(env)
    env.reset(seed=0)
    cases = [(Action("put", "Plate|1"), FeedbackCode.NOTHING_HELD),
             (Action("open", "Plate|1"), FeedbackCode.NOT_AFFORDED),
             (Action("close", "Drawer|1"), FeedbackCode.ALREADY_CLOSED),
             (Action("pickup", "Nothing|9"), FeedbackCode.UNKNOWN_OBJECT)]
    for action, code in cases:
        raw, _, term, _, info = env.step(emb.command(action))
        fb = emb.observe(raw, info).feedback
        assert not fb.success and fb.code is code, (action, fb)
        assert not term
    env.close()


def test_move_ee_reaches_a_pose_and_the_gripper_grasps() -> None:
    env = make_tabletop()
    obs, info = env.reset(seed=0)
    lo, hi = (np.array(info["privileged"]["objects"]["Block|1"][k]) for k in ("lo", "hi"))
    centre = (lo + hi) / 2
    down = obs["gripper_pose"][3:]  # the home orientation points the gripper down
    obs, _, _, _, info = env.step({"action": "move_ee", "pose": [*centre, *down], "gripper": 1})
    assert info["action_success"], info["action_error"]
    np.testing.assert_allclose(obs["gripper_pose"][:3], centre, atol=0.015)
    obs, _, _, _, info = env.step({"action": "move_ee", "pose": [*centre, *down], "gripper": 0})
    assert info["privileged"]["held"] == "Block|1" and obs["gripper_open"] == 0.0
    up = centre + np.array([0.0, 0.15, 0.0])  # y is up in robomem's world
    obs, _, _, _, info = env.step({"action": "move_ee", "pose": [*up, *down], "gripper": 0})
    b = info["privileged"]["objects"]["Block|1"]
    assert (np.array(b["lo"]) + np.array(b["hi"]))[1] / 2 == pytest.approx(up[1], abs=0.02)
    far = [0.9, 0.9, 0.9, *down]
    obs, _, _, _, info = env.step({"action": "move_ee", "pose": far, "gripper": 0})
    assert not info["action_success"] and "cannot reach" in info["action_error"]
    env.close()


@pytest.mark.parametrize("bad, match", [
    ({"action": "fly"}, "unknown action 'fly'"),
    ({"action": "pick", "object": 99}, "object index 99 is out of range"),
    ({"action": "pick", "speed": 3}, "unknown action keys"),
])
def test_bad_actions_are_refused_clearly(bad: dict[str, object], match: str) -> None:
    env = make_tabletop()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        env.step(bad)
    env.close()


def test_bad_config_names_the_value() -> None:
    with pytest.raises(ValueError, match=r"unknown tabletop task 'stack'.*put_block_back"):
        TabletopEnvConfig(task="stack")
    with pytest.raises(ValueError, match=r"unknown tabletop camera 'top'.*overhead"):
        TabletopEnvConfig(cameras=["top"])
    with pytest.raises(ValueError, match="unknown tabletop task"):
        make_tabletop("stack")


def test_an_index_names_an_object() -> None:
    env = make_tabletop()
    env.reset(seed=0)
    k = env.unwrapped.keys.index("Block|1") + 1
    _, _, _, _, info = env.step({"action": 1, "object": k})  # 1 = pick
    assert info["privileged"]["held"] == "Block|1"
    env.close()
