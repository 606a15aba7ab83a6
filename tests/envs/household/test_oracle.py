"""The oracle solves generated tasks of every family; the random baseline stays in bounds."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from robomem.envs.household.oracle import OraclePolicy, run_oracle_episode
from robomem.envs.household.tasks import FAMILIES
from robomem.policies.base import POLICIES, make_policy, policy_class
from tests.fixtures.household import make_env
from tests.fixtures.world import HOUSEHOLD


@pytest.mark.parametrize("family", FAMILIES)
def test_oracle_solves_each_family(family: str) -> None:
    env = make_env(96, 96, families=[family])
    wins = [run_oracle_episode(env, seed=s)["success"] for s in range(3)]
    assert sum(wins) >= 2, f"oracle solved {sum(wins)}/3 {family} tasks"


def test_oracle_lifelong_sequence_with_relocations() -> None:
    env = make_env(96, 96, lifelong=True, relocation_prob=0.5)
    results = [run_oracle_episode(env, seed=7 if k == 0 else None) for k in range(6)]
    assert sum(r["success"] for r in results) >= 5
    assert all(r["steps"] <= r["task"]["step_limit"] for r in results)


def test_oracle_is_deterministic() -> None:
    a = run_oracle_episode(make_env(64, 64), seed=11)
    b = run_oracle_episode(make_env(64, 64), seed=11)
    assert (a["success"], a["steps"], a["task"]) == (b["success"], b["steps"], b["task"])


def test_oracle_refuses_non_household_env() -> None:
    with pytest.raises(TypeError, match="privileged"):
        OraclePolicy.from_env(gym.make("CartPole-v1"))


def test_random_policy_runs_to_truncation() -> None:
    env = make_env(64, 64, step_limit=30)
    policy = make_policy("random", env, seed=0)
    obs_d, info = env.reset(seed=0)
    obs = HOUSEHOLD.observe(obs_d, info)
    policy.reset(obs)
    steps, truncated = 0, False
    while not truncated and steps < 100:
        obs_d, _, terminated, truncated, info = env.step(HOUSEHOLD.command(policy.act(obs)))
        obs = HOUSEHOLD.observe(obs_d, info)
        steps += 1
        assert not terminated  # random never says Done
    assert truncated and steps == 30


def test_policy_registry_lists_names_on_miss() -> None:
    policy_class("oracle")  # importing the built-ins registers them
    assert {"agent", "oracle", "random"} <= set(POLICIES.names())
    with pytest.raises(KeyError, match="known: agent, keyframe, oracle, random"):
        make_policy("planner9000", make_env(64, 64))


def test_random_policy_targets_visible_instances() -> None:
    from robomem.policies.random_policy import RandomPolicy

    env = make_env(64, 64)
    obs_d, info = env.reset(seed=1)
    obs = HOUSEHOLD.observe(obs_d, info)
    rng = np.random.default_rng(0)
    seen = set(np.unique(obs.segmentation).tolist())
    for _ in range(50):
        a = RandomPolicy.act_from(rng, obs.object_ids, obs)
        if a.object_id is not None:
            inst = [i for i, oid in obs.object_ids.items() if oid == a.object_id]
            assert inst and inst[0] in seen
