"""Tasks about the past: the env's record of the agent's actions and the tasks posed from it."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from robomem.envs.household.env import HouseholdEnv
from robomem.envs.household.generator import generate_house
from robomem.envs.household.house import House
from robomem.envs.household.oracle import run_oracle_on
from robomem.envs.household.past import (
    MOVED,
    PAST_PHRASES,
    SWITCHED_ON,
    PastEvent,
    PastLog,
    pose_past_task,
)
from robomem.envs.household.tasks import LAMPS, PAST_FAMILIES, Task, TaskError, _words


def _house_and_move() -> tuple[House, PastLog, str, str, str]:
    """A house where the agent moved a loose object from its receptacle to another."""
    house = generate_house(3, 4)
    obj = next(o for o in house.objects.values() if o.kind.pickupable and o.parent
               and not house.objects[o.parent].kind.openable)
    source = obj.parent
    assert source is not None
    dest = next(o for o in house.objects.values() if o.kind.receptacle and not o.kind.pickupable
                and not o.kind.openable and o.object_id != source
                and o.type != house.objects[source].type)
    log = PastLog()
    log.add(PastEvent(1, MOVED, obj.object_id, obj.type, source, dest.object_id))
    obj.parent = dest.object_id
    return house, log, obj.object_id, source, dest.object_id


def test_put_back_names_the_very_object_and_receptacle() -> None:
    house, log, obj, source, _ = _house_and_move()
    task = pose_past_task("put_back", house, log, np.random.default_rng(0))
    assert task is not None
    assert (task.object_id, task.target_id) == (obj, source)
    assert task.instruction == PAST_PHRASES["put_back"][0].format(o=_words(house.objects[obj].type))
    assert not task.check(house, None, set())
    house.objects[obj].parent = source
    assert task.check(house, None, set())
    # another receptacle of the same type is not "where it was"
    twins = [o for o in house.of_type(house.objects[source].type) if o.object_id != source]
    if twins:
        house.objects[obj].parent = twins[0].object_id
        assert not task.check(house, None, set())


def test_bring_back_goes_to_another_type_and_counts_that_object_only() -> None:
    house, log, obj, _, dest = _house_and_move()
    task = pose_past_task("bring_back", house, log, np.random.default_rng(0))
    assert task is not None and task.object_id == obj
    assert task.target_type not in (house.objects[dest].type,)
    assert house.objects[dest].type.lower()[:4] in task.instruction.lower().replace(" ", "")
    host = house.of_type(task.target_type)[0]
    assert not task.check(house, None, set())
    house.objects[obj].parent = host.object_id
    assert task.check(house, None, set())
    house.objects[obj].is_picked_up = True  # still in hand: not there yet
    assert not task.check(house, None, set())


def test_switch_off_keeps_the_other_lamps_on() -> None:
    house = next(h for h in (generate_house(s, 5) for s in range(20))
                 if sum(o.type in LAMPS for o in h.objects.values()) >= 2)
    lamps = [o for o in house.objects.values() if o.type in LAMPS]
    log = PastLog()
    assert pose_past_task("switch_off", house, log, np.random.default_rng(0)) is None
    log.add(PastEvent(1, SWITCHED_ON, lamps[0].object_id, lamps[0].type))
    assert pose_past_task("switch_off", house, log, np.random.default_rng(0)) is None  # it is off
    lamps[0].is_toggled = True
    task = pose_past_task("switch_off", house, log, np.random.default_rng(0))
    assert task is not None and task.object_id == lamps[0].object_id
    assert set(task.keep_on) == {o.object_id for o in lamps[1:]}
    for o in lamps[1:]:
        o.is_toggled = True
    assert not task.check(house, None, set())
    lamps[0].is_toggled = False
    assert task.check(house, None, set())
    lamps[1].is_toggled = False  # switching every lamp off is not the task
    assert not task.check(house, None, set())


def test_nothing_to_ask_about_poses_nothing() -> None:
    house = generate_house(3, 4)
    for fam in PAST_FAMILIES:
        assert pose_past_task(fam, house, PastLog(), np.random.default_rng(0)) is None
    with pytest.raises(TaskError, match="known: put_back"):
        pose_past_task("pick_and_place", house, PastLog(), np.random.default_rng(0))


def test_templates_and_filled_tasks_round_trip_through_dicts() -> None:
    t = Task.from_dict({"family": "put_back"})
    assert t.is_template and t.is_past and t.object_type == ""
    house, log, _, _, _ = _house_and_move()
    filled = pose_past_task("put_back", house, log, np.random.default_rng(0))
    assert filled is not None and not filled.is_template
    assert Task.from_dict(filled.to_dict()) == filled
    with pytest.raises(TaskError, match="object_id must be an object id"):
        Task.from_dict({"family": "put_back", "object_id": "Mug; rm -rf /"})
    with pytest.raises(TaskError, match="keep_on must be a list"):
        Task.from_dict({"family": "switch_off", "keep_on": "Lamp"})
    with pytest.raises(TaskError, match=r"known: .*switch_off"):
        Task.from_dict({"family": "put_it_back"})


def _setup_then(env: HouseholdEnv, family: str) -> dict:
    """A solved ordinary task (the oracle plays the agent), then ``family``'s template."""
    setup = "look_at_in_light" if family == "switch_off" else "pick_and_place"
    for _ in range(20):
        _, info = env.reset()
        if info["task"]["family"] == setup:
            break
    assert run_oracle_on(env)["success"]
    _, info = env.reset(options={"task": {"family": family}})
    return info["task"]


