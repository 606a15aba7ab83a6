"""The memory-dependent tasks: phases, judging, chance by construction."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from robomem.envs.tabletop.tasks import TASKS, make_task
from tests.fixtures.tabletop import first_phase, make_tabletop, second_phase


def _run(env: Any, actions: list[dict[str, Any]]) -> tuple[Any, bool, bool, dict[str, Any]]:
    obs, term, info, reward = None, False, {}, 0.0
    for a in actions:
        obs, reward, term, _, info = env.step(a)
        assert info["action_success"], (a, info["action_error"])
    return obs, term, bool(reward), info


@pytest.mark.parametrize("task", sorted(TASKS))
def test_the_oracle_solves_every_task(task: str) -> None:
    env = make_tabletop(task)
    for seed in (0, 1):
        _, info = env.reset(seed=seed)
        facts = info["task"]
        _, term, _, info = _run(env, first_phase(facts))
        assert info["task"]["phase"] == 2 and not term
        _, term, won, info = _run(env, second_phase(facts))
        assert term and won and info["success"]
    env.close()


@pytest.mark.parametrize("task", sorted(TASKS))
def test_the_decisive_observation_hides_the_fact(task: str) -> None:
    """Two episodes whose hidden facts differ look exactly the same when phase 2 starts."""
    env = make_tabletop(task)
    seen: dict[str, tuple[Any, dict[str, Any]]] = {}
    for seed in range(12):
        _, info = env.reset(seed=seed)
        facts = info["task"]
        key = f"{facts['block']}{facts['drawer']}{facts['button']}"
        if key in seen:
            continue
        obs, _, _, info = _run(env, first_phase(facts))
        seen[key] = (obs, facts)
    assert len(seen) >= 2
    obs_list = [o for o, _ in seen.values()]
    for o in obs_list[1:]:  # same images, depth, ids, joints and instruction
        assert data_equivalence({k: v for k, v in o.items() if k != "step"},
                                {k: v for k, v in obs_list[0].items() if k != "step"},
                                exact=True)
    env.close()


def test_a_wrong_decisive_action_fails_the_episode() -> None:
    env = make_tabletop("put_block_back")
    _, info = env.reset(seed=0)
    facts = info["task"]
    _run(env, first_phase(facts))
    wrong = next(b for b in ("Bowl|1", "Bowl|2", "Bowl|3") if b != facts["block"])
    env.step({"action": "pick", "object": "Block|1"})
    _, reward, term, _, info = env.step({"action": "place", "object": wrong})
    assert term and reward == 0.0 and not info["success"]
    assert "not where it was" in info["privileged"]["failed"]
    env.close()


def test_pressing_an_unlit_button_first_fails() -> None:
    env = make_tabletop("press_again")
    _, info = env.reset(seed=0)
    unlit = next(b for b in ("Button|1", "Button|2", "Button|3") if b != info["task"]["button"])
    _, _, term, _, info = env.step({"action": "press", "object": unlit})
    assert term and not info["success"] and "was not lit" in info["privileged"]["failed"]
    env.close()


def test_facts_are_seeded_and_spread() -> None:
    picks = [make_task("restore_table", np.random.default_rng(s)).facts for s in range(60)]
    assert picks[0] == make_task("restore_table", np.random.default_rng(0)).facts
    for field in ("block", "drawer", "button"):
        counts = {getattr(f, field) for f in picks}
        assert len(counts) == 3, field
    assert make_task("restore_table", np.random.default_rng(0)).chance == pytest.approx(1 / 27)


def test_step_limit_truncates() -> None:
    env = make_tabletop(step_limit=2)
    env.reset(seed=0)
    env.step({"action": "press", "object": "Plate|1"})  # refused, the episode goes on
    _, _, term, trunc, _ = env.step({"action": "press", "object": "Plate|1"})
    assert trunc and not term
    env.close()
