"""The privileged oracle: solves Household tasks from ground truth.

It proves that generated tasks are solvable and gives the upper bound for every
benchmark. It reads the simulator state directly (never the observation), plans the task
as a list of subgoals (pick up X, put in Y, toggle Z, ...) and reaches each by breadth-first
search on the navigation grid to a pose from which the target is visible, found by
rendering low-resolution probes. It is closed-loop: after every action it re-checks the
ground truth, and a failed action makes it re-plan the current subgoal.

Example:
    >>> import gymnasium as gym
    >>> import robomem.envs  # noqa: F401
    >>> from robomem.envs.household.oracle import run_oracle_episode
    >>> env = gym.make("robomem/Household-v0", width=96, height=96,
    ...                families=["pick_and_place"])
    >>> run_oracle_episode(env, seed=3)["success"]
    True
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from robomem.envs.household.embodiment import HouseholdEmbodiment
from robomem.envs.household.env import HouseholdEnv
from robomem.envs.household.house import GRID, Obj, forward
from robomem.envs.household.navigation import Cell
from robomem.envs.household.placement import find_spot
from robomem.envs.household.probe import Prober, grid_distances, in_reach, spot_in_frame
from robomem.envs.household.renderer import Frame
from robomem.envs.household.tasks import Task
from robomem.envs.household.world import World
from robomem.policies.base import Policy
from robomem.types import Action, Observation

MAX_EXPANSIONS = 8  # re-plans of one subgoal before the oracle gives up
ANYWHERE = "*"  # a put target: any open receptacle that is not an appliance


@dataclass(frozen=True)
class Subgoal:
    """One step of a task plan: ``kind`` in pickup/put/open/close/on/off/look."""

    kind: str
    target: str  # an objectId, or a type name resolved when the subgoal starts


class OraclePolicy(Policy):
    """Privileged planner over the Household simulator's ground truth."""

    name = "oracle"

    def __init__(self, env: HouseholdEnv, probe_size: int = 96) -> None:
        self.env = env
        self.prober = Prober(probe_size, env.fov)
        self.queue: deque[Action] = deque()
        self.plan: list[Subgoal] = []
        self.expansions = 0
        self.replans = 0
        self.gave_up = False
        self.bound: str | None = None  # the task object being carried through a plan
        self._bad_cells: set[Cell] = set()  # where an action of the current subgoal failed

    @classmethod
    def from_env(cls, env: gym.Env[Any, Any], seed: int = 0) -> OraclePolicy:
        """The oracle needs the simulator itself: only ``robomem/Household-v0`` qualifies."""
        inner = env.unwrapped
        if not isinstance(inner, HouseholdEnv):
            raise TypeError(f"the oracle needs privileged access to robomem/Household-v0; got "
                            f"{type(inner).__name__}")
        return cls(inner)

    # ------------------------------------------------------------ episode
    def reset(self, obs: Observation) -> None:
        """Plan the episode's task."""
        task = self.env.task
        assert task is not None
        self.plan = self._plan(task)
        held = self._world.holding()
        if held is not None and held.type != task.object_type:
            self.plan.insert(0, Subgoal("put", ANYWHERE))  # free the hand first
        self.queue.clear()
        self.expansions = 0
        self.gave_up = False
        self.bound = None
        self._bad_cells.clear()

    def act(self, obs: Observation) -> Action:
        """Next primitive action; re-plans the current subgoal after a failed action."""
        md = obs.privileged.get("metadata", {})
        if not md.get("lastActionSuccess", True) and md.get("lastAction") != "Initialize":
            self.queue.clear()
            self.replans += 1
            a = self._world.agent
            self._bad_cells.add((round(a.x / GRID), round(a.z / GRID)))
        while not self.queue:
            if self.gave_up or not self.plan:
                return Action("done")
            if self._done(self.plan[0]):
                self._bind(self.plan.pop(0))
                self._bad_cells.clear()
                self.expansions = 0
                continue
            self.expansions += 1
            steps = self._expand(self.plan[0]) if self.expansions <= MAX_EXPANSIONS else None
            if steps is None:
                self.gave_up = True
                return Action("done")
            self.queue.extend(steps)
        return self.queue.popleft()

    def stats(self) -> dict[str, float]:
        """Re-plans so far."""
        return {"replans": float(self.replans)}

    # ------------------------------------------------------------ planning
    def _bind(self, done: Subgoal) -> None:
        """Remember the object picked up, so later steps act on that very instance."""
        task = self.env.task
        assert task is not None
        held = self._world.holding()
        if done.kind == "pickup" and held is not None:
            self.bound = held.object_id
        elif done.kind == "put" and done.target == task.target_type:
            self.bound = None

    def _plan(self, task: Task) -> list[Subgoal]:
        """The same decomposition the symbolic planner uses; a lamp is switched on first."""
        from robomem.planners.instruction import make_goal
        from robomem.planners.symbolic import plan_subgoals

        if task.family == "switch_off":  # tasks about the past name their very objects
            return [Subgoal("off", task.object_id)]
        if task.is_past:
            return [Subgoal("pickup", task.object_id),
                    Subgoal("put", task.target_id or task.target_type)]
        goal = make_goal(task.family, task.object_type, task.target_type, task.count,
                         HouseholdEmbodiment().ontology)
        plan: list[Subgoal] = []
        for sg in plan_subgoals(goal):
            if sg.kind == "look":
                plan.append(Subgoal("on", sg.label))
            plan.append(Subgoal(sg.kind, sg.label))
        return plan

    @property
    def _world(self) -> World:
        assert self.env.world is not None
        return self.env.world

    def _done(self, sg: Subgoal) -> bool:
        w = self._world
        objs = w.house.objects
        held = w.holding()
        if sg.kind == "pickup":
            return held is not None and sg.target in (held.type, held.object_id) and \
                self._fresh(held)
        if sg.kind == "put":
            return held is None
        if sg.kind in ("open", "close", "on", "off"):
            o = self._resolve(sg)
            if o is None:
                return False
            if sg.kind in ("open", "close"):
                return o.is_open == (sg.kind == "open")
            return o.is_toggled == (sg.kind == "on")
        if sg.kind == "look":
            return any(objs[i].type == sg.target and objs[i].is_toggled for i in w.visible)
        raise ValueError(f"unknown subgoal {sg.kind!r}")

    def _fresh(self, o: Obj) -> bool:
        """Whether ``o`` still needs to reach the task's goal (not already placed)."""
        task = self.env.task
        assert task is not None
        if task.family != "pick_two_and_place" or o.parent is None:
            return True
        return self._world.house.objects[o.parent].type != task.target_type

    def _resolve(self, sg: Subgoal) -> Obj | None:
        """The instance a subgoal acts on: the nearest suitable one of its type."""
        cands = self._candidates(sg)
        return cands[0] if cands else None

    def _candidates(self, sg: Subgoal) -> list[Obj]:
        """Instances a subgoal could act on, best first."""
        w = self._world
        house = w.house
        if sg.target in house.objects:
            return [house.objects[sg.target]]
        cands = [o for o in house.objects.values()
                 if o.type == sg.target or (sg.target == ANYWHERE and o.kind.receptacle
                                            and not o.kind.pickupable and not o.kind.openable
                                            and not o.kind.heat_source)]
        if sg.kind == "pickup" and self.bound in house.objects:
            return [house.objects[self.bound]]
        if sg.kind == "pickup":
            cands = [o for o in cands if self._fresh(o) and not o.is_picked_up]
        if sg.kind == "put":
            held = w.holding()
            if held is None:
                return []
            rng = np.random.default_rng(0)
            cands = [o for o in cands if self._fits(o, held.type, rng)]
        if sg.kind in ("on", "off", "open", "close", "look") and sg.kind != "look":
            task = self.env.task
            assert task is not None
            # Appliances: the one holding the task object, if any (the microwave it is in).
            def has_task_object(host: str) -> bool:
                return any(c.object_id == self.bound or (self.bound is None
                                                         and c.type == task.object_type)
                           for c in house.children(host))

            holding_task = [o for o in cands if has_task_object(o.attached_to or o.object_id)]
            cands = holding_task or cands
        dist = grid_distances(w)
        return sorted(cands, key=lambda o: (self._cost(o, dist), o.object_id))

    def _fits(self, rec: Obj, type_: str, rng: np.random.Generator) -> bool:
        return find_spot(self._world.house, rec, type_, rng) is not None

    # ---------------------------------------------------------- expansion
    def _expand(self, sg: Subgoal) -> list[Action] | None:
        """Primitive actions towards ``sg``, trying instances in order until one is reachable."""
        for obj in self._candidates(sg)[:6]:
            steps = self._expand_for(sg, obj)
            if steps is not None:
                return steps
        return None

    def _expand_for(self, sg: Subgoal, obj: Obj) -> list[Action] | None:
        w = self._world
        if sg.kind == "pickup":
            parent = w.house.objects.get(obj.parent) if obj.parent else None
            if parent is not None and parent.kind.openable and not parent.is_open:
                return self._reach(parent, Action("open", parent.object_id))
            return self._reach(obj, Action("pickup", obj.object_id))
        if sg.kind == "put":
            if obj.kind.openable and not obj.is_open:
                return self._reach(obj, Action("open", obj.object_id))
            return self._reach(obj, Action("put", obj.object_id))
        name = {"open": "open", "close": "close", "on": "toggle_on",
                "off": "toggle_off"}.get(sg.kind)
        if name is not None:
            return self._reach(obj, Action(name, obj.object_id))
        return self._reach(obj, None)  # look: just bring it into view

    def _reach(self, obj: Obj, then: Action | None) -> list[Action] | None:
        """Actions that make ``obj`` visible and within reach, followed by ``then``.

        For a put the receptacle's holding surface must show, not just the receptacle;
        cells where an action on this subgoal already failed are avoided.
        """
        w = self._world
        a = w.agent
        here = (round(a.x / GRID), round(a.z / GRID))
        accept = self._room_for_held(obj) if then is not None and then.name == "put" \
            else None
        frame = self.env.last_frame
        if here not in self._bad_cells and obj.object_id in w.visible and (
                accept is None or (frame is not None and accept(frame))):
            return [then] if then else []
        view = self.prober.find_view(w, obj, grid_distances(w), accept, self._bad_cells)
        if view is None:
            return None
        a = w.agent
        path = w.nav.shortest_path((round(a.x / GRID), round(a.z / GRID)), {view.cell})
        if path is None:
            return None
        acts = _walk(path, a.yaw) + _turn(a.yaw, view.yaw) + _look(a.horizon, view.horizon)
        return acts + ([then] if then else [])

    def _room_for_held(self, rec: Obj) -> Callable[[Frame], bool]:
        """A frame check: would the held object fit on ``rec`` at a spot this frame shows?"""
        w = self._world
        held = w.holding()

        def check(f: Frame) -> bool:
            if held is None:
                return False
            rng = np.random.default_rng(0)
            return find_spot(w.house, rec, held.type, rng, ignore=held.object_id, tries=80,
                             accept=lambda box: spot_in_frame(f, box)) is not None

        return check

    def _cost(self, o: Obj, dist: dict[Cell, int]) -> float:
        return min((d for c, d in dist.items() if in_reach(o, c)), default=math.inf)


