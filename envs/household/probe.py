"""Viewpoint search: from which reachable pose can the agent see (and reach) an object?

Renders low-resolution probe views of the current house state. The oracle uses it to plan
where to stand; the task sampler uses it to only pose tasks about objects that can be seen.

Example:
    >>> from robomem.envs.household.generator import generate_house
    >>> from robomem.envs.household.probe import Prober
    >>> from robomem.envs.household.world import World
    >>> w = World(generate_house(0)); w.reset_agent()
    >>> item = next(o for o in w.house.objects.values() if o.kind.pickupable)
    >>> Prober().find_view(w, item) is not None
    True
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from robomem.envs.household.house import CAMERA_HEIGHT, GRID, Box, Obj
from robomem.envs.household.navigation import Cell
from robomem.envs.household.renderer import Frame, Renderer
from robomem.envs.household.world import (
    HORIZON_MAX,
    HORIZON_MIN,
    VISIBILITY_DISTANCE,
    World,
)

REACH = VISIBILITY_DISTANCE - 0.05  # a little inside the limit, so small moves do not break it
FrameCheck = Callable[[Frame], bool]


@dataclass(frozen=True)
class View:
    """A pose on the grid: cell, yaw and camera horizon (degrees)."""

    cell: Cell
    yaw: float
    horizon: float


def grid_distances(world: World, start: Cell | None = None) -> dict[Cell, int]:
    """Grid-step distances from ``start`` (default: the agent's cell) to every reachable cell."""
    a = world.agent
    s = start or (round(a.x / GRID), round(a.z / GRID))
    dist = {s: 0}
    q = deque([s])
    while q:
        c = q.popleft()
        for n in world.nav.neighbours(c):
            if n not in dist:
                dist[n] = dist[c] + 1
                q.append(n)
    return dist


def in_reach(obj: Obj, cell: Cell) -> bool:
    """Whether the camera at ``cell`` is within :data:`REACH` of the object's box."""
    return obj.box.distance_to((cell[0] * GRID, CAMERA_HEIGHT, cell[1] * GRID)) <= REACH


class Prober:
    """Finds poses that see an object, by rendering small probe images.

    Args:
        size: probe image width and height in pixels.
        fov: vertical field of view in degrees (the env's).
        max_cells: candidate cells tried per search, nearest first.
    """

    def __init__(self, size: int = 96, fov: float = 90.0, max_cells: int = 40) -> None:
        self.renderer = Renderer(size, size, fov)
        self.max_cells = max_cells
        self._state: tuple[int, int] = (0, -1)

    def sync(self, world: World) -> None:
        """Rebuild the probe scene if the world's geometry changed."""
        state = (world.uid, world.version)
        if state != self._state:
            self.renderer.set_scene(world.house)
            self._state = state

    def sees(self, view: View, obj: Obj, accept: FrameCheck | None = None) -> bool:
        """Whether ``obj`` shows (within reach) in the probe image from ``view``.

        ``accept``, when given, must approve the probe frame too (the oracle asks whether a
        held object could be put down in sight, say).
        """
        c = view.cell
        f = self.renderer.render((c[0] * GRID, CAMERA_HEIGHT, c[1] * GRID), view.yaw,
                                 view.horizon)
        return frame_sees(f, obj) and (accept is None or accept(f))

    def find_view(self, world: World, obj: Obj, dist: dict[Cell, int] | None = None,
                  accept: FrameCheck | None = None,
                  exclude: set[Cell] | None = None) -> View | None:
        """The nearest reachable pose that sees ``obj`` (see :meth:`sees`), or ``None``.

        Cells in the object's own room are tried first (a wall may hide it from the others);
        cells in ``exclude`` are skipped.
        """
        dist = dist if dist is not None else grid_distances(world)
        room = world.house.room(obj.room).rect
        cells = [c for c in dist if in_reach(obj, c) and c not in (exclude or ())]
        cells.sort(key=lambda c: (not room.contains_point(c[0] * GRID, c[1] * GRID), dist[c], c))
        self.sync(world)
        for cell in cells[: self.max_cells]:
            for view in candidate_views(cell, obj):
                if self.sees(view, obj, accept):
                    return view
        return None


def frame_sees(f: Frame, obj: Obj, min_pixels: int = 2) -> bool:
    """Whether ``obj`` shows within reach in frame ``f``."""
    mask = (f.segmentation == obj.seg_id) & (f.hit_distance <= REACH)
    return bool(mask.sum() >= min_pixels)


def spot_in_frame(f: Frame, box: Box) -> bool:
    """Whether the top of ``box`` would show in ``f``, unhidden and within reach.

    The top centre must project into the image in front of what the frame saw there (a
    z-buffer test) and lie within reach of the camera.
    """
    c = box.center
    top = np.array([c[0], box.hi[1], c[2], 1.0])
    if math.dist(top[:3], f.camera_pose[:3, 3]) > REACH:
        return False
    x, y, z = (np.linalg.inv(f.camera_pose) @ top)[:3]
    if z <= 0.05:
        return False
    u = round(f.intrinsics[0, 0] * x / z + f.intrinsics[0, 2])
    v = round(f.intrinsics[1, 1] * y / z + f.intrinsics[1, 2])
    h, w = f.depth.shape
    if not (0 <= u < w and 0 <= v < h):
        return False
    return bool(z <= f.depth[v, u] + 0.05)


def candidate_views(cell: Cell, obj: Obj) -> list[View]:
    """Views from ``cell`` worth probing: facing the object, then turned; gaze by elevation."""
    x, z = cell[0] * GRID, cell[1] * GRID
    c = obj.box.center
    bearing = math.degrees(math.atan2(-(c[0] - x), c[2] - z))
    yaw0 = (round(bearing / 90.0) * 90.0) % 360.0
    side = 90.0 if ((bearing - yaw0 + 180.0) % 360.0 - 180.0) < 0 else 270.0
    yaws = [yaw0, (yaw0 + side) % 360.0]
    elev = math.degrees(math.atan2(CAMERA_HEIGHT - c[1], math.hypot(c[0] - x, c[2] - z)))
    hs = sorted(np.arange(HORIZON_MIN, HORIZON_MAX + 1, 30.0), key=lambda h: abs(h - elev))
    return [View(cell, yw, float(h)) for yw in yaws for h in hs[:3]]


def can_see(prober: Prober, world: World, obj: Obj, dist: dict[Cell, int] | None = None) -> bool:
    """Whether some reachable pose sees ``obj``; a closed container is opened to look inside."""
    house = world.house
    parent = house.objects.get(obj.parent) if obj.parent else None
    shut = parent is not None and parent.kind.openable and not parent.is_open
    if shut:
        assert parent is not None
        parent.is_open = True
        world.version += 1
    try:
        return prober.find_view(world, obj, dist) is not None
    finally:
        if shut:
            assert parent is not None
            parent.is_open = False
            world.version += 1


def unseen_items(prober: Prober, world: World) -> list[Obj]:
    """Pickupable objects that no reachable pose can see (even with containers opened)."""
    dist = grid_distances(world)
    return [o for o in world.house.objects.values()
            if o.kind.pickupable and not o.is_picked_up and not can_see(prober, world, o, dist)]
