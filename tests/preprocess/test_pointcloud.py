from __future__ import annotations

import numpy as np
import pytest

from robomem.envs.household.renderer import camera_pose, intrinsics
from robomem.preprocess.pointcloud import (
    MIN_POINTS_FOR_OUTLIERS,
    backproject,
    backproject_indices,
    bounds,
    centroid,
    clean_points,
    pixel_ray_lengths,
    voxel_downsample,
)
from tests.fixtures.household import face, make_sim, render_now
from tests.fixtures.preprocess import gt_box, observe


def _reference_backproject(depth, k, pose):
    h, w = depth.shape
    v, u = np.mgrid[0:h, 0:w]
    d = depth.astype(np.float64)
    cam = np.stack([(u - k[0, 2]) * d / k[0, 0], (v - k[1, 2]) * d / k[1, 1], d], -1)
    cam = cam[depth > 0]
    return cam @ pose[:3, :3].T + pose[:3, 3]


def test_backproject_matches_the_pinhole_formula():
    rng = np.random.default_rng(0)
    k = intrinsics(20, 14, 90.0)
    pose = camera_pose((1.0, 1.5, -2.0), yaw=37.0, horizon=30.0)
    depth = rng.uniform(0.5, 4.0, (14, 20)).astype(np.float32)
    depth[3, 4] = depth[0, 0] = 0.0
    pts = backproject(depth, k, pose)
    assert pts.shape == (14 * 20 - 2, 3) and pts.dtype == np.float32
    np.testing.assert_allclose(pts, _reference_backproject(depth, k, pose), atol=1e-4)


def test_principal_point_lies_on_the_optical_axis():
    k = intrinsics(9, 9, 90.0)  # odd size: the principal point is pixel (4, 4)
    depth = np.zeros((9, 9), np.float32)
    depth[4, 4] = 2.0
    pose = camera_pose((1.0, 1.5, 1.0), yaw=90.0, horizon=0.0)  # yaw 90 faces -x
    np.testing.assert_allclose(backproject(depth, k, pose), [[-1.0, 1.5, 1.0]], atol=1e-6)


def test_stride_mask_and_indices_agree():
    rng = np.random.default_rng(1)
    k = intrinsics(16, 12, 70.0)
    pose = camera_pose((0.0, 1.5, 0.0), yaw=200.0, horizon=-30.0)
    depth = rng.uniform(0.5, 3.0, (12, 16)).astype(np.float32)
    depth[rng.random((12, 16)) < 0.2] = 0.0
    mask = rng.random((12, 16)) < 0.5
    full = _reference_backproject(np.where(mask, depth, 0), k, pose)
    np.testing.assert_allclose(backproject(depth, k, pose, mask=mask), full, atol=1e-4)
    np.testing.assert_allclose(backproject_indices(depth, k, pose, np.flatnonzero(mask)), full,
                               atol=1e-4)
    strided = np.zeros_like(depth)
    strided[::3, ::3] = depth[::3, ::3]
    np.testing.assert_allclose(backproject(depth, k, pose, stride=3),
                               _reference_backproject(strided, k, pose), atol=1e-4)
    with pytest.raises(ValueError, match="stride"):
        backproject(depth, k, pose, stride=0)


def test_ray_lengths_turn_z_depth_into_hit_distance():
    env = make_sim(width=48, height=40)
    frame = render_now(env)
    lengths = pixel_ray_lengths(40, 48, frame.intrinsics).reshape(40, 48)
    np.testing.assert_allclose(frame.depth * lengths, frame.hit_distance, rtol=1e-5)


