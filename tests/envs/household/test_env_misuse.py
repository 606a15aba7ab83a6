"""Misusing ``robomem/Household-v0``: bad arguments, options and actions, and calls out of order.

Each refusal is the error Gymnasium users expect (``ResetNeeded``, ``ClosedEnvironmentError``,
``InvalidAction``) and, for a bad value, also a ``ValueError`` that names the argument and
quotes the value (bounded).
"""

from __future__ import annotations

import re
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ClosedEnvironmentError, InvalidAction, ResetNeeded

from robomem import keys
from robomem.envs.household.actions import ACTIONS
from robomem.envs.household.env import MAX_INSTANCES, HouseholdEnv
from robomem.envs.household.renderer import MAX_IMAGE_SIZE
from robomem.envs.household.tasks import MAX_STEP_LIMIT
from robomem.envs.household.world import World
from robomem.untrusted import quote
from tests.fixtures.household import ENV_ID

SCENE = "FloorPlan1"  # has no Toilet: a task that needs one fails at reset
IMPOSSIBLE = {"task": {"family": "pick_and_place", "object_type": "Pillow",
                       "target_type": "Toilet"}}
SMALL = {"width": 16, "height": 16}
MAX_MESSAGE = 1000
HUGE = 10_000_000  # characters


@pytest.fixture(scope="module")
def running() -> HouseholdEnv:
    """One unwrapped env with an episode running (actions that are refused leave it as is)."""
    env = HouseholdEnv(scene=SCENE, step_limit=100_000, **SMALL)
    env.reset(seed=0)
    return env


def wrapped(**kw: Any) -> gym.Env:
    return gym.make(ENV_ID, scene=SCENE, **SMALL, **kw)


# ------------------------------------------------------- 3. huge object ids in an action


def test_unknown_huge_object_id_is_quoted_bounded(running: HouseholdEnv) -> None:
    _, _, _, _, info = running.step({"action": "PickupObject", "object": "y" * HUGE})
    error = info[keys.INFO_ACTION_ERROR]
    assert error.startswith("Object ID 'yyy") and error.endswith("does not exist"), error[:300]
    assert f"({HUGE} characters)" in error
    assert len(error) < MAX_MESSAGE
    assert info[keys.INFO_PRIVILEGED][keys.PRIV_METADATA]["errorMessage"] == error


def test_world_quotes_unknown_object_ids() -> None:
    env = HouseholdEnv(**SMALL)
    env.reset(seed=0)
    assert isinstance(env.world, World)
    result = env.world.act("OpenObject", "z" * HUGE)
    assert not result.success and len(result.error) < MAX_MESSAGE
    assert f"({HUGE} characters)" in result.error


def test_huge_action_name_is_quoted_bounded(running: HouseholdEnv) -> None:
    with pytest.raises(InvalidAction, match=re.escape(f"({HUGE} characters)")) as e:
        running.step("x" * HUGE)
    assert isinstance(e.value, ValueError) and len(str(e.value)) < MAX_MESSAGE


# ------------------------------------------------------------ 4. a failed reset, then more


def test_step_after_a_failed_first_reset_needs_a_reset() -> None:
    env = HouseholdEnv(scene=SCENE, **SMALL)
    with pytest.raises(ValueError, match="needs a Toilet"):
        env.reset(seed=0, options=IMPOSSIBLE)
    with pytest.raises(ResetNeeded, match=re.escape("the last reset() failed")):
        env.step("MoveAhead")
    _, info = env.reset(seed=0)  # a good reset works after the failed one
    assert info[keys.INFO_PRIVILEGED]["episode"] == 1
    _, _, terminated, truncated, _ = env.step("RotateRight")
    assert not terminated and not truncated


def test_step_after_a_failed_first_reset_through_gym_make() -> None:
    env = wrapped()
    with pytest.raises(ValueError, match="needs a Toilet"):
        env.reset(seed=0, options=IMPOSSIBLE)
    # Without the fix the passive checker unpacked a half-built step: TypeError.
    with pytest.raises(ResetNeeded, match=re.escape("the last reset() failed")):
        env.step("MoveAhead")
    with pytest.raises(ResetNeeded, match=re.escape("the last reset() failed")):
        env.step("MoveAhead")


