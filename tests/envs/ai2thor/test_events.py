"""AI2-THOR events into Observations, proven geometrically.

Household views are written as AI2-THOR would report them (left-handed metadata, colour
segmentation); after the conversion, every object's back-projected pixels must land inside
that object's ``axisAlignedBoundingBox`` from the metadata.
"""

from __future__ import annotations

import numpy as np

from robomem.envs.ai2thor.events import event_to_gym, instance_ids
from robomem.envs.ai2thor.frames import thor_box
from robomem.preprocess.pointcloud import backproject
from tests.fixtures.household import face, first, make_sim
from tests.fixtures.thor import thor_event
from tests.fixtures.world import HOUSEHOLD


def test_masks_back_project_into_their_boxes() -> None:
    env = make_sim(width=96, height=96)
    assert env.house is not None and env.world is not None
    checked = 0
    for target in ("Fridge", "CounterTop", "Cabinet"):
        face(env, first(env.house, target).object_id)
        ev = thor_event(env)
        obs_d, info = event_to_gym(ev, fov=env.fov)
        obs = HOUSEHOLD.observe(obs_d, info)
        boxes = {o["objectId"]: thor_box(o["axisAlignedBoundingBox"])
                 for o in ev.metadata["objects"]}
        for i, oid in obs.object_ids.items():
            mask = obs.segmentation == i
            if mask.sum() < 20:
                continue
            pts = backproject(obs.depth, obs.intrinsics, obs.camera_pose, mask=mask)
            box = boxes[oid]
            inside = np.all((pts >= box.lo - 0.03) & (pts <= box.hi + 0.03), axis=1)
            assert inside.mean() > 0.97, (oid, float(inside.mean()))
            checked += 1
    assert checked >= 5


def test_colours_without_an_id_and_string_keys() -> None:
    seg = np.zeros((2, 3, 3), np.uint8)
    seg[0, 0] = (1, 2, 3)
    seg[1, 2] = (4, 5, 6)
    ids, names = instance_ids(seg, {"(4, 5, 6)": "B|1", (1, 2, 3): "A|1", "bad": "C|1"})
    assert ids.tolist() == [[1, 0, 0], [0, 0, 2]] and names == {1: "A|1", 2: "B|1"}
