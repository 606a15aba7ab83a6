"""The tabletop's keyframe agent: memory solves the decisive steps, no memory guesses."""

from __future__ import annotations

from typing import Any

import pytest

from robomem.agent import AgentConfig
from robomem.config import load_config
from robomem.embodiment import embodiment_for
from robomem.envs.tabletop.tasks import TASKS
from robomem.memory.system import MemorySystemConfig
from robomem.percept import EVENT_MOVED
from robomem.policies.base import memory_agent
from robomem.policies.keyframe import KeyframeAgent
from robomem.policies.table_state import perceive
from robomem.runner import run
from tests.fixtures.tabletop import make_tabletop

HASH = MemorySystemConfig(options={"episodic": {"encoder": "hash"}})


def _episodes(task: str, memory: str, seeds: range) -> tuple[list[bool], KeyframeAgent]:
    env = make_tabletop(task)
    emb = embodiment_for(env)
    agent = KeyframeAgent(AgentConfig(memory=memory, modules=HASH), emb, seed=0)
    wins = []
    for seed in seeds:
        obs = emb.observe(*env.reset(seed=seed))
        agent.reset(obs)
        done, info = False, {}
        while not done:
            raw, _, term, trunc, info = env.step(emb.command(agent.act(obs)))
            obs, done = emb.observe(raw, info), term or trunc
        agent.end_episode(bool(info["success"]), 0)
        wins.append(bool(info["success"]))
    env.close()
    return wins, agent


@pytest.mark.parametrize("task", sorted(TASKS))
def test_memory_solves_every_task(task: str) -> None:
    wins, agent = _episodes(task, "full", range(3))
    assert all(wins)
    assert agent.stats()["guessed"] == 0 and agent.stats()["recalled"] == len(TASKS[task])
    agent.close()


def test_without_memory_it_guesses_and_misses_some() -> None:
    wins, agent = _episodes("reopen_drawer", "none", range(9))
    assert agent.stats()["recalled"] == 0 and agent.stats()["guessed"] == 1
    assert 0 < sum(wins) < 9  # seeded guesses: some right, some wrong
    agent.close()


def test_memory_holds_the_events_of_the_episode() -> None:
    env = make_tabletop("put_block_back")
    emb = embodiment_for(env)
    agent = KeyframeAgent(AgentConfig(modules=HASH), emb)
    obs, info = env.reset(seed=5)
    start = info["task"]["block"]
    obs = emb.observe(obs, info)
    agent.reset(obs)
    for _ in range(2):  # pick the block up, put it on the plate
        raw, _, _, _, info = env.step(emb.command(agent.act(obs)))
        obs = emb.observe(raw, info)
    agent.act(obs)  # the step that sees it on the plate is written too
    log = agent.system.module("temporal").memory.records()  # type: ignore[attr-defined]
    moves = [r.detail for r in log if r.kind == EVENT_MOVED and r.key == "Block|1"
             and r.detail.startswith(("on ", "from "))]
    assert moves[:2] == [f"on {start}", f"from {start} to Plate|1"]
    graph = agent.system.module("spatial").memory.graph  # type: ignore[attr-defined]
    block = next(n for n in graph.nodes() if n.key == "Block|1")
    assert block.parent == "Plate|1" and block.relation == "on"  # the scene graph knows
    agent.close()
    env.close()


def test_the_table_state_is_read_from_the_cameras() -> None:
    env = make_tabletop("restore_table")
    emb = embodiment_for(env)
    obs, info = env.reset(seed=3)
    facts = info["task"]
    state = perceive(emb.observe(obs, info), emb.ontology)
    assert state.on["Block|1"] == facts["block"]
    assert state.opened == {facts["drawer"]} and state.lit == {facts["button"]}
    env.close()


def test_policy_agent_builds_the_embodiments_agent() -> None:
    env = make_tabletop()
    emb = embodiment_for(env)
    agent = memory_agent(AgentConfig(modules=HASH), emb)
    assert isinstance(agent, KeyframeAgent)
    agent.close()
    env.close()


def test_robomem_run_on_the_tabletop(tmp_path: Any) -> None:
    cfg = load_config(None, ["env.type=tabletop", "env.task=press_again", "env.width=48",
                             "env.height=48", "episodes=2", f"out={tmp_path}",
                             "agent.modules.options.episodic.encoder=hash"])
    result = run(cfg, progress=False)
    assert [e.success for e in result.episodes] == [True, True]
    assert (result.folder / "metrics.json").exists()