def test_object_pixels_land_inside_their_ground_truth_box():
    env = make_sim(width=96, height=96)
    assert env.house is not None
    checked = 0
    for obj in list(env.house.objects.values()):
        if obj.is_open or obj.is_picked_up or checked >= 12:
            continue
        try:
            face(env, obj.object_id, limit=20)
        except AssertionError:
            continue
        obs = observe(env)
        assert obs.segmentation is not None
        mask = obs.segmentation == obj.seg_id
        pts = backproject(obs.depth, obs.intrinsics, obs.camera_pose, mask=mask)
        assert len(pts) == int((mask & (obs.depth > 0)).sum()) > 0
        box = gt_box(obs, obj.object_id)
        assert np.all(pts >= box.lo - 2e-3) and np.all(pts <= box.hi + 2e-3), obj.object_id
        checked += 1
    assert checked >= 8


def test_voxel_downsample_keeps_one_input_point_per_voxel():
    rng = np.random.default_rng(2)
    pts = (rng.normal(size=(5000, 3)) * [1.0, 0.3, 2.0]).astype(np.float32)
    pts = np.concatenate([pts, pts[:1000] + 0.001])  # many repeats
    out = voxel_downsample(pts, 0.1)
    voxels = lambda p: np.floor(p / np.float32(0.1)).astype(np.int64)  # noqa: E731
    assert len(out) == len(np.unique(voxels(pts), axis=0)) == len(np.unique(voxels(out), axis=0))
    # Every output point is an input point, and input order is kept.
    where = {tuple(p): i for i, p in enumerate(pts)}
    idx = np.array([where[tuple(p)] for p in out])
    assert np.all(np.diff(idx) > 0)
    assert voxel_downsample(pts[:1], 0.1).shape == (1, 3)
    assert voxel_downsample(np.zeros((0, 3), np.float32), 0.1).shape == (0, 3)
    with pytest.raises(ValueError, match="voxel"):
        voxel_downsample(pts, 0.0)


def test_bounds_and_centroid():
    rng = np.random.default_rng(3)
    pts = rng.normal(size=(300, 3)).astype(np.float32)
    lo, hi = bounds(pts)
    np.testing.assert_array_equal(lo, pts.min(axis=0))
    np.testing.assert_array_equal(hi, pts.max(axis=0))
    np.testing.assert_allclose(centroid(pts), pts.mean(axis=0), atol=1e-6)


def _patch(n: int = 40, step: float = 0.01) -> np.ndarray:
    g = np.arange(n) * step
    x, z = np.meshgrid(g, g)
    return np.stack([x.ravel(), np.full(x.size, 1.0), z.ravel()], 1).astype(np.float32)


def test_clean_points_drops_detached_outliers():
    patch = _patch()
    outliers = np.array([[2.0, 3.0, 2.0], [-1.5, 1.0, 0.2], [0.2, -1.0, 0.2]], np.float32)
    for radius in (0.0, 0.1):
        out = clean_points(np.concatenate([patch, outliers]), voxel=0.02, rescue_radius=radius)
        lo, hi = bounds(out)
        assert np.all(lo >= -0.011) and np.all(hi <= [0.4, 1.01, 0.4]), radius
        assert len(out) >= 0.9 * len(voxel_downsample(patch, 0.02))


def test_clean_points_rescues_sparse_connected_surfaces():
    # A dense patch with a sparse strip hanging down from it (a far, slanted face).
    strip = np.array([[0.2, 1.0 - 0.04 * i, 0.0] for i in range(1, 15)], np.float32)
    pts = np.concatenate([_patch(), strip])
    plain = clean_points(pts, voxel=0.02)
    rescued = clean_points(pts, voxel=0.02, rescue_radius=0.06)
    assert bounds(plain)[0][1] > 0.6  # plain statistical removal eats the strip
    assert bounds(rescued)[0][1] == pytest.approx(strip[:, 1].min(), abs=0.011)


def test_clean_points_skips_outlier_removal_on_tiny_clouds():
    pts = np.array([[0, 0, 0], [0.1, 0, 0], [5, 5, 5]], np.float32)
    assert MIN_POINTS_FOR_OUTLIERS > 3
    assert len(clean_points(pts, voxel=0.02)) == 3
    assert clean_points(np.zeros((0, 3)), voxel=0.02).shape == (0, 3)
