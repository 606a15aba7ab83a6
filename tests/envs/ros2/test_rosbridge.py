"""robomem/ROS2Robot-v0 through a real rosbridge server (rosbridge-server-rs, localhost).

The served Household robot is on a ROS 2 graph of its own domain; the rosbridge server joins
that graph; the env reaches the robot only through the server's websocket (roslibpy).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from robomem.embodiment import embodiment_for
from robomem.runner import EpisodeRecord
from tests.fixtures.ros import Server, needs_ros, needs_rosbridge, run_agent

pytestmark = [needs_ros, needs_rosbridge]


def bridge_kwargs(url: str, compression: str = "none", **extra: Any) -> dict[str, Any]:
    """ROS2Robot-v0's keyword arguments for the served Household behind ``url``."""
    return {"width": 64, "height": 64, "rosbridge": url, "compression": compression,
            "topics": {"timeout": 30.0}, **extra}


def _outcomes(records: list[EpisodeRecord]) -> list[tuple[bool, int, str]]:
    return [(r.success, r.steps, r.instruction) for r in records]


def test_the_agent_through_rosbridge_does_as_on_the_direct_env_and_replays(
        ros_server: Server, rosbridge: Any, tmp_path: Path) -> None:
    direct = gym.make("robomem/Household-v0", width=64, height=64)
    try:
        direct_records, _ = run_agent(direct, (0, 1))
    finally:
        direct.close()
    bag = tmp_path / "bag"
    robot = gym.make("robomem/ROS2Robot-v0", **bridge_kwargs(rosbridge.url, record=str(bag)))
    try:
        bridge_records, bridge_graph = run_agent(robot, (0, 1))
        stats = robot.unwrapped.link_stats()  # type: ignore[attr-defined]
    finally:
        robot.close()
    # the same world on the same seeds: the same outcomes, step for step
    assert _outcomes(bridge_records) == _outcomes(direct_records)
    assert any(r.success for r in direct_records)
    assert stats["rosbridge_received"] > 0 and stats["rosbridge_bad"] == 0, stats
    # what went through rosbridge was recorded, and replays offline to the same memory
    replay = gym.make("robomem/ROS2Robot-v0", width=64, height=64, replay=str(bag))
    try:
        replay_records, replay_graph = run_agent(replay, (0, 1))
    finally:
        replay.close()
    assert _outcomes(replay_records) == _outcomes(bridge_records)
    assert replay_graph == bridge_graph and bridge_graph["nodes"]
    assert "Traceback" not in ros_server.output() + rosbridge.output()


def test_png_compressed_frames_equal_the_direct_envs(ros_server: Server,
                                                     rosbridge: Any) -> None:
    direct = gym.make("robomem/Household-v0", width=64, height=64)
    robot = gym.make("robomem/ROS2Robot-v0", **bridge_kwargs(rosbridge.url, "png"))
    try:
        a, ai = direct.reset(seed=3)
        b, bi = robot.reset(seed=3)
        for step in (None, "MoveAhead", "RotateLeft"):
            if step is not None:
                a, _, _, _, ai = direct.step({"action": step, "object": 0})
                prim = {"MoveAhead": "move_ahead", "RotateLeft": "rotate_left"}[step]
                b, _, _, _, bi = robot.step({"action": prim, "object": ""})
            ea, eb = embodiment_for(direct).observe(a, ai), embodiment_for(robot).observe(b, bi)
            assert np.array_equal(ea.rgb, eb.rgb)  # PNG is lossless
            assert np.allclose(ea.depth, eb.depth)
            assert np.array_equal(ea.segmentation, eb.segmentation)
            assert ea.labels == eb.labels and ea.instruction == eb.instruction
            assert np.allclose(ea.camera_pose, eb.camera_pose, atol=1e-5)
        assert robot.unwrapped.link_stats()["rosbridge_bad"] == 0  # type: ignore[attr-defined]
    finally:
        direct.close()
        robot.close()


def test_memory_is_shown_and_answers_questions_through_rosbridge(
        ros_server: Server, rosbridge: Any, tmp_path: Path) -> None:
    from robomem.cli import main
    from tests.envs.ros2.test_memory_topics import Listener

    listener = Listener(ros_server.domain)  # a plain ROS 2 node on the robot's graph
    question = json.dumps({"id": 7, "question": "where is the fridge?"})
    with listener.asking([question], delay=0.5):  # once the bridge subscribed for the agent
        rc = main(["run", "--config", "launch/ros2.yaml", "--episodes", "1", "--no-progress",
                   "--out", str(tmp_path), f"env.rosbridge={rosbridge.url}",
                   "env.compression=png", "env.topics.timeout=30"])
    assert rc == 0
    assert listener.graphs and listener.markers, "memory reached the ROS 2 graph via rosbridge"
    assert listener.graphs[-1]["objects"]
    arr = listener.markers[-1]
    assert arr.markers[0].action == 3 and any(mk.ns == "objects" for mk in arr.markers)
    by_id = {a.get("id"): a for a in listener.answers}
    assert 7 in by_id, listener.answers
    assert by_id[7]["ok"] and by_id[7]["types"] == ["Fridge"]


