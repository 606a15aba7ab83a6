"""The ray-cast renderer: intrinsics, camera pose, and depth/segmentation consistency."""

from __future__ import annotations

import math

import numpy as np
import pytest

from robomem import keys
from robomem.envs.household.generator import FIRST_OBJECT_SEG, generate_house, reachable_cells
from robomem.envs.household.house import CAMERA_HEIGHT, GRID, WALL_HEIGHT
from robomem.envs.household.meshes import SEG_CEILING, SEG_FLOOR, SEG_WALL
from robomem.envs.household.metadata import object_entry
from robomem.envs.household.renderer import Renderer, camera_pose, intrinsics
from tests.fixtures.household import face, first, make_env, make_sim, render_now

TOL = 0.02  # metres


def backproject(frame, mask):
    """World points of the pixels in ``mask``: pose @ [(u-cx) d/fx, (v-cy) d/fy, d, 1]."""
    K, pose = frame.intrinsics, frame.camera_pose
    v, u = np.nonzero(mask)
    d = frame.depth[v, u].astype(np.float64)
    cam = np.stack([(u - K[0, 2]) * d / K[0, 0], (v - K[1, 2]) * d / K[1, 1], d,
                    np.ones_like(d)])
    return (pose @ cam)[:3].T


def random_views(sim, n, rng):
    cells = sorted(reachable_cells(sim.house))
    for _ in range(n):
        i, j = cells[int(rng.integers(len(cells)))]
        assert sim.world.teleport(i * GRID, j * GRID, float(rng.integers(4)) * 90.0,
                                  float(rng.choice([-30.0, 0.0, 30.0, 60.0])))
        yield render_now(sim)


@pytest.fixture(scope="module")
def sims():
    return [make_sim(seed, 96, 96) for seed in (0, 5, 8)]


# ---------------------------------------------------------------------- camera model
@pytest.mark.parametrize(("w", "h", "fov"), [(64, 64, 90.0), (96, 64, 60.0), (48, 80, 120.0)])
def test_intrinsics_follow_the_vertical_fov(w, h, fov):
    K = intrinsics(w, h, fov)
    f = (h / 2) / math.tan(math.radians(fov) / 2)
    np.testing.assert_allclose(K, [[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1]])
    # The top and bottom image edges are fov/2 above and below the optical axis.
    assert math.degrees(math.atan((h / 2) / K[1, 1])) * 2 == pytest.approx(fov)


def test_env_reports_the_renderers_intrinsics():
    env = make_env(width=96, height=64, fov=60.0)
    obs, _ = env.reset(seed=1)
    np.testing.assert_allclose(obs[keys.OBS_INTRINSICS], intrinsics(96, 64, 60.0))
    assert obs[keys.OBS_RGB].shape == (64, 96, 3)
    assert obs[keys.OBS_DEPTH].shape == obs[keys.OBS_SEGMENTATION].shape == (64, 96)


@pytest.mark.parametrize("yaw", [0.0, 45.0, 90.0, 135.0, 180.0, 270.0, 333.0])
@pytest.mark.parametrize("horizon", [-30.0, 0.0, 30.0, 60.0])
def test_camera_pose_is_a_proper_rigid_transform(yaw, horizon):
    pos = (1.25, CAMERA_HEIGHT, -2.5)
    m = camera_pose(pos, yaw, horizon)
    r = m[:3, :3]
    np.testing.assert_allclose(r.T @ r, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)
    np.testing.assert_allclose(m[3], [0, 0, 0, 1])
    np.testing.assert_allclose(m[:3, 3], pos)
    t, p = math.radians(yaw), math.radians(horizon)
    # Optical axis: yaw 0 looks along +z, yaw 90 along -x; positive horizon looks down.
    np.testing.assert_allclose(m[:3, 2], [-math.sin(t) * math.cos(p), -math.sin(p),
                                          math.cos(t) * math.cos(p)], atol=1e-12)
    assert m[1, 0] == pytest.approx(0.0, abs=1e-12)  # no roll: image x stays horizontal
    assert m[1, 1] < 0 or horizon == 90.0  # image y points down-ish


def test_env_pose_is_proper_for_every_step():
    env = make_env()
    obs, _ = env.reset(seed=3)
    for a in ["RotateRight", "LookDown", "MoveAhead", "LookUp", "LookUp", "RotateLeft"] * 3:
        pose = obs[keys.OBS_CAMERA_POSE]
        r = pose[:3, :3]
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-9)
        assert np.linalg.det(r) == pytest.approx(1.0)
        x, _, z, yaw, horizon = obs[keys.OBS_AGENT_POSE]
        np.testing.assert_allclose(pose, camera_pose((x, CAMERA_HEIGHT, z), yaw, horizon),
                                   atol=1e-5)
        obs = env.step({"action": a, "object": 0})[0]


# ------------------------------------------------------------------------ image buffers
def test_buffers_have_the_documented_types(sims):
    rng = np.random.default_rng(0)
    for sim in sims:
        for frame in random_views(sim, 4, rng):
            assert frame.rgb.dtype == np.uint8 and frame.rgb.shape == (96, 96, 3)
            assert frame.depth.dtype == np.float32 and frame.depth.shape == (96, 96)
            assert frame.segmentation.dtype == np.int32
            hit = frame.segmentation > 0
            assert hit.all()  # indoors every ray hits floor, wall, ceiling or an object
            assert (frame.depth[hit] > 0).all()
            assert np.isfinite(frame.depth).all()
            assert (frame.depth[~hit] == 0).all()
            assert frame.rgb.std() > 0  # not a blank image


