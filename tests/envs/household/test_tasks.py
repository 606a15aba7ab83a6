"""Task families: success checks on ground truth, sampling, and validation."""

from __future__ import annotations

import copy
from collections import Counter

import numpy as np
import pytest

from robomem.envs.household.catalog import (
    CLEANABLE_TYPES,
    COOLABLE_TYPES,
    HEATABLE_TYPES,
    KINDS,
)
from robomem.envs.household.env import INSTRUCTION_CHARSET
from robomem.envs.household.generator import generate_house
from robomem.envs.household.placement import find_spot
from robomem.envs.household.tasks import (
    FAMILIES,
    LAMPS,
    STEP_LIMITS,
    Task,
    TaskError,
    instruction_for,
    sample_task,
)
from tests.fixtures.household import of_type, put_into

HOUSE_SEED = 4  # kitchen, bedrooms with lamps, cabinets, and several doubled item types


@pytest.fixture
def house():
    return generate_house(HOUSE_SEED)


@pytest.fixture(scope="module")
def houses():
    return [generate_house(s) for s in range(10)]


def _task(family, object_type, target_type):
    return Task(family, object_type, target_type,
                instruction_for(family, object_type, target_type), STEP_LIMITS[family],
                2 if family == "pick_two_and_place" else 1)


def _host_for(house, items, types=None, openable=None):
    """A receptacle, of a type none of ``items``' kind sits in, where ``items`` all fit."""
    busy = {house.objects[o.parent].type for o in house.objects.values()
            if o.type == items[0].type and o.parent}
    for host in house.objects.values():
        if host.type in busy or (types and host.type not in types):
            continue
        if openable is not None and host.kind.openable != openable:
            continue
        if host.kind.heat_source or host.kind.cold_source or host.type == "SinkBasin":
            continue
        trial = copy.deepcopy(house)
        ok = True
        for i, it in enumerate(items):
            box = find_spot(trial, trial.objects[host.object_id], it.type,
                            np.random.default_rng(i), ignore=it.object_id)
            if box is None:
                ok = False
                break
            o = trial.objects[it.object_id]
            o.box, o.parent = box, host.object_id
        if ok:
            return host
    raise AssertionError(f"no receptacle holds {[o.object_id for o in items]}")


def _item(house, types):
    for o in house.objects.values():
        if o.type in types:
            return o
    raise AssertionError(f"house has none of {types}")


def _check(task, house, held=None, visible=()):
    return task.check(house, held, set(visible))


# ---------------------------------------------------------------- success per family
def test_pick_and_place(house):
    item = _item(house, [t for t in KINDS if KINDS[t].pickupable])
    host = _host_for(house, [item])
    task = _task("pick_and_place", item.type, host.type)
    assert not _check(task, house)
    put_into(house, item, host)
    assert _check(task, house)
    item.is_picked_up, item.parent = True, None  # picked up again: no longer placed
    assert not _check(task, house, held=item.object_id)


def test_pick_two_and_place(house):
    counts = Counter(o.type for o in house.objects.values() if o.kind.pickupable)
    type_ = next(t for t, n in sorted(counts.items()) if n >= 2)
    a, b = of_type(house, type_)[:2]
    host = _host_for(house, [a, b])
    task = _task("pick_two_and_place", type_, host.type)
    assert task.count == 2
    assert not _check(task, house)
    put_into(house, a, host, seed=1)
    assert not _check(task, house)  # one is not enough
    put_into(house, b, host, seed=2)
    assert _check(task, house)


def test_place_in_closed(house):
    item = _item(house, [t for t in KINDS if KINDS[t].pickupable and KINDS[t].size[1] < 0.2])
    host = _host_for(house, [item], openable=True)
    task = _task("place_in_closed", item.type, host.type)
    assert not _check(task, house)
    host.is_open = True
    put_into(house, item, host)
    assert not _check(task, house)  # still open
    host.is_open = False
    assert _check(task, house)


