"""The state of one Household house: rooms, doors, walls and every object in it.

Geometry conventions (see :class:`robomem.types.AgentPose`): right-handed world, y up,
metres; yaw in degrees grows clockwise seen from above, yaw 0 faces +z and yaw 90 faces -x.
Every object is an axis-aligned box; furniture stands against a wall and its ``facing`` is
the yaw of its front (the side an agent uses).

Example:
    >>> from robomem.envs.household.house import Rect, forward
    >>> Rect(0, 0, 2, 1).intersects(Rect(1.5, 0.5, 3, 2))
    True
    >>> [round(v, 6) + 0.0 for v in forward(90.0)]
    [-1.0, 0.0, 0.0]
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from robomem.envs.household.catalog import Kind, kind

GRID = 0.25
WALL_THICKNESS = 0.1
WALL_HEIGHT = 2.6
DOOR_WIDTH = 1.0
DOOR_HEIGHT = 2.1
AGENT_RADIUS = 0.2
CAMERA_HEIGHT = 1.5


_UIDS = itertools.count(1)


def next_uid() -> int:
    """A process-wide unique number (``id()`` can be reused once an object is freed)."""
    return next(_UIDS)


def forward(yaw_deg: float) -> tuple[float, float, float]:
    """Unit vector the agent faces at ``yaw_deg`` (horizontal)."""
    r = math.radians(yaw_deg)
    return (-math.sin(r), 0.0, math.cos(r))


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle on the floor plane (x, z)."""

    x0: float
    z0: float
    x1: float
    z1: float

    def __post_init__(self) -> None:
        if self.x1 < self.x0 or self.z1 < self.z0:
            raise ValueError(f"degenerate rectangle {self}")

    @property
    def width(self) -> float:
        """Extent along x."""
        return self.x1 - self.x0

    @property
    def depth(self) -> float:
        """Extent along z."""
        return self.z1 - self.z0

    @property
    def center(self) -> tuple[float, float]:
        """(x, z) centre."""
        return ((self.x0 + self.x1) / 2, (self.z0 + self.z1) / 2)

    def grow(self, m: float) -> Rect:
        """The rectangle grown by ``m`` on every side (shrunk for negative ``m``)."""
        return Rect(self.x0 - m, self.z0 - m, self.x1 + m, self.z1 + m)

    def intersects(self, o: Rect, margin: float = 0.0) -> bool:
        """True when the two overlap by more than ``-margin``."""
        return (self.x0 - margin < o.x1 and o.x0 - margin < self.x1
                and self.z0 - margin < o.z1 and o.z0 - margin < self.z1)

    def contains(self, o: Rect, tol: float = 1e-9) -> bool:
        """True when ``o`` lies inside this rectangle."""
        return (o.x0 >= self.x0 - tol and o.x1 <= self.x1 + tol
                and o.z0 >= self.z0 - tol and o.z1 <= self.z1 + tol)

    def contains_point(self, x: float, z: float) -> bool:
        """True when (x, z) lies inside (borders included)."""
        return self.x0 <= x <= self.x1 and self.z0 <= z <= self.z1

    def distance_to(self, x: float, z: float) -> float:
        """Euclidean distance from (x, z) to the rectangle (0 inside)."""
        dx = max(self.x0 - x, 0.0, x - self.x1)
        dz = max(self.z0 - z, 0.0, z - self.z1)
        return math.hypot(dx, dz)


@dataclass(frozen=True)
class Box:
    """An axis-aligned 3D box given by its min and max corners."""

    lo: tuple[float, float, float]
    hi: tuple[float, float, float]

    @classmethod
    def from_center(cls, c: tuple[float, float, float] | NDArray[np.float64],
                    size: tuple[float, float, float] | NDArray[np.float64]) -> Box:
        """Box centred at ``c`` with extents ``size``."""
        return cls(tuple(float(c[i] - size[i] / 2) for i in range(3)),  # type: ignore[arg-type]
                   tuple(float(c[i] + size[i] / 2) for i in range(3)))  # type: ignore[arg-type]

    @property
    def center(self) -> tuple[float, float, float]:
        """Centre point."""
        return tuple((a + b) / 2 for a, b in zip(self.lo, self.hi))  # type: ignore[return-value]

    @property
    def size(self) -> tuple[float, float, float]:
        """Extents (x, y, z)."""
        return tuple(b - a for a, b in zip(self.lo, self.hi))  # type: ignore[return-value]

    @property
    def footprint(self) -> Rect:
        """Projection onto the floor plane."""
        return Rect(self.lo[0], self.lo[2], self.hi[0], self.hi[2])

    def corners(self) -> list[list[float]]:
        """The 8 corner points, as AI2-THOR lists them (top face first)."""
        (x0, y0, z0), (x1, y1, z1) = self.lo, self.hi
        return [[x1, y1, z1], [x1, y1, z0], [x0, y1, z0], [x0, y1, z1],
                [x1, y0, z1], [x1, y0, z0], [x0, y0, z0], [x0, y0, z1]]

    def distance_to(self, p: tuple[float, float, float] | NDArray[np.float64]) -> float:
        """Euclidean distance from point ``p`` to the box (0 inside)."""
        d = [max(self.lo[i] - p[i], 0.0, p[i] - self.hi[i]) for i in range(3)]
        return math.sqrt(sum(v * v for v in d))


@dataclass(frozen=True)
class Room:
    """One room: an id like ``Kitchen_0``, a room type and its floor rectangle."""

    id: str
    type: str
    rect: Rect


