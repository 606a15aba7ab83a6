"""RGB-D and instance segmentation by ray casting with open3d's ``RaycastingScene`` (CPU).

One ray per pixel through a pinhole camera; the hit triangle gives the instance id and
colour, the hit distance the depth. Shading is Lambertian under one distant light, baked
per triangle, and floors are 0.5 m tiles in two shades so that motion is visible.

Example:
    >>> from robomem.envs.household.generator import generate_house
    >>> from robomem.envs.household.renderer import Renderer
    >>> r = Renderer(64, 48, 90.0)
    >>> r.set_scene(generate_house(0))
    >>> out = r.render((2.0, 1.5, 2.0), yaw=0.0, horizon=0.0)
    >>> out.rgb.shape, out.depth.dtype.name, out.segmentation.shape
    ((48, 64, 3), 'float32', (48, 64))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import open3d as o3d
from numpy.typing import NDArray

from robomem.envs.household.catalog import ROOM_COLORS
from robomem.envs.household.house import House
from robomem.envs.household.meshes import (
    SEG_WALL,
    MeshArrays,
    house_mesh,
    structure_mesh,
)
from robomem.envs.household.navigation import distances_to_rects, rect_array
from robomem.geometry import camera_to_world, pinhole_intrinsics

MIN_IMAGE_SIZE = 8  # pixels per side
MAX_IMAGE_SIZE = 2048  # pixels per side: 4 M rays per frame, 100 MB per ray buffer
FOV_RANGE = (10.0, 170.0)  # degrees, vertical
RAY_CACHE_BYTES = 256 * 2**20  # ray buffers kept per renderer (at most 65 of them)

_Rays = tuple[NDArray[np.float32], NDArray[np.float64]]  # (N, 6) ray buffer, rotation-only pose
_SUN = np.array([0.55, 0.75, 0.3]) / np.linalg.norm([0.55, 0.75, 0.3])


intrinsics = pinhole_intrinsics  # robomem.geometry's, under the simulator's old names
camera_pose = camera_to_world


@dataclass
class Frame:
    """One rendered view."""

    rgb: NDArray[np.uint8]
    depth: NDArray[np.float32]
    segmentation: NDArray[np.int32]
    intrinsics: NDArray[np.float64]
    camera_pose: NDArray[np.float64]
    ray_scale: NDArray[np.float32]  # per-pixel factor from z-depth to hit distance

    @property
    def hit_distance(self) -> NDArray[np.float32]:
        """Euclidean camera-to-hit distance per pixel (0 where nothing was hit)."""
        return self.depth * self.ray_scale


class Renderer:
    """Renders a :class:`House` from any camera pose.

    Call :meth:`set_scene` whenever objects move, open or close; :meth:`render` is then
    a single ray cast.
    """

    def __init__(self, width: int, height: int, fov_deg: float = 90.0,
                 max_depth: float = 20.0) -> None:
        if not (MIN_IMAGE_SIZE <= width <= MAX_IMAGE_SIZE
                and MIN_IMAGE_SIZE <= height <= MAX_IMAGE_SIZE):
            raise ValueError(f"image size must be from {MIN_IMAGE_SIZE}x{MIN_IMAGE_SIZE} to "
                             f"{MAX_IMAGE_SIZE}x{MAX_IMAGE_SIZE} pixels, got {width}x{height}")
        if not FOV_RANGE[0] <= fov_deg <= FOV_RANGE[1]:
            raise ValueError(f"fov_deg must be in [{FOV_RANGE[0]:g}, {FOV_RANGE[1]:g}], got "
                             f"{fov_deg}")
        self.width, self.height, self.fov = width, height, fov_deg
        self.max_depth = max_depth
        self.K = intrinsics(width, height, fov_deg)
        u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
        # Unnormalised camera-frame directions with z = 1: the hit parameter is z-depth.
        self._dirs = np.stack([(u - self.K[0, 2]) / self.K[0, 0],
                               (v - self.K[1, 2]) / self.K[1, 1],
                               np.ones_like(u)], axis=-1).reshape(-1, 3).astype(np.float32)
        self._dir_len = np.linalg.norm(self._dirs, axis=1).astype(np.float32)
        self._structure: MeshArrays | None = None
        self._structure_of: int | None = None
        self._mesh = MeshArrays.empty()
        self._scene: o3d.t.geometry.RaycastingScene | None = None
        self._rgb = np.zeros((1, 3), np.uint8)
        self._seg = np.zeros(1, np.int32)
        self._dir_cache: dict[tuple[float, float], _Rays] = {}
        self._dir_cache_size = max(1, min(65, RAY_CACHE_BYTES // (24 * width * height)))

    def set_scene(self, house: House) -> None:
        """(Re)build the ray-casting scene from the house's current state."""
        if self._structure_of != house.uid or self._structure is None:
            self._structure = _tint_walls(structure_mesh(house), house)
            self._structure_of = house.uid
        m = self._mesh = house_mesh(house, self._structure)
        v = m.vertices
        tri = m.triangles
        n = np.cross(v[tri[:, 1]] - v[tri[:, 0]], v[tri[:, 2]] - v[tri[:, 0]])
        n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
        light = 0.45 + 0.55 * np.abs(n @ _SUN)
        # Colours are baked per triangle; one extra row at the end stands for "no hit".
        base = np.vstack([m.color * light[:, None], np.zeros((1, 3))])
        self._rgb = np.clip(base * 255.0, 0, 255).astype(np.uint8)
        self._seg = np.append(m.seg, 0).astype(np.int32)
        scene = o3d.t.geometry.RaycastingScene()
        mesh = o3d.t.geometry.TriangleMesh()
        mesh.vertex.positions = o3d.core.Tensor.from_numpy(np.ascontiguousarray(v))
        mesh.triangle.indices = o3d.core.Tensor.from_numpy(np.ascontiguousarray(tri))
        scene.add_triangles(mesh)
        self._scene = scene

    def _directions(self, yaw: float, horizon: float) -> _Rays:
        """A ray buffer (origins to fill, world directions) and the rotation of a camera pose.

        Cached per rotation: agents turn in fixed steps, so a handful of buffers serve a run.
        """
        key = (round(yaw % 360.0, 4), round(horizon, 4))
        hit = self._dir_cache.get(key)
        if hit is None:
            pose = camera_pose((0.0, 0.0, 0.0), yaw, horizon)
            rays = np.empty((len(self._dirs), 6), np.float32)
            rays[:, 3:] = self._dirs @ pose[:3, :3].T.astype(np.float32)
            hit = (rays, pose)
            if len(self._dir_cache) >= self._dir_cache_size:
                self._dir_cache.clear()
            self._dir_cache[key] = hit
        return hit

    def render(self, position: tuple[float, float, float], yaw: float, horizon: float) -> Frame:
        """Render RGB, z-depth (metres) and instance ids from a camera pose."""
        if self._scene is None:
            raise RuntimeError("Renderer.set_scene(house) must be called before render()")
        rays, rot = self._directions(yaw, horizon)
        pose = rot.copy()
        pose[:3, 3] = position
        rays[:, :3] = np.asarray(position, np.float32)
        out = self._scene.cast_rays(o3d.core.Tensor.from_numpy(rays), nthreads=0)
        miss = len(self._seg) - 1
        prim = np.minimum(out["primitive_ids"].numpy(), miss).astype(np.intp)
        depth = out["t_hit"].numpy()
        np.minimum(depth, self.max_depth, out=depth)
        depth[prim == miss] = 0.0
        h, w = self.height, self.width
        return Frame(np.take(self._rgb, prim, axis=0).reshape(h, w, 3), depth.reshape(h, w),
                     np.take(self._seg, prim).reshape(h, w), self.K.copy(), pose,
                     self._dir_len.reshape(h, w))


def _tint_walls(m: MeshArrays, house: House) -> MeshArrays:
    """Colour each wall face by the room it faces."""
    walls = np.flatnonzero(m.seg == SEG_WALL)
    if not len(walls):
        return m
    v = m.vertices[m.triangles[walls]]
    center = v.mean(axis=1)
    n = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    probe = (center + n * 0.08)[:, [0, 2]].astype(np.float64)
    rooms = rect_array([r.rect for r in house.rooms])
    d = distances_to_rects(probe, rooms)
    inside = d.min(axis=1) <= 1e-9
    colors = np.array([ROOM_COLORS.get(r.type, ((0.9, 0.9, 0.9), None))[0] for r in house.rooms],
                      np.float32)
    m.color[walls[inside]] = colors[d.argmin(axis=1)[inside]]
    return m
