"""robomem/AI2THOR-v0: the real AI2-THOR through ``ai2thor.controller.Controller``.

Each step sends the action to the controller and turns the ``Event`` into robomem's standard
gym layout (``robomem.envs.ai2thor.events``); the ``ai2thor`` embodiment maps AI2-THOR's
failure messages to feedback codes. ``ai2thor`` is the ``thor`` extra and is imported only
here. The first start downloads the Unity build for ``commit_id`` (about 500 MB) unless
``local_executable_path`` names one; the build needs Vulkan (``platform="CloudRendering"``)
or an X display (``Linux64``). With ``families`` (or a task in ``reset``'s options) each
episode poses an ALFRED task, checked on the event metadata (``envs/ai2thor/tasks.py``);
episodes end on success, ``Done`` or the step limit (docs/environments.md says what is tested
where). ``Find`` (an objectId or a type) is EB-ALFRED's "find X": the agent is teleported to
the nearest reachable pose facing the object (``envs/ai2thor/find.py``), one step.

Example:
    >>> from robomem.envs.ai2thor.env import AI2THOREnv
    >>> env = AI2THOREnv(scene="FloorPlan1", width=64, height=64)  # nothing started yet
    >>> int(env.action_space["action"].n)
    16
"""

from __future__ import annotations

import logging
import string
from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from robomem import keys
from robomem.envs.ai2thor.events import event_to_gym
from robomem.envs.ai2thor.tasks import FAMILIES as TASK_FAMILIES
from robomem.envs.ai2thor.tasks import ThorTask, goal_met, instruction_for, sample_task
from robomem.envs.layout import camera_observation_space, parse_action
from robomem.untrusted import quote

__all__ = ["ACTIONS", "AI2THOREnv", "ThorUnavailable"]

log = logging.getLogger(__name__)

ACTIONS = ("MoveAhead", "MoveBack", "MoveLeft", "MoveRight", "RotateLeft", "RotateRight",
           "LookUp", "LookDown", "PickupObject", "PutObject", "OpenObject", "CloseObject",
           "ToggleObjectOn", "ToggleObjectOff", "Done", "Find")
_OBJECT_ACTIONS = frozenset(ACTIONS[8:14])
FIND = "Find"  # robomem's, not AI2-THOR's: GetReachablePositions + TeleportFull (find.py)
MAX_INSTRUCTION_CHARS = 2000
INSTRUCTION_CHARSET = string.ascii_letters + string.digits + " .,;:!?'\"-()/&"


class ThorUnavailable(RuntimeError):
    """AI2-THOR cannot start here; the message says which part is missing and what to do."""


def _explain(e: BaseException) -> str:
    text = str(e)
    if "Unity process has exited" in text:
        return ("the AI2-THOR Unity process exited at once: with platform=CloudRendering it "
                "needs Vulkan (`vulkaninfo` must work), with Linux64 an X display (x_display)")
    if "no build exists" in text or "Invalid commit_id" in text:
        return f"no AI2-THOR build exists for that commit_id ({text[:120]})"
    if isinstance(e, TimeoutError) or "timed out" in text:
        return "the AI2-THOR process did not answer in time (server_start_timeout)"
    return f"{type(e).__name__}: {text[:200]}"


def _pose_of(event: Any) -> dict[str, Any]:
    """``TeleportFull`` back to the agent pose of ``event``."""
    a = event.metadata["agent"]
    return {"action": "TeleportFull", "position": dict(a["position"]),
            "rotation": dict(a["rotation"]), "horizon": float(a["cameraHorizon"]),
            "standing": True}