@pytest.mark.parametrize(("family", "types", "attr", "before", "after"), [
    ("pick_heat_and_place", HEATABLE_TYPES, "temperature", "RoomTemp", "Hot"),
    ("pick_cool_and_place", COOLABLE_TYPES, "temperature", "RoomTemp", "Cold"),
    ("pick_clean_and_place", CLEANABLE_TYPES, "is_dirty", True, False),
])
def test_state_change_families(house, family, types, attr, before, after):
    item = _item(house, types)
    host = _host_for(house, [item])
    task = _task(family, item.type, host.type)
    for o in of_type(house, item.type):
        setattr(o, attr, before)
    assert not _check(task, house)
    setattr(item, attr, after)  # right state, wrong place
    assert not _check(task, house)
    setattr(item, attr, before)
    put_into(house, item, host)
    assert not _check(task, house)  # right place, wrong state
    setattr(item, attr, after)
    assert _check(task, house)


def test_look_at_in_light(house):
    lamp = next(o for o in house.objects.values() if o.type in LAMPS)
    item = _item(house, [t for t in KINDS if KINDS[t].pickupable])
    other = next(o for o in house.objects.values() if o.kind.pickupable and o.type != item.type)
    task = _task("look_at_in_light", item.type, lamp.type)
    for o in of_type(house, lamp.type):
        o.is_toggled = False
    assert not _check(task, house, visible={lamp.object_id})
    item.is_picked_up, item.parent = True, None
    assert not _check(task, house, held=item.object_id, visible={lamp.object_id})  # lamp off
    lamp.is_toggled = True
    assert not _check(task, house, held=item.object_id, visible=set())  # lamp out of sight
    assert not _check(task, house, held=other.object_id, visible={lamp.object_id})
    assert _check(task, house, held=item.object_id, visible={lamp.object_id})


# ----------------------------------------------------------------------------- sampling
def _solve(task, house):
    """Make ``task`` hold by editing ground truth; returns (held, visible) for check()."""
    if task.family == "look_at_in_light":
        item = of_type(house, task.object_type)[0]
        item.is_picked_up, item.parent = True, None
        lamp = of_type(house, task.target_type)[0]
        lamp.is_toggled = True
        return item.object_id, {lamp.object_id}
    items = of_type(house, task.object_type)[: task.count]
    assert len(items) == task.count
    start = {it.object_id: (it.box, it.parent) for it in items}
    for attempt in range(20):  # random spots: a first item may crowd out the second
        for it in items:
            it.box, it.parent = start[it.object_id]
        placed = 0
        for host in of_type(house, task.target_type):
            for it in items[placed:]:
                box = find_spot(house, host, it.type, np.random.default_rng(100 * attempt
                                                                               + placed),
                                ignore=it.object_id)
                if box is None:
                    break
                it.box, it.parent = box, host.object_id
                placed += 1
            if placed == task.count:
                break
        if placed == task.count:
            break
    assert placed == task.count, f"{task} cannot be placed"
    for it in items:
        if task.family == "pick_heat_and_place":
            it.temperature = "Hot"
        elif task.family == "pick_cool_and_place":
            it.temperature = "Cold"
        elif task.family == "pick_clean_and_place":
            it.is_dirty = False
        elif task.family == "place_in_closed":
            house.objects[it.parent].is_open = False
    return None, set()


def _valid(task, house):
    types = {o.type for o in house.objects.values()}
    assert task.family in FAMILIES
    assert task.object_type in types and task.target_type in types
    assert KINDS[task.object_type].pickupable
    assert task.step_limit == STEP_LIMITS[task.family]
    assert task.count == (2 if task.family == "pick_two_and_place" else 1)
    assert task.instruction and set(task.instruction) <= set(INSTRUCTION_CHARSET), task
    if task.family == "look_at_in_light":
        assert task.target_type in LAMPS
    else:
        assert KINDS[task.target_type].receptacle
    if task.family == "place_in_closed":
        assert KINDS[task.target_type].openable
    if task.family == "pick_heat_and_place":
        assert task.object_type in HEATABLE_TYPES
    if task.family == "pick_cool_and_place":
        assert task.object_type in COOLABLE_TYPES
    if task.family == "pick_clean_and_place":
        assert task.object_type in CLEANABLE_TYPES


