"""Lattice motion for the executor: moves along a path, turns, looks, and viewpoint choice.

Functions over the conventions of docs/household.md (yaw 0 faces +z, yaw 90 faces -x,
rotate_right adds 90; horizon positive looks down, in [-30, 60] by 30; 0.25 m lattice), the
:class:`Walker` that turns a lattice path into primitive actions one step at a time, and the
viewpoint and frontier filters the executor adds to spatial memory's own.

Example:
    >>> from robomem.policies.motion import horizon_towards, lattice_moves, yaw_towards
    >>> lattice_moves([(0, 0), (0, 1), (1, 1)], yaw=0.0)
    ['move_ahead', 'move_left']
    >>> yaw_towards((0.0, 0.0), (-2.0, 0.1)), horizon_towards((0, 1.5, 0), (0, 0.9, 1.0))
    (90.0, 30.0)
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from robomem.geometry import AABB
from robomem.memory.navigation import viewpoints
from robomem.memory.occupancy import UNKNOWN, OccupancyGrid
from robomem.memory.voxel_map import VoxelMap
from robomem.primitives import MOTIONS
from robomem.types import AgentPose

if TYPE_CHECKING:
    from robomem.memory.spatial import SpatialMemory

__all__ = ["CAMERA_HEIGHT", "GRID", "HORIZONS", "MOVES", "Cell", "Edge", "Walker", "bearing",
           "cell_of", "frontier_goals", "horizon_towards", "known_free", "lattice_moves",
           "look_actions", "move_delta", "ruled_out", "same_side", "turn_actions",
           "voxel_sight_blocked", "yaw_towards"]

Cell = tuple[int, int]
Edge = tuple[Cell, Cell]

GRID = 0.25  # lattice step (m)
CAMERA_HEIGHT = 1.5  # m above the floor
HORIZONS = (-30.0, 0.0, 30.0, 60.0)  # reachable camera pitches, positive looking down
MOVES = MOTIONS  # move_ahead, move_back, move_left, move_right


def _unit(v: float) -> int:
    return round(v) + 0  # + 0 turns -0 into 0


def move_delta(yaw: float, move: str) -> Cell:
    """The lattice step ``(di, dj)`` (along x, z) that ``move`` makes at ``yaw``."""
    r = math.radians(yaw)
    fwd = (_unit(-math.sin(r)), _unit(math.cos(r)))
    right = (_unit(-math.cos(r)), _unit(-math.sin(r)))
    return {"move_ahead": fwd, "move_back": (-fwd[0], -fwd[1]), "move_right": right,
            "move_left": (-right[0], -right[1])}[move]


def lattice_moves(path: Sequence[Cell], yaw: float) -> list[str]:
    """Moves that walk ``path`` (lattice cells, 4-connected) without turning.

    Raises:
        ValueError: if two consecutive cells are not lattice neighbours.
    """
    names = {move_delta(yaw, m): m for m in MOVES}
    out = []
    for a, b in itertools.pairwise(path):
        d = (b[0] - a[0], b[1] - a[1])
        if d not in names:
            raise ValueError(f"path step {a} -> {b} is not a lattice move")
        out.append(names[d])
    return out


def turn_actions(yaw: float, target_yaw: float) -> list[str]:
    """The fewest 90 degree turns from ``yaw`` to ``target_yaw`` (snapped to 90 degrees)."""
    d = round(((target_yaw - yaw) % 360.0) / 90.0) % 4
    return {0: [], 1: ["rotate_right"], 2: ["rotate_right", "rotate_right"],
            3: ["rotate_left"]}[d]


def look_actions(horizon: float, target: float) -> list[str]:
    """look_up/look_down steps from ``horizon`` to the reachable pitch nearest ``target``."""
    goal = min(HORIZONS, key=lambda h: (abs(h - target), h))
    n = round((goal - horizon) / 30.0)
    return ["look_down"] * n if n > 0 else ["look_up"] * (-n)


def yaw_towards(from_xz: Sequence[float], to_xz: Sequence[float]) -> float:
    """The lattice yaw (0, 90, 180 or 270) that faces ``to_xz`` best from ``from_xz``."""
    dx, dz = to_xz[0] - from_xz[0], to_xz[1] - from_xz[1]
    yaw = math.degrees(math.atan2(-dx, dz)) % 360.0
    return float((round(yaw / 90.0) % 4) * 90)


def horizon_towards(camera_xyz: Sequence[float], point_xyz: Sequence[float]) -> float:
    """The reachable horizon (-30, 0, 30 or 60) nearest the pitch that looks at ``point_xyz``."""
    dx, dy, dz = (point_xyz[k] - camera_xyz[k] for k in range(3))
    pitch = math.degrees(math.atan2(-dy, math.hypot(dx, dz)))
    return min(HORIZONS, key=lambda h: (abs(h - pitch), h))


def cell_of(x: float, z: float) -> Cell:
    """The lattice cell nearest ``(x, z)``."""
    return (round(x / GRID), round(z / GRID))


_AROUND = np.array([(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)], np.int64)
DISC_OFFSETS = np.array([(dx, dz) for dx in (-0.15, 0.0, 0.15) for dz in (-0.15, 0.0, 0.15)])


def known_free(memory: SpatialMemory, xz: NDArray[np.float64]) -> bool:
    """Whether the agent's disc at ``xz`` covers only cells already seen (none occupied)."""
    pts = xz[None, :] + DISC_OFFSETS
    return bool((memory.grid.states(pts) != UNKNOWN).all() and memory.grid.disc_clear(xz[None])[0])


