"""The memory agent answers tasks about the past from its own temporal memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from robomem.agent import MemoryAgent
from robomem.config import load_config
from robomem.envs.household.env import HouseholdEnv
from robomem.runner import EpisodeRecord, run

SEED = 1


def _sequence() -> list[dict[str, Any]]:
    env = HouseholdEnv(width=64, height=64, n_rooms=2, lifelong=True,
                       families=["pick_and_place"])
    _, info = env.reset(seed=SEED)
    return [info["task"], {"family": "put_back"}]


@pytest.mark.parametrize("memory", ["full", "none"])
def test_the_agent_answers_for_what_it_moved(memory: str, tmp_path: Path) -> None:
    seen: list[tuple[EpisodeRecord, str]] = []

    def hook(rec: EpisodeRecord, policy: Any) -> None:
        assert isinstance(policy, MemoryAgent)
        first = policy.planner.subgoals[0] if hasattr(policy.planner, "subgoals") else None
        seen.append((rec, getattr(first, "key", "")))

    cfg = load_config(None, [f"seeds=[{SEED}]", "episodes=2", "env.width=160",
                             "env.height=160", "env.n_rooms=2", "env.relocation_prob=0.0",
                             "env.families=[pick_and_place]", f"agent.memory={memory}",
                             "spl=false", f"out={tmp_path}"])
    run(cfg, progress=False, tasks={SEED: _sequence()}, on_episode_end=hook)
    (setup, _), (question, named) = seen
    assert setup.success, "the setup task must move something for the question to be posed"
    assert question.family == "put_back"
    assert question.task is not None
    if memory == "full":
        assert question.policy_stats["past_recalled"] == 1
        assert named == question.task["object_id"]  # memory named the very object moved
        assert question.success
    else:
        assert question.policy_stats["past_recalled"] == 0 and named == ""
