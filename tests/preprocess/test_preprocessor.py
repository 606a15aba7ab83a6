from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import pytest

from robomem.envs.household.env import HouseholdEnv
from robomem.feedback import ActionFeedback, FeedbackCode
from robomem.geometry import AABB
from robomem.percept import (
    EVENT_APPEARED,
    EVENT_CLOSED,
    EVENT_MOVED,
    EVENT_OPENED,
    EVENT_PICKED_UP,
    EVENT_PUT_DOWN,
    EVENT_TOGGLED_OFF,
    EVENT_TOGGLED_ON,
    Percept,
)
from robomem.preprocess import Preprocessor, PreprocessorConfig
from robomem.preprocess.pointcloud import backproject, bounds
from robomem.types import Action, AgentPose, Observation
from tests.fixtures.household import ENV_ID, face, first, make_sim, put_into
from tests.fixtures.preprocess import (
    faceable_item,
    full_views,
    gt_box,
    near_views,
    observe,
    step_obs,
)
from tests.fixtures.world import HOUSEHOLD

FURNITURE = ("CounterTop", "Sofa", "Bed", "Dresser", "Cabinet", "SinkBasin", "StoveBurner",
             "ArmChair", "TVStand", "Toilet", "Drawer", "SideTable", "CoffeeTable")


@pytest.fixture(scope="module")
def sim() -> HouseholdEnv:
    """A 96x96 house for tests that only move the agent (no ground-truth edits)."""
    return make_sim(width=96, height=96)


def _kinds(p: Percept) -> list[tuple[str, str]]:
    return [(e.kind, e.key) for e in p.events]


def _face_err(box, gt) -> float:
    return float(np.abs(np.concatenate([box.lo - gt.lo, box.hi - gt.hi])).max())


def test_frame_points_are_a_voxel_downsampled_world_cloud(sim):
    pre = Preprocessor()
    obs = observe(sim)
    p = pre.process(obs, None)
    assert p.points.dtype == np.float32 and p.points.shape[1] == 3
    valid = int((obs.depth[::2, ::2] > 0).sum())
    assert 0 < len(p.points) <= valid
    vox = np.floor(p.points * np.float32(1 / 0.05)).astype(np.int64)  # as voxel_downsample
    assert len(np.unique(vox, axis=0)) == len(p.points)
    assert np.isfinite(p.points).all()
    assert p.points[:, 1].min() > -0.01 and p.points[:, 1].max() < 2.61  # floor to ceiling
    assert p.step == obs.step and p.depth is obs.depth and p.agent_pose == obs.agent_pose
    np.testing.assert_array_equal(p.camera_pose, obs.camera_pose)


def test_min_distance_tells_what_is_within_reach(sim):
    assert sim.house is not None and sim.world is not None
    pre = Preprocessor()
    checked = 0
    for obj in list(sim.house.objects.values())[:10]:
        try:
            face(sim, obj.object_id, max_dist=1.6, limit=10)
        except AssertionError:
            continue
        p = pre.process(observe(sim), None)
        for d in p.detections:
            # The env's rule: visible when some pixel is within 1.5 m (hit distance).
            assert (d.min_distance <= 1.5) == (d.key in sim.world.visible), d
            checked += 1
    assert checked >= 10


def test_furniture_boxes_match_ground_truth(sim):
    assert sim.house is not None
    checked = set()
    for obj in sim.house.objects.values():
        if obj.type not in FURNITURE or obj.type in checked:
            continue
        obs = next(iter(full_views(sim, obj)), None)
        if obs is None:
            continue
        # Only where nothing hides part of it: the raw pixels reach every face.
        gt = gt_box(obs, obj.object_id)
        assert obs.segmentation is not None
        raw = backproject(obs.depth, obs.intrinsics, obs.camera_pose,
                          mask=obs.segmentation == obj.seg_id)
        lo, hi = bounds(raw)
        if _face_err(AABB(lo, hi), gt) > 0.02:
            continue
        pre = Preprocessor()
        det = next(d for d in pre.process(obs, None).detections if d.key == obj.object_id)
        assert _face_err(det.box, gt) < 0.05, (obj.object_id, det.box, gt)
        checked.add(obj.type)
    assert len(checked) >= 5, checked


