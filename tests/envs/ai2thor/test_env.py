"""robomem/AI2THOR-v0 through the real, unmodified ai2thor Controller, on a stand-in process.

The stand-in (tests/fixtures/thor_standin.py) speaks AI2-THOR's FIFO protocol and answers with
the Household simulator's views in AI2-THOR's frame and wording; everything from the
Controller to the Observation is the real path.
"""

from __future__ import annotations

import sys
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from robomem.embodiment import embodiment_for
from robomem.envs.ai2thor.env import AI2THOREnv, ThorUnavailable
from robomem.envs.ai2thor.frames import thor_box
from robomem.feedback import FeedbackCode
from robomem.preprocess.pointcloud import backproject
from tests.fixtures.thor_standin import standin_kwargs


@pytest.fixture
def thor() -> Any:
    env = gym.make("robomem/AI2THOR-v0", **standin_kwargs(96, 96))
    yield env
    env.close()


def test_masks_from_the_controller_land_in_their_boxes(thor: Any) -> None:
    emb = embodiment_for(thor)
    obs = emb.observe(*thor.reset(seed=0))
    checked = 0
    for turn in range(4):
        md = obs.privileged["metadata"]
        boxes = {o["objectId"]: thor_box(o["axisAlignedBoundingBox"]) for o in md["objects"]}
        for i, oid in obs.object_ids.items():
            mask = obs.segmentation == i
            if mask.sum() < 20:
                continue
            pts = backproject(obs.depth, obs.intrinsics, obs.camera_pose, mask=mask)
            inside = np.all((pts >= boxes[oid].lo - 0.03) & (pts <= boxes[oid].hi + 0.03), axis=1)
            assert inside.mean() > 0.97, (turn, oid, float(inside.mean()))
            checked += 1
        raw, _, _, _, info = thor.step({"action": "RotateRight", "object": 0})
        obs = emb.observe(raw, info)
    assert checked >= 5


def test_ai2thor_s_wording_becomes_codes(thor: Any) -> None:
    emb = embodiment_for(thor)
    seen = next(iter(emb.observe(*thor.reset(seed=0)).object_ids.values()))
    raw, _, _, _, info = thor.step({"action": "PickupObject", "object": "Nothing|1|2|3"})
    fb = emb.observe(raw, info).feedback
    assert (fb.code, fb.message) == (FeedbackCode.UNKNOWN_OBJECT,
                                     "Object ID appears to be invalid.")
    raw, _, _, _, info = thor.step({"action": "PutObject", "object": seen})  # too far to act
    fb = emb.observe(raw, info).feedback
    assert (fb.code, fb.message) == (FeedbackCode.NOT_VISIBLE,
                                     "Target object not found within the specified visibility.")
    codes = set()
    for _ in range(12):  # walk into whatever is ahead
        raw, _, _, _, info = thor.step({"action": "MoveAhead", "object": 0})
        codes.add(emb.observe(raw, info).feedback.code)
    assert FeedbackCode.BLOCKED in codes
    _, _, terminated, _, info = thor.step({"action": "Done", "object": 0})
    assert terminated and info["success"] is False  # no tasks posed yet


def test_bad_arguments_and_a_missing_package_say_what_to_do(monkeypatch: Any) -> None:
    with pytest.raises(ValueError, match="platform must be None, 'CloudRendering' or 'Linux64'"):
        AI2THOREnv(platform="Windows")
    with pytest.raises(ValueError, match="width must be an integer"):
        AI2THOREnv(width=3)
    monkeypatch.setitem(sys.modules, "ai2thor.controller", None)
    env = AI2THOREnv()
    with pytest.raises(ThorUnavailable, match=r"pip install 'robomem\[thor\]'"):
        env.reset()
    with pytest.raises(RuntimeError, match="call reset"):
        env.step({"action": "MoveAhead"})


def test_robomem_run_with_the_shipped_ai2thor_launch_file(tmp_path: Any) -> None:
    import json
    from importlib import resources

    from robomem.cli import main

    exe = standin_kwargs()["local_executable_path"]
    launch = str(resources.files("robomem.launch") / "ai2thor.yaml")
    rc = main(["run", "--config", launch, f"env.local_executable_path={exe}", "env.x_display=0",
               "env.families=[pick_and_place]", "env.width=96", "env.height=96", "episodes=1",
               f"out={tmp_path}", "agent.modules.options.episodic.encoder=hash",
               "--no-progress"])
    assert rc == 0
    (run,) = list(tmp_path.iterdir())
    rec = json.loads((run / "episodes.jsonl").read_text().splitlines()[0])
    assert rec["family"] == "pick_and_place" and rec["instruction"].startswith("Put ")


def test_doctor_says_what_running_ai2thor_here_needs(monkeypatch: Any) -> None:
    from robomem.doctor import check_envs
    from robomem.envs.registry import ENVS

    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.delenv("DISPLAY", raising=False)
    (check,) = check_envs(["robomem/AI2THOR-v0"], ENVS.get)
    assert "not stepped" in check.detail and "ai2thor installed" in check.detail
    assert "no vulkaninfo (CloudRendering needs Vulkan)" in check.detail
    assert "no DISPLAY (Linux64 needs an X server)" in check.detail