def test_depth_is_zero_where_nothing_is_hit():
    house = generate_house(0)
    r = Renderer(32, 32, 90.0)
    r.set_scene(house)
    b = house.bounds
    f = r.render((b.x1 + 50.0, 1.5, b.z1 + 50.0), 0.0, 0.0)  # outside, looking away
    assert (f.segmentation == 0).all() and (f.depth == 0).all()


def test_segmentation_ids_are_structure_or_objects(sims):
    rng = np.random.default_rng(1)
    for sim in sims:
        seg_ids = {o.seg_id for o in sim.house.objects.values()}
        assert min(seg_ids) >= FIRST_OBJECT_SEG
        for frame in random_views(sim, 4, rng):
            ids = set(np.unique(frame.segmentation).tolist())
            assert ids <= {SEG_FLOOR, SEG_WALL, SEG_CEILING} | seg_ids


def test_render_is_deterministic():
    sim = make_sim(2)
    a = render_now(sim)
    b = render_now(sim)
    assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.depth, b.depth)
    assert np.array_equal(a.segmentation, b.segmentation)


def test_renderer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="8x8"):
        Renderer(4, 64)
    with pytest.raises(ValueError, match="fov"):
        Renderer(64, 64, fov_deg=5.0)
    with pytest.raises(RuntimeError, match="set_scene"):
        Renderer(16, 16).render((0.0, 1.5, 0.0), 0.0, 0.0)


# ------------------------------------------------------------ depth/segmentation agree
def test_object_pixels_backproject_into_their_bounding_boxes(sims):
    """Depth is z-depth: every object's pixels land inside its axisAlignedBoundingBox."""
    rng = np.random.default_rng(2)
    checked: set[str] = set()
    for sim in sims:
        by_seg = {o.seg_id: o for o in sim.house.objects.values()}
        for frame in random_views(sim, 30, rng):
            md = sim._metadata("Pass", True, "")
            boxes = {o["objectId"]: o["axisAlignedBoundingBox"] for o in md["objects"]}
            for s in np.unique(frame.segmentation):
                obj = by_seg.get(int(s))
                if obj is None:
                    continue
                pts = backproject(frame, frame.segmentation == s)
                box = boxes[obj.object_id]
                c = box["center"]
                sz = box["size"]
                lo = np.array([c["x"] - sz["x"] / 2, c["y"] - sz["y"] / 2, c["z"] - sz["z"] / 2])
                hi = np.array([c["x"] + sz["x"] / 2, c["y"] + sz["y"] / 2, c["z"] + sz["z"] / 2])
                out = ~((pts >= lo - TOL) & (pts <= hi + TOL)).all(axis=1)
                assert not out.any(), (f"{out.sum()} of {len(pts)} pixels of {obj.object_id} "
                                       f"fall outside its box, e.g. {pts[out][0]}")
                corners = np.array(box["cornerPoints"])
                np.testing.assert_allclose(corners.min(axis=0), lo, atol=1e-9)
                np.testing.assert_allclose(corners.max(axis=0), hi, atol=1e-9)
                checked.add(obj.object_id)
    assert len(checked) >= 30  # many different objects were checked


def test_structure_pixels_backproject_onto_floor_and_ceiling(sims):
    rng = np.random.default_rng(3)
    n_floor = n_ceiling = 0
    for sim in sims:
        for frame in random_views(sim, 10, rng):
            floor = backproject(frame, frame.segmentation == SEG_FLOOR)
            ceiling = backproject(frame, frame.segmentation == SEG_CEILING)
            np.testing.assert_allclose(floor[:, 1], 0.0, atol=TOL)
            np.testing.assert_allclose(ceiling[:, 1], WALL_HEIGHT, atol=TOL)
            n_floor += len(floor)
            n_ceiling += len(ceiling)
    assert n_floor > 1000 and n_ceiling > 1000


def test_hit_distance_is_the_camera_to_point_distance(sims):
    sim = sims[0]
    frame = next(random_views(sim, 1, np.random.default_rng(4)))
    pts = backproject(frame, np.ones_like(frame.segmentation, bool))
    cam = frame.camera_pose[:3, 3]
    np.testing.assert_allclose(np.linalg.norm(pts - cam, axis=1),
                               frame.hit_distance.ravel(), rtol=1e-5, atol=1e-5)
    # z-depth never exceeds the hit distance; they agree at the image centre only.
    assert (frame.depth <= frame.hit_distance + 1e-6).all()


def test_opening_a_fridge_changes_what_is_rendered():
    sim = make_sim(5, 64, 64)
    fridge = first(sim.house, "Fridge")
    before = face(sim, fridge.object_id)
    seg_before = before.segmentation.copy()
    fridge.is_open = True
    after = render_now(sim)
    assert not np.array_equal(seg_before, after.segmentation)


@pytest.mark.parametrize("type_", ["Fridge", "Cabinet"])
def test_open_container_pixels_lie_in_its_bounding_box(type_):
    sim = make_sim(5, 96, 96)
    obj = first(sim.house, type_)
    obj.is_open = True
    rng = np.random.default_rng(5)
    seen = 0
    for frame in random_views(sim, 200, rng):
        mask = frame.segmentation == obj.seg_id
        if mask.sum() < 20:
            continue
        seen += 1
        pts = backproject(frame, mask)
        entry = object_entry(sim.world, obj)["axisAlignedBoundingBox"]
        c = np.array([entry["center"][k] for k in "xyz"])
        half = np.array([entry["size"][k] for k in "xyz"]) / 2
        lo, hi = c - half - TOL, c + half + TOL
        assert ((pts >= lo) & (pts <= hi)).all(), f"door pixels outside {obj.object_id}'s box"
        if seen >= 5:
            break
    assert seen