def frontier_goals(grid: OccupancyGrid, min_size: int, hole_area: float,
                   skip: Sequence[tuple[float, float]], skip_radius: float,
                   looked: set[Cell]) -> dict[Cell, tuple[float, float]]:
    """Known-free lattice cells on or next to each frontier, mapped to its centroid.

    Frontiers whose centroid lies within ``skip_radius`` of one in ``skip`` are left out, and
    so are cells at or next to ``looked`` cells (everything seen from there has been seen).
    """
    owner: dict[Cell, tuple[float, float]] = {}
    for f in grid.frontiers(min_size, hole_area):
        cx, cz = float(f.centroid_xz[0]), float(f.centroid_xz[1])
        if any(math.hypot(cx - sx, cz - sz) < skip_radius for sx, sz in skip):
            continue
        near = np.unique(np.rint(np.asarray(f.cells) / GRID).astype(np.int64), axis=0)
        cells = np.unique(np.concatenate([near + s for s in _AROUND]), axis=0)
        ok = grid.disc_clear(cells * GRID, unknown_ok=False)
        for i, j in cells[ok].tolist():
            if not any(abs(i - a) + abs(j - b) <= 1 for a, b in looked):
                owner.setdefault((int(i), int(j)), (cx, cz))
    return owner


def bearing(cell: Cell, box: AABB) -> float:
    """Angle (radians, in the x-z plane) from the centre of ``box`` to lattice ``cell``."""
    c = box.center
    return float(np.arctan2(cell[1] * GRID - c[2], cell[0] * GRID - c[0]))


def same_side(cells: Sequence[Cell], box: AABB, bearings: Sequence[float],
              within: float = 60.0) -> set[Cell]:
    """The ``cells`` on a side of ``box`` where something already failed.

    That is, whose :func:`bearing` is within ``within`` degrees of one of ``bearings``.
    """
    lim = np.radians(within)
    return {(int(c[0]), int(c[1])) for c in cells
            if any(abs((bearing(c, box) - b + np.pi) % (2 * np.pi) - np.pi) < lim
                   for b in bearings)}


def voxel_sight_blocked(voxels: VoxelMap, cams: NDArray[np.float64], box: AABB,
                        step: float = 0.03) -> NDArray[np.bool_]:
    """Which cameras (N, 3) see ``box`` through neither its centre nor its top centre.

    Each ray is sampled every ``step`` m through the voxel map; a stored voxel on it outside
    the box (grown by 5 cm) and beyond 0.3 m of the camera blocks it (a wall, a cabinet).
    """
    blocked = np.ones(len(cams), bool)
    for target in (box.center, np.array([box.center[0], box.hi[1], box.center[2]])):
        ray = target[None, :] - cams
        length = np.linalg.norm(ray, axis=1)
        t = np.linspace(0.0, 1.0, int(np.ceil(length.max() / step)) + 1)[None, :, None]
        pts = cams[:, None, :] + t * ray[:, None, :]
        near_cam = t[..., 0] * length[:, None] < 0.3
        in_box = ((pts >= box.lo - 0.05) & (pts <= box.hi + 0.05)).all(axis=2)
        hit = voxels.contains(pts.reshape(-1, 3)).reshape(pts.shape[:2])
        blocked &= (hit & ~in_box & ~near_cam).any(axis=1)
    return blocked


