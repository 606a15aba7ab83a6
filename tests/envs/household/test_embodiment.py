"""The Household embodiment: every failure message the simulator gives maps to a code."""

from __future__ import annotations

import numpy as np
import pytest

from robomem import keys
from robomem.envs.household.actions import ACTIONS, needs_object
from robomem.feedback import FeedbackCode
from robomem.primitives import PRIMITIVES
from tests.fixtures.household import face, first, fitting_item, hold, make_sim
from tests.fixtures.world import HOUSEHOLD


def _error(env, action: str, obj: str | None = None) -> str:  # type: ignore[no-untyped-def]
    _, _, _, _, info = env.step({keys.ACT_ACTION: action, keys.ACT_OBJECT: obj or 0})
    assert not info[keys.INFO_ACTION_SUCCESS], f"{action} {obj} succeeded"
    return str(info[keys.INFO_ACTION_ERROR])


def test_every_world_action_has_a_primitive_and_back() -> None:
    # every primitive but ``find``: Household's agent walks (EB-ALFRED's teleport is AI2-THOR's)
    walking = set(PRIMITIVES) - {"find"}
    assert set(HOUSEHOLD.primitives) == walking
    for p in walking:
        assert HOUSEHOLD.primitive_of(HOUSEHOLD.world_action(p)) == p
    assert {HOUSEHOLD.world_action(p) for p in walking} == set(ACTIONS)
    with pytest.raises(ValueError, match="find"):
        HOUSEHOLD.world_action("find")


def test_a_random_walk_meets_no_message_without_a_code() -> None:
    """Whatever the simulator says when an action fails, the embodiment has a code for it."""
    env = make_sim(width=64, height=64)
    rng = np.random.default_rng(0)
    assert env.house is not None
    ids = sorted(env.house.objects)
    seen: dict[FeedbackCode, int] = {}
    for _ in range(400):
        name = ACTIONS[int(rng.integers(len(ACTIONS) - 1))]  # never Done
        obj = ids[int(rng.integers(len(ids)))] if needs_object(name) else None
        if obj is not None and rng.random() < 0.05:
            obj = "Nothing|+00.00|+00.00|+00.00"
        _, _, term, trunc, info = env.step({keys.ACT_ACTION: name, keys.ACT_OBJECT: obj or 0})
        fb = HOUSEHOLD.feedback(info)
        if not fb.success:
            assert fb.code is not FeedbackCode.UNKNOWN, fb.message
            seen[fb.code] = seen.get(fb.code, 0) + 1
        assert not (term or trunc)
    assert {FeedbackCode.NOT_VISIBLE, FeedbackCode.BLOCKED,
            FeedbackCode.UNKNOWN_OBJECT} <= set(seen)


def test_directed_failures_get_their_codes() -> None:
    env = make_sim(width=64, height=64)
    assert env.house is not None and env.world is not None
    fridge = first(env.house, "Fridge")
    msg = env.world.act("Fly").error  # the env refuses it before the world; the world says:
    assert HOUSEHOLD.classify("Fly", msg)[0] is FeedbackCode.UNSUPPORTED
    face(env, fridge.object_id)
    if fridge.is_open:
        env.step({keys.ACT_ACTION: "CloseObject", keys.ACT_OBJECT: fridge.object_id})
    msg = _error(env, "CloseObject", fridge.object_id)
    assert HOUSEHOLD.classify("CloseObject", msg)[0] is FeedbackCode.ALREADY_CLOSED
    msg = _error(env, "PutObject", fridge.object_id)
    assert HOUSEHOLD.classify("PutObject", msg)[0] is FeedbackCode.NOTHING_HELD
    item = fitting_item(env.house, fridge)
    hold(env, item)
    msg = _error(env, "PutObject", fridge.object_id)
    assert HOUSEHOLD.classify("PutObject", msg) == (FeedbackCode.IS_CLOSED, fridge.object_id)
    msg = _error(env, "PickupObject", fridge.object_id)
    assert HOUSEHOLD.classify("PickupObject", msg)[0] in (FeedbackCode.HAND_FULL,
                                                          FeedbackCode.NOT_AFFORDED)
    for _ in range(3):
        env.step({keys.ACT_ACTION: "LookDown", keys.ACT_OBJECT: 0})
    msg = _error(env, "LookDown")
    assert HOUSEHOLD.classify("LookDown", msg)[0] is FeedbackCode.LIMIT
