"""``robomem/Household-v0``: the embedded household simulator behind the Gymnasium API.

Observations are RGB-D with instance segmentation from open3d ray casting; actions use
AI2-THOR's names; ground truth in AI2-THOR's metadata format travels in
``info["privileged"]["metadata"]`` for oracles and tests.

Example:
    >>> import gymnasium as gym
    >>> import robomem.envs  # noqa: F401
    >>> env = gym.make("robomem/Household-v0", width=64, height=64)
    >>> obs, info = env.reset(seed=0)
    >>> obs["rgb"].shape, obs["depth"].shape
    ((64, 64, 3), (64, 64))
    >>> obs, reward, terminated, truncated, info = env.step({"action": "RotateRight", "object": 0})
    >>> info["privileged"]["metadata"]["lastAction"]
    'RotateRight'
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import weakref
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import ClosedEnvironmentError, InvalidAction, ResetNeeded
from numpy.typing import NDArray

from robomem import keys
from robomem.envs.household.actions import ACTIONS, DONE, action_index
from robomem.envs.household.catalog import KINDS
from robomem.envs.household.generator import (
    MAX_ROOMS,
    MIN_GENERATED_ROOMS,
    STRUCTURE_LABELS,
    generate_house,
    item_reachable,
    reachable_cells,
)
from robomem.envs.household.house import GRID, Box, House, Obj
from robomem.envs.household.metadata import build_metadata
from robomem.envs.household.past import (
    MOVED,
    SWITCHED_ON,
    PastEvent,
    PastLog,
    fill_template,
    lamps_to_switch_on,
    pose_past_task,
)
from robomem.envs.household.placement import find_spot, surface
from robomem.envs.household.probe import (
    Prober,
    can_see,
    grid_distances,
    spot_in_frame,
    unseen_items,
)
from robomem.envs.household.renderer import (
    FOV_RANGE,
    MAX_IMAGE_SIZE,
    MIN_IMAGE_SIZE,
    Frame,
    Renderer,
)
from robomem.envs.household.spec import load_scene
from robomem.envs.household.tasks import (
    FAMILIES,
    INSTRUCTION_CHARSET,
    LAMPS,
    MAX_INSTRUCTION_CHARS,
    MAX_STEP_LIMIT,
    PAST_FAMILIES,
    Task,
    TaskError,
    sample_task,
)
from robomem.envs.household.world import VISIBILITY_DISTANCE, World
from robomem.envs.layout import camera_observation_space
from robomem.untrusted import quote

log = logging.getLogger(__name__)

MAX_INSTANCES = 1024
MAX_DEPTH = 20.0
MAX_ROTATE_STEP = 180.0  # degrees per RotateLeft/RotateRight
RESET_OPTIONS = ("task",)  # the keys reset(options=...) accepts


class NeedsReset(ResetNeeded, RuntimeError):
    """``step`` before a successful ``reset``, or after the episode ended."""


class EnvClosed(ClosedEnvironmentError, RuntimeError):
    """``step`` or ``reset`` after ``close``."""


class BadAction(InvalidAction, ValueError):
    """An action outside the action space; the message quotes it and names the valid ones."""


def _int_in(v: object, low: int, high: int) -> bool:
    """Whether ``v`` is an integer (not a bool) in ``[low, high]``."""
    return (isinstance(v, (int, np.integer)) and not isinstance(v, bool)
            and low <= int(v) <= high)


def _real_in(v: object, low: float, high: float) -> bool:
    """Whether ``v`` is a real number (not a bool) in ``[low, high]``; NaN is not."""
    return (isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            and low <= float(v) <= high)


def _check_arguments(scene: object, families: object, width: object, height: object,
                     fov: object, lifelong: object, relocation_prob: object, n_rooms: object,
                     rotate_step: object, step_limit: object) -> None:
    """Raise ``ValueError`` naming the first constructor argument out of its range."""
    if scene is not None and not isinstance(scene, str):
        raise ValueError(f"scene must be None, a scene name or a path to a .yaml spec, got "
                         f"{quote(scene)}")
    if families is not None:
        if not isinstance(families, (list, tuple)):
            raise ValueError(f"families must be a list of task families, got {quote(families)}")
        for f in families:
            if not isinstance(f, str) or f not in FAMILIES + PAST_FAMILIES:
                raise TaskError(f"unknown task family {quote(f)}; known: "
                                f"{', '.join(FAMILIES + PAST_FAMILIES)}")
    for name, v in (("width", width), ("height", height)):
        if not _int_in(v, MIN_IMAGE_SIZE, MAX_IMAGE_SIZE):
            raise ValueError(f"{name} must be an integer in [{MIN_IMAGE_SIZE}, {MAX_IMAGE_SIZE}] "
                             f"pixels, got {quote(v)}")
    if not _real_in(fov, *FOV_RANGE):
        raise ValueError(f"fov must be a number of degrees in [{FOV_RANGE[0]:g}, "
                         f"{FOV_RANGE[1]:g}], got {quote(fov)}")
    if not isinstance(lifelong, (bool, np.bool_)):
        raise ValueError(f"lifelong must be True or False, got {quote(lifelong)}")
    if not _real_in(relocation_prob, 0.0, 1.0):
        raise ValueError(f"relocation_prob must be in [0, 1], got {quote(relocation_prob)}")
    if n_rooms is not None and not _int_in(n_rooms, MIN_GENERATED_ROOMS, MAX_ROOMS):
        raise ValueError(f"n_rooms must be None or an integer between {MIN_GENERATED_ROOMS} and "
                         f"{MAX_ROOMS}, got {quote(n_rooms)}")
    if not _real_in(rotate_step, 0.0, MAX_ROTATE_STEP) or not rotate_step:
        raise ValueError(f"rotate_step must be a number of degrees in (0, {MAX_ROTATE_STEP:g}], "
                         f"got {quote(rotate_step)}")
    if step_limit is not None and not _int_in(step_limit, 1, MAX_STEP_LIMIT):
        raise ValueError(f"step_limit must be None or an integer in [1, {MAX_STEP_LIMIT}], got "
                         f"{quote(step_limit)}")


class HouseholdEnv(gym.Env[dict[str, Any], dict[str, Any]]):
    """Multi-room household simulator with AI2-THOR actions and metadata.

    Args:
        scene: a shipped scene name (``FloorPlan1`` ... see ``robomem.envs.household.spec.
            list_scenes()``), a path to a YAML spec, or ``None`` for a new procedural
            house every episode.
        task: a fixed task (a :class:`Task` or its dict); otherwise one is sampled.
        families: task families to sample from (default: all of :data:`FAMILIES`); tasks
            about the past (:data:`PAST_FAMILIES`) are posed from what the agent did in
            earlier episodes of a lifelong house (see :mod:`robomem.envs.household.past`).
        width, height: image size in pixels (:data:`MIN_IMAGE_SIZE` to
            :data:`MAX_IMAGE_SIZE`).
        fov: vertical field of view in degrees (within :data:`FOV_RANGE`).
        lifelong: keep the same house across episodes, moving some objects in between.
        relocation_prob: in lifelong mode, chance that each object is tidied elsewhere
            between episodes (0 to 1).
        n_rooms: rooms in procedural houses (2 to 6; random when ``None``).
        rotate_step: degrees per RotateLeft/RotateRight (above 0, at most
            :data:`MAX_ROTATE_STEP`).
        step_limit: override every task's step limit (1 to :data:`MAX_STEP_LIMIT`).
        render_mode: ``None`` or ``"rgb_array"``.
        paraphrase: word each sampled task's instruction in one of several ways people use
            (:data:`~robomem.envs.household.tasks.PARAPHRASES`; the tasks are the same);
            ``False``: always the family's first phrasing.

    Raises:
        ValueError: an argument of the wrong type or out of its range; the message names
            the argument, quotes the value (bounded) and gives the range.
        SpecError: a bad ``scene`` (a ``ValueError`` too).

    ``step`` raises :class:`NeedsReset` before a successful ``reset`` and after the episode
    terminates or is truncated, :class:`EnvClosed` after ``close``, and :class:`BadAction`
    for an action outside the action space.
    """

    # `robomem doctor` makes the env with these and steps it once
    doctor_kwargs: ClassVar[dict[str, Any]] = {"width": 64, "height": 64}

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 10,  # noqa: RUF012
                                "robomem.embodiment": "household"}

    def __init__(self, scene: str | None = None, task: Task | Mapping[str, Any] | None = None,
                 families: list[str] | tuple[str, ...] | None = None, width: int = 300,
                 height: int = 300, fov: float = 90.0, lifelong: bool = False,
                 relocation_prob: float = 0.2, n_rooms: int | None = None,
                 rotate_step: float = 90.0, step_limit: int | None = None,
                 render_mode: str | None = None, paraphrase: bool = True) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or 'rgb_array', got {quote(render_mode)}")
        _check_arguments(scene, families, width, height, fov, lifelong, relocation_prob,
                         n_rooms, rotate_step, step_limit)
        # numpy scalars pass the checks; keep plain Python numbers (task dicts go to JSON logs)
        width, height, fov, lifelong = int(width), int(height), float(fov), bool(lifelong)
        relocation_prob, rotate_step = float(relocation_prob), float(rotate_step)
        n_rooms = None if n_rooms is None else int(n_rooms)
        step_limit = None if step_limit is None else int(step_limit)
        self.scene = scene
        self._kwargs: dict[str, Any] = dict(
            scene=scene, task=task, families=families, width=width, height=height, fov=fov,
            lifelong=lifelong, relocation_prob=relocation_prob, n_rooms=n_rooms,
            rotate_step=rotate_step, step_limit=step_limit, render_mode=render_mode,
            paraphrase=paraphrase)
        if scene is not None:
            load_scene(scene)  # fail early, with the list of known scenes, on a bad name
        self.fixed_task = task if isinstance(task, Task) or task is None else Task.from_dict(task)
        self.families = tuple(families) if families else FAMILIES
        self.width, self.height, self.fov = width, height, fov
        self.lifelong, self.relocation_prob = lifelong, relocation_prob
        self.n_rooms, self.rotate_step, self.step_limit = n_rooms, rotate_step, step_limit
        self.render_mode = render_mode
        if not isinstance(paraphrase, bool):
            raise ValueError(f"paraphrase must be true or false, got {quote(paraphrase)}")
        self.paraphrase = paraphrase
        self.renderer = Renderer(width, height, fov, MAX_DEPTH)
        self.prober = Prober(64, fov)  # checks that sampled tasks are about visible objects
        self.observation_space = camera_observation_space(
            height, width, max_depth=MAX_DEPTH, max_instance=MAX_INSTANCES - 1,
            instruction_chars=MAX_INSTRUCTION_CHARS, charset=INSTRUCTION_CHARSET,
            max_step=MAX_STEP_LIMIT)
        self.action_space = spaces.Dict({
            keys.ACT_ACTION: spaces.Discrete(len(ACTIONS)),
            keys.ACT_OBJECT: spaces.Discrete(MAX_INSTANCES),
        })
        self.house: House | None = None
        self.world: World | None = None
        self.task: Task | None = None
        self.steps = 0
        self.episode = 0
        self._frame: Frame | None = None
        self._labels: dict[int, str] = {}
        self._ids: dict[int, str] = {}
        self._by_seg: list[str | None] = []
        self._rendered_version: tuple[int, int] = (0, -1)
        self._relocated: list[str] = []
        self.past = PastLog()  # what the agent did (ground truth for tasks about the past)
        self._taken_from: dict[str, str] = {}  # object id -> receptacle it was picked up from
        self._lit_by_env: list[str] = []  # lamps switched on for a switch_off task
        # Why step() is refused right now (None while an episode runs), and whether closed.
        self._not_running: str | None = "call reset() before step()"
        self._closed = False

    # ------------------------------------------------------------------ API
    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start an episode: a house (new, or the same one tidied in lifelong mode) and a task.

        ``options`` may hold ``"task"`` (a :class:`Task` or its dict) to fix this episode's task.

        Raises:
            ValueError: ``options`` is not a dict, has an unknown key or a bad task.
            TaskError: the task is impossible in this house (a ``ValueError`` too).
            EnvClosed: the env was closed.

        A failed reset leaves no episode running (``step`` raises :class:`NeedsReset`), and a
        later reset starts afresh.
        """
        if self._closed:
            raise EnvClosed("reset() on a closed env; make a new one")
        self._not_running = "the last reset() failed; call reset() again before step()"
        opt_task = self._task_option(options)
        super().reset(seed=seed)
        if seed is not None:
            self.episode = 0  # a seeded reset starts the whole (lifelong) sequence afresh
        out = self._start(opt_task)
        self._not_running = None
        return out

    def _task_option(self, options: object) -> Task | None:
        """The task in ``reset``'s ``options``, validated (``None`` when there is none)."""
        if options is None:
            return None
        if not isinstance(options, Mapping):
            raise ValueError(f"reset options must be a dict or None, got "
                             f"{type(options).__name__} {quote(options)}")
        unknown = [k for k in options if k not in RESET_OPTIONS]
        if unknown:
            raise ValueError(f"unknown reset option {quote(unknown[0])}; known: "
                             f"{', '.join(RESET_OPTIONS)}")
        task = options.get("task")
        if task is None or isinstance(task, Task):
            return task
        if not isinstance(task, Mapping):
            raise ValueError(f"reset option 'task' must be a Task or a task dict, got "
                             f"{type(task).__name__} {quote(task)}")
        return Task.from_dict(task)

    def _start(self, opt_task: Task | None) -> tuple[dict[str, Any], dict[str, Any]]:
        """The body of :meth:`reset`, after the options are checked."""
        rng = self.np_random
        self._relocated = []
        fresh = self.house is None or not self.lifelong or self.episode == 0
        if fresh:
            self.past.clear()
        elif self.house is not None:
            for k in self._lit_by_env:  # "someone" switches off what they switched on
                if k in self.house.objects:
                    self.house.objects[k].is_toggled = False
        self._lit_by_env = []
        for attempt in range(10):
            if fresh:
                self.house = self._new_house(int(rng.integers(2**31 - 1)))
            elif attempt == 0:
                assert self.house is not None
                self._relocated = relocate(self.house, rng, self.relocation_prob)
            assert self.house is not None
            if self.world is None or self.world.house is not self.house:
                self.world = World(self.house, int(rng.integers(2**31 - 1)), self.rotate_step)
                self.world.spot_in_view = _spot_in_view_of(self)
                self._index_house()
            elif self.world.agent.held is not None:  # drop what was held back where it fits
                self._drop_held()
            self.world.reset_agent()
            if opt_task is not None:
                self.task = self._fill(opt_task, rng)
            elif self.fixed_task is not None:
                self.task = self._fill(self.fixed_task, rng)
            else:
                try:
                    self.task = self._sample(rng)
                except TaskError:
                    # A procedural house may lack what the families need (no lamp, say):
                    # draw another house; a fixed scene or a lifelong house cannot change.
                    if fresh and self.scene is None and attempt < 9:
                        continue
                    raise
            break
        assert self.task is not None and self.world is not None
        world = self.world
        self._check_task_possible(self.task)
        if self.step_limit is not None:
            self.task = dataclasses.replace(self.task, step_limit=self.step_limit)
        for lamp in lamps_to_switch_on(self.task, world.house):
            lamp.is_toggled = True
            self._lit_by_env.append(lamp.object_id)
        self.steps = 0
        self.episode += 1
        world.version += 1
        self._observe()
        md = self._metadata("Initialize", True, "")
        return self._obs(), self._info(md, success=False)

    def step(self, action: Any) -> tuple[dict[str, Any], SupportsFloat, bool, bool, dict[str, Any]]:
        """Apply one action (see :meth:`parse_action` for the accepted forms).

        Raises:
            BadAction: an action outside the action space (a ``ValueError``).
            NeedsReset: no episode is running: no successful reset yet, or the episode
                terminated or was truncated (gymnasium's ``ResetNeeded``, a ``RuntimeError``).
            EnvClosed: the env was closed (gymnasium's ``ClosedEnvironmentError``).
        """
        if self._closed:
            raise EnvClosed("step() on a closed env; make a new one")
        if self._not_running is not None:
            raise NeedsReset(self._not_running)
        assert self.world is not None and self.task is not None
        name, object_id = self.parse_action(action)
        held = self.world.agent.held
        taken = self.world.house.objects.get(object_id or "")
        source = (taken.parent or "") if taken is not None and name == "PickupObject" else ""
        result = self.world.act(name, object_id)
        if result.success:
            self._record(name, object_id, held, source)
        self.steps += 1
        self._observe()
        satisfied = self.task.check(self.world.house, self.world.agent.held, self.world.visible)
        terminated = name == DONE
        truncated = not terminated and self.steps >= self.task.step_limit
        if terminated:
            self._not_running = ("the episode has terminated (Done); call reset() to start "
                                 "another before step()")
        elif truncated:
            self._not_running = (f"the episode was truncated at its step limit of "
                                 f"{self.task.step_limit}; call reset() to start another before "
                                 "step()")
        reward = 1.0 if terminated and satisfied else 0.0
        md = self._metadata(name, result.success, result.error)
        info = self._info(md, success=terminated and satisfied)
        info[keys.INFO_GOAL_SATISFIED] = satisfied
        return self._obs(), reward, terminated, truncated, info

    def close(self) -> None:
        """Close the env; later ``step`` and ``reset`` raise :class:`EnvClosed`.

        Closing again is allowed and does nothing more.
        """
        self._closed = True
        super().close()

    def render(self) -> NDArray[np.uint8] | None:
        """The last RGB frame when ``render_mode == "rgb_array"``."""
        if self.render_mode != "rgb_array" or self._frame is None:
            return None
        rgb: NDArray[np.uint8] = self._frame.rgb.copy()
        return rgb

    def clone(self) -> HouseholdEnv:
        """An independent copy of the current episode (house, agent, task, step count).

        Benchmarks run the oracle on a clone to get the shortest solution of the very
        episode an agent faces (for SPL) without disturbing it.
        """
        if self._closed:
            raise EnvClosed("clone() of a closed env")
        if self.world is None or self.house is None or self.task is None:
            raise NeedsReset("call reset() before clone()")
        other = HouseholdEnv(**self._kwargs)
        other.house = copy.deepcopy(self.house)
        other.world = World(other.house, 0, self.rotate_step)
        other.world.agent = copy.deepcopy(self.world.agent)
        other.world.rng = copy.deepcopy(self.world.rng)
        other.world.spot_in_view = _spot_in_view_of(other)
        other.task, other.steps, other.episode = self.task, self.steps, self.episode
        other._relocated = list(self._relocated)
        other.past, other._taken_from = self.past.copy(), dict(self._taken_from)
        other._lit_by_env = list(self._lit_by_env)
        other._not_running = self._not_running
        other._index_house()
        other._observe()
        return other

    # -------------------------------------------------------------- helpers
    def parse_action(self, action: Any) -> tuple[str, str | None]:
        """Turn an action into ``(name, objectId)``.

        Accepted forms: the action-space dict ``{"action": int, "object": instance_id}``;
        the same with an action name and/or an objectId string; an action name alone; an
        action index alone. Bools, floats and out-of-range indices are refused.

        Raises:
            BadAction: any other action (a ``ValueError``); the message quotes the action
                (bounded) and names the valid choices.
        """
        obj: Any = 0
        if isinstance(action, Mapping):
            unknown = [k for k in action if k not in (keys.ACT_ACTION, keys.ACT_OBJECT)]
            if keys.ACT_ACTION not in action or unknown:
                raise BadAction(f"an action dict has the key {keys.ACT_ACTION!r} and optionally "
                                f"{keys.ACT_OBJECT!r}, got {quote(dict(action))}")
            a, obj = action[keys.ACT_ACTION], action.get(keys.ACT_OBJECT, 0)
        else:
            a = action
        if isinstance(a, (int, np.integer)) and not isinstance(a, bool):
            if not 0 <= int(a) < len(ACTIONS):
                raise BadAction(f"action index {quote(a)} is out of range 0..{len(ACTIONS) - 1} "
                                f"({', '.join(ACTIONS)})")
            name = ACTIONS[int(a)]
        elif isinstance(a, str):
            try:
                name = ACTIONS[action_index(a)]
            except ValueError as e:
                raise BadAction(str(e)) from None
        else:
            raise BadAction(f"action must be an index in 0..{len(ACTIONS) - 1}, an action name "
                            f"({', '.join(ACTIONS)}) or a dict with key {keys.ACT_ACTION!r}, "
                            f"got {type(a).__name__} {quote(a)}")
        if isinstance(obj, str):
            return name, obj or None
        if isinstance(obj, (int, np.integer)) and not isinstance(obj, bool):
            i = int(obj)
            if not 0 <= i < MAX_INSTANCES:
                raise BadAction(f"object instance id {i} is out of range 0..{MAX_INSTANCES - 1}")
            return name, self._by_seg[i] if i < len(self._by_seg) else None
        raise BadAction(f"action object must be an instance id in 0..{MAX_INSTANCES - 1} or an "
                        f"objectId string, got {type(obj).__name__} {quote(obj)}")

    def _new_house(self, seed: int) -> House:
        if self.scene is not None:
            return load_scene(self.scene)
        house = generate_house(seed, self.n_rooms)
        # Generation checks distances only; here every item must also show from some pose
        # (a cabinet door or a fridge can hide the back of a shelf). Move or drop the rest.
        world = World(house)
        world.reset_agent()  # on a reachable cell: distances are measured from there
        rng = np.random.default_rng(seed)
        cells = np.array(sorted(reachable_cells(house)), dtype=np.float64) * GRID
        for o in unseen_items(self.prober, world):
            if not (move_elsewhere(house, o, rng, cells) and can_see(self.prober, world, o)):
                del house.objects[o.object_id]
            world.version += 1
        return house

    def _index_house(self) -> None:
        assert self.house is not None
        objs = list(self.house.objects.values())
        n = max([o.seg_id for o in objs] + [max(STRUCTURE_LABELS)]) + 1
        if n > MAX_INSTANCES:
            raise RuntimeError(f"house has {n} instances, more than {MAX_INSTANCES}")
        self._by_seg = [None] * n
        self._labels = dict(STRUCTURE_LABELS)
        self._ids = {}
        for o in objs:
            self._by_seg[o.seg_id] = o.object_id
            self._labels[o.seg_id] = o.type
            self._ids[o.seg_id] = o.object_id

    def _observable(self) -> Callable[[Obj], bool]:
        """Whether an object can be seen from a reachable pose (after opening its container)."""
        world = self.world
        assert world is not None
        dist = grid_distances(world)
        cache: dict[str, bool] = {}

        def check(o: Obj) -> bool:
            if o.object_id not in cache:
                cache[o.object_id] = can_see(self.prober, world, o, dist)
            return cache[o.object_id]

        return check

    def _sample(self, rng: np.random.Generator) -> Task:
        """A task from the env's families; one about the past when drawn and possible."""
        assert self.house is not None
        past = [f for f in self.families if f in PAST_FAMILIES]
        if past and rng.random() < len(past) / len(self.families):
            wording = rng.spawn(1)[0] if self.paraphrase else None
            task = pose_past_task(past[int(rng.integers(len(past)))], self.house, self.past,
                                  rng, wording)
            if task is not None:
                return task
        return sample_task(self.house, rng, self._regular_families(), self._observable(),
                           self.paraphrase)

    def _fill(self, task: Task, rng: np.random.Generator) -> Task:
        """A given task; a template about the past filled in from what the agent did.

        When the agent did nothing such a task could be about (it moved nothing yet), an
        ordinary task is drawn instead and a warning logged.
        """
        if not task.is_template:
            return task
        assert self.house is not None
        wording = rng.spawn(1)[0] if self.paraphrase else None
        filled = fill_template(task, self.house, self.past, rng, wording)
        if filled is not None:
            return filled
        log.warning("no task %s can be posed: the agent did nothing it could be about in "
                    "house %s yet; drawing an ordinary task", task.family, self.house.name)
        return sample_task(self.house, rng, self._regular_families(), self._observable(),
                           self.paraphrase)

    def _regular_families(self) -> list[str]:
        """The env's families that are not about the past (all of them if none is)."""
        return [f for f in self.families if f not in PAST_FAMILIES] or list(FAMILIES)

    def _record(self, name: str, object_id: str | None, held: str | None, source: str) -> None:
        """Note a successful move or lamp switch in :attr:`past` (ground truth).

        ``held`` is what the agent held before the action, ``source`` what a picked-up
        object stood on.
        """
        assert self.house is not None
        if name == "PickupObject" and object_id:
            self._taken_from[object_id] = source
        elif name == "PutObject" and held and object_id:
            self.past.add(PastEvent(self.episode, MOVED, held, self.house.objects[held].type,
                                    self._taken_from.pop(held, ""), object_id))
        elif name == "ToggleObjectOn" and object_id and \
                self.house.objects[object_id].type in LAMPS:
            self.past.add(PastEvent(self.episode, SWITCHED_ON, object_id,
                                    self.house.objects[object_id].type))

    def _check_task_possible(self, task: Task) -> None:
        assert self.house is not None
        for k in (task.object_id, task.target_id, *task.keep_on):
            if k and k not in self.house.objects:
                raise TaskError(f"task {task.instruction!r} is about {k!r}, which house "
                                f"{self.house.name} does not have")
        present = {o.type for o in self.house.objects.values()}
        for t in (task.object_type, task.target_type):
            if t and t not in present:
                raise TaskError(f"task {task.instruction!r} needs a {t}, but house "
                                f"{self.house.name} has none")

    def _drop_held(self) -> None:
        """Between lifelong episodes, what the agent still holds is put away somewhere."""
        assert self.world is not None and self.house is not None
        held = self.world.holding()
        assert held is not None
        cells = np.array(sorted(reachable_cells(self.house)), dtype=np.float64) * GRID
        held.is_picked_up = False  # so placement treats it as an ordinary loose object
        if move_elsewhere(self.house, held, self.np_random, cells, allow_closed=False) or \
                move_elsewhere(self.house, held, self.np_random, cells, allow_closed=False,
                               anywhere=True):
            self.world.agent.held = None
            self._relocated.append(held.object_id)
        else:
            held.is_picked_up = True

    @property
    def last_frame(self) -> Frame | None:
        """The frame of the latest observation (privileged tools may inspect it)."""
        return self._frame

    def _spot_in_view(self, box: Box) -> bool:
        """Whether ``box`` shows, unoccluded and within reach, in the last frame."""
        return self._frame is None or spot_in_frame(self._frame, box)

    def _observe(self) -> None:
        w = self.world
        assert w is not None and self.house is not None
        if (w.uid, w.version) != self._rendered_version:
            self.renderer.set_scene(self.house)
            self._rendered_version = (w.uid, w.version)
        a = w.agent
        self._frame = f = self.renderer.render(a.camera, a.yaw, a.horizon)
        near = f.segmentation[f.hit_distance <= VISIBILITY_DISTANCE]
        counts = np.bincount(near.ravel(), minlength=len(self._by_seg))
        seen = (self._by_seg[i] for i in np.flatnonzero(counts[: len(self._by_seg)]))
        w.visible = {oid for oid in seen if oid is not None}

    def _obs(self) -> dict[str, Any]:
        f, w, task = self._frame, self.world, self.task
        assert f is not None and w is not None and task is not None
        a = w.agent
        return {
            keys.OBS_RGB: f.rgb,
            keys.OBS_DEPTH: f.depth,
            keys.OBS_SEGMENTATION: f.segmentation,
            keys.OBS_INTRINSICS: f.intrinsics,
            keys.OBS_CAMERA_POSE: f.camera_pose,
            keys.OBS_AGENT_POSE: np.array([a.x, 0.9, a.z, a.yaw, a.horizon], np.float32),
            keys.OBS_INSTRUCTION: task.instruction,
            keys.OBS_STEP: np.array(self.steps, np.int64),
            keys.OBS_TIMESTAMP: np.array(self.steps * 0.1, np.float64),
        }

    def _metadata(self, action: str, success: bool, error: str) -> dict[str, Any]:
        assert self.world is not None
        return build_metadata(self.world, action, success, error, self.width, self.height,
                              self.fov, current_time=self.steps * 0.1)

    def _info(self, md: dict[str, Any], success: bool) -> dict[str, Any]:
        assert self.task is not None and self.house is not None
        return {
            keys.INFO_LABELS: dict(self._labels),
            keys.INFO_OBJECT_IDS: dict(self._ids),
            keys.INFO_PRIVILEGED: {keys.PRIV_METADATA: md,
                                   keys.PRIV_RELOCATED: list(self._relocated),
                                   "house": self.house.name, "episode": self.episode},
            keys.INFO_TASK: self.task.to_dict(),
            keys.INFO_SUCCESS: success,
            keys.INFO_ACTION_NAME: "" if md["lastAction"] == "Initialize" else md["lastAction"],
            keys.INFO_ACTION_SUCCESS: md["lastActionSuccess"],
            keys.INFO_ACTION_ERROR: md["errorMessage"],
            keys.INFO_SCENE: self.house.name,
        }


