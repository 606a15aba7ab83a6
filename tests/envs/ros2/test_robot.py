"""robomem/ROS2Robot-v0 against `robomem ros serve` over a real ROS 2 graph (localhost only)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from robomem.agent import AgentConfig, MemoryAgent
from robomem.embodiment import embodiment_for
from robomem.memory.system import MemorySystemConfig
from robomem.reservoir import Reservoir
from robomem.runner import _episode
from tests.fixtures.ros import Server, needs_ros, ros_kwargs

pytestmark = needs_ros
HASH = {"episodic": {"encoder": "hash"}}


def _agent(env: Any) -> MemoryAgent:
    return MemoryAgent(AgentConfig(modules=MemorySystemConfig(options=HASH)), embodiment_for(env))


def test_the_served_robot_gives_the_direct_envs_frames(ros_server: Server) -> None:
    direct = gym.make("robomem/Household-v0", width=64, height=64)
    robot = gym.make("robomem/ROS2Robot-v0", **ros_kwargs(ros_server.domain))
    try:
        a, ai = direct.reset(seed=3)
        b, bi = robot.reset(seed=3)
        for step in [None, {"action": "MoveAhead"}, {"action": "RotateLeft"}]:
            if step is not None:
                a, _, _, _, ai = direct.step({**step, "object": 0})
                prim = {"MoveAhead": "move_ahead", "RotateLeft": "rotate_left"}[step["action"]]
                b, _, _, _, bi = robot.step({"action": prim, "object": ""})
            ea, eb = embodiment_for(direct).observe(a, ai), embodiment_for(robot).observe(b, bi)
            assert np.array_equal(ea.rgb, eb.rgb)
            assert np.allclose(ea.depth, eb.depth)
            assert np.array_equal(ea.segmentation, eb.segmentation)
            assert ea.labels == eb.labels and ea.object_ids == eb.object_ids
            assert np.allclose(ea.intrinsics, eb.intrinsics)
            assert np.allclose(ea.camera_pose, eb.camera_pose, atol=1e-5)
            pa, pb = ea.agent_pose, eb.agent_pose
            assert np.allclose([pa.x, pa.y, pa.z], [pb.x, pb.y, pb.z], atol=1e-5)
            assert abs((pa.yaw - pb.yaw + 180) % 360 - 180) < 1e-3
            assert abs(pa.horizon - pb.horizon) < 1e-3
            assert ea.instruction == eb.instruction
            assert a["timestamp"] == b["timestamp"] and a["step"] == b["step"]  # its own clock
    finally:
        direct.close()
        robot.close()
    assert "Traceback" not in ros_server.output()


def test_the_agent_succeeds_through_ros_as_on_the_direct_env(ros_server: Server) -> None:
    direct = gym.make("robomem/Household-v0", width=64, height=64)
    robot = gym.make("robomem/ROS2Robot-v0", **ros_kwargs(ros_server.domain))
    results: dict[str, list[tuple[bool, int]]] = {"direct": [], "ros": []}
    try:
        for name, env in (("direct", direct), ("ros", robot)):
            for seed in (0, 1):
                agent = _agent(env)
                try:
                    latency = {"env_step": Reservoir(), "policy_act": Reservoir()}
                    rec = _episode(env, agent, seed, 0, latency, False)
                finally:
                    agent.close()
                results[name].append((rec.success, rec.steps))
    finally:
        direct.close()
        robot.close()
    # the same world on the same seeds: the same outcomes, step for step
    assert results["ros"] == results["direct"], results
    assert any(s for s, _ in results["direct"]), results


def test_a_silent_robot_is_a_clear_timeout_not_a_hang(ros_domain: int) -> None:
    import time

    from robomem.envs.ros2.env import RobotTimeout

    robot = gym.make("robomem/ROS2Robot-v0", **ros_kwargs(ros_domain, timeout=1.0, reset=""))
    t = time.monotonic()
    try:
        with pytest.raises(RobotTimeout, match=r"rgb \(/camera/color/image_raw\)"):
            robot.reset(seed=0)  # nobody publishes on this domain
    finally:
        robot.close()
    assert time.monotonic() - t < 10


def test_frames_of_the_wrong_size_and_unknown_actions_are_named(ros_server: Server) -> None:
    from robomem.envs.ros2.convert import MessageError

    robot = gym.make("robomem/ROS2Robot-v0", **{**ros_kwargs(ros_server.domain),
                                                  "width": 32, "height": 32})
    try:
        with pytest.raises(MessageError, match=r"64 x 64 colour .* made for 32 x 32"):
            robot.reset(seed=0)
    finally:
        robot.close()
    robot = gym.make("robomem/ROS2Robot-v0", **ros_kwargs(ros_server.domain))
    try:
        robot.reset(seed=0)
        emb = embodiment_for(robot)
        raw, _, _, _, info = robot.step({"action": "pickup", "object": "Gizmo|1"})
        obs = emb.observe(raw, info)
        assert not obs.action_success
        assert obs.feedback.code.value == "unknown_object"
    finally:
        robot.close()


@pytest.mark.parametrize("motion", ["twist", "goal"])
def test_twist_and_goal_commands_move_the_robot(ros_server: Server, motion: str) -> None:
    robot = gym.make("robomem/ROS2Robot-v0", **ros_kwargs(ros_server.domain, motion=motion))
    direct = gym.make("robomem/Household-v0", width=64, height=64)
    try:
        robot.reset(seed=5)
        direct.reset(seed=5)
        for prim, world in (("rotate_left", "RotateLeft"), ("move_ahead", "MoveAhead"),
                            ("move_left", "MoveLeft"), ("rotate_right", "RotateRight"),
                            ("move_back", "MoveBack")):
            b, _, _, _, _ = robot.step({"action": prim, "object": ""})
            a, _, _, _, _ = direct.step({"action": world, "object": 0})
            assert np.allclose(a["agent_pose"][[0, 2, 3]], b["agent_pose"][[0, 2, 3]], atol=1e-4)
    finally:
        robot.close()
        direct.close()


def test_robomem_run_with_the_launch_file_drives_a_served_robot(ros_server: Server,
                                                                tmp_path: Any) -> None:
    import json

    from robomem.cli import main

    rc = main(["run", "--config", "launch/ros2.yaml", "--episodes", "1", "--no-progress",
               "--out", str(tmp_path), f"env.topics.domain_id={ros_server.domain}",
               "env.topics.timeout=30"])
    assert rc == 0
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    (episode,) = [json.loads(x) for x in (run / "episodes.jsonl").read_text().splitlines()]
    assert episode["steps"] > 0 and episode["instruction"]
