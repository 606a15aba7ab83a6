"""AI2-THOR's left-handed frame and robomem's right-handed one: the mirror, tested both ways."""

from __future__ import annotations

import numpy as np
import pytest

from robomem.envs.ai2thor.frames import (
    agent_pose,
    camera_pose,
    corners,
    robomem_to_thor,
    thor_box,
    thor_to_robomem,
)


def _agent(x: float, z: float, yaw: float, horizon: float = 0.0) -> dict[str, object]:
    return {"position": {"x": x, "y": 0.9, "z": z}, "rotation": {"x": 0, "y": yaw, "z": 0},
            "cameraHorizon": horizon}


def _in_camera(world_point: np.ndarray, pose: np.ndarray) -> np.ndarray:
    return (np.linalg.inv(pose) @ np.append(world_point, 1.0))[:3]


def test_the_mirror_is_its_own_inverse_for_points_and_arrays() -> None:
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(20, 3))
    np.testing.assert_allclose(robomem_to_thor(thor_to_robomem(pts)), pts)
    np.testing.assert_allclose(thor_to_robomem(robomem_to_thor(pts)), pts)
    np.testing.assert_allclose(thor_to_robomem([1.0, 2.0, 3.0]), [-1.0, 2.0, 3.0])


@pytest.mark.parametrize(("yaw", "ahead_thor", "right_thor"), [
    (0.0, (0, 0, 1), (1, 0, 0)),     # AI2-THOR: rotation.y 0 faces +z, the right hand is +x
    (90.0, (1, 0, 0), (0, 0, -1)),   # 90 faces +x (clockwise seen from above)
    (180.0, (0, 0, -1), (-1, 0, 0)),
    (270.0, (-1, 0, 0), (0, 0, 1)),
])
def test_ahead_and_right_in_thor_are_ahead_and_right_for_robomem_s_camera(
        yaw: float, ahead_thor: tuple[int, int, int], right_thor: tuple[int, int, int]) -> None:
    agent = _agent(0.5, -1.0, yaw)
    cam_thor = np.array([0.5, 0.9 + 0.675, -1.0])
    pose = camera_pose(agent)
    for direction, axis in ((ahead_thor, 2), (right_thor, 0)):
        p_thor = cam_thor + 2.0 * np.array(direction, float)
        p_cam = _in_camera(thor_to_robomem(p_thor), pose)
        assert p_cam[axis] == pytest.approx(2.0, abs=1e-9), (yaw, direction)
        assert np.delete(p_cam, axis) == pytest.approx([0.0, 0.0], abs=1e-9)
    back_thor = robomem_to_thor((pose @ np.array([0.0, 0.0, 2.0, 1.0]))[:3])  # and back
    np.testing.assert_allclose(back_thor, cam_thor + 2.0 * np.array(ahead_thor), atol=1e-9)


def test_looking_down_and_the_camera_position() -> None:
    pose = camera_pose(_agent(0.0, 0.0, 0.0, horizon=30.0),
                       camera_position={"x": 0.0, "y": 1.5, "z": 0.0})
    below_ahead = thor_to_robomem([0.0, 1.5 - np.sin(np.radians(30)), np.cos(np.radians(30))])
    np.testing.assert_allclose(_in_camera(below_ahead, pose), [0, 0, 1], atol=1e-9)
    a = agent_pose(_agent(1.25, 2.0, 450.0, 30.0))
    assert (a.x, a.z, a.yaw, a.horizon) == (-1.25, 2.0, 90.0, 30.0)


def test_boxes_mirror_with_their_x_bounds_swapped() -> None:
    box = thor_box({"center": {"x": 1.0, "y": 0.5, "z": 2.0},
                    "size": {"x": 0.4, "y": 1.0, "z": 0.2}})
    np.testing.assert_allclose(box.lo, [-1.2, 0.0, 1.9])
    np.testing.assert_allclose(box.hi, [-0.8, 1.0, 2.1])
    thor_corners = np.array([robomem_to_thor(c) for c in corners(box)])
    np.testing.assert_allclose(thor_corners.min(axis=0), [0.8, 0.0, 1.9])
    np.testing.assert_allclose(thor_corners.max(axis=0), [1.2, 1.0, 2.1])
