"""The Gymnasium env ``robomem/Household-v0``: API conformance, determinism, errors, episodes."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from robomem import keys
from robomem.envs.household.actions import ACTIONS
from robomem.envs.household.env import HouseholdEnv
from robomem.envs.household.spec import list_scenes
from robomem.envs.household.tasks import FAMILIES, STEP_LIMITS, Task
from robomem.types import AgentPose
from tests.fixtures.household import (
    ENV_ID,
    act,
    first,
    make_env,
    metadata,
    objects_by_id,
    put_into,
    step,
)
from tests.fixtures.world import HOUSEHOLD

SCENE = "FloorPlan1"


def _check(env):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped, skip_render_check=False)
    msgs = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert not msgs, msgs  # gymnasium's checker reports problems as UserWarnings


# -------------------------------------------------------------------------- conformance
def test_registered_with_gymnasium():
    assert ENV_ID in gym.registry
    assert isinstance(gym.make(ENV_ID, width=16, height=16).unwrapped, HouseholdEnv)


def test_check_env_default():
    _check(make_env())


def test_check_env_lifelong():
    _check(make_env(lifelong=True, relocation_prob=0.5))


def test_check_env_scene():
    assert SCENE in list_scenes()
    _check(make_env(scene=SCENE))


def test_check_env_rgb_array_render():
    _check(make_env(render_mode="rgb_array"))


def test_observations_stay_in_the_observation_space():
    env = make_env(width=48, height=32)
    obs, _ = env.reset(seed=4)
    rng = np.random.default_rng(0)
    for _ in range(30):
        assert env.observation_space.contains(obs), [
            k for k in obs if not env.observation_space[k].contains(obs[k])]
        assert obs[keys.OBS_RGB].shape == (32, 48, 3)
        obs, _, terminated, truncated, _ = step(env, int(rng.integers(len(ACTIONS))),
                                                int(rng.integers(64)))
        if terminated or truncated:  # a random Done ends the episode: start another
            obs, _ = env.reset()
    assert set(obs) == set(keys.OBS_KEYS)


def test_info_maps_segmentation_ids_to_objects():
    env = make_env()
    obs, info = env.reset(seed=6)
    for a in ["RotateRight", "MoveAhead", "LookDown", "RotateRight", "MoveAhead"]:
        seg = obs[keys.OBS_SEGMENTATION]
        labels, ids = info[keys.INFO_LABELS], info[keys.INFO_OBJECT_IDS]
        objs = objects_by_id(metadata(info))
        assert labels[1] == "Floor" and labels[2] == "Wall" and labels[3] == "Ceiling"
        for s in np.unique(seg):
            assert int(s) in labels
        for s, oid in ids.items():
            assert objs[oid]["objectType"] == labels[s]
        assert len(set(ids.values())) == len(ids) == len(objs)
        obs, _, _, _, info = step(env, a)


def test_object_can_be_named_by_instance_id_or_object_id():
    env = make_env()
    _, info = env.reset(seed=6)
    ids = info[keys.INFO_OBJECT_IDS]
    assert env.unwrapped.parse_action({"action": "OpenObject", "object": 0}) == ("OpenObject",
                                                                                 None)
    for s, oid in list(ids.items())[:5]:
        assert env.unwrapped.parse_action({"action": 11, "object": s}) == (ACTIONS[11], oid)
        assert env.unwrapped.parse_action({"action": "PickupObject", "object": oid}) == (
            "PickupObject", oid)
        assert env.unwrapped.parse_action({"action": np.int64(4), "object": np.int32(s)}) == (
            ACTIONS[4], oid)
    assert env.unwrapped.parse_action("MoveBack") == ("MoveBack", None)
    assert env.unwrapped.parse_action(5) == (ACTIONS[5], None)


# -------------------------------------------------------------------------- determinism
def _script(obs, k):
    """A deterministic action list mixing moves, looks and interactions with what is seen."""
    names = ["MoveAhead", "RotateRight", "MoveAhead", "LookDown", "PickupObject",
             "MoveLeft", "OpenObject", "RotateLeft", "ToggleObjectOn", "MoveBack",
             "PutObject", "LookUp", "MoveRight", "CloseObject", "RotateRight"]
    seg = obs[keys.OBS_SEGMENTATION]
    ids = np.unique(seg[seg > 3])
    obj = int(ids[k % len(ids)]) if len(ids) else 0
    return {"action": names[k % len(names)], "object": obj}


def _same(a, b):
    for k in keys.OBS_KEYS:
        if isinstance(a[k], np.ndarray):
            assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k
        else:
            assert a[k] == b[k], k


def test_same_seed_same_episode():
    e1, e2 = make_env(), make_env()
    o1, i1 = e1.reset(seed=11)
    o2, i2 = e2.reset(seed=11)
    _same(o1, o2)
    assert metadata(i1) == metadata(i2)
    moved = False
    for k in range(40):
        a = _script(o1, k)
        o1, r1, t1, tr1, i1 = e1.step(a)
        o2, r2, t2, tr2, i2 = e2.step(a)
        _same(o1, o2)
        assert (r1, t1, tr1) == (r2, t2, tr2)
        assert metadata(i1) == metadata(i2)
        assert i1[keys.INFO_TASK] == i2[keys.INFO_TASK]
        moved |= a["action"] == "MoveAhead" and metadata(i1)["lastActionSuccess"]
    assert moved


def test_reset_with_the_same_seed_repeats_the_start():
    env = make_env()
    o1, i1 = env.reset(seed=21)
    for k in range(5):
        env.step(_script(o1, k))
    o2, i2 = env.reset(seed=21)
    _same(o1, o2)
    assert metadata(i1) == metadata(i2)


def test_different_seeds_different_houses():
    env = make_env()
    houses = []
    for seed in (0, 1, 2):
        _, info = env.reset(seed=seed)
        houses.append(frozenset(objects_by_id(metadata(info))))
    assert len(set(houses)) == 3
    _, info = env.reset()  # unseeded, non-lifelong: a fresh house again
    assert frozenset(objects_by_id(metadata(info))) not in houses[2:]


# ------------------------------------------------------------------------------ render
def test_render_rgb_array_returns_the_frame():
    env = make_env(render_mode="rgb_array")
    obs, _ = env.reset(seed=1)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.shape == (64, 64, 3)
    assert np.array_equal(frame, obs[keys.OBS_RGB])
    obs = env.step({"action": "RotateRight", "object": 0})[0]
    assert np.array_equal(env.render(), obs[keys.OBS_RGB])


def test_render_without_a_mode_returns_none():
    env = make_env()
    env.reset(seed=1)
    assert env.render() is None


# ------------------------------------------------------------------------------- errors
def _raises_naming(exc_info, bad, choices):
    msg = str(exc_info.value)
    assert str(bad) in msg, msg
    for c in choices:
        assert c in msg, (c, msg)


def test_unknown_action_name_is_rejected():
    env = make_env()
    env.reset(seed=0)
    with pytest.raises(ValueError) as e:
        env.step({"action": "Teleport", "object": 0})
    _raises_naming(e, "Teleport", ACTIONS)
    with pytest.raises(ValueError) as e:
        env.step("Fly")
    _raises_naming(e, "Fly", ACTIONS)


@pytest.mark.parametrize("index", [len(ACTIONS), 99, -1])
def test_out_of_range_action_index_is_rejected(index):
    env = make_env()
    env.reset(seed=0)
    with pytest.raises(ValueError) as e:
        env.step({"action": index, "object": 0})
    _raises_naming(e, index, ACTIONS)


def test_bad_action_forms_are_rejected():
    env = make_env()
    env.reset(seed=0)
    for bad in ({"object": 3}, 2.5, None, {"action": "MoveAhead", "object": 5000},
                {"action": "MoveAhead", "object": 1.5}):
        with pytest.raises(ValueError):
            env.step(bad)


def test_unknown_task_family_is_rejected():
    with pytest.raises(ValueError) as e:
        make_env(families=["pick_and_juggle"])
    _raises_naming(e, "pick_and_juggle", FAMILIES)
    with pytest.raises(ValueError) as e:
        make_env(task={"family": "pick_and_juggle", "object_type": "Apple",
                       "target_type": "Fridge"})
    _raises_naming(e, "pick_and_juggle", FAMILIES)
    env = make_env()
    with pytest.raises(ValueError) as e:
        env.reset(seed=0, options={"task": {"family": "juggle", "object_type": "Apple",
                                            "target_type": "Fridge"}})
    _raises_naming(e, "juggle", FAMILIES)


def test_unknown_scene_is_rejected():
    with pytest.raises(ValueError) as e:
        make_env(scene="FloorPlan9999")
    _raises_naming(e, "FloorPlan9999", list_scenes())
    assert list_scenes()


def test_bad_constructor_arguments_are_rejected():
    with pytest.raises(ValueError, match="human"):
        HouseholdEnv(width=16, height=16, render_mode="human")  # gym.make would wrap "human"
    with pytest.raises(ValueError, match="depth_array"):
        HouseholdEnv(width=16, height=16, render_mode="depth_array")
    with pytest.raises(ValueError, match="relocation_prob"):
        make_env(relocation_prob=1.5)
    with pytest.raises(ValueError, match="n_rooms"):
        make_env(n_rooms=9)


def test_step_before_reset_is_an_error():
    env = HouseholdEnv(width=16, height=16)
    with pytest.raises(RuntimeError, match="reset"):
        env.step({"action": "MoveAhead", "object": 0})


def test_impossible_fixed_task_is_rejected():
    env = make_env(scene=SCENE, task={"family": "pick_and_place", "object_type": "Pillow",
                                      "target_type": "Toilet"})
    with pytest.raises(ValueError, match=r"Toilet|Pillow"):
        env.reset(seed=0)


# ------------------------------------------------------------------------- observation
def test_observation_from_gym_round_trips():
    env = make_env(width=48, height=40)
    obs, info = env.reset(seed=3)
    obs, _, _, _, info = env.step({"action": "RotateLeft", "object": 0})
    o = HOUSEHOLD.observe(obs, info)
    assert list(o.cameras) == ["front"] and o.feedback.action == "rotate_left"
    assert np.array_equal(o.rgb, obs[keys.OBS_RGB])
    assert np.array_equal(o.depth, obs[keys.OBS_DEPTH])
    assert np.array_equal(o.segmentation, obs[keys.OBS_SEGMENTATION])
    assert np.array_equal(o.intrinsics, obs[keys.OBS_INTRINSICS])
    assert np.array_equal(o.camera_pose, obs[keys.OBS_CAMERA_POSE])
    assert np.array_equal(o.agent_pose.as_array(), obs[keys.OBS_AGENT_POSE])
    assert AgentPose.from_array(o.agent_pose.as_array()) == o.agent_pose
    assert (o.height, o.width) == (40, 48)
    structure = HOUSEHOLD.ontology.structure()  # floors and walls stay unlabelled
    assert o.labels == {i: t for i, t in info[keys.INFO_LABELS].items() if t not in structure}
    assert set(o.object_ids) <= set(info[keys.INFO_OBJECT_IDS])
    assert o.instruction == obs[keys.OBS_INSTRUCTION] and o.instruction
    assert o.step == 1 and o.timestamp == pytest.approx(0.1)
    assert o.privileged[keys.PRIV_METADATA] == metadata(info)
    md = metadata(info)
    assert (o.agent_pose.x, o.agent_pose.y, o.agent_pose.z) == pytest.approx(
        (md["agent"]["position"]["x"], md["agent"]["position"]["y"],
         md["agent"]["position"]["z"]))
    assert o.agent_pose.yaw == pytest.approx(md["agent"]["rotation"]["y"])
    assert o.agent_pose.horizon == pytest.approx(md["agent"]["cameraHorizon"])


# ----------------------------------------------------------------------------- episodes
def test_step_limit_truncates():
    env = make_env(step_limit=5)
    obs, info = env.reset(seed=0)
    assert info[keys.INFO_TASK]["step_limit"] == 5
    for k in range(1, 6):
        obs, reward, terminated, truncated, info = env.step({"action": "RotateRight",
                                                             "object": 0})
        assert obs[keys.OBS_STEP] == k
        assert terminated is False and reward == 0.0
        assert truncated is (k == 5)


def test_task_step_limit_defaults_by_family():
    env = make_env()
    for seed in range(4):
        _, info = env.reset(seed=seed)
        task = info[keys.INFO_TASK]
        assert task["step_limit"] == STEP_LIMITS[task["family"]]
        assert task["family"] in FAMILIES


def test_done_ends_the_episode_and_pays_only_for_a_met_goal():
    task = {"family": "pick_and_place", "object_type": "Apple", "target_type": "CounterTop"}
    env = make_env(scene=SCENE, task=task)
    obs, info = env.reset(seed=0)
    assert info[keys.INFO_TASK]["family"] == "pick_and_place"
    assert obs[keys.OBS_INSTRUCTION] == info[keys.INFO_TASK]["instruction"]
    obs, reward, terminated, truncated, info = env.step({"action": "Done", "object": 0})
    assert terminated is True and truncated is False
    assert reward == 0.0 and info[keys.INFO_SUCCESS] is False
    assert info[keys.INFO_GOAL_SATISFIED] is False

    env.reset(seed=0)
    u = env.unwrapped
    apple = first(u.house, "Apple")
    put_into(u, apple, first(u.house, "CounterTop"))
    obs, reward, terminated, truncated, info = env.step({"action": "RotateLeft", "object": 0})
    assert info[keys.INFO_GOAL_SATISFIED] is True
    assert reward == 0.0 and terminated is False and info[keys.INFO_SUCCESS] is False
    obs, reward, terminated, truncated, info = env.step({"action": "Done", "object": 0})
    assert terminated is True and truncated is False
    assert reward == 1.0 and info[keys.INFO_SUCCESS] is True


def test_done_at_the_step_limit_terminates_rather_than_truncates():
    env = make_env(step_limit=2)
    env.reset(seed=0)
    env.step({"action": "RotateRight", "object": 0})
    _, _, terminated, truncated, _ = env.step({"action": "Done", "object": 0})
    assert terminated is True and truncated is False


def test_reset_options_task_fixes_the_episode_task():
    env = make_env(scene=SCENE)
    task = Task.from_dict({"family": "pick_cool_and_place", "object_type": "Mug",
                           "target_type": "CounterTop"})
    _, info = env.reset(seed=0, options={"task": task.to_dict()})
    assert info[keys.INFO_TASK] == task.to_dict()


# ----------------------------------------------------------------------------- lifelong
def _snapshot(info):
    return {o["objectId"]: (o["position"], o["parentReceptacles"])
            for o in metadata(info)["objects"]}


def test_lifelong_keeps_the_house_and_relocates_everything_it_can():
    env = make_env(lifelong=True, relocation_prob=1.0)
    _, info = env.reset(seed=0)
    house = env.unwrapped.house
    before = _snapshot(info)
    name = metadata(info)["sceneName"]
    assert info[keys.INFO_PRIVILEGED]["relocated"] == []
    _, info = env.reset()
    after = _snapshot(info)
    assert env.unwrapped.house is house
    assert metadata(info)["sceneName"] == name
    assert set(after) == set(before)  # same object ids: the same house
    relocated = info[keys.INFO_PRIVILEGED]["relocated"]
    assert len(relocated) >= 5
    assert info[keys.INFO_PRIVILEGED]["episode"] == 2
    objs = objects_by_id(metadata(info))
    for oid in relocated:
        assert objs[oid]["pickupable"]
        assert after[oid][1] != before[oid][1]  # a different receptacle
        assert after[oid][0] != before[oid][0]
    for oid in set(after) - set(relocated):
        assert after[oid] == before[oid], oid
    # A seeded reset starts the sequence over: the first house again, untouched.
    _, info = env.reset(seed=0)
    assert _snapshot(info) == before


def test_lifelong_with_zero_relocation_moves_nothing():
    env = make_env(lifelong=True, relocation_prob=0.0)
    _, info = env.reset(seed=3)
    before = _snapshot(info)
    for episode in (2, 3):
        _, info = env.reset()
        assert info[keys.INFO_PRIVILEGED]["relocated"] == []
        assert info[keys.INFO_PRIVILEGED]["episode"] == episode
        assert _snapshot(info) == before


def test_lifelong_puts_down_what_was_held():
    env = make_env(lifelong=True, relocation_prob=0.0)
    env.reset(seed=3)
    u = env.unwrapped
    item = next(o for o in u.house.objects.values() if o.kind.pickupable)
    item.parent, item.is_picked_up = None, True
    u.world.agent.held = item.object_id
    _, info = env.reset()
    md = metadata(info)
    assert md["inventoryObjects"] == []
    o = objects_by_id(md)[item.object_id]
    assert o["isPickedUp"] is False and o["parentReceptacles"]


def test_non_lifelong_reset_builds_a_new_house():
    env = make_env(lifelong=False)
    env.reset(seed=0)
    h = env.unwrapped.house
    env.reset()
    assert env.unwrapped.house is not h


def test_actions_reach_the_world():
    env = make_env()
    env.reset(seed=2)
    md = act(env, "RotateRight")
    assert md["lastAction"] == "RotateRight"
    assert env.unwrapped.world.agent.yaw == md["agent"]["rotation"]["y"]
