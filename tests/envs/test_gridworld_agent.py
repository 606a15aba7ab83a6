"""The unchanged memory agent in a second, deliberately different world (the workshop).

The workshop (tests/fixtures/gridworld) shares no action name, failure wording, object id
format, type name or observation layout with Household; only its embodiment and data files
know them. If the agent solves its task, nothing in the core is tied to Household.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from robomem.agent import AgentConfig, MemoryAgent
from robomem.embodiment import embodiment_for
from robomem.feedback import FeedbackCode
from robomem.memory.system import MemorySystemConfig
from robomem.planners.instruction import Goal, parse_instruction
from robomem.reservoir import Reservoir
from robomem.runner import _episode
from robomem.skills import TOGGLE_ON, Skill
from robomem.types import Action, Observation
from tests.fixtures.gridworld import ENV_ID, register_gridworld
from tests.fixtures.gridworld.embodiment import HEAD_FRAME, GridWorldEmbodiment
from tests.fixtures.gridworld.env import GridWorldEnv

register_gridworld()

HASH = {"episodic": {"encoder": "hash"}}


def _agent(env: gym.Env) -> MemoryAgent:
    return MemoryAgent(AgentConfig(modules=MemorySystemConfig(options=HASH)), embodiment_for(env))


def test_the_unchanged_memory_agent_puts_the_gem_in_the_crate() -> None:
    wins, steps = [], []
    for seed in (0, 1, 2):
        env = gym.make(ENV_ID, width=128, height=128)
        agent = _agent(env)
        latency = {"env_step": Reservoir(), "policy_act": Reservoir()}
        try:
            rec = _episode(env, agent, seed, 0, latency, spl=False)  # the runner's own loop
            wins.append(rec.success)
            steps.append(rec.steps)
            assert rec.instruction in ("Put the jewel in the box.", "Put a gem in the crate.",
                                       "Place the gem into the crate.")
            labels = {n.label for n in agent.memory.graph.nodes()}
            assert {"Gem", "Crate", "Workbench"} <= labels, labels  # this world's types
            assert not labels & {"Floor", "Wall"}  # the building is not an object
            done = [(p.skill, p.label) for p in agent.plan if p.status == "succeeded"]
            if rec.success:  # the world ends the episode on the put itself
                assert ("pickup", "Gem") in done and ("open", "Crate") in done, done  # lid shut
                assert agent.last_action == Action("put", "crate-1")
                assert done[-1] == ("put", "Crate"), done  # the final put is on the record too
        finally:
            agent.close()
            env.close()
    assert sum(wins) >= 2, (wins, steps)
    assert all(s < 300 for s, ok in zip(steps, wins) if ok)


def test_one_agent_keeps_its_workshop_map_across_episodes() -> None:
    """Lifelong: the same scene name, so the map (and the crate's lid state) carries over."""
    env = gym.make(ENV_ID, width=96, height=96)
    agent = _agent(env)
    latency = {"env_step": Reservoir(), "policy_act": Reservoir()}
    try:
        recs = [_episode(env, agent, 7, k, latency, spl=False) for k in range(3)]
        assert sum(r.success for r in recs) >= 2, [(r.success, r.steps) for r in recs]
        assert agent.system.next_episode == 3
        assert agent.memory.graph.node("crate-1") is not None  # remembered, not re-met
    finally:
        agent.close()
        env.close()


def test_observation_is_translated_from_the_native_layout() -> None:
    env = gym.make(ENV_ID, width=64, height=48)
    raw, info = env.reset(seed=1)
    assert "cameras" in raw and "base" in raw and "rgb" not in raw  # not robomem's layout
    emb = embodiment_for(env)
    assert isinstance(emb, GridWorldEmbodiment)
    obs = emb.observe(raw, info)
    assert list(obs.cameras) == ["head"] and obs.primary == "head"
    cam = obs.camera
    assert cam.frame_id == HEAD_FRAME and cam.rgb.shape == (48, 64, 3)
    assert cam.depth is not None and cam.depth.dtype == np.float32
    np.testing.assert_allclose(obs.base_pose, raw["base"], atol=1e-9)
    assert obs.agent_pose.y == 0.0 and obs.agent_pose.horizon == float(raw["tilt"])
    # the head sits 1.5 m above the base, looking along the body's forward axis
    np.testing.assert_allclose(cam.pose[:3, 3], obs.base_pose[:3, 3] + [0, 1.5, 0], atol=1e-9)
    np.testing.assert_allclose(cam.pose[:3, 2], obs.base_pose[:3, 2], atol=1e-9)
    assert set(cam.labels.values()) <= {"Workbench", "Crate", "Barrel", "Gem", "Wrench"}
    assert set(cam.object_ids.values()) <= {"bench-1", "crate-1", "barrel-1", "gem-1",
                                            "wrench-1"}
    assert obs.feedback.success and obs.scene == "workshop" and obs.step == 0
    goal = parse_instruction(obs.instruction, emb.ontology)
    assert goal == Goal("pick_and_place", "Gem", "Crate")
    assert emb.label_from_id("bench-1") == "Workbench" and emb.label_from_id("Mug|1") == ""
    env.close()


def _step(env: gym.Env, emb: GridWorldEmbodiment, name: str,
          target: str | None = None) -> Observation:
    raw, _, _, _, info = env.step(emb.command(Action(name, target)))
    return emb.observe(raw, info)


def test_failed_actions_give_this_worlds_feedback_codes() -> None:
    env = gym.make(ENV_ID, width=128, height=128)
    world = env.unwrapped
    assert isinstance(world, GridWorldEnv)
    emb = embodiment_for(env)
    assert isinstance(emb, GridWorldEmbodiment)
    env.reset(seed=0)

    def expect(obs: Observation, code: FeedbackCode, words: str,
               subject: str | None = None) -> None:
        fb = obs.feedback
        assert (fb.code, fb.subject) == (code, subject), fb
        assert words in fb.message and not fb.success

    assert world.teleport(0.25, 2.0, yaw=90.0)  # facing the west wall, a step away
    obs = _step(env, emb, "move_ahead")
    expect(obs, FeedbackCode.BLOCKED, "path obstructed by wall")
    assert obs.feedback.action == "move_ahead" and obs.feedback.world_action == "forward"
    assert obs.agent_pose.x == 0.25
    assert _step(env, emb, "look_up").agent_pose.horizon == -30.0
    expect(_step(env, emb, "look_up"), FeedbackCode.LIMIT, "neck cannot tilt past -30")

    assert world.teleport(2.0, 0.75, yaw=0.0, tilt=30.0)  # far from the bench, facing it
    expect(_step(env, emb, "pickup", "gem-1"), FeedbackCode.OUT_OF_REACH,
           "gem-1 out of arm's length")
    expect(_step(env, emb, "pickup", "ruby-9"), FeedbackCode.UNKNOWN_OBJECT,
           "no such thing: ruby-9")
    assert world.teleport(2.0, 2.0, yaw=180.0)  # the bench behind the back
    expect(_step(env, emb, "pickup", "gem-1"), FeedbackCode.NOT_VISIBLE, "gem-1 not in sight")

    assert world.teleport(1.25, 0.75, yaw=90.0, tilt=30.0)  # at the crate, facing it
    expect(_step(env, emb, "put", "crate-1"), FeedbackCode.NOTHING_HELD,
           "nothing in hand to drop")
    expect(_step(env, emb, "close", "crate-1"), FeedbackCode.ALREADY_CLOSED,
           "lid of crate-1 already down")

    gem = world.things["gem-1"]
    gx = float(gem.lo[0] + gem.hi[0]) / 2
    assert world.teleport(round(gx * 4) / 4, 3.0, yaw=0.0, tilt=30.0)  # at the bench
    expect(_step(env, emb, "pickup", "bench-1"), FeedbackCode.NOT_AFFORDED,
           "bench-1 is too heavy to lift")
    assert _step(env, emb, "pickup", "gem-1").feedback.success
    expect(_step(env, emb, "pickup", "wrench-1"), FeedbackCode.HAND_FULL,
           "hands occupied by gem-1")

    assert world.teleport(1.25, 0.75, yaw=90.0, tilt=30.0)
    expect(_step(env, emb, "put", "crate-1"), FeedbackCode.IS_CLOSED, "lid of crate-1 is shut",
           subject="crate-1")
    assert _step(env, emb, "open", "crate-1").feedback.success
    expect(_step(env, emb, "open", "crate-1"), FeedbackCode.ALREADY_OPEN,
           "lid of crate-1 already lifted")
    _, reward, terminated, truncated, info = env.step(emb.command(Action("put", "crate-1")))
    assert terminated and not truncated and reward == 1.0 and emb.success(info)
    assert info["truth"]["gem_in"] == "crate-1"
    env.close()


def test_this_world_has_no_switches() -> None:
    emb = GridWorldEmbodiment()
    assert "toggle_on" not in emb.skills and "toggle_on" not in emb.primitives
    with pytest.raises(ValueError, match="gridworld has no primitive 'toggle_on'; it supports: "
                                         "close, done, look_down"):
        emb.command(Action("toggle_on", "gem-1"))
    assert emb.command(Action("done")) == {"verb": "finish", "what": ""}
    assert emb.classify("grab", "gem-1 out of arm's length (2.10 m)") == (
        FeedbackCode.OUT_OF_REACH, None)
    assert emb.classify("drop_into", "lid of crate-1 is shut") == (
        FeedbackCode.IS_CLOSED, "crate-1")


def test_a_skill_the_world_lacks_fails_cleanly_instead_of_reaching_the_world() -> None:
    env = gym.make(ENV_ID, width=64, height=64)
    agent = _agent(env)
    emb = embodiment_for(env)
    try:
        obs = emb.observe(*env.reset(seed=0))
        agent.reset(obs)
        agent.planner.next_skill = lambda ctx: Skill(TOGGLE_ON, "crate-1")  # type: ignore[method-assign]
        assert agent.act(obs).name == "done"  # the planner insisted: the agent gives up
        failed = [p for p in agent.plan if p.status == "failed"]
        assert failed and all(p.skill == TOGGLE_ON for p in failed)
        assert agent.last_result is not None and \
            agent.last_result.reason == "this world cannot toggle on"
    finally:
        agent.close()
        env.close()