@pytest.mark.parametrize("family", ["put_back", "bring_back"])
def test_env_records_the_agents_moves_and_poses_solvable_questions(family: str) -> None:
    env = HouseholdEnv(width=64, height=64, lifelong=True, n_rooms=4, relocation_prob=0.0,
                       families=["pick_and_place"])
    env.reset(seed=2)
    task = _setup_then(env, family)
    moved = env.past.latest(MOVED)
    assert moved is not None and moved.source_id and moved.target_id
    assert task["family"] == family and task["object_id"] == moved.object_id
    if family == "put_back":
        assert task["target_id"] == moved.source_id
    assert run_oracle_on(env)["success"]
    env.reset(seed=2)  # a new house: its history starts empty
    assert env.past.events == []


def test_env_switch_off_lights_the_other_lamps_then_puts_them_out() -> None:
    env = HouseholdEnv(width=64, height=64, lifelong=True, n_rooms=5, relocation_prob=0.0,
                       families=["look_at_in_light"])
    for seed in range(10):
        env.reset(seed=seed)
        assert env.house is not None
        if sum(o.type in LAMPS for o in env.house.objects.values()) >= 2:
            break
    task = _setup_then(env, "switch_off")
    assert task["family"] == "switch_off" and task["keep_on"]
    assert env.house is not None
    assert all(env.house.objects[k].is_toggled for k in task["keep_on"])
    assert run_oracle_on(env)["success"]
    env.reset()
    assert not any(env.house.objects[k].is_toggled for k in task["keep_on"])


def test_a_template_without_history_falls_back_to_an_ordinary_task(caplog) -> None:
    env = HouseholdEnv(width=64, height=64, lifelong=True, n_rooms=3,
                       families=["pick_and_place", "put_back"])
    with caplog.at_level(logging.WARNING):
        _, info = env.reset(seed=0, options={"task": {"family": "bring_back"}})
    assert info["task"]["family"] == "pick_and_place"
    assert "no task bring_back can be posed" in caplog.text


def test_sampling_with_past_families_poses_them_once_there_is_history() -> None:
    env = HouseholdEnv(width=64, height=64, lifelong=True, n_rooms=4, relocation_prob=0.0,
                       families=["pick_and_place", "put_back"])
    _, info = env.reset(seed=4)
    assert info["task"]["family"] == "pick_and_place"  # nothing done yet: nothing to ask
    families = []
    for _ in range(6):
        run_oracle_on(env)
        _, info = env.reset()
        families.append(info["task"]["family"])
    assert "put_back" in families
