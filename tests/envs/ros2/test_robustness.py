"""A robot that restarts, and a slow subscriber: clear errors or counted drops, never a hang."""

from __future__ import annotations

import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from tests.fixtures.ros import needs_ros, ros_kwargs, start_server

pytestmark = needs_ros


def test_a_robot_that_restarts_is_a_timeout_then_works_again(ros_domain: int,
                                                               tmp_path: Path) -> None:
    from robomem.envs.ros2.env import RobotTimeout

    server = start_server(ros_domain, tmp_path)
    robot = gym.make("robomem/ROS2Robot-v0", **ros_kwargs(ros_domain, timeout=30.0))
    try:
        first, _ = robot.reset(seed=4)
        robot.step({"action": "rotate_left", "object": ""})
        server.stop()  # the robot goes away mid-episode
        robot.unwrapped.topics.timeout = 2.0  # type: ignore[attr-defined]
        t = time.monotonic()
        with pytest.raises(RobotTimeout,
                           match=r"no subscriber on /robomem/action \(is the robot running"):
            robot.step({"action": "rotate_left", "object": ""})
        assert time.monotonic() - t < 10
        server = start_server(ros_domain, tmp_path)  # and comes back: a new process
        robot.unwrapped.topics.timeout = 30.0  # type: ignore[attr-defined]
        again, _ = robot.reset(seed=4)
        assert np.array_equal(first["rgb"], again["rgb"])
        assert np.array_equal(first["agent_pose"], again["agent_pose"])
        obs, *_ = robot.step({"action": "rotate_left", "object": ""})
        assert obs["step"] == 1
        stats = robot.unwrapped.link_stats()  # type: ignore[attr-defined]
        assert stats["assembled"] >= 3
    finally:
        robot.close()
        server.stop()


def test_a_slow_subscriber_drops_counted_frames_and_slows_nobody(ros_domain: int) -> None:
    """30 Hz frames to a subscriber that takes 0.1 s per frame: the publisher keeps its rate,
    the slow side keeps the newest frames (KEEP_LAST) and the synchroniser counts the rest."""
    from robomem.envs.ros2.convert import image_to_msg
    from robomem.envs.ros2.node import msgs, qos, start_node
    from robomem.envs.ros2.sync import Synchronizer

    pub_ros, sub_ros = start_node("fast_pub", ros_domain), start_node("slow_sub", ros_domain)
    m = msgs()
    sensor = qos("sensor", 5)
    rgb_pub = pub_ros.node.create_publisher(m.Image, "/camera/color/image_raw", sensor)
    depth_pub = pub_ros.node.create_publisher(m.Image, "/camera/depth/image_rect", sensor)
    sync = Synchronizer(["rgb", "depth"], tolerance=0.005, depth=5)
    got: list[float] = []

    def slow(stream: str):  # type: ignore[no-untyped-def]
        def cb(msg) -> None:  # type: ignore[no-untyped-def]
            time.sleep(0.1)
            stamp = msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec
            sync.add(stream, stamp, msg)
            got.append(stamp)
            sync.latest()  # as the env does while it waits for a frame
        return cb

    sub_ros.node.create_subscription(m.Image, "/camera/color/image_raw", slow("rgb"), sensor)
    sub_ros.node.create_subscription(m.Image, "/camera/depth/image_rect", slow("depth"), sensor)
    import threading

    stop = threading.Event()

    def spin_slow() -> None:
        while not stop.is_set():
            sub_ros.spin_once(0.02)

    spinner = threading.Thread(target=spin_slow, daemon=True)
    try:
        deadline = time.monotonic() + 10
        while rgb_pub.get_subscription_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        spinner.start()
        rgb = np.zeros((64, 64, 3), np.uint8)
        depth = np.ones((64, 64), np.float32)
        sent, t0 = 0, time.monotonic()
        while time.monotonic() - t0 < 3.0:
            stamp = pub_ros.now()
            for pub, array, enc in ((rgb_pub, rgb, "rgb8"), (depth_pub, depth, "32FC1")):
                msg = m.Image()
                msg.header.stamp = stamp
                pub.publish(image_to_msg(msg, array, enc))
            sent += 1
            time.sleep(max(0.0, t0 + sent / 30.0 - time.monotonic()))
        rate = sent / (time.monotonic() - t0)
        stop.set()
        spinner.join(5)
    finally:
        stop.set()
        pub_ros.close()
        sub_ros.close()
    assert rate > 25.0, f"the publisher was slowed to {rate:.1f} Hz"
    assert 0 < len(got) < 2 * sent  # the slow side saw some, not all
    stats = sync.stats()
    assert stats["received"] == len(got)
    # it falls behind: what it takes is too old to pair, and each such frame is counted as
    # dropped, not silently lost (a frame is assembled, dropped, or still in the buffer)
    assert stats["stale"] + stats["unmatched"] > 0, stats
    buffered = stats["received"] - 2 * stats["assembled"] - stats["stale"] - stats["unmatched"]
    assert 0 <= buffered <= 2 * 5, stats