def test_a_good_reset_after_a_failed_one_through_the_order_enforcing_wrapper() -> None:
    env = wrapped(disable_env_checker=True)
    with pytest.raises(ValueError, match="needs a Toilet"):
        env.reset(seed=0, options=IMPOSSIBLE)
    with pytest.raises(ResetNeeded):
        env.step("MoveAhead")
    env.reset(seed=0)
    _, _, terminated, truncated, _ = env.step("RotateRight")
    assert not terminated and not truncated


def test_a_good_reset_after_a_failed_first_one_through_gym_make() -> None:
    """gym.make adds no PassiveEnvChecker (envs/registry.py says why), so the env recovers."""
    env = wrapped()
    with pytest.raises(ValueError, match="needs a Toilet"):
        env.reset(seed=0, options=IMPOSSIBLE)
    env.reset(seed=0)
    env.step("RotateRight")


def test_a_failed_reset_ends_the_running_episode() -> None:
    env = HouseholdEnv(scene=SCENE, **SMALL)
    env.reset(seed=0)
    env.step("RotateRight")
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"tsk": 1})
    with pytest.raises(ResetNeeded, match=re.escape("the last reset() failed")):
        env.step("RotateRight")
    env.reset()
    env.step("RotateRight")


def test_step_before_any_reset_needs_a_reset() -> None:
    env = HouseholdEnv(**SMALL)
    with pytest.raises(ResetNeeded, match=re.escape("call reset() before step()")):
        env.step("MoveAhead")
    with pytest.raises(ResetNeeded, match=re.escape("Cannot call env.step()")):
        gym.make(ENV_ID, **SMALL).step("MoveAhead")  # gymnasium's OrderEnforcing says so


# ------------------------------------------------- 5. after termination, truncation, close


@pytest.mark.parametrize("make", [lambda **kw: HouseholdEnv(scene=SCENE, **SMALL, **kw), wrapped],
                         ids=["unwrapped", "gym.make"])
def test_step_after_done_needs_a_reset(make: Any) -> None:
    env = make()
    env.reset(seed=0)
    _, _, terminated, _, _ = env.step("Done")
    assert terminated
    for _ in range(2):
        with pytest.raises(ResetNeeded, match=re.escape("the episode has terminated (Done)")):
            env.step("MoveAhead")
    env.reset()
    _, _, terminated, _, _ = env.step("MoveAhead")
    assert not terminated


@pytest.mark.parametrize("make", [lambda **kw: HouseholdEnv(scene=SCENE, **SMALL, **kw), wrapped],
                         ids=["unwrapped", "gym.make"])
def test_step_after_truncation_needs_a_reset(make: Any) -> None:
    env = make(step_limit=2)
    env.reset(seed=0)
    env.step("RotateRight")
    _, _, terminated, truncated, _ = env.step("RotateRight")
    assert truncated and not terminated
    with pytest.raises(ResetNeeded, match="truncated at its step limit of 2"):
        env.step("RotateRight")
    env.reset()
    _, _, _, truncated, _ = env.step("RotateRight")
    assert not truncated


@pytest.mark.parametrize("make", [lambda **kw: HouseholdEnv(scene=SCENE, **SMALL, **kw), wrapped],
                         ids=["unwrapped", "gym.make"])
def test_step_and_reset_after_close_are_refused(make: Any) -> None:
    env = make()
    env.reset(seed=0)
    env.close()
    env.close()  # closing twice is allowed
    with pytest.raises(ClosedEnvironmentError, match="closed env"):
        env.step("MoveAhead")
    with pytest.raises(ClosedEnvironmentError, match="closed env"):
        env.reset(seed=0)


def test_a_clone_keeps_the_episode_state() -> None:
    env = HouseholdEnv(scene=SCENE, **SMALL)
    env.reset(seed=0)
    env.clone().step("RotateRight")  # what the runner does for SPL: step a fresh clone
    env.step("Done")
    with pytest.raises(ResetNeeded, match="terminated"):
        env.clone().step("RotateRight")


# ------------------------------------------------------------------- 6. actions in range