class AI2THOREnv(gym.Env[dict[str, Any], dict[str, Any]]):
    """AI2-THOR behind robomem's gym layout (see the module docstring).

    Args:
        scene: an iTHOR FloorPlan name (a ProcTHOR house dict works too).
        width, height: image size in pixels.
        fov: vertical field of view in degrees.
        grid_size: the move step (m); robomem's executor drives 0.25.
        rotate_step: degrees per RotateLeft/RotateRight; robomem's executor drives 90.
        visibility_distance: how far the agent can interact (m).
        platform: ``"CloudRendering"``, ``"Linux64"`` or None (AI2-THOR's choice).
        x_display: the X display for Linux64 (e.g. ``"0"``).
        local_executable_path: a Unity build (or stand-in) to run instead of downloading one.
        commit_id: the AI2-THOR build to fetch on first use.
        instruction: the instruction of episodes without a task.
        step_limit: steps before an episode is truncated.
        controller_kwargs: anything else for ``Controller``.
        families: task families to draw a task from at each reset (``envs/ai2thor/tasks.py``);
            empty: no task unless ``reset(options={"task": {...}})`` gives one.
        lifelong: keep the scene across episodes: instead of resetting it, drop what is held,
            move some loose objects to other surfaces with ``SetObjectPoses`` and put the
            agent somewhere else (``envs/ai2thor/lifelong.py``); ``info["privileged"]
            ["relocated"]`` names the moved objects.
        relocation_prob: in lifelong mode, the chance that each loose object is moved.
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 10,  # noqa: RUF012
                                "robomem.embodiment": "ai2thor"}
    # Starting needs the Unity build (or a stand-in): `robomem doctor` does not start it.
    doctor_kwargs: ClassVar[dict[str, Any] | None] = None

    def __init__(self, scene: str | dict[str, Any] = "FloorPlan1", width: int = 300,
                 height: int = 300, fov: float = 90.0, grid_size: float = 0.25,
                 rotate_step: float = 90.0, visibility_distance: float = 1.5,
                 platform: str | None = None, x_display: str | None = None,
                 local_executable_path: str | None = None, commit_id: str | None = None,
                 instruction: str = "", step_limit: int = 500,
                 controller_kwargs: dict[str, Any] | None = None,
                 render_mode: str | None = None, families: list[str] | None = None,
                 lifelong: bool = False, relocation_prob: float = 0.2) -> None:
        for name, v, lo, hi in (("width", width, 16, 4096), ("height", height, 16, 4096),
                                ("step_limit", step_limit, 1, 100_000)):
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {quote(v)}")
        if not 10.0 <= float(fov) <= 170.0:
            raise ValueError(f"fov must be in [10, 170] degrees, got {quote(fov)}")
        if not isinstance(lifelong, bool):
            raise ValueError(f"lifelong must be True or False, got {quote(lifelong)}")
        if isinstance(relocation_prob, bool) or not isinstance(relocation_prob, int | float) \
                or not 0.0 <= relocation_prob <= 1.0:
            raise ValueError(f"relocation_prob must be in [0, 1], got {quote(relocation_prob)}")
        if platform not in (None, "CloudRendering", "Linux64"):
            raise ValueError(f"platform must be None, 'CloudRendering' or 'Linux64', got "
                             f"{quote(platform)}")
        if len(instruction) > MAX_INSTRUCTION_CHARS or \
                not set(instruction) <= set(INSTRUCTION_CHARSET):
            raise ValueError(f"instruction must be at most {MAX_INSTRUCTION_CHARS} letters, "
                             f"digits and {INSTRUCTION_CHARSET[62:]!r}, got {quote(instruction)}")
        self.scene, self.width, self.height, self.fov = scene, width, height, float(fov)
        self.grid_size, self.rotate_step = float(grid_size), float(rotate_step)
        self.visibility_distance = float(visibility_distance)
        self.platform, self.x_display = platform, x_display
        self.local_executable_path, self.commit_id = local_executable_path, commit_id
        self.instruction, self.step_limit = instruction, step_limit
        bad = [f for f in families or [] if f not in TASK_FAMILIES]
        if bad:
            raise ValueError(f"unknown task family {quote(bad[0])}; known: "
                             f"{', '.join(TASK_FAMILIES)}")
        self.families = list(families or [])
        self.lifelong, self.relocation_prob = lifelong, float(relocation_prob)
        self._relocated: list[str] = []
        self.task: ThorTask | None = None
        self.controller_kwargs = dict(controller_kwargs or {})
        self.render_mode = render_mode
        self.controller: Any = None
        self._event: Any = None
        self._steps = 0
        self._done = True
        self._reachable: list[dict[str, float]] | None = None
        self.observation_space = camera_observation_space(
            height, width, instruction_chars=MAX_INSTRUCTION_CHARS, charset=INSTRUCTION_CHARSET)
        self.action_space = spaces.Dict({keys.ACT_ACTION: spaces.Discrete(len(ACTIONS)),
                                         keys.ACT_OBJECT: spaces.Text(200)})

    @classmethod
    def doctor_requirements(cls) -> str:
        """What ``robomem doctor`` reports about running AI2-THOR here (nothing is started)."""
        import os
        import shutil

        try:
            import ai2thor  # noqa: F401
            pkg = "ai2thor installed"
        except ImportError:
            pkg = "ai2thor missing (pip install 'robomem[thor]')"
        vulkan = ("vulkaninfo found (CloudRendering may work)" if shutil.which("vulkaninfo")
                  else "no vulkaninfo (CloudRendering needs Vulkan)")
        display = (f"DISPLAY={os.environ['DISPLAY']} (Linux64 may work)"
                   if os.environ.get("DISPLAY") else "no DISPLAY (Linux64 needs an X server)")
        return f"{pkg}; {vulkan}; {display}; the Unity build is fetched on first use"

    # ------------------------------------------------------------------ controller
    def _start(self) -> Any:
        try:
            from ai2thor.controller import Controller
        except ImportError as e:
            raise ThorUnavailable("robomem/AI2THOR-v0 needs the ai2thor package: pip install "
                                  "'robomem[thor]'") from e
        kwargs: dict[str, Any] = dict(
            scene=self.scene, width=self.width, height=self.height, fieldOfView=self.fov,
            gridSize=self.grid_size, rotateStepDegrees=self.rotate_step,
            visibilityDistance=self.visibility_distance, renderDepthImage=True,
            renderInstanceSegmentation=True, snapToGrid=True)
        if self.local_executable_path:
            kwargs["local_executable_path"] = self.local_executable_path
        if self.commit_id:
            kwargs["commit_id"] = self.commit_id
        if self.x_display:
            kwargs["x_display"] = self.x_display
        if self.platform == "CloudRendering":
            from ai2thor.platform import CloudRendering

            kwargs["platform"] = CloudRendering
        kwargs.update(self.controller_kwargs)
        try:
            return Controller(**kwargs)
        except Exception as e:  # the controller raises plain Exceptions for Unity failures
            raise ThorUnavailable(f"AI2-THOR could not start: {_explain(e)}") from e

    # ------------------------------------------------------------------ gym api
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start (or reset) the scene; the first observation."""
        super().reset(seed=seed)
        self._relocated = []
        if self.controller is None:
            self.controller = self._start()
            self._event = self.controller.last_event
        elif self.lifelong:
            self._event = self._between_episodes()
        else:
            self._event = self.controller.reset(self.scene)
        self._steps, self._done = 0, False
        self._reachable = None
        self.task = self._task(options)
        return self._observe(self._event)

    def _between_episodes(self) -> Any:
        """Lifelong mode: drop what is held, tidy some objects away, move the agent."""
        from robomem.envs.ai2thor.lifelong import choose_moves, landing, object_poses, spawn_point

        rng, step = self.np_random, self.controller.step
        md = self._event.metadata
        if md.get("inventoryObjects"):
            md = step(action="DropHandObject", forceAction=True).metadata
        by_id = {o["objectId"]: o for o in md["objects"]}
        new: dict[str, dict[str, float]] = {}
        for move in choose_moves(md, rng, self.relocation_prob):
            ev = step(action="GetSpawnCoordinatesAboveReceptacle", objectId=move.receptacle_id,
                      anywhere=True)
            point = spawn_point(ev.metadata.get("actionReturn") or [], rng)
            if point is not None:
                new[move.object_id] = landing(by_id[move.object_id], point)
        if new:
            ev = step(action="SetObjectPoses", objectPoses=object_poses(md, new))
            if ev.metadata.get("lastActionSuccess"):
                self._relocated = sorted(new)
            else:
                log.warning("SetObjectPoses failed (%s); no object moved",
                            str(ev.metadata.get("errorMessage"))[:200])
        reachable = step(action="GetReachablePositions").metadata.get("actionReturn") or []
        event = self.controller.last_event
        if reachable:
            p = reachable[int(rng.integers(len(reachable)))]
            event = step(action="TeleportFull", position=dict(p), horizon=0.0, standing=True,
                         rotation={"x": 0.0, "y": 90.0 * int(rng.integers(4)), "z": 0.0})
        return event

    def _task(self, options: dict[str, Any] | None) -> ThorTask | None:
        """The episode's task: ``options["task"]``, else one drawn for ``families``."""
        from robomem.envs.ai2thor.embodiment import AI2THOREmbodiment

        onto = AI2THOREmbodiment().ontology
        given = (options or {}).get("task")
        if given is not None:
            if not isinstance(given, dict) or given.get("family") not in TASK_FAMILIES:
                raise ValueError(f"options['task'] must be a dict with a family in "
                                 f"{', '.join(TASK_FAMILIES)}, got {quote(given)}")
            fields = {k: given[k] for k in ("family", "object_type", "target_type", "count")
                      if k in given}
            task = ThorTask(**fields)
            return ThorTask(task.family, task.object_type, task.target_type, task.count,
                            str(given.get("instruction") or instruction_for(task, onto)))
        if self.families:
            return sample_task(self._event.metadata, self.np_random, onto, self.families)
        return None

    def step(self, action: Any) -> tuple[dict[str, Any], SupportsFloat, bool, bool,
                                         dict[str, Any]]:
        """One AI2-THOR action (``{"action": name or index, "object": objectId or 0}``)."""
        if self.controller is None or self._done:
            raise RuntimeError("call reset() before step() (and after an episode ends)")
        name, obj = self._parse(action)
        self._steps += 1
        if name == "Done":
            self._done = True
            obs, info = self._observe(self._event, override=("Done", True, ""))
            return obs, 0.0, True, False, info
        try:
            if name == FIND:
                return self._after(*self._find(obj))
            if name in _OBJECT_ACTIONS:
                self._event = self.controller.step(action=name, objectId=obj or "")
            else:
                self._event = self.controller.step(action=name)
            obs, info = self._observe(self._event)
        except ValueError as e:  # the controller raises for an invalid action or argument
            obs, info = self._observe(self._event, override=(name, False, str(e)[:300]))
        return self._after(obs, info)

    def _after(self, obs: dict[str, Any], info: dict[str, Any]
               ) -> tuple[dict[str, Any], SupportsFloat, bool, bool, dict[str, Any]]:
        success = self.task is not None and goal_met(self.task, self._event.metadata)
        truncated = not success and self._steps >= self.step_limit
        self._done = success or truncated
        info[keys.INFO_SUCCESS] = success
        return obs, 1.0 if success else 0.0, success, truncated, info

    def _find(self, target: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Teleport next to ``target`` facing it (EB-ALFRED's find); fails with a reason."""
        from robomem.envs.ai2thor.find import find_poses

        if self._reachable is None:
            ev = self.controller.step(action="GetReachablePositions")
            self._reachable = list(ev.metadata.get("actionReturn") or [])
        md = self._event.metadata
        poses = find_poses(md, self._reachable, target or "", self.rotate_step)
        if not poses:
            why = ("no reachable position" if not self._reachable else
                   f"no object {quote(target)} in the scene")
            return self._observe(self._event, override=(FIND, False, f"Find failed: {why}"))
        landed = None
        for pose in poses:  # nearest first; stop at the first from which it is visible
            ev = self.controller.step(**pose.teleport())
            if not ev.metadata.get("lastActionSuccess"):
                continue
            landed = landed or ev
            seen = any(o.get("objectId") == pose.object_id and o.get("visible")
                       for o in ev.metadata.get("objects", []))
            if seen:
                landed = ev
                break
        if landed is None:
            self._event = self.controller.step(action="Pass")
            return self._observe(self._event, override=(
                FIND, False, f"Find failed: no reachable pose next to {poses[0].object_id} "
                             f"could be teleported to"))
        if landed is not ev:
            landed = self.controller.step(**_pose_of(landed))
        self._event = landed
        return self._observe(landed, override=(FIND, True, ""))

    def _parse(self, action: Any) -> tuple[str, str | None]:
        return parse_action(action, ACTIONS)

    def _observe(self, event: Any, override: tuple[str, bool, str] | None = None
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
        instruction = self.task.instruction if self.task is not None else self.instruction
        obs, info = event_to_gym(event, self.fov, instruction, self._steps, 0.1 * self._steps)
        if override is not None:
            info[keys.INFO_ACTION_NAME], info[keys.INFO_ACTION_SUCCESS], \
                info[keys.INFO_ACTION_ERROR] = override
        info[keys.INFO_SUCCESS] = False
        if self.task is not None:
            info[keys.INFO_TASK] = self.task.as_dict()
        info[keys.INFO_PRIVILEGED][keys.PRIV_RELOCATED] = list(self._relocated)
        return obs, info

    def render(self) -> Any:
        """The last RGB frame."""
        return None if self._event is None else np.asarray(self._event.frame)

    def close(self) -> None:
        """Stop the Unity process."""
        if self.controller is not None:
            try:
                self.controller.stop()
            finally:
                self.controller = None