@dataclass(frozen=True)
class Door:
    """A doorway in the wall shared by two rooms.

    ``axis`` is the direction the wall runs along (``"x"`` or ``"z"``); ``at`` is the wall's
    coordinate on the other axis and ``center`` the doorway's centre along the wall.
    """

    rooms: tuple[str, str]
    axis: str
    at: float
    center: float
    width: float = DOOR_WIDTH

    @property
    def gap(self) -> Rect:
        """The doorway's floor rectangle inside the wall."""
        h = self.width / 2
        t = WALL_THICKNESS / 2
        if self.axis == "x":
            return Rect(self.center - h, self.at - t, self.center + h, self.at + t)
        return Rect(self.at - t, self.center - h, self.at + t, self.center + h)


@dataclass
class Obj:
    """An interactive object: furniture, a fixture or a pickupable item.

    ``box`` is its world axis-aligned bounding box; ``facing`` the yaw its front faces.
    ``parent`` is the objectId of the receptacle it is in or on (items, and furniture that
    stands on furniture). Mutable state mirrors AI2-THOR's fields.
    """

    object_id: str
    type: str
    seg_id: int
    box: Box
    room: str
    facing: float = 0.0
    parent: str | None = None
    is_open: bool = False
    is_toggled: bool = False
    is_picked_up: bool = False
    is_dirty: bool = False
    is_cooked: bool = False
    temperature: str = "RoomTemp"
    attached_to: str | None = None  # fixtures: the furniture they belong to (Faucet -> sink)

    @property
    def kind(self) -> Kind:
        """The object's :class:`Kind`."""
        return kind(self.type)

    @property
    def position(self) -> tuple[float, float, float]:
        """AI2-THOR ``position``: the box centre."""
        return self.box.center


def front_normal(facing: float) -> tuple[float, float]:
    """(x, z) outward normal of a furniture front facing ``facing`` degrees."""
    f = forward(facing)
    return (round(f[0]), round(f[2]))


def world_size(k: Kind, facing: float) -> tuple[float, float, float]:
    """World AABB extents of kind ``k`` with its front facing ``facing``."""
    w, h, d = k.size
    nx, _ = front_normal(facing)
    return (d, h, w) if nx != 0 else (w, h, d)


def make_object_id(type_: str, center: tuple[float, float, float]) -> str:
    """An AI2-THOR style id: ``Apple|+01.25|+00.95|-02.00``."""
    return f"{type_}|{center[0]:+06.2f}|{center[1]:+06.2f}|{center[2]:+06.2f}"


@dataclass
class House:
    """A whole house: its layout plus the objects in it.

    ``objects`` is ordered by segmentation id; ids ``1..len(structure)`` label structure
    (floor, walls, ceiling) and the objects follow.
    """

    name: str
    rooms: list[Room]
    doors: list[Door]
    objects: dict[str, Obj] = field(default_factory=dict)
    seed: int = 0
    uid: int = field(default_factory=next_uid, compare=False, repr=False)

    @property
    def bounds(self) -> Rect:
        """The rectangle holding every room."""
        return Rect(min(r.rect.x0 for r in self.rooms), min(r.rect.z0 for r in self.rooms),
                    max(r.rect.x1 for r in self.rooms), max(r.rect.z1 for r in self.rooms))

    def room(self, room_id: str) -> Room:
        """The room with id ``room_id``."""
        for r in self.rooms:
            if r.id == room_id:
                return r
        raise KeyError(f"unknown room {room_id!r}; known: {[r.id for r in self.rooms]}")

    def room_at(self, x: float, z: float) -> Room | None:
        """The room containing floor point (x, z), if any."""
        for r in self.rooms:
            if r.rect.contains_point(x, z):
                return r
        return None

    def children(self, object_id: str) -> list[Obj]:
        """Objects whose parent is ``object_id``."""
        return [o for o in self.objects.values() if o.parent == object_id]

    def of_type(self, type_: str) -> list[Obj]:
        """All objects of one type, in id order."""
        return [o for o in self.objects.values() if o.type == type_]

    def wall_rects(self) -> list[Rect]:
        """Floor rectangles of every wall segment, doorways cut out."""
        edges: dict[tuple[str, float, float, float], None] = {}
        for r in self.rooms:
            q = r.rect
            edges[("x", q.z0, q.x0, q.x1)] = None
            edges[("x", q.z1, q.x0, q.x1)] = None
            edges[("z", q.x0, q.z0, q.z1)] = None
            edges[("z", q.x1, q.z0, q.z1)] = None
        # Split every edge at the boundaries of every other collinear edge so shared walls
        # come out once.
        pieces: set[tuple[str, float, float, float]] = set()
        by_line: dict[tuple[str, float], list[tuple[float, float]]] = {}
        for axis, at, a, b in edges:
            by_line.setdefault((axis, round(at, 4)), []).append((a, b))
        for (axis, at), spans in by_line.items():
            cuts = sorted({round(v, 4) for s in spans for v in s})
            for a, b in itertools.pairwise(cuts):
                mid = (a + b) / 2
                if any(s0 <= mid <= s1 for s0, s1 in spans):
                    pieces.add((axis, at, a, b))
        t = WALL_THICKNESS / 2
        out: list[Rect] = []
        for axis, at, a, b in sorted(pieces):
            segs = [(a, b)]
            for d in self.doors:
                if d.axis != axis or abs(d.at - at) > 1e-6:
                    continue
                g0, g1 = d.center - d.width / 2, d.center + d.width / 2
                segs = [s for s0, s1 in segs
                        for s in ((s0, min(s1, g0)), (max(s0, g1), s1)) if s[1] - s[0] > 1e-6]
            for s0, s1 in segs:
                # Extend by half a thickness so corners close.
                if axis == "x":
                    out.append(Rect(s0 - t, at - t, s1 + t, at + t))
                else:
                    out.append(Rect(at - t, s0 - t, at + t, s1 + t))
        return out
