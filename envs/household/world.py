"""The simulation state and the meaning of every action.

A failed action never raises: it leaves the world unchanged and reports
``success=False`` with an AI2-THOR-style error message.

Example:
    >>> from robomem.envs.household.generator import generate_house
    >>> from robomem.envs.household.world import World
    >>> w = World(generate_house(3), seed=0)
    >>> w.reset_agent()
    >>> yaw = w.agent.yaw
    >>> w.act("RotateRight").success, (w.agent.yaw - yaw) % 360
    (True, 90.0)
    >>> w.act("PickupObject", "Nothing|1").error
    "Object ID 'Nothing|1' does not exist"
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from robomem.envs.household.actions import (
    ACTIONS,
    DONE,
    MOVE_ACTIONS,
    OBJECT_ACTIONS,
)
from robomem.envs.household.generator import reachable_cells
from robomem.envs.household.house import (
    AGENT_RADIUS,
    CAMERA_HEIGHT,
    GRID,
    Box,
    House,
    Obj,
    forward,
    next_uid,
)
from robomem.envs.household.navigation import NavGrid, distances_to_rects, obstacle_rects
from robomem.envs.household.placement import find_spot, surface
from robomem.untrusted import quote

VISIBILITY_DISTANCE = 1.5
AGENT_Y = 0.9  # AI2-THOR reports the agent's position at its body centre
HORIZON_MIN, HORIZON_MAX = -30.0, 60.0


@dataclass
class AgentState:
    """The agent's pose and what it holds."""

    x: float = 0.0
    z: float = 0.0
    yaw: float = 0.0
    horizon: float = 0.0
    held: str | None = None

    @property
    def camera(self) -> tuple[float, float, float]:
        """Camera position in the world."""
        return (self.x, CAMERA_HEIGHT, self.z)


@dataclass(frozen=True)
class ActionResult:
    """What an action did: success and AI2-THOR's ``errorMessage`` ('' on success)."""

    action: str
    success: bool
    error: str = ""


