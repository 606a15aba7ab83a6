"""ROS 2 message conversion and frames (no ROS needed: messages are stand-ins with the fields)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from robomem.envs.ros2.config import RosTopics
from robomem.envs.ros2.convert import (
    MessageError,
    base_from_ros,
    base_to_ros,
    depth_from_msg,
    horizon_of,
    ids_from_msg,
    image_to_msg,
    matrix_from_ros,
    pose_to_ros,
    rgb_from_msg,
)
from robomem.envs.ros2.sync import Synchronizer
from robomem.types import AgentPose


def _msg(**kw: object) -> SimpleNamespace:
    return SimpleNamespace(is_bigendian=0, **kw)


def test_images_round_trip_and_other_layouts_convert() -> None:
    rgb = np.random.default_rng(0).integers(0, 255, (4, 5, 3), dtype=np.uint8)
    assert np.array_equal(rgb_from_msg(image_to_msg(_msg(), rgb, "rgb8")), rgb)
    bgr = _msg(height=4, width=5, step=15, encoding="bgr8", data=rgb[..., ::-1].tobytes())
    assert np.array_equal(rgb_from_msg(bgr), rgb)
    mm = np.array([[0, 1500], [65535, 250]], np.uint16)
    d = depth_from_msg(_msg(height=2, width=2, step=4, encoding="16UC1", data=mm.tobytes()))
    assert np.allclose(d, [[0.0, 1.5], [65.535, 0.25]])
    f = np.array([[np.nan, 2.0]], np.float32)
    assert depth_from_msg(image_to_msg(_msg(), f, "32FC1")).tolist() == [[0.0, 2.0]]
    ids = np.array([[0, 7]], np.int32)
    assert ids_from_msg(image_to_msg(_msg(), ids, "32SC1")).tolist() == [[0, 7]]


@pytest.mark.parametrize(("msg", "match"), [
    (_msg(height=2, width=2, step=6, encoding="mono8", data=b"\0" * 12), "mono8"),
    (_msg(height=2, width=2, step=6, encoding="rgb8", data=b"\0" * 11), "11 bytes"),
    (_msg(height=2, width=2, step=4, encoding="rgb8", data=b"\0" * 8), "shorter than a row"),
    (_msg(height=0, width=2, step=6, encoding="rgb8", data=b""), "positive"),
])
def test_bad_images_say_what_is_wrong(msg: SimpleNamespace, match: str) -> None:
    with pytest.raises(MessageError, match=match):
        rgb_from_msg(msg)
    with pytest.raises(MessageError, match="32FC1"):
        depth_from_msg(_msg(height=1, width=1, step=1, encoding="8UC1", data=b"\0"))


def test_the_map_frame_goes_to_robomems_world_and_back() -> None:
    # ROS heading 90 (facing +y, left) is robomem yaw 270 (facing +x): both face the same way
    for yaw in (0.0, 90.0, 180.0, 270.0, 33.0):
        p, q = base_to_ros(1.0, 0.9, -2.0, yaw)
        x, y, z, back = base_from_ros(p, q)
        assert np.allclose([x, y, z], [1.0, 0.9, -2.0])
        assert abs((back - yaw + 180) % 360 - 180) < 1e-9
        body = AgentPose(x, y, z, yaw, 0.0).matrix()
        heading = math.atan2(2 * q[2] * q[3], 1 - 2 * q[2] ** 2)  # ROS yaw of the quaternion
        forward_ros = np.array([math.cos(heading), math.sin(heading), 0.0])
        assert np.allclose(forward_ros[[1, 2, 0]], body[:3, 2], atol=1e-9)
    cam = AgentPose(1.0, 0.9, 2.0, 90.0, 30.0).matrix()
    cam[:3, :3] = cam[:3, :3] @ np.diag([-1.0, -1.0, 1.0])  # optical axes
    p, q = pose_to_ros(cam)
    assert np.allclose(matrix_from_ros(p, q), cam)


def test_horizon_is_positive_looking_down() -> None:
    down = np.eye(4)
    a = math.radians(30)
    down[:3, 2] = [0.0, -math.sin(a), math.cos(a)]
    assert horizon_of(down) == pytest.approx(30.0)


def test_sync_matches_within_tolerance_and_counts_drops() -> None:
    s = Synchronizer(["rgb", "depth"], tolerance=0.02)
    s.add("rgb", 1.0, "a")
    s.add("depth", 1.05, "far")  # out of tolerance: no set
    assert s.latest() is None
    s.add("depth", 0.99, "near")
    got = s.latest()
    assert got is not None and got.messages == {"rgb": "a", "depth": "near"}
    assert s.latest() is None  # each set is taken once
    s.add("rgb", 0.5, "old")
    assert s.stats()["stale"] == 1


def test_topic_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="not a ROS topic name"):
        RosTopics(rgb="/camera/color image")
    with pytest.raises(ValueError, match="motion must be one of json, twist"):
        RosTopics(motion="teleport")
    with pytest.raises(ValueError, match="unknown topics setting 'colour'"):
        RosTopics.of({"colour": "/x"})


def test_a_goal_one_step_away_maps_back_to_its_move() -> None:
    import math

    from robomem.envs.ros2.convert import MOTION_STEPS, goal_of, heading_of, primitive_to

    rng = np.random.default_rng(0)
    for _ in range(50):
        x, y, theta = rng.uniform(-5, 5), rng.uniform(-5, 5), rng.uniform(-math.pi, math.pi)
        for name in MOTION_STEPS:
            goal = goal_of(x, y, theta, name, 0.25, 90.0)
            assert primitive_to(x, y, theta, goal, 0.25, 90.0) == name
        assert primitive_to(x, y, theta, (x + 0.05, y, theta + 0.1), 0.25, 90.0) is None
    q = (0.0, 0.0, math.sin(0.3), math.cos(0.3))
    assert heading_of(q) == pytest.approx(0.6)
