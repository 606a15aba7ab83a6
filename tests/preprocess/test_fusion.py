from __future__ import annotations

import numpy as np
import pytest

from robomem.percept import EVENT_APPEARED, EVENT_MOVED
from robomem.preprocess.detector import Detection2D
from robomem.preprocess.fusion import FrameView, ObjectFusion

CAM = np.zeros(3)


def _det(label: str, key: str | None = None, pixels: int = 10, instance: int = 4) -> Detection2D:
    mask = np.zeros((8, 8), bool)
    mask.flat[:pixels] = True
    return Detection2D(mask, label, key, instance)


def _box_points(lo, hi, step: float = 0.02) -> np.ndarray:
    """Points on the surface of a box (its six faces), ``step`` apart."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    axes = [np.arange(lo[i], hi[i] + 1e-9, step) for i in range(3)]
    g = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    on_face = np.any(np.isclose(g, lo) | np.isclose(g, hi), axis=1)
    return g[on_face].astype(np.float32)


def test_keyed_tracks_appear_once_and_accumulate():
    f = ObjectFusion()
    pts = _box_points([1, 0.9, 1], [1.1, 1.0, 1.1])
    dets, events = f.update([(_det("Mug", "Mug|a", pixels=12), pts)], step=3,
                            camera_position=CAM)
    assert [(e.kind, e.key, e.label, e.step) for e in events] == \
        [(EVENT_APPEARED, "Mug|a", "Mug", 3)]
    (d,) = dets
    assert (d.key, d.label, d.visible, d.pixels, d.instance) == ("Mug|a", "Mug", True, 12, 4)
    assert d.min_distance == pytest.approx(float(np.linalg.norm(pts, axis=1).min()), abs=1e-5)
    np.testing.assert_allclose(d.box.lo, [1, 0.9, 1], atol=1e-6)
    np.testing.assert_allclose(d.box.hi, [1.1, 1.0, 1.1], atol=1e-6)
    dets, events = f.update([(_det("Mug", "Mug|a"), pts + 0.005)], step=4, camera_position=CAM,
                            min_distances=[0.7])
    assert events == [] and dets[0].min_distance == 0.7
    tr = f.tracks["Mug|a"]
    assert (tr.first_seen, tr.last_seen, tr.seen_count) == (3, 4, 2)


def test_box_grows_as_more_of_an_object_is_seen_without_moving():
    f = ObjectFusion()
    f.update([(_det("Bed", "Bed|1"), _box_points([0, 0, 0], [0.4, 0.6, 2.0]))], 0, CAM)
    # The rest of the bed from a new view: its centroid lies far outside the first box,
    # but the two parts touch.
    dets, events = f.update([(_det("Bed", "Bed|1"), _box_points([0.4, 0, 0], [1.6, 0.6, 2.0]))],
                            1, CAM)
    assert events == []
    np.testing.assert_allclose(dets[0].box.lo, [0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(dets[0].box.hi, [1.6, 0.6, 2.0], atol=1e-6)


def test_points_clearly_elsewhere_mean_the_object_moved():
    f = ObjectFusion()
    f.update([(_det("Mug", "Mug|a"), _box_points([1, 0.9, 1], [1.1, 1.0, 1.1]))], 0, CAM)
    new = _box_points([3, 0.7, 2], [3.1, 0.8, 2.1])
    dets, events = f.update([(_det("Mug", "Mug|a"), new)], 5, CAM)
    assert [(e.kind, e.key, e.step) for e in events] == [(EVENT_MOVED, "Mug|a", 5)]
    assert "m from" in events[0].detail
    np.testing.assert_allclose(dets[0].box.lo, [3, 0.7, 2], atol=1e-6)  # old points dropped
    np.testing.assert_allclose(dets[0].box.hi, [3.1, 0.8, 2.1], atol=1e-6)
    # A small shift (within 0.25 m of the box) is not a move.
    _, events = f.update([(_det("Mug", "Mug|a"), new + [0.1, 0, 0])], 6, CAM)
    assert events == []


def test_keyless_detections_keep_one_track_per_object():
    f = ObjectFusion()
    a = _box_points([0, 0.9, 0], [0.1, 1.0, 0.1])
    b = _box_points([1.0, 0.9, 0], [1.1, 1.0, 0.1])
    cup = _box_points([0.5, 0.9, 0], [0.58, 1.02, 0.08])
    dets, events = f.update([(_det("Mug", instance=5), a), (_det("Mug", instance=6), b),
                             (_det("Cup", instance=7), cup)], 0, CAM)
    assert sorted(d.key for d in dets) == ["Cup#1", "Mug#1", "Mug#2"]
    assert len(events) == 3
    first = {d.instance: d.key for d in dets}
    rng = np.random.default_rng(0)
    for step in range(1, 6):  # jittered views, in shuffled order, sometimes one is missing
        jit = lambda p: p + rng.normal(0, 0.01, 3).astype(np.float32)  # noqa: E731
        obs = [(_det("Mug", instance=5), jit(a)), (_det("Mug", instance=6), jit(b)),
               (_det("Cup", instance=7), jit(cup))]
        obs = [obs[i] for i in rng.permutation(3)][: 3 if step % 2 else 2]
        dets, events = f.update(obs, step, CAM)
        assert events == []
        assert all(d.key == first[d.instance] for d in dets)
    assert sorted(f.tracks) == ["Cup#1", "Mug#1", "Mug#2"]


def test_keyless_far_away_or_other_label_starts_a_new_track():
    f = ObjectFusion()
    p = _box_points([0, 0.9, 0], [0.1, 1.0, 0.1])
    f.update([(_det("Mug"), p)], 0, CAM)
    dets, events = f.update([(_det("Mug"), p + [0.0, 0.0, 2.0]), (_det("Cup"), p)], 1, CAM)
    assert sorted(d.key for d in dets) == ["Cup#1", "Mug#2"]
    assert sorted(e.kind for e in events) == [EVENT_APPEARED, EVENT_APPEARED]


def test_fused_points_are_capped_without_shrinking_the_box():
    f = ObjectFusion(max_points=2000)
    pts = _box_points([0, 0, 0], [2.0, 0.9, 0.6], step=0.01)
    assert len(pts) > 20000
    dets, _ = f.update([(_det("CounterTop", "C|1"), pts)], 0, CAM)
    assert len(f.tracks["C|1"].points) <= 2000
    assert len(dets[0].points) == len(f.tracks["C|1"].points)
    np.testing.assert_allclose(dets[0].box.lo, [0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(dets[0].box.hi, [2.0, 0.9, 0.6], atol=1e-6)


def test_same_key_twice_in_a_frame_is_one_detection():
    f = ObjectFusion()
    left = _box_points([0, 0, 0], [0.5, 0.5, 0.5])
    right = _box_points([0.5, 0, 0], [1.0, 0.5, 0.5])
    dets, events = f.update([(_det("Sofa", "S|1", pixels=10), left),
                             (_det("Sofa", "S|1", pixels=20), right)], 0, CAM)
    assert len(dets) == 1 and dets[0].pixels == 30 and len(events) == 1
    np.testing.assert_allclose(dets[0].box.hi, [1.0, 0.5, 0.5], atol=1e-6)
    assert f.tracks["S|1"].seen_count == 1


def test_empty_point_sets_forget_and_reset():
    f = ObjectFusion()
    assert f.update([(_det("Mug"), np.zeros((0, 3)))], 0, CAM) == ([], [])
    p = _box_points([0, 0.9, 0], [0.1, 1.0, 0.1])
    f.update([(_det("Mug"), p)], 0, CAM)
    f.forget("Mug#1")
    f.forget("nothing")
    assert "Mug#1" not in f.tracks
    dets, _ = f.update([(_det("Mug"), p)], 1, CAM)
    assert dets[0].key == "Mug#2"  # keys are never reused within an episode
    f.reset()
    assert len(f.tracks) == 0
    assert f.update([(_det("Mug"), p)], 2, CAM)[0][0].key == "Mug#1"


def _view(depth: float = 5.0):
    k = np.array([[50.0, 0, 49.5], [0, 50.0, 49.5], [0, 0, 1]])
    return FrameView(np.full((100, 100), depth, np.float32), k, np.eye(4))


def _mask(rows: slice, cols: slice) -> np.ndarray:
    m = np.zeros((100, 100), bool)
    m[rows, cols] = True
    return m


def _moving_pair(f: ObjectFusion, old_center, new_center):
    old = _box_points(np.subtract(old_center, 0.05), np.add(old_center, 0.05))
    new = _box_points(np.subtract(new_center, 0.05), np.add(new_center, 0.05))
    f.update([(_det("Mug", "Mug|a"), old)], 0, CAM)
    return new


def test_a_view_showing_the_old_place_empty_confirms_a_move():
    f = ObjectFusion()
    new = _moving_pair(f, [0, 0, 2], [0.6, 0, 2])  # the old place is in view, showing the wall
    det = Detection2D(_mask(slice(45, 55), slice(60, 70)), "Mug", "Mug|a", 4)
    dets, events = f.update([(det, new)], 1, CAM, view=_view())
    assert [e.kind for e in events] == [EVENT_MOVED]
    np.testing.assert_allclose(dets[0].box.center, [0.6, 0, 2], atol=1e-6)


def test_a_view_showing_the_object_at_its_old_place_merges():
    f = ObjectFusion()
    new = _moving_pair(f, [0, 0, 2], [0.6, 0, 2])
    # The object spans both places (a large one, seen more fully): old place inside its mask.
    det = Detection2D(_mask(slice(40, 60), slice(40, 70)), "Mug", "Mug|a", 4)
    dets, events = f.update([(det, new)], 1, CAM, view=_view(depth=1.95))
    assert events == []
    assert dets[0].box.lo[0] == pytest.approx(-0.05) and dets[0].box.hi[0] == pytest.approx(0.65)
    assert f.tracks["Mug|a"].box.hi[0] == pytest.approx(0.65)


def test_a_view_that_cannot_tell_commits_nothing():
    f = ObjectFusion()
    new = _moving_pair(f, [0, 0, -2], [0.6, 0, 2])  # the old place is behind the camera
    cut = Detection2D(_mask(slice(45, 55), slice(90, 100)), "Mug", "Mug|a", 4)  # at the border
    dets, events = f.update([(cut, new)], 1, CAM, view=_view())
    assert events == []
    assert dets[0].box.lo[2] == pytest.approx(-2.05) and dets[0].box.hi[2] == pytest.approx(2.05)
    assert f.tracks["Mug|a"].box.hi[2] == pytest.approx(-1.95)  # unchanged
    assert f.tracks["Mug|a"].last_seen == 1
    whole = Detection2D(_mask(slice(45, 55), slice(60, 70)), "Mug", "Mug|a", 4)
    _, events = f.update([(whole, new)], 2, CAM, view=_view())
    assert [e.kind for e in events] == [EVENT_MOVED]  # wholly in view, nothing left behind


def test_keyless_parts_of_a_large_object_join_its_track():
    f = ObjectFusion()
    sliver = _box_points([0.96, 0.0, 7.0], [0.97, 0.6, 7.36])  # one side face, seen first
    sofa = _box_points([0.2, 0.0, 5.36], [0.96, 0.8, 7.36])  # then all of it
    f.update([(_det("Sofa"), sliver)], 0, CAM)
    dets, events = f.update([(_det("Sofa"), sofa)], 1, CAM)
    assert dets[0].key == "Sofa#1" and events == []
    end = _box_points([0.2, 0.0, 7.4], [0.96, 0.8, 8.5])  # beyond its end, touching
    whole = Detection2D(np.pad(np.ones((2, 2), bool), 3), "Sofa", None, 4)
    cut = Detection2D(np.pad(np.ones((2, 2), bool), ((3, 3), (6, 0))), "Sofa", None, 4)
    assert f.update([(whole, end)], 2, CAM)[0][0].key == "Sofa#2"  # not cut: another sofa
    f.forget("Sofa#2")
    assert f.update([(cut, end)], 3, CAM)[0][0].key == "Sofa#1"  # cut by the border: the same