def ruled_out(memory: SpatialMemory, box: AABB, tried: set[Cell], near: float | None = None,
              ignore: Sequence[AABB] = ()) -> set[Cell]:
    """Viewpoints of ``box`` not worth walking to, on top of those already ``tried``.

    The candidates are the memory's own (:func:`~robomem.memory.navigation.viewpoints`, with
    ``ignore`` as there: the receptacle holding the target). One is ruled out when the voxel
    map blocks its sight of the box (:func:`voxel_sight_blocked`), or when ``near`` is given
    and it is farther than that from the box's footprint. Each criterion is dropped
    (nearness first) when it would leave no viewpoint at all.
    """
    c = memory.cfg
    cells = [v for v in viewpoints(memory.grid, box, c.reach, c.camera_height,
                                   radius=c.agent_radius, ignore=ignore) if v not in tried]
    if not cells:
        return set(tried)
    cams = np.array([(i * GRID, c.camera_height, j * GRID) for i, j in cells])
    blocked = np.zeros(len(cells), bool)
    if c.use_voxels and len(memory.voxels):
        blocked = voxel_sight_blocked(memory.voxels, cams, box)
    far = np.zeros(len(cells), bool)
    if near is not None:
        gap = np.maximum(np.maximum(box.lo[[0, 2]] - cams[:, [0, 2]], 0.0),
                         cams[:, [0, 2]] - box.hi[[0, 2]])
        far = np.linalg.norm(gap, axis=1) > near
    for bad in (blocked | far, blocked):
        if not bad.all():
            return set(tried) | {cell for cell, b in zip(cells, bad) if b}
    return set(tried)


class Walker:
    """Walks a lattice path one primitive action at a time, then turns and looks.

    Moves go without turning (strafing and backing through mapped space); a step into space
    not yet known free is faced first, so that the camera sees where the agent goes. A path
    whose next step the map (or a failed move) has since ruled out is dropped.

    Args:
        face_unknown: turn to face a step into unseen space (False: never turn on the way).
        walk_horizon: camera pitch while walking (None: keep it); 30 shows the floor ahead.
        look_horizon: camera pitch of a look-around.
    """

    def __init__(self, face_unknown: bool = True, walk_horizon: float | None = 30.0,
                 look_horizon: float = 30.0) -> None:
        self.face_unknown, self.walk_horizon = face_unknown, walk_horizon
        self.look_horizon = look_horizon
        self.path: list[Cell] = []  # cells still to walk (the agent's own cell excluded)
        self.then: deque[str] = deque()  # turns and looks once the path is walked
        self.aim: tuple[float, float, float] | None = None  # a point to face on arrival
        self.look_pending = False  # look around once the path is walked
        self.looked: set[Cell] = set()  # cells where a full look-around was made
        self.moves_since_look = 0
        self.stale = 0  # paths dropped because the map had changed

    def clear(self) -> None:
        """Forget the path and what was to follow it."""
        self.path.clear()
        self.then.clear()
        self.aim, self.look_pending = None, False

    def follow(self, path: Sequence[Sequence[int]], pose: AgentPose) -> None:
        """Walk ``path`` (lattice cells, from the agent's cell or its first neighbour)."""
        self.clear()
        self.path = [(int(c[0]), int(c[1])) for c in path]
        if self.path and self.path[0] == cell_of(pose.x, pose.z):
            self.path.pop(0)

    def advance(self, pose: AgentPose) -> bool:
        """Drop the cell just reached; on arrival queue the turns and looks.

        Returns:
            Whether the plan is used up (nothing left to walk, turn or look).
        """
        here = cell_of(pose.x, pose.z)
        if self.path and self.path[0] == here:
            self.path.pop(0)
        if not self.path and self.aim is not None:
            cam = (pose.x, CAMERA_HEIGHT, pose.z)
            self.then.extend(turn_actions(pose.yaw, yaw_towards(cam[::2], self.aim[::2])))
            self.then.extend(look_actions(pose.horizon, horizon_towards(cam, self.aim)))
            self.aim = None
        if not self.path and self.look_pending:  # pitch to the look horizon, then turn
            self.look_pending, self.moves_since_look = False, 0
            self.looked.add(here)
            self.then.extend(look_actions(pose.horizon, self.look_horizon))
            self.then.extend(["rotate_right"] * 4)
        return not self.path and not self.then

    def next(self, pose: AgentPose, memory: SpatialMemory, blocked: set[Edge]) -> str | None:
        """The next action of the plan; None when it is used up or was dropped as stale."""
        if self.advance(pose):
            return None
        if not self.path:
            return self.then.popleft()
        here, nxt = cell_of(pose.x, pose.z), self.path[0]
        d = (nxt[0] - here[0], nxt[1] - here[1])
        xz = np.array([[nxt[0] * GRID, nxt[1] * GRID]])
        if abs(d[0]) + abs(d[1]) != 1 or (here, nxt) in blocked \
                or not memory.grid.disc_clear(xz)[0]:
            self.clear()
            self.stale += 1
            return None
        if self.walk_horizon is not None and (look := look_actions(pose.horizon,
                                                                   self.walk_horizon)):
            return look[0]
        move = lattice_moves([here, nxt], pose.yaw)[0]
        if self.face_unknown and move != "move_ahead" and not known_free(memory, xz[0]):
            return turn_actions(pose.yaw, yaw_towards((0.0, 0.0), d))[0]
        self.moves_since_look += 1
        return move