def _spot_in_view_of(env: HouseholdEnv) -> Callable[[Box], bool]:
    """``env._spot_in_view`` for its world, through a weak reference to ``env``.

    A bound method would make env -> world -> method -> env a reference cycle: an env
    dropped without ``close`` (every SPL clone, renderer, ray buffers and all) would then
    wait for the cycle collector's full passes, which come rarer as memory grows.
    """
    ref = weakref.ref(env)

    def accept(box: Box) -> bool:
        live = ref()
        return live is None or live._spot_in_view(box)

    return accept


def move_elsewhere(house: House, o: Obj, rng: np.random.Generator, cells: NDArray[np.float64],
                   allow_closed: bool = True, anywhere: bool = False) -> bool:
    """Move ``o`` to a reachable free spot on another usual receptacle (any, with ``anywhere``)."""
    hosts = [h for h in house.objects.values()
             if (anywhere or h.type in KINDS[o.type].usual_places) and h.object_id != o.parent
             and surface(h) is not None]
    for h in [hosts[int(i)] for i in rng.permutation(len(hosts))]:
        if h.kind.openable and not h.is_open and (not allow_closed or rng.random() < 0.5):
            continue
        box = find_spot(house, h, o.type, rng, ignore=o.object_id)
        if box is not None and item_reachable(box, cells):
            o.box, o.parent = box, h.object_id
            o.temperature = "Cold" if h.kind.cold_source else "RoomTemp"
            return True
    return False


def relocate(house: House, rng: np.random.Generator, prob: float) -> list[str]:
    """Move each loose object elsewhere with probability ``prob`` (someone tidied up).

    Returns the ids of the moved objects.
    """
    cells = np.array(sorted(reachable_cells(house)), dtype=np.float64) * GRID
    return [o.object_id for o in list(house.objects.values())
            if o.kind.pickupable and not o.is_picked_up and rng.random() < prob
            and move_elsewhere(house, o, rng, cells)]
