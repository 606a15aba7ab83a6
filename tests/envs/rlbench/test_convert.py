"""RLBench observation conversion, on RLBench layouts of scenes real robomem envs rendered.

tests/fixtures/rlbench_layout.py writes each render as RLBench's ``Scene.get_observation``
would (PyRep's camera conventions, normalised depth, colour-coded masks, PyRep's point-cloud
formula); these tests read it back with ``robomem.envs.rlbench.convert`` and check it against
the original render and the env's ground-truth boxes.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from robomem.envs.registry import ENVS
from robomem.envs.rlbench.convert import (
    SENSORS,
    depth_from_rlbench,
    depth_to_rlbench,
    intrinsics_from_pyrep,
    intrinsics_to_pyrep,
    mask_from_rlbench,
    mask_to_rgb_code,
    matrix_from_pose7,
    observation_from_rlbench,
    point_cloud_yup,
    pose7_from_matrix,
    pose_from_pyrep,
    pose_to_pyrep,
)
from robomem.geometry import camera_to_world, zup_to_yup
from robomem.preprocess.pointcloud import backproject
from robomem.types import Observation, Proprioception
from tests.fixtures.rlbench_layout import (
    HOUSEHOLD,
    TABLETOP,
    Layout,
    ground_truth_boxes,
    pyrep_intrinsic_matrix,
    render,
    rgb_code,
    rgb_handles_to_mask,
    rlbench_layout,
)

ENV_IDS = [HOUSEHOLD, pytest.param(TABLETOP, marks=pytest.mark.skipif(
    TABLETOP not in ENVS, reason="robomem/Tabletop-v0 is not registered yet (envs/tabletop/ "
                                 "is being written)"))]
_RENDERS: dict[str, Observation] = {}


def rendered(env_id: str) -> Observation:
    """One render per env id for the whole module (the tests only read it)."""
    if env_id not in _RENDERS:
        _RENDERS[env_id] = render(env_id, seed=0)
    return _RENDERS[env_id]


@pytest.fixture(params=ENV_IDS)
def scene(request: pytest.FixtureRequest) -> Observation:
    return rendered(str(request.param))


def back(layout: Layout, depth_in_meters: bool = False) -> Observation:
    return observation_from_rlbench(layout.observation, cameras=layout.cameras,
                                    depth_in_meters=depth_in_meters, labels=layout.labels,
                                    object_ids=layout.object_ids)


def with_arm(obs: Observation) -> Observation:
    """``obs`` with a 7-joint arm whose tip is at an awkward (near half-turn) orientation."""
    out = copy.copy(obs)
    ee = np.eye(4)
    ee[:3, :3] = Rotation.from_rotvec([0.3, -2.9, 0.8]).as_matrix()
    ee[:3, 3] = [0.4, 0.9, -0.2]
    out.proprio = Proprioception(joint_names=tuple(f"Panda_joint{i}" for i in range(1, 8)),
                                 joint_positions=np.linspace(-1.0, 1.0, 7),
                                 joint_velocities=np.full(7, 0.25), gripper_open=1.0, ee_pose=ee)
    return out


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize(("depth_in_meters", "one_channel", "offset"),
                         [(False, True, 0), (True, True, 0), (False, False, 70_000)])
def test_round_trip_gives_back_the_render(scene: Observation, depth_in_meters: bool,
                                          one_channel: bool, offset: int) -> None:
    original = scene if scene.proprio is not None else with_arm(scene)
    layout = rlbench_layout(original, depth_in_meters=depth_in_meters,
                            masks_as_one_channel=one_channel, handle_offset=offset)
    got = back(layout, depth_in_meters)
    assert list(got.cameras) == list(layout.cameras) and got.primary == layout.cameras[0]
    for name, cam in got.cameras.items():
        ref = original.cameras[name]
        assert ref.depth is not None and ref.segmentation is not None
        assert cam.rgb.dtype == np.uint8 and np.array_equal(cam.rgb, ref.rgb)
        assert cam.depth is not None and cam.depth.dtype == np.float32
        np.testing.assert_allclose(cam.depth, ref.depth, atol=2e-6 * layout.far)
        assert np.array_equal(cam.depth == 0, ref.depth == 0)
        np.testing.assert_allclose(cam.intrinsics, ref.intrinsics, atol=1e-9)
        assert cam.intrinsics[0, 0] > 0 and cam.intrinsics[1, 1] > 0
        np.testing.assert_allclose(cam.pose, ref.pose, atol=1e-9)
        assert cam.segmentation is not None and cam.segmentation.dtype == np.int32
        expected = np.where(ref.segmentation > 0, ref.segmentation + offset, 0)
        assert np.array_equal(cam.segmentation, expected)
        present = {int(i) for i in np.unique(ref.segmentation) if i > 0}
        assert cam.labels == {i + offset: v for i, v in ref.labels.items() if i in present}
        assert cam.object_ids == {i + offset: v for i, v in ref.object_ids.items()
                                  if i in present}
        assert cam.frame_id == SENSORS[name]
    arm, ref_arm = got.proprio, original.proprio
    assert arm is not None and ref_arm is not None and ref_arm.ee_pose is not None
    np.testing.assert_allclose(arm.joint_positions, ref_arm.joint_positions)
    assert arm.gripper_open == ref_arm.gripper_open
    assert arm.ee_pose is not None
    np.testing.assert_allclose(arm.ee_pose, ref_arm.ee_pose, atol=1e-9)


def test_depth_normalisation_both_ways() -> None:
    near, far = 0.1, 5.1
    normalised = np.array([[0.0, 0.25, 0.999], [1.0, 0.5, 1.2]], np.float32)
    metres = depth_from_rlbench(normalised, near, far)
    np.testing.assert_allclose(metres, [[0.1, 1.35, 5.095], [0.0, 2.6, 0.0]], atol=1e-5)
    as_metres = near + normalised.astype(np.float64) * (far - near)
    np.testing.assert_allclose(depth_from_rlbench(as_metres, near, far, in_meters=True), metres,
                               atol=1e-6)
    for in_meters in (False, True):
        encoded = depth_to_rlbench(metres, near, far, in_meters)
        assert encoded[1, 0] == (far if in_meters else 1.0)  # nothing hit: the far plane
        np.testing.assert_allclose(depth_from_rlbench(encoded, near, far, in_meters), metres,
                                   atol=1e-5)
    with pytest.raises(ValueError, match=r"depth 6 m lies outside the clipping planes"):
        depth_to_rlbench(np.array([[6.0]]), near, far)
    with pytest.raises(ValueError, match=r"near=2.0, far=1.0"):
        depth_from_rlbench(normalised, 2.0, 1.0)


def test_both_depth_modes_give_the_same_metres(scene: Observation) -> None:
    a = back(rlbench_layout(scene), depth_in_meters=False)
    b = back(rlbench_layout(scene, depth_in_meters=True), depth_in_meters=True)
    for name in a.cameras:
        da, db = a.cameras[name].depth, b.cameras[name].depth
        assert da is not None and db is not None
        np.testing.assert_allclose(da, db, atol=2e-5)
        assert (da > 0).any()


# ------------------------------------------------------------------ camera conventions
def test_pyrep_intrinsics_become_opencv_ones() -> None:
    k = pyrep_intrinsic_matrix((128, 128), 60.0)
    assert k[0, 0] < 0 and k[1, 1] < 0  # PyRep's convention
    cv = intrinsics_from_pyrep(k)
    f = 64 / math.tan(math.radians(30))
    np.testing.assert_allclose(cv, [[f, 0, 64], [0, f, 64], [0, 0, 1]])
    wide = intrinsics_from_pyrep(pyrep_intrinsic_matrix((160, 120), 60.0))
    assert wide[0, 0] == pytest.approx(wide[1, 1]) and tuple(wide[:2, 2]) == (80, 60)
    np.testing.assert_allclose(intrinsics_to_pyrep(cv), k)


def test_a_sensor_looking_along_x_is_robomems_yaw_zero_camera() -> None:
    # CoppeliaSim sensor at (1, 2, 0.5) looking along world +x, image up = world +z; its
    # x axis (image left) is then world +y
    extrinsics = np.eye(4)
    extrinsics[:3, :3] = np.column_stack([[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    extrinsics[:3, 3] = [1.0, 2.0, 0.5]
    pose = pose_from_pyrep(extrinsics)
    expected = camera_to_world(tuple(zup_to_yup([1.0, 2.0, 0.5])), 0.0, 0.0)  # faces +z
    np.testing.assert_allclose(pose, expected, atol=1e-12)
    np.testing.assert_allclose(pose_to_pyrep(pose), extrinsics, atol=1e-12)
    # a point 2 m ahead and 0.5 m to the sensor's left lands left of the principal point
    k = pyrep_intrinsic_matrix((128, 128), 60.0)
    point = np.array([3.0, 2.5, 0.5])
    p_sensor = extrinsics[:3, :3].T @ (point - extrinsics[:3, 3])
    u_pyrep = k[0, 0] * p_sensor[0] / p_sensor[2] + k[0, 2]
    p_cv = pose[:3, :3].T @ (zup_to_yup(point) - pose[:3, 3])
    u_cv = intrinsics_from_pyrep(k)[0, 0] * p_cv[0] / p_cv[2] + 64
    assert u_pyrep == pytest.approx(u_cv) and u_cv < 64


def test_pyrep_point_clouds_match_robomems_back_projection(scene: Observation) -> None:
    layout = rlbench_layout(scene)
    got = back(layout)
    for name, cam in got.cameras.items():
        assert cam.depth is not None
        valid = cam.depth > 0
        mine = backproject(cam.depth, cam.intrinsics, cam.pose)
        pyrep = point_cloud_yup(layout.observation, name)[valid]
        assert len(mine) == len(pyrep) > 100
        np.testing.assert_allclose(mine, pyrep, atol=1e-4)


# ------------------------------------------------------------------ masks and geometry
def test_mask_encodings() -> None:
    handles = np.array([[0, 5, 255], [256, 70_000, 2**24 - 1]])
    code = rgb_code(handles)
    assert np.array_equal(mask_from_rlbench(code), handles)  # masks_as_one_channel=False
    assert np.array_equal(mask_from_rlbench((code * 255).round().astype(np.uint8)), handles)
    np.testing.assert_array_equal(mask_to_rgb_code(handles), code)
    small = handles[:, :2] % 60_000  # one channel: rgb_handles_to_mask's float sum
    assert np.array_equal(mask_from_rlbench(rgb_handles_to_mask(rgb_code(small))), small)
    with pytest.raises(ValueError, match="whole object handles"):
        mask_from_rlbench(np.array([[1.5]]))
    with pytest.raises(ValueError, match=r"handles must lie in \[0, 16777215\]"):
        mask_from_rlbench(np.array([[-1]]))


def _outside(layout: Layout, got: Observation) -> tuple[int, float]:
    """(objects checked, the farthest any mask point lies outside its object's box).

    Each point may miss by the width of one pixel at its depth (``depth / f``): a rasteriser
    (pybullet's TinyRenderer) samples pixels up to about that far off the surface's edge.
    """
    boxes, checked, worst = ground_truth_boxes(got), 0, 0.0
    for name, cam in got.cameras.items():
        assert cam.segmentation is not None and cam.depth is not None
        cloud = point_cloud_yup(layout.observation, name)
        for handle, object_id in cam.object_ids.items():
            if object_id not in boxes:
                continue
            mask = cam.segmentation == handle
            box, pixel = boxes[object_id], cam.depth[mask] / cam.intrinsics[0, 0]
            for pts in (cloud[mask], backproject(cam.depth, cam.intrinsics, cam.pose, mask=mask)):
                miss = np.array([box.distance_to(p) for p in pts]) - pixel
                worst = max(worst, float(miss.max()))
            checked += 1
    return checked, worst


def test_mask_points_land_in_their_ground_truth_boxes(scene: Observation) -> None:
    layout = rlbench_layout(scene)
    got = back(layout)
    got.privileged = scene.privileged
    checked, worst = _outside(layout, got)
    assert checked >= 3 and worst < 1e-3


def test_the_box_check_catches_a_mirrored_camera(scene: Observation) -> None:
    # reading PyRep's matrices as if they were OpenCV's (no half turn, |f|) must fail the check
    layout = rlbench_layout(scene)
    got = back(layout)
    got.privileged = scene.privileged
    for name, cam in got.cameras.items():
        misc = layout.observation.misc
        cam.pose = zup_to_yup(misc[f"{name}_camera_extrinsics"])
        cam.intrinsics = np.abs(misc[f"{name}_camera_intrinsics"])
        layout.observation.__dict__[f"{name}_point_cloud"] = np.zeros(
            (*cam.rgb.shape[:2], 3))  # the cloud is not under test here
    checked, worst = _outside(layout, got)
    assert checked >= 3 and worst > 0.05


# ------------------------------------------------------------------ poses
@pytest.mark.parametrize("rotvec", [[0, 0, 0], [0.1, 0.2, 0.3], [math.pi, 0, 0],
                                    [0, 3.14159, 0.001], [1.2, -2.0, 2.5]])
def test_pose7_and_matrix_agree_with_scipy(rotvec: list[float]) -> None:
    r = Rotation.from_rotvec(rotvec)
    pose = np.concatenate([[0.1, -0.2, 0.3], r.as_quat()])
    m = matrix_from_pose7(pose)
    np.testing.assert_allclose(m[:3, :3], r.as_matrix(), atol=1e-12)
    again = pose7_from_matrix(m)
    assert again[6] >= 0
    np.testing.assert_allclose(Rotation.from_quat(again[3:]).as_matrix(), r.as_matrix(),
                               atol=1e-9)


# ------------------------------------------------------------------ bad input
def _broken(change: str) -> Any:
    layout = rlbench_layout(with_arm(rendered(HOUSEHOLD)))
    rl = layout.observation
    if change == "missing":
        del rl.front_rgb
    elif change == "none":
        rl.front_depth = None
    elif change == "shape":
        rl.front_depth = rl.front_depth[:, :-1]
    elif change == "dtype":
        rl.front_rgb = rl.front_rgb.astype(np.float32)
    elif change == "focal":
        rl.misc["front_camera_intrinsics"] = np.abs(rl.misc["front_camera_intrinsics"])
    elif change == "misc":
        del rl.misc["front_camera_far"]
    elif change == "pose":
        rl.gripper_pose = rl.gripper_pose[:6]
    elif change == "rigid":
        rl.misc["front_camera_extrinsics"] = 2 * rl.misc["front_camera_extrinsics"]
    return rl


@pytest.mark.parametrize(("change", "message"), [
    ("missing", r"front_rgb: missing \(a RLBenchObservation is not an RLBench Observation\)"),
    ("none", r"front_depth: is None \(RLBench leaves it None when ObservationConfig"),
    ("shape", r"front_depth: expected shape \(64, 64\), got \(64, 63\)"),
    ("dtype", r"front_rgb: expected uint8 colours, got dtype float32"),
    ("focal", r"misc\[front_camera_intrinsics\]: PyRep's get_intrinsic_matrix has negative "
              r"focal lengths, got fx=32"),
    ("misc", r"misc: has no 'front_camera_far'"),
    ("pose", r"gripper_pose: expected shape \(7\), got \(6,\)"),
    ("rigid", r"misc\[front_camera_extrinsics\]: not a rigid transform"),
])
def test_bad_input_is_named_without_the_data(change: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as err:
        observation_from_rlbench(_broken(change), cameras=("front",))
    assert len(str(err.value)) < 200 and "[[" not in str(err.value)


def test_unknown_camera_lists_rlbenchs() -> None:
    with pytest.raises(ValueError, match="unknown RLBench camera 'top'; known: left_shoulder, "
                                         "right_shoulder, overhead, wrist, front"):
        observation_from_rlbench(rlbench_layout(rendered(HOUSEHOLD)).observation,
                                 cameras=("top",))
