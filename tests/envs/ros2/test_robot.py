"""robomem/ROS2Robot-v0 against `robomem ros serve` over a real ROS 2 graph (localhost only)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

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
