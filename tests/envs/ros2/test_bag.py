"""Recording a run on ROS 2 to MCAP and replaying it into the agent offline."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest

from tests.fixtures.ros import Server, needs_ros, ros_kwargs, run_agent

pytestmark = needs_ros


def _record(domain: int, bag: Path, seed: int, action: str) -> None:
    """Record a reset and one action against the served robot on ``domain``."""
    live = gym.make("robomem/ROS2Robot-v0", **ros_kwargs(domain), record=str(bag))
    try:
        live.reset(seed=seed)
        live.step({"action": action, "object": ""})
    finally:
        live.close()


def test_a_recorded_run_replays_to_the_same_memory(ros_server: Server, tmp_path: Path) -> None:
    bag = tmp_path / "run"
    live = gym.make("robomem/ROS2Robot-v0", **ros_kwargs(ros_server.domain), record=str(bag))
    try:
        live_records, live_graph = run_agent(live, (0, 1))
    finally:
        live.close()
    assert live_graph["nodes"], "the live run saw objects"
    replay = gym.make("robomem/ROS2Robot-v0", **ros_kwargs(ros_server.domain), replay=str(bag))
    try:
        replay_records, replay_graph = run_agent(replay, (0, 1))
    finally:
        replay.close()
    assert [(r.success, r.steps, r.instruction) for r in replay_records] == \
        [(r.success, r.steps, r.instruction) for r in live_records]
    assert replay_graph == live_graph


def test_a_replay_that_goes_another_way_says_where(ros_server: Server, tmp_path: Path) -> None:
    from robomem.envs.ros2.bag import ReplayDiverged

    bag = tmp_path / "run"
    _record(ros_server.domain, bag, 0, "rotate_left")
    replay = gym.make("robomem/ROS2Robot-v0", **ros_kwargs(ros_server.domain), replay=str(bag))
    try:
        replay.reset(seed=0)
        with pytest.raises(ReplayDiverged, match=r"rotate_right.* but the recording has .*"
                                                 r"rotate_left"):
            replay.step({"action": "rotate_right", "object": ""})
    finally:
        replay.close()
    replay = gym.make("robomem/ROS2Robot-v0", **ros_kwargs(ros_server.domain), replay=str(bag))
    try:
        replay.reset(seed=0)
        replay.step({"action": "rotate_left", "object": ""})
        with pytest.raises(ReplayDiverged, match="ends here"):
            replay.step({"action": "move_ahead", "object": ""})
    finally:
        replay.close()


def test_the_recording_is_mcap_that_foxglove_reads(ros_server: Server, tmp_path: Path) -> None:
    """Foxglove's own reader (``mcap``) finds every topic with its ROS 2 schema, in CDR."""
    from mcap.reader import make_reader

    bag = tmp_path / "run"
    _record(ros_server.domain, bag, 2, "move_ahead")
    (mcap_file,) = bag.glob("*.mcap")
    with mcap_file.open("rb") as f:
        reader = make_reader(f)
        summary = reader.get_summary()
        assert summary is not None
        channels = {c.topic: c for c in summary.channels.values()}
        schemas = {s.id: s for s in summary.schemas.values()}
        counts = summary.statistics.channel_message_counts if summary.statistics else {}
    assert schemas[channels["/camera/color/image_raw"].schema_id].name == "sensor_msgs/msg/Image"
    assert all(s.encoding == "ros2msg" and s.data for s in schemas.values())
    assert all(c.message_encoding == "cdr" for c in channels.values())
    for topic in ("/camera/color/image_raw", "/camera/depth/image_rect", "/odom",
                  "/robomem/feedback", "/robomem/action", "/robomem/reset"):
        assert counts[channels[topic].id] >= 1, topic


def test_bad_recording_settings_are_refused(tmp_path: Path) -> None:
    from robomem.envs.ros2.bag import BagRecorder, BagReplay

    with pytest.raises(ValueError, match="record and replay exclude each other"):
        gym.make("robomem/ROS2Robot-v0", record="a", replay="b")
    (tmp_path / "taken").mkdir()
    with pytest.raises(FileExistsError, match="it exists"):
        BagRecorder(tmp_path / "taken")
    with pytest.raises(FileNotFoundError, match="not a rosbag2 folder"):
        BagReplay(tmp_path / "taken")
