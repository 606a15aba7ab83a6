"""``benchmarks/preconditions.py``: its conditions are valid run configs that differ as named."""

from __future__ import annotations

import pytest

from benchmarks import preconditions
from robomem.config import load_config


@pytest.mark.parametrize("name", list(preconditions.CONDITIONS))
def test_each_condition_is_a_valid_config(name: str) -> None:
    cfg = load_config(None, [*preconditions.CONDITIONS[name], preconditions.FAMILIES])
    a = cfg.agent
    assert a.planner_preconditions is (name == "planner")
    assert a.critic is (name != "no_critic")
    assert a.critic_fixes is (name != "critic_veto")
    assert "place_in_closed" in (cfg.env.families or [])


def test_per_episode_means_a_counter() -> None:
    eps = [{"policy_stats": {"fixes": 2.0}}, {"policy_stats": {}}]
    assert preconditions.per_episode(eps, "fixes") == 1.0
    assert preconditions.per_episode([], "fixes") == 0.0
