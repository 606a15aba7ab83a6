from __future__ import annotations

import numpy as np

from robomem.memory.relations import (
    _ray_box_entry,
    box_distances,
    near_pairs,
    stale_mask,
    supports,
)

K = np.array([[150.0, 0, 49.5], [0, 150.0, 49.5], [0, 0, 1]])


def test_supports_prefers_the_smaller_of_in_and_on() -> None:
    counter = [0.0, 0.0, 0.0, 1.6, 0.9, 0.6]
    microwave = [0.2, 0.9, 0.1, 0.7, 1.2, 0.5]  # stands on the counter
    fridge_open = [-0.9, 0.0, -0.2, 0.3, 1.8, 0.8]  # door-widened box overlapping the counter
    hosts = np.array([counter, microwave, fridge_open])
    container = np.array([False, True, True])
    in_micro = [0.4, 0.93, 0.25, 0.5, 1.0, 0.35]
    on_counter = [0.1, 0.9, 0.2, 0.18, 0.98, 0.28]  # also inside the open fridge's box
    floating = [5.0, 1.0, 5.0, 5.1, 1.1, 5.1]
    got = supports(np.array([in_micro, on_counter, floating]), hosts, container)
    assert got == [(1, "in"), (0, "on"), (-1, "")]
    assert supports(np.zeros((0, 6)), hosts, container) == []
    assert supports(np.array([in_micro]), np.zeros((0, 6)), np.zeros(0, bool)) == [(-1, "")]


def test_box_distances_and_near_pairs() -> None:
    a = np.array([[0, 0, 0, 1, 1, 1], [3, 0, 0, 4, 1, 1]], float)
    b = np.array([[1.3, 0, 0, 2, 1, 1]], float)
    np.testing.assert_allclose(box_distances(a, b), [[0.3], [1.0]])
    assert near_pairs(a, b, 0.5) == [(0, 0)] and near_pairs(a[:0], b, 0.5) == []


def test_ray_box_entry() -> None:
    rays = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    entry = _ray_box_entry(np.zeros(3), rays, np.array([-0.5, -0.5, 2.0]),
                           np.array([0.5, 0.5, 3.0]))
    assert entry[0] == 2.0 and np.isinf(entry[1]) and np.isinf(entry[2])
    inside = _ray_box_entry(np.zeros(3), rays[:1], -np.ones(3), np.ones(3))
    assert inside[0] == 0.0


def test_stale_mask_uses_depth_along_each_ray() -> None:
    pose = np.eye(4)  # camera at the origin looking along +z
    box = np.array([[-0.1, -0.1, 1.9, 0.1, 0.1, 2.1]])
    assert stale_mask(box, pose, K, np.full((100, 100), 3.0, np.float32))[0]  # wall behind
    assert stale_mask(box, pose, K, np.zeros((100, 100), np.float32))[0]  # nothing at all
    assert not stale_mask(box, pose, K, np.full((100, 100), 1.5, np.float32))[0]  # occluded
    # a long box seen end-on from the side: its pixels enter it through the side face, so a
    # surface between the camera and that face (but beyond the box's nearest corner) hides it
    side = np.array([[0.3, -0.1, 1.0, 0.5, 0.1, 2.5]])
    assert not stale_mask(side, pose, K, np.full((100, 100), 1.05, np.float32))[0]
    assert stale_mask(side, pose, K, np.full((100, 100), 2.6, np.float32))[0]
    tiny = np.array([[-0.01, -0.01, 1.99, 0.01, 0.01, 2.01]])  # a few pixels: never expected
    assert not stale_mask(tiny, pose, K, np.full((100, 100), 3.0, np.float32))[0]
    far = box + [0, 0, 2.0, 0, 0, 2.0]
    assert not stale_mask(far, pose, K, np.full((100, 100), 9.0, np.float32))[0]
    behind = box * [1, 1, -1, 1, 1, -1]
    assert not stale_mask(behind[:, [0, 1, 5, 3, 4, 2]], pose, K,
                          np.full((100, 100), 3.0, np.float32))[0]
