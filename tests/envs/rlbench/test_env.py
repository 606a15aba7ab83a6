"""robomem/RLBench-v0's env and embodiment, driven through a stand-in RLBench task.

CoppeliaSim cannot run here: ``task_factory`` gives the env a task that answers as RLBench's
``TaskEnvironment`` does (``reset() -> (descriptions, obs)``, ``step(action) -> (obs, reward,
terminate)``, ``InvalidActionError`` for a move it refuses), with observations in RLBench's
layout of a scene robomem/Household-v0 rendered (tests/fixtures/rlbench_layout.py). The path
that starts the real RLBench is tested for its error where RLBench is missing.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from scipy.spatial.transform import Rotation

from robomem import keys
from robomem.envs.rlbench.config import RLBenchEnvConfig
from robomem.envs.rlbench.convert import matrix_from_pose7, yup_to_zup
from robomem.envs.rlbench.embodiment import RLBenchEmbodiment
from robomem.envs.rlbench.env import (
    OBS_GRIPPER_POSE,
    RLBenchEnv,
    RLBenchUnavailable,
    TaskSession,
)
from robomem.feedback import FeedbackCode
from robomem.geometry import zup_to_yup
from tests.fixtures.rlbench_layout import HOUSEHOLD, Layout, render, rlbench_layout

OUTSIDE = "A path could not be found because the target is outside of workspace."
ROBOT_HANDLE = 22  # the render's shelf plays a part of the arm (a structure type here)
_LAYOUT: list[Layout] = []


class InvalidActionError(Exception):
    """Stands for rlbench.backend.exceptions.InvalidActionError."""


def layout() -> Layout:
    if not _LAYOUT:
        obs = render(HOUSEHOLD)
        _LAYOUT.append(rlbench_layout(obs))
    return _LAYOUT[0]


@dataclass
class FakeTask:
    """An RLBench task: the tip goes where it is sent; success within 5 cm of ``goal``."""

    goal: np.ndarray = field(default_factory=lambda: np.array([0.3, 0.1, 1.0]))  # z-up
    variations: int = 4
    commands: list[np.ndarray] = field(default_factory=list)
    variation: int = -1
    seeded: list[int] = field(default_factory=list)
    closed: bool = False
    action_errors: tuple[type[BaseException], ...] = (InvalidActionError,)

    def _obs(self, pose7: np.ndarray, gripper: float) -> Any:
        rl = copy.copy(layout().observation)
        rl.joint_positions = np.linspace(0.0, 0.6, 7)
        rl.joint_velocities = np.zeros(7)
        rl.gripper_pose, rl.gripper_open = pose7, gripper
        return rl

    def seed(self, seed: int) -> None:
        self.seeded.append(seed)

    def variation_count(self) -> int:
        return self.variations

    def set_variation(self, v: int) -> None:
        self.variation = v

    def reset(self) -> tuple[list[str], Any]:
        start = np.array([0.0, 0.0, 1.4, 0.0, 1.0, 0.0, 0.0])  # tip pointing down
        return [f"reach the target {self.variation}", "touch it"], self._obs(start, 1.0)

    def step(self, action: np.ndarray) -> tuple[Any, float, bool]:
        self.commands.append(np.array(action))
        if action[2] < 0.75:  # RLBench's workspace check (arm_action_modes.py)
            raise InvalidActionError(OUTSIDE)
        success = bool(np.linalg.norm(action[:3] - self.goal) < 0.05)
        return self._obs(np.array(action[:7]), float(action[7])), float(success), success

    def object_name(self, handle: int) -> str:
        return "Panda_link4_visual" if handle == ROBOT_HANDLE else f"distractor{handle}"

    def close(self) -> None:
        self.closed = True


def make(task: FakeTask | None = None, **kw: Any) -> tuple[RLBenchEnv, FakeTask]:
    fake = task or FakeTask()

    def factory(cfg: RLBenchEnvConfig) -> TaskSession:
        assert cfg.cameras == ("front",)
        return fake

    kw.setdefault("cameras", ("front",))
    kw.setdefault("image_size", 64)
    return RLBenchEnv(task_factory=factory, **kw), fake


def goal_pose_yup(fake: FakeTask, quat: list[float] | None = None) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = Rotation.from_quat(quat or [0.0, 1.0, 0.0, 0.0]).as_matrix()
    m[:3, 3] = fake.goal
    y = zup_to_yup(m)  # the same pose in robomem's y-up world, as x, y, z, qx, qy, qz, qw
    return np.concatenate([y[:3, 3], Rotation.from_matrix(y[:3, :3]).as_quat()])


def move(pose: np.ndarray, gripper: int = 1) -> dict[str, Any]:
    return {"action": "move_ee", "object": 0, "pose": pose, "gripper": gripper}


# ------------------------------------------------------------------ the gym layout
def test_reset_gives_robomems_layout_and_the_embodiment_reads_it() -> None:
    env, fake = make(variation=2)
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs)
    assert fake.variation == 2 and fake.seeded == [3]
    assert obs["instruction"] == "reach the target 2" and obs["step"] == 0
    front = info["cameras"]["front"]
    assert front["frame_id"] == "cam_front" and front["labels"][ROBOT_HANDLE] == "Robot"
    assert front["object_ids"][37] == "distractor37" and front["labels"][37] == "Distractor"
    seen = RLBenchEmbodiment.from_env(env).observe(obs, info)
    assert ROBOT_HANDLE not in seen.labels and seen.labels[37] == "Distractor"  # arm: structure
    arm = seen.proprio
    assert arm is not None and arm.joint_names[0] == "Panda_joint1" and arm.gripper_open == 1.0
    np.testing.assert_allclose(arm.joint_positions, np.linspace(0.0, 0.6, 7))
    assert arm.ee_pose is not None  # the tip 1.4 m up (z-up) is 1.4 m up in robomem's y
    np.testing.assert_allclose(arm.ee_pose[:3, 3], [0.0, 1.4, 0.0], atol=1e-12)
    original = render(HOUSEHOLD).camera
    assert seen.camera.depth is not None and original.depth is not None
    np.testing.assert_allclose(seen.camera.depth, original.depth, atol=1e-4)
    np.testing.assert_allclose(seen.camera.pose, original.pose, atol=1e-9)
    assert env.unwrapped.metadata["robomem.embodiment"] == "rlbench"


def test_a_random_variation_is_drawn_from_the_seed() -> None:
    drawn = []
    for _ in range(2):
        env, fake = make()
        env.reset(seed=11)
        drawn.append(fake.variation)
    assert drawn[0] == drawn[1] and 0 <= drawn[0] < 4
    env, _ = make(variation=4)
    with pytest.raises(ValueError, match="variation 4: task reach_target has 4 variations"):
        env.reset()


@pytest.mark.filterwarnings("ignore:.*For Box action spaces")  # poses are metres, not [-1, 1]
def test_the_gymnasium_checker_passes() -> None:
    env, _ = make()
    check_env(env, skip_render_check=True)


# ------------------------------------------------------------------ actions
def test_move_ee_sends_the_pose_in_rlbenchs_z_up_world_and_succeeds() -> None:
    env, fake = make()
    env.reset(seed=0)
    pose = goal_pose_yup(fake)
    obs, reward, terminated, truncated, info = env.step(move(pose, gripper=0))
    sent = fake.commands[-1]
    assert sent.shape == (8,) and sent[7] == 0.0
    np.testing.assert_allclose(sent[:3], fake.goal, atol=1e-12)
    np.testing.assert_allclose(sent[:3], yup_to_zup(pose[:3]), atol=1e-12)
    np.testing.assert_allclose(matrix_from_pose7(sent[:7])[:3, :3],
                               Rotation.from_quat([0, 1, 0, 0]).as_matrix(), atol=1e-12)
    assert info[keys.INFO_ACTION_NAME] == "move_ee" and info[keys.INFO_ACTION_SUCCESS]
    assert reward == 1.0 and terminated and not truncated and info[keys.INFO_SUCCESS]
    np.testing.assert_allclose(obs[OBS_GRIPPER_POSE][:3], pose[:3], atol=1e-12)
    assert obs["gripper_open"] == 0.0
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(move(pose))


def test_a_refused_move_is_a_failed_action_with_rlbenchs_message() -> None:
    env, fake = make()
    obs, info = env.reset(seed=0)
    low = goal_pose_yup(fake)
    low[1] = 0.2  # y-up height 0.2 m: below RLBench's workspace
    obs, reward, terminated, truncated, info = env.step(move(low))
    assert not info[keys.INFO_ACTION_SUCCESS] and info[keys.INFO_ACTION_ERROR] == OUTSIDE
    assert (reward, terminated, truncated) == (0.0, False, False)
    fb = RLBenchEmbodiment.from_env(env).observe(obs, info).feedback
    assert not fb.success and fb.code is FeedbackCode.OUT_OF_REACH and fb.message == OUTSIDE
    np.testing.assert_allclose(obs[OBS_GRIPPER_POSE][:3], [0.0, 1.4, 0.0], atol=1e-12)


def test_a_non_unit_quaternion_never_reaches_rlbench() -> None:
    env, fake = make()
    env.reset(seed=0)
    pose = goal_pose_yup(fake)
    pose[3:] = [0.0, 2.0, 0.0, 0.0]
    _, _, terminated, _, info = env.step(move(pose))
    assert not fake.commands and not info[keys.INFO_ACTION_SUCCESS] and not terminated
    assert "quaternion (qx, qy, qz, qw) must have length 1, got 2" in info[keys.INFO_ACTION_ERROR]


def test_done_ends_the_episode_and_the_step_limit_truncates() -> None:
    env, fake = make(step_limit=2)
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step({"action": "done", "object": 0})
    assert terminated and not truncated and reward == 0.0 and not info[keys.INFO_SUCCESS]
    assert info[keys.INFO_ACTION_NAME] == "done" and info[keys.INFO_ACTION_SUCCESS]
    env.reset(seed=0)
    away = goal_pose_yup(fake)
    away[0] += 0.3
    assert env.step(move(away))[2:4] == (False, False)
    assert env.step(move(away))[2:4] == (False, True)
    env.close()
    assert fake.closed


@pytest.mark.parametrize(("action", "message"), [
    ({"action": "move_ee", "object": 0}, r"move_ee needs 'pose': 7 finite numbers .* got nothing"),
    ({"action": "move_ee", "pose": [0.0] * 6}, r"got shape \(6,\)"),
    ({"action": "fly"}, r"unknown action 'fly'; known: move_ee, done"),
    ({"action": "done", "gripper": 3}, r"gripper must be 1 \(open\) or 0 \(closed\), got 3"),
])
def test_malformed_actions_are_refused(action: dict[str, Any], message: str) -> None:
    env, _ = make()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(action)


# ------------------------------------------------------------------ settings and RLBench
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"task": "ReachTarget"}, r"task: 'ReachTarget' is not an RLBench task file name"),
    ({"cameras": ("front", "top")}, r"cameras: unknown camera 'top'; RLBench has left_shoulder"),
    ({"cameras": ()}, r"cameras: name at least one of left_shoulder"),
    ({"image_size": 8}, r"image_size must be an integer in \[16, 1024\], got 8"),
    ({"robot_setup": "kuka"}, r"robot_setup must be one of panda, jaco, mico, sawyer, ur5"),
    ({"depth_in_meters": "yes"}, r"depth_in_meters must be true or false, got 'yes'"),
    ({"step_limit": 0}, r"step_limit must be an integer in \[1, 100000\], got 0"),
])
def test_bad_settings_name_the_value_and_what_is_allowed(kwargs: dict[str, Any],
                                                         message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RLBenchEnv(**kwargs)


@pytest.mark.skipif(importlib.util.find_spec("rlbench") is not None,
                    reason="RLBench is installed here: the missing-RLBench path cannot run")
def test_without_rlbench_reset_says_how_to_install_it() -> None:
    env = RLBenchEnv(image_size=64)  # nothing starts before the first reset
    with pytest.raises(RLBenchUnavailable) as err:
        env.reset(seed=0)
    text = str(err.value)
    for needed in ("cannot import rlbench.environment", "'rlbench' extra", "CoppeliaSim 4.1.0",
                   "COPPELIASIM_ROOT", "LD_LIBRARY_PATH", "QT_QPA_PLATFORM_PLUGIN_PATH",
                   "https://github.com/stepjam/PyRep.git",
                   "pip install git+https://github.com/stepjam/RLBench.git",
                   "pip install -r requirements.txt", "docs/rlbench.md"):
        assert needed in text, needed
    assert "installed" not in RLBenchEnv.doctor_requirements().split(";")[0]


# ------------------------------------------------------------------ the RLBench session's wiring
def _stub_rlbench(monkeypatch: pytest.MonkeyPatch, made: dict[str, Any]) -> None:
    """Modules named and shaped as RLBench's and PyRep's, with their constructors' signatures.

    rlbench/observation_config.py, rlbench/action_modes/*.py, rlbench/environment.py,
    rlbench/backend/exceptions.py, pyrep/errors.py, pyrep/objects/object.py (stepjam).
    """
    class CameraConfig:
        def __init__(self, rgb=True, rgb_noise=None, depth=True, depth_noise=None,
                     point_cloud=True, mask=True, image_size=(128, 128), render_mode=None,
                     masks_as_one_channel=True, depth_in_meters=False):
            self.__dict__.update({k: v for k, v in locals().items() if k != "self"})

    class ObservationConfig:
        def __init__(self, left_shoulder_camera=None, right_shoulder_camera=None,
                     overhead_camera=None, wrist_camera=None, front_camera=None,
                     joint_velocities=True, joint_velocities_noise=None, joint_positions=True,
                     joint_positions_noise=None, joint_forces=True, joint_forces_noise=None,
                     gripper_open=True, gripper_pose=True, gripper_matrix=False,
                     gripper_joint_positions=False, gripper_touch_forces=False,
                     wrist_camera_matrix=False, record_gripper_closing=False,
                     task_low_dim_state=False):
            self.__dict__.update({k: v for k, v in locals().items() if k != "self"})
            made["obs_config"] = self

    class MoveArmThenGripper:
        def __init__(self, arm_action_mode, gripper_action_mode):
            self.arm_action_mode, self.gripper_action_mode = arm_action_mode, gripper_action_mode

    class EndEffectorPoseViaPlanning:
        def __init__(self, absolute_mode=True, frame="world", collision_checking=False):
            self.__dict__.update({k: v for k, v in locals().items() if k != "self"})

    class Discrete:
        def __init__(self, attach_grasped_objects=True, detach_before_open=True):
            pass

    class Environment:
        def __init__(self, action_mode, dataset_root="", obs_config=None, headless=False,
                     static_positions=False, robot_setup="panda", randomize_every=None,
                     frequency=1, visual_randomization_config=None,
                     dynamics_randomization_config=None, attach_grasped_objects=True):
            self.__dict__.update({k: v for k, v in locals().items() if k != "self"})
            made["environment"] = self

        def launch(self) -> None:
            made["launched"] = True

        def get_task(self, task_class: type) -> FakeTask:
            made["task_class"] = task_class
            return made["task"]

        def shutdown(self) -> None:
            made["shut down"] = True

    class Object:
        @staticmethod
        def get_object_name(name_or_handle: int) -> str:
            return f"distractor{name_or_handle}"

    class ReachTarget:
        pass

    found: dict[str, dict[str, Any]] = {
        "rlbench": {}, "rlbench.action_modes": {}, "rlbench.backend": {}, "pyrep": {},
        "pyrep.objects": {},
        "rlbench.environment": {"Environment": Environment},
        "rlbench.action_modes.action_mode": {"MoveArmThenGripper": MoveArmThenGripper},
        "rlbench.action_modes.arm_action_modes": {
            "EndEffectorPoseViaPlanning": EndEffectorPoseViaPlanning},
        "rlbench.action_modes.gripper_action_modes": {"Discrete": Discrete},
        "rlbench.observation_config": {"ObservationConfig": ObservationConfig,
                                       "CameraConfig": CameraConfig},
        "rlbench.tasks": {"ReachTarget": ReachTarget},
        "rlbench.backend.exceptions": {"InvalidActionError": InvalidActionError},
        "pyrep.errors": {"IKError": type("IKError", (Exception,), {}),
                         "ConfigurationPathError": type("ConfigurationPathError", (Exception,),
                                                        {})},
        "pyrep.objects.object": {"Object": Object}}
    for name, attrs in found.items():
        module = types.ModuleType(name)
        module.__dict__.update(attrs)
        monkeypatch.setitem(sys.modules, name, module)


def test_the_rlbench_session_asks_rlbench_for_what_the_env_reads(
        monkeypatch: pytest.MonkeyPatch) -> None:
    made: dict[str, Any] = {"task": FakeTask()}
    _stub_rlbench(monkeypatch, made)
    env = RLBenchEnv(cameras=("front", "wrist"), image_size=64, depth_in_meters=True,
                     headless=False, collision_checking=True, robot_setup="panda")
    with pytest.raises(ValueError, match="wrist_mask: is None"):  # the stub task has no wrist
        env.reset(seed=0)
    assert made["launched"] and made["task_class"].__name__ == "ReachTarget"
    cfg, environment = made["obs_config"], made["environment"]
    assert environment.headless is False and environment.robot_setup == "panda"
    arm = environment.action_mode.arm_action_mode
    assert (arm.absolute_mode, arm.frame, arm.collision_checking) == (True, "world", True)
    for cam in ("left_shoulder", "right_shoulder", "overhead", "wrist", "front"):
        c = getattr(cfg, f"{cam}_camera")
        on = cam in ("front", "wrist")
        assert (c.rgb, c.depth, c.mask, c.point_cloud) == (on, on, on, False), cam
        assert c.image_size == (64, 64) and c.depth_in_meters and c.masks_as_one_channel
    assert cfg.joint_positions and cfg.gripper_pose and cfg.gripper_open
    env.close()
    assert made["shut down"]


def test_the_rlbench_session_steps_and_maps_rlbenchs_errors(
        monkeypatch: pytest.MonkeyPatch) -> None:
    made: dict[str, Any] = {"task": FakeTask()}
    _stub_rlbench(monkeypatch, made)
    env = RLBenchEnv(cameras=("front",), image_size=64)
    _, info = env.reset(seed=0)
    assert info["cameras"]["front"]["object_ids"][37] == "distractor37"
    pose = goal_pose_yup(made["task"])
    pose[1] = 0.2
    _, _, _, _, info = env.step(move(pose))
    assert info[keys.INFO_ACTION_ERROR] == OUTSIDE and not info[keys.INFO_ACTION_SUCCESS]
    with pytest.raises(ValueError, match="task: RLBench has no task 'stack_blocks'"):
        RLBenchEnv(task="stack_blocks", cameras=("front",), image_size=64).reset(seed=0)