N = len(ACTIONS)
BAD_ACTIONS: list[tuple[Any, str]] = [
    (True, "got bool True"),
    (False, "got bool False"),
    (np.bool_(True), f"got {type(np.bool_(True)).__name__} {quote(np.bool_(True))}"),
    (1.0, "got float 1.0"),
    (2.5, "got float 2.5"),
    (np.float64(3.0), f"got float64 {quote(np.float64(3.0))}"),
    (None, "got NoneType None"),
    ([1], "got list [1]"),
    (b"MoveAhead", "got bytes b'MoveAhead'"),
    (-1, f"action index -1 is out of range 0..{N - 1}"),
    (N, f"action index {N} is out of range 0..{N - 1}"),
    (2**70, f"action index {2**70} is out of range 0..{N - 1}"),
    ("Teleport", "unknown action 'Teleport'; valid actions: MoveAhead"),
    ({"action": True, "object": 0}, "got bool True"),
    ({"action": 1, "object": True}, "got bool True"),
    ({"action": 1, "object": 1.0}, "got float 1.0"),
    ({"action": 1, "object": MAX_INSTANCES}, f"out of range 0..{MAX_INSTANCES - 1}"),
    ({"action": 1, "obj": 3}, "got {'action': 1, 'obj': 3}"),
    ({"object": 3}, "an action dict has the key 'action'"),
]


@pytest.mark.parametrize(("action", "message"), BAD_ACTIONS,
                         ids=[f"{i}-{type(a).__name__}" for i, (a, _) in enumerate(BAD_ACTIONS)])
def test_actions_outside_the_action_space_are_refused(running: HouseholdEnv, action: Any,
                                                      message: str) -> None:
    steps = running.steps
    with pytest.raises(InvalidAction, match=re.escape(message)) as e:
        running.step(action)
    assert isinstance(e.value, ValueError)
    msg = str(e.value)
    assert len(msg) < MAX_MESSAGE
    valid = (f"0..{N - 1}", f"0..{MAX_INSTANCES - 1}", "valid actions: ", "has the key 'action'")
    assert any(v in msg for v in valid), msg  # the valid range or form
    assert running.steps == steps  # nothing happened


def test_the_action_space_samples_are_accepted(running: HouseholdEnv) -> None:
    running.action_space.seed(0)
    for _ in range(3):
        a = running.action_space.sample()
        a[keys.ACT_ACTION] = np.int64(a[keys.ACT_ACTION] % (N - 1))  # anything but Done
        running.step(a)


# ------------------------------------------------------------------------ 7. reset options

BAD_OPTIONS: list[tuple[Any, str]] = [
    ("abc", "reset options must be a dict or None, got str 'abc'"),
    (["task"], "reset options must be a dict or None, got list ['task']"),
    ({"tsk": {}}, "unknown reset option 'tsk'; known: task"),
    ({"seed": 1}, "unknown reset option 'seed'; known: task"),
    ({"task": 5}, "reset option 'task' must be a Task or a task dict, got int 5"),
    ({"task": "pick_and_place"}, "reset option 'task' must be a Task or a task dict"),
    ({"task": {"family": ["pick_and_place"]}}, "unknown task family ['pick_and_place']"),
    ({"task": {"family": "pick_and_place", "object_type": ["Apple"], "target_type": "Fridge"}},
     "task object_type ['Apple'] is not an object type"),
    ({"task": {"family": "pick_and_place", "object_type": "Apple", "target_type": "Fridge",
               "step_limit": "abc"}}, "task step_limit must be an integer in [1, "),
    ({"task": {"family": "pick_and_place", "object_type": "Apple", "target_type": "Fridge",
               "step_limit": 0}}, f"task step_limit must be an integer in [1, {MAX_STEP_LIMIT}]"),
    ({"task": {"family": "pick_and_place", "object_type": "Apple", "target_type": "Fridge",
               "count": True}}, "task count must be an integer in [1, "),
    ({"task": {"family": "pick_and_place", "object_type": "Apple", "target_type": "Fridge",
               "colour": "red"}}, "unknown task keys ['colour']; known: family"),
    ({"task": {"family": "pick_and_place", "object_type": "Apple", "target_type": "Fridge",
               "instruction": "Put it {there}"}}, "has characters outside letters"),
    ({"task": {"family": "pick_and_place", "object_type": "Apple", "target_type": "Fridge",
               "instruction": "x" * 300}}, "task instruction must be a string of at most 256"),
]


@pytest.mark.parametrize(("options", "message"), BAD_OPTIONS,
                         ids=[str(i) for i in range(len(BAD_OPTIONS))])
