"""The memory agent end to end, and the scene graph it builds against ground truth."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from robomem.agent import AgentConfig, MemoryAgent
from robomem.envs.household.generator import reachable_cells
from robomem.envs.household.house import GRID
from robomem.memory.builtin import SpatialModule
from robomem.memory.system import MemorySystemConfig
from robomem.planners.critic import CriticChain
from robomem.planners.instruction import parse_instruction
from robomem.types import Observation
from tests.fixtures.household import make_env, make_sim, render_now
from tests.fixtures.world import HOUSEHOLD


def _episode(env, agent: MemoryAgent, seed: int | None) -> tuple[bool, int]:
    o, info = env.reset(seed=seed)
    obs = HOUSEHOLD.observe(o, info)
    agent.reset(obs)
    steps = 0
    while True:
        o, _, term, trunc, info = env.step(HOUSEHOLD.command(agent.act(obs)))
        obs = HOUSEHOLD.observe(o, info)
        steps += 1
        if term or trunc:
            agent.end_episode(bool(info["success"]), steps)
            return bool(info["success"]), steps


def test_agent_solves_pick_and_place_above_a_floor() -> None:
    env = make_env(128, 128, families=["pick_and_place"], lifelong=True)
    agent = MemoryAgent(AgentConfig())
    wins = [_episode(env, agent, 4 if k == 0 else None)[0] for k in range(4)]
    assert sum(wins) >= 2, wins
    assert agent.timings()["perception_and_memory"]  # latencies recorded


def test_no_memory_baseline_runs_and_forgets() -> None:
    env = make_env(96, 96, families=["pick_and_place"], step_limit=60)
    agent = MemoryAgent(AgentConfig(memory="none"))
    _episode(env, agent, 1)
    nodes_after_first = len(agent.memory.graph.nodes())
    o, info = env.reset()
    agent.reset(HOUSEHOLD.observe(o, info))
    assert len(agent.memory.graph.nodes()) == 0 < nodes_after_first


def _first_view(instruction: str) -> tuple[Any, Observation]:
    """A small Household env after reset, its first observation given ``instruction``."""
    env = make_env(64, 64)
    obs = HOUSEHOLD.observe(*env.reset(seed=0))
    obs.instruction = instruction
    return env, obs


def test_unparseable_instruction_is_a_clean_failed_episode() -> None:
    env, obs = _first_view("Sing a song to the fridge.")
    agent = MemoryAgent(AgentConfig())
    try:
        agent.reset(obs)
        assert agent.error is not None and "cannot tell what to do" in agent.error
        assert agent.act(obs).name == "done"
        agent.end_episode(False, 1)
        assert agent.notes() == [f"could not read the instruction: {agent.error}"]
    finally:
        agent.close()
        env.close()


def test_bad_memory_mode_names_the_choices() -> None:
    with pytest.raises(ValueError, match="memory must be one of full, none"):
        AgentConfig(memory="some")


def test_scene_graph_matches_ground_truth_on_a_walkthrough() -> None:
    """A scripted tour: look around from a lattice of cells; the graph must match the house."""
    sim = make_sim(2, 160, 160)
    agent = MemoryAgent(AgentConfig())
    cells = sorted(reachable_cells(sim.house))
    tour = cells[:: max(1, len(cells) // 30)]
    world = sim.world
    assert world is not None
    for i, j in tour:
        for yaw in (0.0, 90.0, 180.0, 270.0):
            assert world.teleport(i * GRID, j * GRID, yaw, 30.0)
            render_now(sim)
            obs = HOUSEHOLD.observe(sim._obs(), sim._info(
                sim._metadata("Teleport", True, ""), False))
            percept = agent.preprocessor.process(obs, None)
            agent.memory.write(percept)
    truth = {o.object_id: o for o in sim.house.objects.values() if o.kind.pickupable}
    graph = agent.memory.graph
    seen = [k for k in truth if graph.node(k) is not None]
    assert len(seen) >= 0.6 * len(truth), f"saw {len(seen)} of {len(truth)} objects"
    close = [k for k in seen
             if np.linalg.norm(graph.node(k).box.center - np.array(truth[k].box.center)) <= 0.15]
    assert len(close) >= 0.9 * len(seen)
    related = [k for k in seen if graph.node(k).parent is not None]
    right = [k for k in related if graph.node(k).parent == truth[k].parent]
    assert len(related) >= 0.8 * len(seen)
    assert len(right) >= 0.9 * len(related)


HASH = {"episodic": {"encoder": "hash"}}


def test_agent_remembers_episodes_and_recalls_them() -> None:
    env = make_env(96, 96, families=["pick_and_place"], lifelong=True, step_limit=120)
    agent = MemoryAgent(AgentConfig(modules=MemorySystemConfig(options=HASH)))
    recalled: list[list[str]] = []
    real = agent.system.recall

    def spy(query):  # type: ignore[no-untyped-def]
        ctx = real(query)
        recalled.append([f.kind for f in ctx.all()])
        return ctx

    agent.system.recall = spy  # type: ignore[method-assign]
    results = [_episode(env, agent, 3 if k == 0 else None) for k in range(3)]
    assert agent.system.next_episode == 3
    stats = agent.system.stats()
    assert stats["episodic_episodes"] == 3 and stats["temporal_events"] > 0
    assert stats["semantic_facts"] > 0
    kinds = {k for r in recalled for k in r}
    assert {"similar_episode", "seen", "last_seen", "likely_place"} <= kinds
    if any(ok for ok, _ in results):
        assert any(p.skill == "pickup" and p.status == "succeeded" and p.where
                   for p in agent.plan) or not results[-1][0]
    agent.close()


def test_ablations_configure_the_memory_system() -> None:
    no_spatial = MemoryAgent(AgentConfig(modules=MemorySystemConfig(modules=["temporal"])))
    spatial = no_spatial.system.module("spatial")
    assert isinstance(spatial, SpatialModule) and spatial.scope == "episode"
    assert no_spatial.system.names == ["spatial", "temporal"]
    no_critic = MemoryAgent(AgentConfig(critic=False, modules=MemorySystemConfig(
        modules=["spatial"])))
    critic = getattr(no_critic.planner, "critic", None)
    assert isinstance(critic, CriticChain) and critic.critics == []
    baseline = MemoryAgent(AgentConfig(memory="none"))
    assert baseline.system.names == ["spatial"]
    for a in (no_spatial, no_critic, baseline):
        a.close()


def test_memory_decides_what_an_ambiguous_word_means_and_says_so() -> None:
    env, obs = _first_view("Examine a book under the lamp.")
    agent = MemoryAgent(AgentConfig())
    try:
        default = parse_instruction(obs.instruction, HOUSEHOLD.ontology).target_type
        other = next(t for t in ("DeskLamp", "FloorLamp") if t != default)
        mem = agent.memory
        mem.where_is = lambda label: [object()] if label == other else []  # type: ignore[method-assign]
        agent.reset(obs)
        assert agent.goal is not None and agent.goal.target_type == other
        assert any(f"memory knows a {other} and no {default}" in n for n in agent.notes())
        assert agent.notes()[0].startswith("read as look_at_in_light: Book -> ")
    finally:
        agent.close()
        env.close()


def test_a_family_the_planner_cannot_do_is_a_reasoned_failure() -> None:
    env, obs = _first_view("Put a bowl with a watch in it on the shelf.")
    agent = MemoryAgent(AgentConfig())
    try:
        agent.reset(obs)
        assert agent.error is not None and "pick_movable_and_place" in agent.error
        assert agent.act(obs).name == "done"
        assert "cannot do yet" in agent.notes()[-1]
    finally:
        agent.close()
        env.close()
