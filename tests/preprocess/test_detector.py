from __future__ import annotations

import numpy as np
import pytest

from robomem.preprocess.detector import (
    DETECTORS,
    Detection2D,
    Detector,
    KeylessDetector,
    SegmentationDetector,
    make_detector,
)
from robomem.types import AgentPose, Observation
from tests.fixtures.household import make_sim
from tests.fixtures.preprocess import observe


def _obs(seg: np.ndarray, labels: dict[int, str], ids: dict[int, str]) -> Observation:
    h, w = seg.shape
    return Observation.single(rgb=np.zeros((h, w, 3), np.uint8), depth=np.ones((h, w), np.float32),
                       intrinsics=np.eye(3), camera_pose=np.eye(4),
                       agent_pose=AgentPose(0, 0.9, 0, 0, 0), segmentation=seg.astype(np.int32),
                       labels=labels, object_ids=ids)


def test_registry_and_unknown_names():
    assert DETECTORS.names() == ["segmentation", "segmentation_nokeys"]
    assert isinstance(make_detector("segmentation"), SegmentationDetector)
    assert isinstance(make_detector("segmentation_nokeys", min_pixels=3), KeylessDetector)
    with pytest.raises(KeyError, match="segmentation, segmentation_nokeys"):
        make_detector("yolo")
    with pytest.raises(TypeError):
        Detector()  # type: ignore[abstract]


def test_segmentation_detector_on_a_synthetic_image():
    seg = np.zeros((6, 8), np.int32)
    seg[:2] = 2  # wall
    seg[2:, :4] = 1  # floor
    seg[2:5, 4:8] = 9  # a counter, 12 px
    seg[5, 4:7] = 12  # a mug, 3 px: under min_pixels
    seg[5, 7] = 5  # an unlabelled id: ignored
    # the embodiment leaves structure (floor, walls) unlabelled: ids 1 and 2 are not objects
    obs = _obs(seg, {9: "CounterTop", 12: "Mug"}, {9: "CounterTop|1", 12: "Mug|1"})
    dets = SegmentationDetector(min_pixels=4).detect(obs)
    assert [(d.label, d.key, d.instance, d.pixels) for d in dets] == \
        [("CounterTop", "CounterTop|1", 9, 12)]
    np.testing.assert_array_equal(dets[0].mask, seg == 9)
    np.testing.assert_array_equal(dets[0].pixel_indices(), np.flatnonzero(seg == 9))
    assert [d.label for d in SegmentationDetector(min_pixels=1).detect(obs)] == \
        ["CounterTop", "Mug"]


def test_unlabelled_ids_and_no_segmentation_give_nothing():
    seg = np.full((4, 4), 7, np.int32)
    # the core never reads a type out of a world's object id: no label, no detection
    assert SegmentationDetector().detect(_obs(seg, {}, {7: "Apple|+01.00|+00.90|+02.00"})) == []
    obs = _obs(seg, {}, {})
    obs.camera.segmentation = None
    assert SegmentationDetector().detect(obs) == []
    with pytest.raises(ValueError, match="min_pixels"):
        SegmentationDetector(min_pixels=0)


def test_masks_from_the_env_cover_every_object_instance():
    env = make_sim(width=96, height=96)
    seen = 0
    for yaw in (0, 90, 180, 270):
        assert env.world is not None
        env.world.teleport(env.world.agent.x, env.world.agent.z, yaw, 30.0)
        obs = observe(env)
        seg = obs.segmentation
        assert seg is not None
        dets = SegmentationDetector(min_pixels=6).detect(obs)
        ids, counts = np.unique(seg, return_counts=True)
        expected = {int(i) for i, c in zip(ids, counts)
                    if c >= 6 and obs.labels.get(int(i)) is not None}
        assert {d.instance for d in dets} == expected
        seen += len(dets)
        pixels = [d.pixels for d in dets]
        assert pixels == sorted(pixels, reverse=True)
        for d in dets:
            assert isinstance(d, Detection2D) and d.mask.shape == seg.shape
            np.testing.assert_array_equal(d.mask, seg == d.instance)
            assert d.label == obs.labels[d.instance] and d.key == obs.object_ids[d.instance]
        keyless = KeylessDetector().detect(obs)
        assert [(d.label, d.instance, d.pixels) for d in keyless] == \
            [(d.label, d.instance, d.pixels) for d in dets]
        assert all(d.key is None for d in keyless)
    assert seen > 0
