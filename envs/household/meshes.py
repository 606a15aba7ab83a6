"""Triangle meshes of a house, built with open3d primitives and merged into flat arrays.

Every triangle carries the segmentation id and colour of what it belongs to, so one
ray cast gives depth, colour and instance segmentation together.

Example:
    >>> from robomem.envs.household.generator import generate_house
    >>> from robomem.envs.household.meshes import structure_mesh
    >>> m = structure_mesh(generate_house(0))
    >>> m.triangles.shape[1], len(m.seg) == len(m.triangles)
    (3, True)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import open3d as o3d
from numpy.typing import NDArray

from robomem.envs.household.catalog import ROOM_COLORS
from robomem.envs.household.house import (
    DOOR_HEIGHT,
    WALL_HEIGHT,
    Box,
    House,
    Obj,
    Rect,
    front_normal,
)
from robomem.envs.household.placement import SHELL

SEG_FLOOR, SEG_WALL, SEG_CEILING = 1, 2, 3
CEILING_COLOR = (0.95, 0.95, 0.95)
MATERIAL_FLOOR = 1  # triangles that get the checker pattern


@dataclass
class MeshArrays:
    """Merged triangles: vertices (V, 3), triangles (T, 3), per-triangle seg, colour, material."""

    vertices: NDArray[np.float32]
    triangles: NDArray[np.int32]
    seg: NDArray[np.int32]
    color: NDArray[np.float32]
    material: NDArray[np.int8]

    @staticmethod
    def empty() -> MeshArrays:
        """No triangles."""
        return MeshArrays(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int32),
                          np.zeros(0, np.int32), np.zeros((0, 3), np.float32),
                          np.zeros(0, np.int8))

    @staticmethod
    def concat(parts: list[MeshArrays]) -> MeshArrays:
        """Merge several meshes into one."""
        parts = [p for p in parts if len(p.triangles)]
        if not parts:
            return MeshArrays.empty()
        offs = np.cumsum([0] + [len(p.vertices) for p in parts[:-1]])
        return MeshArrays(
            np.concatenate([p.vertices for p in parts]).astype(np.float32),
            np.concatenate([p.triangles + o for p, o in zip(parts, offs)]).astype(np.int32),
            np.concatenate([p.seg for p in parts]),
            np.concatenate([p.color for p in parts]),
            np.concatenate([p.material for p in parts]),
        )


@lru_cache(maxsize=8)
def _unit(shape: str) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
    """A primitive filling the unit cube [0, 1]^3 (vertices, triangles)."""
    if shape == "sphere":
        m = o3d.geometry.TriangleMesh.create_sphere(radius=0.5, resolution=6)
        v = np.asarray(m.vertices) + 0.5
    elif shape == "cylinder":
        m = o3d.geometry.TriangleMesh.create_cylinder(radius=0.5, height=1.0, resolution=12,
                                                      split=1)
        v = np.asarray(m.vertices)[:, [0, 2, 1]] + 0.5  # open3d's axis is z; ours is y
        tri = np.asarray(m.triangles)[:, [0, 2, 1]]  # swapping axes flips the winding back
        return v, tri.astype(np.int32)
    else:
        m = o3d.geometry.TriangleMesh.create_box(1.0, 1.0, 1.0)
        v = np.asarray(m.vertices)
    return v, np.asarray(m.triangles).astype(np.int32)


def shape_mesh(shape: str, box: Box, seg: int, color: tuple[float, float, float],
               material: int = 0) -> MeshArrays:
    """A primitive stretched to fill ``box``."""
    v, t = _unit(shape)
    lo, size = np.asarray(box.lo), np.asarray(box.size)
    n = len(t)
    return MeshArrays((v * size + lo).astype(np.float32), t.copy(), np.full(n, seg, np.int32),
                      np.tile(np.asarray(color, np.float32), (n, 1)), np.full(n, material, np.int8))


def boxes_mesh(boxes: list[Box], seg: int, color: tuple[float, float, float],
               material: int = 0) -> MeshArrays:
    """Several boxes with one id and colour."""
    return MeshArrays.concat([shape_mesh("box", b, seg, color, material) for b in boxes])


def _shell(b: Box, floor: float, omit: str) -> list[Box]:
    """A hollow box with inner floor at ``floor`` and one side (``front``/``top``) left open."""
    (x0, y0, z0), (x1, y1, z1) = b.lo, b.hi
    t = SHELL
    parts = [Box((x0, y0, z0), (x1, floor, z1))]  # base up to the inner floor
    if omit != "top":
        parts.append(Box((x0, y1 - t, z0), (x1, y1, z1)))
    sides = {"-x": Box((x0, floor, z0), (x0 + t, y1, z1)),
             "+x": Box((x1 - t, floor, z0), (x1, y1, z1)),
             "-z": Box((x0, floor, z0), (x1, y1, z0 + t)),
             "+z": Box((x0, floor, z1 - t), (x1, y1, z1))}
    return parts + [v for k, v in sides.items() if k != omit]


def _front_key(facing: float) -> str:
    nx, nz = front_normal(facing)
    return ("+x" if nx > 0 else "-x") if nx else ("+z" if nz > 0 else "-z")


def _door_panel(b: Box, facing: float) -> Box:
    """The open door of a container: a panel swung 90 degrees out from one front edge."""
    nx, nz = front_normal(facing)
    (x0, y0, z0), (x1, y1, z1) = b.lo, b.hi
    t = 0.02
    if nx:
        fx = x1 if nx > 0 else x0
        w = z1 - z0
        xa, xb = sorted((fx, fx + nx * w))
        return Box((xa, y0 + 0.02, z0 - t), (xb, y1 - 0.02, z0))
    fz = z1 if nz > 0 else z0
    w = x1 - x0
    za, zb = sorted((fz, fz + nz * w))
    return Box((x0 - t, y0 + 0.02, za), (x0, y1 - 0.02, zb))


def extent(obj: Obj) -> Box:
    """The box around everything drawn for ``obj``: an open door swings outside its body."""
    k = obj.kind
    if k.style == "container" and obj.is_open and k.opens == "front":
        d = _door_panel(obj.box, obj.facing)
        return Box(tuple(min(a, b) for a, b in zip(obj.box.lo, d.lo)),  # type: ignore[arg-type]
                   tuple(max(a, b) for a, b in zip(obj.box.hi, d.hi)))  # type: ignore[arg-type]
    return obj.box


def object_mesh(obj: Obj) -> MeshArrays:
    """The mesh of one object in its current state (containers open or closed)."""
    k = obj.kind
    b = obj.box
    color = k.color
    if k.pickupable:
        return shape_mesh(k.shape, b, obj.seg_id, color)
    floor = b.lo[1] + k.inner_floor
    if k.style == "table":
        (x0, y0, z0), (x1, y1, z1) = b.lo, b.hi
        leg = 0.05
        parts = [Box((x0, y1 - 0.05, z0), (x1, y1, z1))]
        parts += [Box((x, y0, z), (x + leg, y1 - 0.05, z + leg))
                  for x in (x0, x1 - leg) for z in (z0, z1 - leg)]
        return boxes_mesh(parts, obj.seg_id, color)
    if k.style == "basin":
        return boxes_mesh(_shell(b, floor, "top"), obj.seg_id, color)
    if k.style == "container" and obj.is_open:
        if k.opens == "top":  # a drawer: its lid is gone, contents show from above
            return boxes_mesh(_shell(b, max(floor, b.lo[1] + SHELL), "top"), obj.seg_id, color)
        parts = _shell(b, max(floor, b.lo[1] + SHELL), _front_key(obj.facing))
        parts.append(_door_panel(b, obj.facing))
        return boxes_mesh(parts, obj.seg_id, color)
    mesh = shape_mesh("box", b, obj.seg_id, color)
    if k.toggleable and obj.is_toggled:  # lit lamps, running microwaves glow a little
        mesh.color = np.clip(mesh.color * 1.25 + 0.1, 0, 1).astype(np.float32)
    return mesh


def floor_tiles(q: Rect, color: tuple[float, float, float], tile: float = 0.5) -> MeshArrays:
    """A floor of ``tile``-sized squares in two shades (a checker baked into the mesh)."""
    xs = np.unique(np.append(np.arange(np.floor(q.x0 / tile) * tile, q.x1, tile).clip(q.x0), q.x1))
    zs = np.unique(np.append(np.arange(np.floor(q.z0 / tile) * tile, q.z1, tile).clip(q.z0), q.z1))
    dark = tuple(c * 0.88 for c in color)
    verts: list[tuple[float, float, float]] = []
    tris: list[tuple[int, int, int]] = []
    cols: list[tuple[float, ...]] = []
    for _i, (x0, x1) in enumerate(itertools.pairwise(xs)):
        for _j, (z0, z1) in enumerate(itertools.pairwise(zs)):
            k = len(verts)
            verts += [(x0, 0.0, z0), (x1, 0.0, z0), (x1, 0.0, z1), (x0, 0.0, z1)]
            tris += [(k, k + 2, k + 1), (k, k + 3, k + 2)]
            c = dark if (round(x0 / tile) + round(z0 / tile)) % 2 == 0 else color
            cols += [c, c]
    n = len(tris)
    return MeshArrays(np.array(verts, np.float32), np.array(tris, np.int32),
                      np.full(n, SEG_FLOOR, np.int32), np.array(cols, np.float32),
                      np.full(n, MATERIAL_FLOOR, np.int8))


def structure_mesh(house: House) -> MeshArrays:
    """Floors, walls (with doorways), lintels and ceilings."""
    parts = []
    for r in house.rooms:
        _wall_c, floor_c = ROOM_COLORS.get(r.type, ((0.9, 0.9, 0.9), (0.6, 0.6, 0.6)))
        q = r.rect
        parts.append(floor_tiles(q, floor_c))
        parts.append(boxes_mesh([Box((q.x0, WALL_HEIGHT, q.z0), (q.x1, WALL_HEIGHT + 0.05, q.z1))],
                                SEG_CEILING, CEILING_COLOR))
    walls = [Box((w.x0, 0.0, w.z0), (w.x1, WALL_HEIGHT, w.z1)) for w in house.wall_rects()]
    for d in house.doors:  # the lintel above each doorway
        g = d.gap
        walls.append(Box((g.x0, DOOR_HEIGHT, g.z0), (g.x1, WALL_HEIGHT, g.z1)))
    parts.append(boxes_mesh(walls, SEG_WALL, (0.9, 0.9, 0.88)))
    return MeshArrays.concat(parts)


def house_mesh(house: House, structure: MeshArrays | None = None) -> MeshArrays:
    """Structure plus every object not held by the agent."""
    objs = [object_mesh(o) for o in house.objects.values() if not o.is_picked_up]
    return MeshArrays.concat([structure if structure is not None else structure_mesh(house)]
                             + objs)