def _walk(path: list[Cell], yaw: float) -> list[Action]:
    """Grid moves along ``path`` without turning (strafing and backing as needed)."""
    fx, _, fz = forward(yaw)
    f = (round(fx), round(fz))
    r = (round(-math.cos(math.radians(yaw))), round(-math.sin(math.radians(yaw))))
    names = {f: "move_ahead", (-f[0], -f[1]): "move_back", r: "move_right",
             (-r[0], -r[1]): "move_left"}
    return [Action(names[(b[0] - a[0], b[1] - a[1])]) for a, b in itertools.pairwise(path)]


def _turn(yaw: float, target: float) -> list[Action]:
    d = round(((target - yaw) % 360.0) / 90.0) % 4
    return {0: [], 1: [Action("rotate_right")], 2: [Action("rotate_right")] * 2,
            3: [Action("rotate_left")]}[d]


def _look(horizon: float, target: float) -> list[Action]:
    n = round((target - horizon) / 30.0)
    return [Action("look_down")] * n if n > 0 else [Action("look_up")] * (-n)


def run_oracle_episode(env: gym.Env[Any, Any], seed: int | None = None,
                       options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run one oracle episode; returns success, steps and the task."""
    obs_d, info = env.reset(seed=seed, options=options)
    return _run(env, obs_d, info)


def run_oracle_on(env: HouseholdEnv) -> dict[str, Any]:
    """Run the oracle from the env's current state (no reset): e.g. on a clone."""
    obs_d = env._obs()
    info = env._info(env._metadata("Initialize", True, ""), success=False)
    return _run(env, obs_d, info)


def _run(env: gym.Env[Any, Any], obs_d: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    policy = OraclePolicy.from_env(env)
    emb = HouseholdEmbodiment()
    obs = emb.observe(obs_d, info)
    policy.reset(obs)
    steps, success = 0, False
    while True:
        action = policy.act(obs)
        obs_d, _, terminated, truncated, info = env.step(emb.command(action))
        steps += 1
        obs = emb.observe(obs_d, info)
        if terminated or truncated:
            success = bool(info["success"])
            break
    return {"success": success, "steps": steps, "task": info["task"],
            "gave_up": policy.gave_up, "replans": policy.replans}