def test_small_items_fused_over_views_match_ground_truth(sim):
    assert sim.house is not None
    checked = 0
    for obj in sim.house.objects.values():
        if not obj.kind.pickupable or obj.kind.shape == "sphere":
            continue
        views = near_views(sim, obj, limit=4)
        if len(views) < 2:
            continue
        pre = Preprocessor()
        keys = set()
        for obs in views:
            keys |= {d.key for d in pre.process(obs, None).detections if d.instance == obj.seg_id}
        assert keys == {obj.object_id}  # the same key from every viewpoint
        tr = pre.fusion.tracks[obj.object_id]
        assert tr.seen_count == len(views) and tr.label == obj.type
        assert _face_err(tr.box, gt_box(views[-1], obj.object_id)) < 0.03, obj.object_id
        checked += 1
        if checked >= 8:
            break
    assert checked >= 5


def _walk(env: HouseholdEnv, actions: list[str]) -> list[Observation]:
    out = [observe(env)]
    for a in actions:
        out.append(step_obs(env, a))
    return out


def test_keyless_fusion_keeps_one_track_per_object():
    env = make_sim(width=96, height=96, rotate_step=30)
    actions = ["rotate_right"] * 3 + ["move_ahead", "look_down", "rotate_left", "move_back",
                                     "rotate_left", "look_up", "move_left"]
    keyed, keyless = Preprocessor(), Preprocessor(PreprocessorConfig("segmentation_nokeys"))
    mapping: dict[str, set[str]] = {}
    for obs in _walk(env, actions):
        by_instance = {d.instance: d.key for d in keyed.process(obs, None).detections}
        for d in keyless.process(obs, None).detections:
            mapping.setdefault(d.key, set()).add(by_instance[d.instance])
    assert len(mapping) >= 5
    # Each made-up key always meant the same object, and each object got one made-up key.
    assert all(len(v) == 1 for v in mapping.values()), mapping
    objects = [next(iter(v)) for v in mapping.values()]
    assert len(objects) == len(set(objects)), mapping
    assert set(keyless.fusion.tracks) == set(mapping)


def test_box_grows_as_more_of_a_large_object_comes_into_view(sim):
    assert sim.house is not None and sim.world is not None
    for obj in (o for o in sim.house.objects.values() if o.type in ("Bed", "Sofa", "CounterTop")):
        full = next(iter(full_views(sim, obj, lo=1.0)), None)
        if full is None:
            continue
        a = full.agent_pose
        gt = gt_box(full, obj.object_id)
        partial = None
        for turn in (40.0, -40.0, 50.0, -50.0, 60.0, -60.0):
            assert sim.world.teleport(a.x, a.z, a.yaw + turn, a.horizon)
            obs = observe(sim)
            assert obs.segmentation is not None
            mask = obs.segmentation == obj.seg_id
            if mask.sum() < 20 or not (mask[:, 0].any() or mask[:, -1].any()):
                continue
            raw = backproject(obs.depth, obs.intrinsics, obs.camera_pose, mask=mask)
            if (gt.size - (raw.max(axis=0) - raw.min(axis=0))).max() > 0.3:
                partial = obs  # cut off by the image border: part of it is out of view
                break
        if partial is None:
            continue
        pre = Preprocessor()
        first_box = next(d.box for d in pre.process(partial, None).detections
                         if d.key == obj.object_id)
        p = pre.process(full, None)
        box = next(d.box for d in p.detections if d.key == obj.object_id)
        assert not [e for e in p.events if e.key == obj.object_id]  # no "moved"
        assert np.all(box.lo <= first_box.lo + 1e-6) and np.all(box.hi >= first_box.hi - 1e-6)
        assert (box.size - first_box.size).max() > 0.2
        assert _face_err(box, gt_box(full, obj.object_id)) < 0.05
        return
    pytest.fail("no large object with a partial and a full view")