def test_a_missing_server_or_a_bad_url_is_a_clear_error() -> None:
    from robomem.envs.ros2.rosbridge import RosbridgeError, RosbridgePorts
    from robomem.envs.ros2.rosbridge_server import free_port

    url = f"ws://127.0.0.1:{free_port()}"
    start = time.monotonic()
    with pytest.raises(RosbridgeError, match=f"no rosbridge server answered at {url}"):
        RosbridgePorts(url, connect_timeout=1.0)
    assert time.monotonic() - start < 10
    with pytest.raises(ValueError, match="ws://HOST:PORT"):
        gym.make("robomem/ROS2Robot-v0", rosbridge="robot:9090")
    with pytest.raises(ValueError, match="compression must be one of none, png"):
        gym.make("robomem/ROS2Robot-v0", rosbridge=url, compression="jpeg")
    with pytest.raises(ValueError, match="exclude each other"):
        gym.make("robomem/ROS2Robot-v0", rosbridge=url, replay="somewhere")


def test_a_server_that_goes_away_mid_episode_is_an_error_not_a_hang(
        ros_server: Server, rosbridge: Any) -> None:
    from robomem.envs.ros2.env import RobotTimeout
    from robomem.envs.ros2.rosbridge import RosbridgeError

    robot = gym.make("robomem/ROS2Robot-v0",
                     **{**bridge_kwargs(rosbridge.url), "topics": {"timeout": 5.0}})
    try:
        robot.reset(seed=0)
        rosbridge.stop()
        start = time.monotonic()
        with pytest.raises((RosbridgeError, RobotTimeout)):
            for _ in range(3):
                robot.step({"action": "rotate_left", "object": ""})
        assert time.monotonic() - start < 20
    finally:
        robot.close()


def test_a_repeated_reset_request_is_answered_again_without_a_second_reset(
        ros_domain: int) -> None:
    from std_msgs.msg import String

    from robomem.envs.ros2.config import RosTopics
    from robomem.envs.ros2.serve import RobotServer

    env = gym.make("robomem/Household-v0", width=64, height=64)
    server = RobotServer(env, RosTopics(domain_id=ros_domain))
    answers: list[dict[str, Any]] = []
    server._publish = lambda raw, info, head: answers.append(head)  # type: ignore[method-assign]
    try:
        request = json.dumps({"request": 1, "seed": 4, "options": {}})
        server._on_reset(String(data=request))
        server._on_reset(String(data=request))  # rosbridge resent it: same answer, no reset
        assert server.counts["resets"] == 1 and len(answers) == 2
        assert answers[0] == answers[1] and answers[0]["request"] == 1
        server._on_reset(String(data=json.dumps({"request": 1, "seed": 5, "options": {}})))
        assert server.counts["resets"] == 2  # another body is another request
        server._on_action(String(data=json.dumps({"seq": 1, "action": "rotate_left"})))
        server._on_reset(String(data=json.dumps({"request": 1, "seed": 5, "options": {}})))
        assert server.counts["resets"] == 3  # after a step, a reset is a new episode
    finally:
        server.ros.close()
        env.close()


def test_a_replay_passes_over_requests_the_recording_repeated(tmp_path: Path) -> None:
    from std_msgs.msg import String

    from robomem.envs.ros2.bag import BagRecorder, ReplayDiverged
    from robomem.envs.ros2.ports import ReplayPorts

    reset = String(data='{"request": 1}')
    with BagRecorder(tmp_path / "bag") as bag:
        bag.write("/reset", reset, 1)
        bag.write("/reset", reset, 2)  # resent while the robot was not yet listening
        bag.write("/feedback", String(data="ok"), 3)
        bag.write("/reset", String(data='{"request": 2}'), 4)
    ports, heard = ReplayPorts(tmp_path / "bag"), []
    ports.subscribe(String, "/feedback", lambda m: heard.append(m.data), None)
    pub = ports.publisher(String, "/reset", None)
    pub.publish(reset)
    ports.spin_once(0.0)  # the repeat
    ports.spin_once(0.0)
    assert heard == ["ok"]
    with pytest.raises(ReplayDiverged, match=r"request.: 2"):
        ports.spin_once(0.0)  # the recording has the agent send a new request: not a repeat
    ports.close()