def test_malformed_reset_options_are_refused(options: Any, message: str) -> None:
    env = HouseholdEnv(scene=SCENE, **SMALL)
    with pytest.raises(ValueError, match=re.escape(message)) as e:
        env.reset(seed=0, options=options)
    assert len(str(e.value)) < MAX_MESSAGE


def test_empty_and_none_options_are_fine() -> None:
    env = HouseholdEnv(scene=SCENE, **SMALL)
    env.reset(seed=0, options={})
    env.reset(seed=0, options={"task": None})
    env.reset(seed=0, options=None)


# ---------------------------------------------------------------- 8. constructor arguments

BAD_ARGUMENTS: list[tuple[dict[str, Any], str]] = [
    ({"width": MAX_IMAGE_SIZE + 1}, f"width must be an integer in [8, {MAX_IMAGE_SIZE}] pixels"),
    ({"width": 100_000}, f"width must be an integer in [8, {MAX_IMAGE_SIZE}] pixels, got 100000"),
    ({"height": 4}, "height must be an integer in [8, "),
    ({"height": 0}, "height must be an integer in [8, "),
    ({"width": 64.0}, "width must be an integer"),
    ({"width": True}, "width must be an integer"),
    ({"height": "64"}, "height must be an integer"),
    ({"fov": 0}, "fov must be a number of degrees in [10, 170], got 0"),
    ({"fov": float("nan")}, "fov must be a number of degrees in [10, 170], got nan"),
    ({"fov": "90"}, "fov must be a number of degrees"),
    ({"step_limit": 0}, f"step_limit must be None or an integer in [1, {MAX_STEP_LIMIT}], got 0"),
    ({"step_limit": -5}, "step_limit must be None or an integer in [1, "),
    ({"step_limit": 1.5}, "step_limit must be None or an integer"),
    ({"step_limit": True}, "step_limit must be None or an integer"),
    ({"step_limit": 2**40}, "step_limit must be None or an integer in [1, "),
    ({"relocation_prob": float("nan")}, "relocation_prob must be in [0, 1], got nan"),
    ({"relocation_prob": -0.1}, "relocation_prob must be in [0, 1], got -0.1"),
    ({"relocation_prob": "0.5"}, "relocation_prob must be in [0, 1], got '0.5'"),
    ({"n_rooms": 1}, "n_rooms must be None or an integer between 2 and 6, got 1"),
    ({"n_rooms": 7}, "n_rooms must be None or an integer between 2 and 6, got 7"),
    ({"n_rooms": 2.5}, "n_rooms must be None or an integer between 2 and 6, got 2.5"),
    ({"n_rooms": True}, "n_rooms must be None or an integer between 2 and 6, got True"),
    ({"rotate_step": 0}, "rotate_step must be a number of degrees in (0, 180], got 0"),
    ({"rotate_step": float("inf")}, "rotate_step must be a number of degrees in (0, 180]"),
    ({"lifelong": "yes"}, "lifelong must be True or False, got 'yes'"),
    ({"scene": 5}, "scene must be None, a scene name or a path to a .yaml spec, got 5"),
    ({"families": "pick_and_place"}, "families must be a list of task families"),
    ({"families": [["pick_and_place"]]}, "unknown task family ['pick_and_place']"),
    ({"task": "pick_and_place"}, "a task must be a Task or a dict, got str"),
    ({"render_mode": "x" * 5000}, "render_mode must be None or 'rgb_array', got 'xxx"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_ARGUMENTS,
                         ids=[next(iter(k)) + f"-{i}" for i, (k, _) in enumerate(BAD_ARGUMENTS)])
def test_bad_constructor_arguments_name_the_argument(kwargs: dict[str, Any],
                                                     message: str) -> None:
    args = {**SMALL, **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)) as e:
        HouseholdEnv(**args)
    assert len(str(e.value)) < MAX_MESSAGE
    if "render_mode" in kwargs:
        return  # gym.make warns about an unknown render mode itself, quoting it whole
    with pytest.raises(ValueError, match=re.escape(message)):
        gym.make(ENV_ID, **args)


def test_numpy_scalars_are_accepted_as_arguments() -> None:
    env = HouseholdEnv(width=np.int64(16), height=np.int32(16), fov=np.float32(60.0),
                       step_limit=np.int64(3), relocation_prob=np.float64(0.5))
    env.reset(seed=0)
    env.step("RotateRight")
