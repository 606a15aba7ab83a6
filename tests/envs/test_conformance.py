"""Conformance of every registered env and its embodiment to what robomem's core relies on.

Parametrised over :data:`robomem.envs.registry.ENVS` (built-ins, entry points and the test
workshop, tests/fixtures/gridworld): a new world joins by being registered. Each env is made
small, with its class's ``doctor_kwargs`` (``None`` there means too costly to start: skipped).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env, data_equivalence

from robomem.agent import AgentConfig
from robomem.embodiment import Embodiment, embodiment_for
from robomem.envs.registry import ENVS
from robomem.feedback import FeedbackCode
from robomem.memory.system import MemorySystemConfig
from robomem.policies.base import memory_agent
from robomem.primitives import INTERACTIONS, PRIMITIVES, Primitive, needs_object
from robomem.registry import import_target
from robomem.skills import DONE, INTERACTION_ACTIONS, SKILL_NAMES
from robomem.types import Action, Observation
from tests.fixtures.gridworld import register_gridworld
from tests.fixtures.ros import served_kwargs, stop_served
from tests.fixtures.thor_standin import standin_kwargs

register_gridworld()
ENV_IDS = ENVS.names()
# envs whose world cannot run here, started on a stand-in: AI2-THOR on the FIFO stand-in, a
# ROS 2 robot against `robomem ros serve` (one server per env, on a domain of its own)
TEST_KWARGS: dict[str, Callable[[], dict[str, Any]]] = {"robomem/AI2THOR-v0": standin_kwargs,
                                                        "robomem/ROS2Robot-v0": served_kwargs}

# What the executor sends for a skill besides its own interaction: it walks the lattice,
# turns and pitches the camera on the way (policies/executor.py, policies/motion.py).
WALKING = (Primitive.MOVE_AHEAD, Primitive.MOVE_BACK, Primitive.MOVE_LEFT,
           Primitive.MOVE_RIGHT, Primitive.ROTATE_LEFT, Primitive.ROTATE_RIGHT,
           Primitive.LOOK_UP, Primitive.LOOK_DOWN)
HASH = {"episodic": {"encoder": "hash"}}


def executor_primitives(skill: str, mobile: bool = True) -> set[str]:
    """The primitives the executor may send while running ``skill``.

    A world without a mobile base (a table arm) runs each skill as its own keyframe motion:
    nothing is walked.
    """
    if skill == DONE:
        return {Primitive.DONE.value}
    out = {p.value for p in WALKING} if mobile else set()
    if skill in INTERACTION_ACTIONS:
        out.add(INTERACTION_ACTIONS[skill])
    return out


def small_kwargs(env_id: str) -> dict[str, Any]:
    if env_id in TEST_KWARGS:  # an env whose world cannot run here, started on a stand-in
        return TEST_KWARGS[env_id]()
    cls = import_target(ENVS.get(env_id))
    kwargs = getattr(cls, "doctor_kwargs", {})
    if kwargs is None:
        pytest.skip(f"{env_id} says it is too costly to start here (doctor_kwargs = None)")
    return dict(kwargs)


def make(env_id: str) -> gym.Env[Any, Any]:
    return gym.make(env_id, **small_kwargs(env_id))


@pytest.fixture(params=ENV_IDS)
def env_id(request: pytest.FixtureRequest) -> Iterator[str]:
    yield str(request.param)
    stop_served()


def test_the_workshop_is_among_the_registered_envs() -> None:
    assert {"robomem/Household-v0", "robomem-test/GridWorld-v0"} <= set(ENV_IDS)


def test_gymnasium_check_env(env_id: str) -> None:
    env = make(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped, skip_render_check=True)
    msgs = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert not msgs, msgs  # gymnasium's checker reports problems as UserWarnings
    env.close()


def test_seeded_episodes_are_deterministic(env_id: str) -> None:
    a, b = make(env_id), make(env_id)
    space = a.action_space
    space.seed(7)
    actions = [space.sample() for _ in range(10)]
    oa, _ = a.reset(seed=3)
    ob, _ = b.reset(seed=3)
    assert data_equivalence(oa, ob, exact=True)
    for k, act in enumerate(actions):
        oa, ra, ta, ua, _ = a.step(act)
        ob, rb, tb, ub, _ = b.step(act)
        assert data_equivalence(oa, ob, exact=True), f"observations differ after step {k}"
        assert (ra, ta, ua) == (rb, tb, ub)
        if ta or ua:
            break
    a.close()
    b.close()


def _check_rotation(m: np.ndarray, what: str) -> None:
    assert m.shape == (4, 4) and np.isfinite(m).all(), what
    np.testing.assert_allclose(m[3], [0, 0, 0, 1], atol=1e-9, err_msg=what)
    r = m[:3, :3]
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-5, err_msg=what)
    assert np.linalg.det(r) == pytest.approx(1.0, abs=1e-5), what


def test_observation_round_trip(env_id: str) -> None:
    env = make(env_id)
    emb = embodiment_for(env)
    obs = emb.observe(*env.reset(seed=0))
    assert isinstance(obs, Observation) and obs.cameras
    assert obs.primary in obs.cameras or obs.primary == ""
    for name, cam in obs.cameras.items():
        h, w = cam.height, cam.width
        assert cam.rgb.shape == (h, w, 3) and cam.rgb.dtype == np.uint8, name
        if cam.depth is not None:
            assert cam.depth.shape == (h, w) and cam.depth.dtype == np.float32, name
            assert np.isfinite(cam.depth).all() and (cam.depth >= 0).all(), name
        k = cam.intrinsics
        assert k.shape == (3, 3) and k[0, 0] > 0 and k[1, 1] > 0, name
        np.testing.assert_allclose(k[2], [0, 0, 1], atol=1e-9)
        _check_rotation(cam.pose, f"camera {name} pose")
        if cam.segmentation is not None:
            seg = cam.segmentation
            assert seg.shape == (h, w) and np.issubdtype(seg.dtype, np.integer), name
            assert seg.min() >= 0
            # labels name instances (0 is "nothing hit") of types the world's ontology knows,
            # and the building's own instances are stripped
            assert all(isinstance(i, int) and i > 0 for i in cam.labels), name
            assert set(cam.object_ids) <= set(cam.labels), name
            assert all(t in emb.ontology for t in cam.labels.values()), name
            structure = emb.ontology.structure()
            assert not structure & set(cam.labels.values()), name
    _check_rotation(obs.base_pose, "base pose")
    assert obs.agent_pose.horizon in (-30.0, 0.0, 30.0, 60.0)
    assert obs.feedback.success and obs.feedback.code is FeedbackCode.OK
    assert obs.instruction  # a task to do
    env.close()


def _a_target(obs: Observation) -> str:
    return next(iter(obs.camera.object_ids.values()), "no-such-object")


def test_the_skill_table(env_id: str) -> None:
    env = make(env_id)
    emb = embodiment_for(env)
    assert emb.skills and set(emb.skills) <= set(SKILL_NAMES)
    assert set(emb.primitives) <= set(PRIMITIVES)
    # the agent ends an episode it cannot read or gives up on with `done`
    assert Primitive.DONE.value in emb.primitives
    for skill in emb.skills:
        missing = executor_primitives(skill, emb.body is not None) - set(emb.primitives)
        assert not missing, f"{emb.name}: skill {skill} needs primitives {sorted(missing)}"
    obs = emb.observe(*env.reset(seed=0))
    target = _a_target(obs)
    for p in sorted(emb.primitives, key=PRIMITIVES.index):
        act = Action(p, target if needs_object(p) else None)
        raw, _, terminated, truncated, info = env.step(emb.command(act))  # the world takes it
        fb = emb.observe(raw, info).feedback
        assert fb.action == p, (p, fb)  # and its feedback names the primitive again
        if terminated or truncated:
            obs = emb.observe(*env.reset(seed=0))
            target = _a_target(obs)
    for p in [*(set(PRIMITIVES) - set(emb.primitives)), "teleport"]:
        with pytest.raises(ValueError) as err:
            emb.command(Action(p, target if p in INTERACTIONS else None))
        assert all(q in str(err.value) for q in emb.primitives), str(err.value)
    env.close()


def test_a_short_agent_episode(env_id: str) -> None:
    env = make(env_id)
    emb: Embodiment = embodiment_for(env)
    agent = memory_agent(AgentConfig(modules=MemorySystemConfig(options=HASH)), emb)
    try:
        obs = emb.observe(*env.reset(seed=0))
        agent.reset(obs)
        for _ in range(15):
            action = agent.act(obs)
            assert action.name in emb.primitives, action
            raw, _, terminated, truncated, info = env.step(emb.command(action))
            obs = emb.observe(raw, info)
            if terminated or truncated:
                agent.end_episode(emb.success(info), 1)
                obs = emb.observe(*env.reset())
                agent.reset(obs)
        assert getattr(agent, "error", None) is None  # it read the instruction with its ontology
        spatial = agent.system.module("spatial")  # type: ignore[attr-defined]
        assert len(spatial.memory.graph.nodes()) > 0
    finally:
        agent.close()  # type: ignore[attr-defined]
        env.close()