def test_moving_an_object_yields_a_moved_event():
    env = make_sim(width=96, height=96)
    assert env.house is not None
    host = first(env.house, "DiningTable") if any(
        o.type == "DiningTable" for o in env.house.objects.values()) else first(env.house, "Bed")
    item = faceable_item(env, host)
    pre = Preprocessor()
    p = pre.process(observe(env), None)
    assert (EVENT_APPEARED, item.object_id) in _kinds(p)
    old = pre.fusion.tracks[item.object_id].box
    put_into(env, item, host)
    face(env, item.object_id)
    obs = observe(env)
    p = pre.process(obs, None)
    assert (EVENT_MOVED, item.object_id) in _kinds(p)
    det = next(d for d in p.detections if d.key == item.object_id)
    assert not det.box.contains(old.center, tol=0.05)
    gt = gt_box(obs, item.object_id)  # the new box holds only points seen at the new place
    assert gt.contains(det.box.lo, tol=0.02) and gt.contains(det.box.hi, tol=0.02)
    assert f"moved {item.object_id}" in p.summary


def test_interactions_yield_events_and_the_held_key():
    env = make_sim(width=96, height=96)
    assert env.house is not None
    pre = Preprocessor()
    host = first(env.house, "CounterTop")
    item = faceable_item(env, host)
    pre.process(observe(env), None)
    obs = step_obs(env, "pickup", item.object_id)
    assert obs.action_success, obs.action_error
    p = pre.process(obs, Action("pickup", item.object_id))
    assert (EVENT_PICKED_UP, item.object_id) in _kinds(p)
    assert next(e for e in p.events if e.kind == EVENT_PICKED_UP).label == item.type
    assert p.held == item.object_id
    assert p.summary.startswith(f"step {obs.step}: pickup {item.object_id} ok; sees ")
    assert p.summary.endswith(f"holding {item.object_id}")
    p = pre.process(step_obs(env, "rotate_left"), Action("rotate_left"))
    assert p.held == item.object_id and not [e for e in p.events if e.key == item.object_id]

    face(env, host.object_id)
    obs = step_obs(env, "put", host.object_id)
    assert obs.action_success, obs.action_error
    p = pre.process(obs, Action("put", host.object_id))
    put = [e for e in p.events if e.kind == EVENT_PUT_DOWN]
    assert [(e.key, e.detail, e.label) for e in put] == [(item.object_id, host.object_id,
                                                          item.type)]
    assert p.held is None and "holding" not in p.summary
    assert f"put down {item.object_id} in {host.object_id}" in p.summary

    box = next(o for o in env.house.objects.values() if o.kind.openable and not o.is_open)
    face(env, box.object_id)
    for action, kind in (("open", EVENT_OPENED), ("close", EVENT_CLOSED)):
        p = pre.process(step_obs(env, action, box.object_id), Action(action, box.object_id))
        assert (kind, box.object_id) in _kinds(p)

    lamp = next(o for o in env.house.objects.values()
                if o.kind.toggleable and not o.is_toggled)
    face(env, lamp.object_id)
    for action, kind in (("toggle_on", EVENT_TOGGLED_ON),
                         ("toggle_off", EVENT_TOGGLED_OFF)):
        p = pre.process(step_obs(env, action, lamp.object_id), Action(action, lamp.object_id))
        assert (kind, lamp.object_id) in _kinds(p)
        assert next(e for e in p.events if e.kind == kind).label == lamp.type


def test_failed_actions_yield_no_events_and_say_why(sim):
    assert sim.house is not None
    counter = first(sim.house, "CounterTop")
    face(sim, counter.object_id)
    pre = Preprocessor()
    obs = step_obs(sim, "open", counter.object_id)
    assert not obs.action_success
    p = pre.process(obs, Action("open", counter.object_id))
    assert [e for e in p.events if e.kind == EVENT_OPENED] == []
    assert f"open {counter.object_id} failed: {obs.action_error}" in p.summary
    assert "CounterTop" in p.summary.split("sees ", 1)[1]