def test_sampled_tasks_are_never_already_done_and_always_solvable(houses):
    fams = Counter()
    for s, base in enumerate(houses):
        for k in range(30):
            house = copy.deepcopy(base)
            task = sample_task(house, np.random.default_rng(100 * s + k))
            _valid(task, house)
            every = {o.object_id for o in house.objects.values()}
            assert not task.check(house, None, every), task
            held, visible = _solve(task, house)
            assert task.check(house, held, visible), task
            fams[task.family] += 1
    assert set(fams) == set(FAMILIES), fams  # every family comes up


@pytest.mark.parametrize("family", FAMILIES)
def test_sampling_one_family(houses, family):
    for s, base in enumerate(houses[:6]):
        house = copy.deepcopy(base)
        task = sample_task(house, np.random.default_rng(s), families=[family])
        assert task.family == family
        _valid(task, house)
        assert not task.check(house, None, {o.object_id for o in house.objects.values()})
        held, visible = _solve(task, house)
        assert task.check(house, held, visible)


def test_sampling_is_seeded(houses):
    a = sample_task(copy.deepcopy(houses[1]), np.random.default_rng(5))
    b = sample_task(copy.deepcopy(houses[1]), np.random.default_rng(5))
    assert a == b


def test_sampling_rejects_unknown_families(house):
    with pytest.raises(TaskError) as e:
        sample_task(house, np.random.default_rng(0), families=["pick_and_juggle"])
    assert "pick_and_juggle" in str(e.value)
    assert all(f in str(e.value) for f in FAMILIES)


def test_sampling_an_impossible_family_says_so(house):
    for lamp in [o for o in house.objects.values() if o.type in LAMPS]:
        del house.objects[lamp.object_id]
    with pytest.raises(TaskError, match="look_at_in_light"):
        sample_task(house, np.random.default_rng(0), families=["look_at_in_light"])


# ---------------------------------------------------------------------------- from_dict
def test_from_dict_round_trips():
    for fam in FAMILIES:
        target = "DeskLamp" if fam == "look_at_in_light" else "CounterTop"
        t = _task(fam, "Mug", target)
        assert Task.from_dict(t.to_dict()) == t
        u = Task.from_dict({"family": fam, "object_type": "Mug", "target_type": target})
        assert u == t  # instruction, step limit and count get their defaults


def test_from_dict_rejects_unknown_families():
    assert issubclass(TaskError, ValueError)
    for bad in ("pick_and_juggle", None, 3):
        with pytest.raises(ValueError) as e:
            Task.from_dict({"family": bad, "object_type": "Apple", "target_type": "Fridge"})
        msg = str(e.value)
        assert repr(bad) in msg and all(f in msg for f in FAMILIES)


@pytest.mark.parametrize("key", ["object_type", "target_type"])
def test_from_dict_rejects_unknown_types(key):
    d = {"family": "pick_and_place", "object_type": "Apple", "target_type": "Fridge"}
    d[key] = "Spaceship"
    with pytest.raises(ValueError) as e:
        Task.from_dict(d)
    msg = str(e.value)
    assert "Spaceship" in msg and key in msg and "Apple" in msg and "Fridge" in msg
    del d[key]
    with pytest.raises(ValueError, match=key):
        Task.from_dict(d)


def test_instructions_read_naturally():
    assert instruction_for("pick_and_place", "Apple", "CounterTop") == \
        "Put an apple on the counter top."
    assert instruction_for("place_in_closed", "Mug", "Cabinet") == \
        "Put a mug in the cabinet and close it."
    assert instruction_for("pick_two_and_place", "Mug", "DiningTable") == \
        "Put two mugs on the dining table."
    assert instruction_for("pick_two_and_place", "Watch", "Dresser") == \
        "Put two watches on the dresser."
    assert instruction_for("pick_heat_and_place", "Egg", "Fridge") == \
        "Heat an egg and put it in the fridge."
    assert instruction_for("look_at_in_light", "Book", "DeskLamp") == \
        "Examine a book under the desk lamp."


def test_check_ignores_items_of_other_types(house):
    item = _item(house, [t for t in KINDS if KINDS[t].pickupable])
    other_type = next(t for t in sorted(KINDS) if KINDS[t].pickupable and t != item.type)
    host = _host_for(house, [item])
    put_into(house, item, host)
    assert not _check(_task("pick_and_place", other_type, host.type), house)
    assert _check(_task("pick_and_place", item.type, host.type), house)