class World:
    """A house plus an agent, and the rules that change them.

    Args:
        house: the house to act in (mutated by actions).
        seed: seeds the placement of put-down objects and the agent's start.
        rotate_step: degrees per RotateLeft/RotateRight.
        look_step: degrees per LookUp/LookDown.
        move_step: metres per Move action (AI2-THOR's gridSize).
    """

    def __init__(self, house: House, seed: int = 0, rotate_step: float = 90.0,
                 look_step: float = 30.0, move_step: float = GRID) -> None:
        self.house = house
        self.rng = np.random.default_rng(seed)
        self.rotate_step, self.look_step, self.move_step = rotate_step, look_step, move_step
        self.agent = AgentState()
        self.nav = NavGrid(house)
        self._obstacles = obstacle_rects(house)
        self.visible: set[str] = set()
        # Set by the env: whether a spot shows in the agent's current view (PutObject, like
        # AI2-THOR's, only puts things where the agent can see them). None accepts any spot.
        self.spot_in_view: Callable[[Box], bool] | None = None
        self.version = 0  # bumped whenever geometry changes (the renderer rebuilds)
        self.uid = next_uid()  # with version, names a geometry state (caches key on it)
        self.collided = False

    # ----------------------------------------------------------------- agent
    def reset_agent(self) -> None:
        """Put the agent on a random reachable cell, facing a random axis, level gaze."""
        cells = sorted(reachable_cells(self.house))
        i, j = cells[int(self.rng.integers(len(cells)))]
        held = self.agent.held
        self.agent = AgentState(i * GRID, j * GRID, float(self.rng.integers(4)) * 90.0, 0.0, held)

    def teleport(self, x: float, z: float, yaw: float, horizon: float = 0.0) -> bool:
        """Place the agent directly (oracles, tests); returns False if the spot is blocked."""
        if not self.nav.is_free(x, z):
            return False
        self.agent.x, self.agent.z = x, z
        self.agent.yaw, self.agent.horizon = yaw % 360.0, horizon
        return True

    # --------------------------------------------------------------- actions
    def act(self, action: str, object_id: str | None = None) -> ActionResult:
        """Apply one action; never raises for a failed action."""
        self.collided = False
        if action not in ACTIONS:
            return ActionResult(action, False, f"Invalid action: {quote(action)}")
        if action in MOVE_ACTIONS:
            return self._move(action)
        if action in ("RotateLeft", "RotateRight"):
            sign = 1.0 if action == "RotateRight" else -1.0
            self.agent.yaw = (self.agent.yaw + sign * self.rotate_step) % 360.0
            self._carry()  # a held object turns with the agent
            return ActionResult(action, True)
        if action in ("LookUp", "LookDown"):
            h = self.agent.horizon + (self.look_step if action == "LookDown" else -self.look_step)
            if h < HORIZON_MIN - 1e-6 or h > HORIZON_MAX + 1e-6:
                return ActionResult(action, False, f"can't {action}: the camera horizon would be "
                                    f"{h:g}, outside [{HORIZON_MIN:g}, {HORIZON_MAX:g}]")
            self.agent.horizon = h
            return ActionResult(action, True)
        if action == DONE:
            return ActionResult(action, True)
        assert action in OBJECT_ACTIONS
        return self._interact(action, object_id)

    def _move(self, action: str) -> ActionResult:
        fx, _, fz = forward(self.agent.yaw)
        # The agent's right is forward x up = (-cos yaw, 0, -sin yaw).
        rx, rz = -math.cos(math.radians(self.agent.yaw)), -math.sin(math.radians(self.agent.yaw))
        dx, dz = {"MoveAhead": (fx, fz), "MoveBack": (-fx, -fz), "MoveRight": (rx, rz),
                  "MoveLeft": (-rx, -rz)}[action]
        nx = round(self.agent.x + dx * self.move_step, 6)
        nz = round(self.agent.z + dz * self.move_step, 6)
        if not self.nav.is_free(nx, nz):
            self.collided = True
            return ActionResult(action, False, f"{self._blocker(nx, nz)} is blocking the agent "
                                f"from moving {action[4:].lower()} to ({nx:.2f}, {nz:.2f})")
        self.agent.x, self.agent.z = nx + 0.0, nz + 0.0
        self._carry()
        return ActionResult(action, True)

    def _blocker(self, x: float, z: float) -> str:
        pts = np.array([[x, z]])
        for o in self.house.objects.values():
            if not o.kind.pickupable and o.parent is None and \
                    o.box.footprint.distance_to(x, z) < AGENT_RADIUS:
                return o.object_id
        walls = self.house.wall_rects()
        if walls and distances_to_rects(pts, np.array([[w.x0, w.z0, w.x1, w.z1]
                                                       for w in walls])).min() < AGENT_RADIUS:
            return "Wall"
        return "The house boundary"

    def _carry(self) -> None:
        """Keep a held object in front of the camera (for its reported position)."""
        if self.agent.held is None:
            return
        o = self.house.objects[self.agent.held]
        fx, _, fz = forward(self.agent.yaw)
        c = (self.agent.x + fx * 0.4, CAMERA_HEIGHT - 0.3, self.agent.z + fz * 0.4)
        o.box = Box.from_center(c, o.box.size)

    def _interact(self, action: str, object_id: str | None) -> ActionResult:
        if not object_id:
            return ActionResult(action, False, f"{action} needs an objectId")
        obj = self.house.objects.get(object_id)
        if obj is None:
            return ActionResult(action, False, f"Object ID {quote(object_id)} does not exist")
        if object_id not in self.visible:
            return ActionResult(action, False, f"{object_id} is not visible or is farther than "
                                f"{VISIBILITY_DISTANCE} m")
        handler = {"PickupObject": self._pickup, "PutObject": self._put,
                   "OpenObject": self._open, "CloseObject": self._open,
                   "ToggleObjectOn": self._toggle, "ToggleObjectOff": self._toggle}[action]
        return handler(action, obj)

    def _pickup(self, action: str, obj: Obj) -> ActionResult:
        if not obj.kind.pickupable:
            return ActionResult(action, False, f"{obj.object_id} is not pickupable")
        if self.agent.held is not None:
            return ActionResult(action, False, f"Agent's hand is full: already holding "
                                f"{self.agent.held}")
        parent = self.house.objects.get(obj.parent) if obj.parent else None
        if parent is not None and parent.kind.openable and not parent.is_open:
            return ActionResult(action, False, f"{obj.object_id} is inside closed "
                                f"{parent.object_id}")
        obj.parent = None
        obj.is_picked_up = True
        self.agent.held = obj.object_id
        self._carry()
        self.version += 1
        return ActionResult(action, True)

    def _put(self, action: str, rec: Obj) -> ActionResult:
        if self.agent.held is None:
            return ActionResult(action, False, "Agent is not holding any object")
        held = self.house.objects[self.agent.held]
        if surface(rec) is None:
            return ActionResult(action, False, f"{rec.object_id} is not a receptacle")
        if rec.kind.openable and not rec.is_open:
            return ActionResult(action, False, f"{rec.object_id} is closed")
        box = find_spot(self.house, rec, held.type, self.rng, ignore=held.object_id, tries=80,
                        snug=True, near=self.agent.camera, accept=self.spot_in_view)
        if box is None:
            return ActionResult(action, False, f"No valid positions to place {held.object_id} "
                                f"in {rec.object_id}")
        held.box = box
        held.parent = rec.object_id
        held.is_picked_up = False
        self.agent.held = None
        self._apply_receptacle_effects(rec, [held])
        self.version += 1
        return ActionResult(action, True)

    def _open(self, action: str, obj: Obj) -> ActionResult:
        if not obj.kind.openable:
            return ActionResult(action, False, f"{obj.object_id} is not openable")
        want = action == "OpenObject"
        if obj.is_open == want:
            return ActionResult(action, False, f"{obj.object_id} is already "
                                f"{'open' if want else 'closed'}")
        obj.is_open = want
        self.version += 1
        return ActionResult(action, True)

    def _toggle(self, action: str, obj: Obj) -> ActionResult:
        if not obj.kind.toggleable:
            return ActionResult(action, False, f"{obj.object_id} is not toggleable")
        want = action == "ToggleObjectOn"
        if obj.is_toggled == want:
            return ActionResult(action, False, f"{obj.object_id} is already "
                                f"{'on' if want else 'off'}")
        obj.is_toggled = want
        if want:
            host = self.house.objects.get(obj.attached_to) if obj.attached_to else obj
            if host is not None:
                self._apply_receptacle_effects(host, self.house.children(host.object_id))
        self.version += 1
        return ActionResult(action, True)

    def _apply_receptacle_effects(self, rec: Obj, items: list[Obj]) -> None:
        """Cold in a fridge, hot in a running heat source, clean under a running tap."""
        k = rec.kind
        faucets = [f for f in self.house.objects.values()
                   if f.attached_to == rec.object_id and f.kind.water_source]
        for it in items:
            if not it.kind.pickupable:
                continue
            if k.cold_source:
                it.temperature = "Cold"
            if k.heat_source and rec.is_toggled:
                it.temperature = "Hot"
                if it.kind.cookable:
                    it.is_cooked = True
            if any(f.is_toggled for f in faucets) and it.kind.dirtyable:
                it.is_dirty = False

    # ------------------------------------------------------------ queries
    def holding(self) -> Obj | None:
        """The held object, if any."""
        return self.house.objects[self.agent.held] if self.agent.held else None