def _blank(step: int = 1, success: bool = True) -> Observation:
    """An observation that sees nothing, with the given action outcome."""
    return Observation.single(rgb=np.zeros((8, 8, 3), np.uint8), depth=np.zeros((8, 8), np.float32),
                       intrinsics=np.array([[4.0, 0, 3.5], [0, 4.0, 3.5], [0, 0, 1]]),
                       camera_pose=np.eye(4), agent_pose=AgentPose(0, 0.9, 0, 0, 0),
                       segmentation=np.zeros((8, 8), np.int32), step=step,
                       feedback=ActionFeedback.ok() if success else
                       ActionFeedback.failure("", FeedbackCode.UNKNOWN, "nope"))


def test_action_feedback_without_images():
    pre = Preprocessor(label_from_id=HOUSEHOLD.label_from_id)  # the world's ids name types
    mug, fridge = "Mug|+01.00|+00.90|+02.00", "Fridge|+00.50|+00.90|+03.00"
    p = pre.process(_blank(1), Action("pickup", mug))
    assert _kinds(p) == [(EVENT_PICKED_UP, mug)] and p.events[0].label == "Mug"
    assert p.summary == f"step 1: pickup {mug} ok; sees nothing; picked up {mug}; " \
                        f"holding {mug}"
    p = pre.process(_blank(2, success=False), Action("put", fridge))
    assert p.events == [] and p.held == mug and "failed: nope" in p.summary
    p = pre.process(_blank(3), Action("put", fridge))
    assert [(e.kind, e.key, e.detail) for e in p.events] == [(EVENT_PUT_DOWN, mug, fridge)]
    assert p.held is None
    assert pre.process(_blank(4), Action("put", fridge)).events == []  # nothing held
    for name, kind in (("open", EVENT_OPENED), ("close", EVENT_CLOSED),
                       ("toggle_on", EVENT_TOGGLED_ON),
                       ("toggle_off", EVENT_TOGGLED_OFF)):
        assert _kinds(pre.process(_blank(5), Action(name, fridge))) == [(kind, fridge)]
    assert pre.process(_blank(6), Action("move_ahead")).events == []
    pre.process(_blank(7), Action("pickup", mug))
    pre.reset()
    assert pre.process(_blank(8), None).held is None
    assert pre.process(_blank(0), None).summary == "step 0: sees nothing"
    assert Preprocessor().label_of(mug) == ""  # without an embodiment's help: no type


def test_failed_interactions_tell_state_by_code_not_wording():
    pre = Preprocessor()
    fridge, mug = "Fridge|1", "Mug|1"

    def failed(code: FeedbackCode, subject: str | None = None) -> Observation:
        obs = _blank(1)
        obs.feedback = ActionFeedback.failure("open", code, "any wording at all", subject)
        return obs

    assert _kinds(pre.process(failed(FeedbackCode.ALREADY_OPEN), Action("open", fridge))) == \
        [(EVENT_OPENED, fridge)]
    assert _kinds(pre.process(failed(FeedbackCode.IS_CLOSED, fridge), Action("put", fridge))) == \
        [(EVENT_CLOSED, fridge)]
    # the closed thing is the receptacle around the target, not the target itself
    assert pre.process(failed(FeedbackCode.IS_CLOSED, fridge), Action("pickup", mug)).events == []
    assert pre.process(failed(FeedbackCode.UNKNOWN), Action("open", fridge)).events == []


def test_unknown_detector_lists_the_known_ones():
    with pytest.raises(KeyError, match="known: segmentation, segmentation_nokeys"):
        Preprocessor(PreprocessorConfig(detector="yolo"))


def test_full_size_smoke():
    env = gym.make(ENV_ID, width=300, height=300)
    obs = HOUSEHOLD.observe(*env.reset(seed=1))
    pre = Preprocessor()
    pre.process(obs, None)  # warm caches
    pre.reset()
    t0 = time.perf_counter()
    p = pre.process(obs, None)
    assert time.perf_counter() - t0 < 0.5  # generous: p50 is a few ms
    assert len(p.points) > 100 and p.detections
    assert {d.key for d in p.detections} <= set(obs.object_ids.values())
    assert all(d.visible and d.pixels >= 6 and np.isfinite(d.min_distance) for d in p.detections)
    assert {e.key for e in p.events if e.kind == EVENT_APPEARED} == {d.key for d in p.detections}
    env.close()
