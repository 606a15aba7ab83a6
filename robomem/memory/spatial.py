"""Spatial memory (the hippocampal map): voxels, occupancy, rooms and the scene graph together.

:meth:`SpatialMemory.write` folds one :class:`~robomem.percept.Percept` into every map and
returns the step's object events; the queries answer where things are and how to get a
look at them.

Example:
    >>> import numpy as np
    >>> from robomem.geometry import AABB
    >>> from robomem.memory.spatial import SpatialMemory
    >>> from robomem.percept import Detection, Percept
    >>> from robomem.types import AgentPose
    >>> xs, zs = np.meshgrid(np.arange(-2, 2, 0.05), np.arange(-2, 2, 0.05))
    >>> floor = np.stack([xs.ravel(), np.zeros(xs.size), zs.ravel()], axis=1)
    >>> apple = Detection("Apple|1", "Apple", AABB.from_center_size([1.0, 0.9, 1.0], [0.08] * 3))
    >>> pose = AgentPose(0.0, 0.9, 0.0, 0.0, 0.0)
    >>> mem = SpatialMemory()
    >>> mem.write(Percept(0, 0.0, pose, np.eye(4), np.eye(3), np.zeros((1, 1), np.float32),
    ...                   floor.astype(np.float32), [apple]))
    []
    >>> [n.key for n in mem.where_is("Apple")]
    ['Apple|1']
    >>> path, goal = mem.path_to_view("Apple|1", pose)
    >>> path[0], len(path) <= 8
    ((0, 0), True)
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from robomem.memory.base import check_document
from robomem.memory.navigation import Cell, astar, cell_of, viewpoints
from robomem.memory.occupancy import Frontier, OccupancyGrid
from robomem.memory.rooms import RoomMap
from robomem.memory.scene_graph import ObjectNode, SceneGraph
from robomem.memory.view import SceneView
from robomem.memory.voxel_map import VoxelMap
from robomem.ontology import Ontology, default_ontology
from robomem.percept import ObjectEvent, Percept
from robomem.types import AgentPose

__all__ = ["SpatialMemory", "SpatialMemoryConfig"]

FORMAT = "robomem.spatial"
VERSION = 1
_GEOMETRY = ("voxel", "resolution", "obstacle_band", "floor_max")  # must match a saved map


def _plain(o: Any) -> Any:
    """JSON fallback for numpy scalars and arrays."""
    if isinstance(o, (np.generic, np.ndarray)):
        return o.tolist()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


@dataclass
class SpatialMemoryConfig:
    """Settings of :class:`SpatialMemory`.

    Attributes:
        voxel: voxel map cell size (m).
        max_voxels: voxel map cap.
        use_voxels: keep the 3D voxel map at all (the grid and graph do not need it).
        resolution: occupancy cell size (m).
        obstacle_band: heights (m) of points that block the agent.
        floor_max: points at or below this height are floor.
        agent_radius: the agent disc (m).
        mark_agent_free: mark the disc under the agent free on every write.
        rooms_every: re-segment rooms every this many writes (first write included).
        doorway: doorway width (m) for room segmentation.
        reach: camera-to-object distance (m) a viewpoint must be within.
        camera_height: metres above the floor.
        max_nodes: A* expansion budget.
        near: scene graph ``near`` distance (m).
        gone_range: scene graph stale-belief range (m).
    """

    voxel: float = 0.05
    max_voxels: int = 2_000_000
    use_voxels: bool = True
    resolution: float = 0.05
    obstacle_band: tuple[float, float] = (0.15, 1.8)
    floor_max: float = 0.05
    agent_radius: float = 0.2
    mark_agent_free: bool = True
    rooms_every: int = 10
    doorway: float = 1.0
    reach: float = 1.4
    camera_height: float = 1.5
    max_nodes: int = 20000
    near: float = 0.5
    gone_range: float = 3.0


class SpatialMemory:
    """Voxel map, occupancy grid, rooms and scene graph of one house.

    Args:
        cfg: settings (defaults when None).
    """

    def __init__(self, cfg: SpatialMemoryConfig | None = None,
                 ontology: Ontology | None = None) -> None:
        self.cfg = c = cfg or SpatialMemoryConfig()
        self.ontology = ontology or default_ontology()
        self.voxels = VoxelMap(c.voxel, c.max_voxels)
        self.grid = OccupancyGrid(c.resolution, c.obstacle_band, c.floor_max)
        self.graph = SceneGraph(near=c.near, gone_range=c.gone_range, ontology=self.ontology,
                                floor=c.floor_max)
        self.rooms = RoomMap(resolution=c.resolution)
        self.writes = 0

    def reset(self) -> None:
        """Forget everything (a new house)."""
        self.voxels.reset()
        self.grid.reset()
        self.graph.reset()
        self.rooms = RoomMap(resolution=self.cfg.resolution)
        self.writes = 0

    # ------------------------------------------------------------------ writing
    def write(self, percept: Percept) -> list[ObjectEvent]:
        """Fold one percept into the maps.

        Returns:
            The percept's events followed by the events the scene graph concluded
            (objects believed gone).
        """
        c = self.cfg
        if c.use_voxels:
            self.voxels.add(percept.points)
        self.grid.update(percept.points)
        if c.mark_agent_free:
            self.grid.mark_free(percept.agent_pose.x, percept.agent_pose.z,
                                max(c.agent_radius - c.resolution, c.resolution))
        rooms = None
        if c.rooms_every > 0 and self.writes % c.rooms_every == 0:
            rooms = self.rooms = RoomMap.segment(self.grid, c.doorway, previous=self.rooms)
        self.writes += 1
        return list(percept.events) + self.graph.update(percept, rooms)

    def update_rooms(self) -> RoomMap:
        """Re-segment rooms now and re-assign the scene graph's rooms (ids carried over)."""
        self.rooms = RoomMap.segment(self.grid, self.cfg.doorway, previous=self.rooms)
        self.graph.set_rooms(self.rooms)
        return self.rooms

    def mark_blocked(self, x: float, z: float, radius: float = 0.1) -> None:
        """Record an obstacle the agent bumped into at (x, z)."""
        self.grid.mark_blocked(x, z, radius)

    # ------------------------------------------------------------------ queries
    @property
    def scene(self) -> SceneView:
        """The scene graph as a read-only view: what planners and critics are given."""
        return self.graph

    def where_is(self, label: str) -> list[ObjectNode]:
        """Known objects of type ``label``, best first."""
        return self.graph.find(label)

    def what_is_in(self, key: str) -> list[ObjectNode]:
        """Objects believed in or on receptacle ``key``."""
        return self.graph.contents(key)

    def nearest(self, label: str, pose: AgentPose) -> ObjectNode | None:
        """The object of type ``label`` closest to the agent (straight-line)."""
        return self.graph.nearest(label, (pose.x, pose.z))

    def frontiers(self, min_size: int = 3) -> list[Frontier]:
        """Exploration frontiers of the occupancy grid, largest first."""
        return self.grid.frontiers(min_size)

    def path_to_view(self, key: str, pose: AgentPose,
                     blocked_edges: set[tuple[Cell, Cell]] | None = None,
                     unknown_ok: bool = True,
                     exclude: set[Cell] | None = None) -> tuple[list[Cell], Cell] | None:
        """A lattice path from the agent to the nearest viewpoint of object ``key``.

        Args:
            key: the object's key in the scene graph.
            pose: the agent's pose.
            blocked_edges: moves known to fail (both directions are avoided).
            unknown_ok: whether unknown space is traversable.
            exclude: viewpoints not to use (already tried).

        Returns:
            ``(path, goal)`` (the path includes the start and the goal), or None when the
            object is unknown, has no viewpoint, or none can be reached.
        """
        node = self.graph.node(key)
        if node is None:
            return None
        c = self.cfg
        host = self.graph.node(node.parent) if node.parent else None
        goals = viewpoints(self.grid, node.box, c.reach, c.camera_height,
                           radius=c.agent_radius, ignore=[host.box] if host else [])
        return self._plan(pose, set(goals) - (exclude or set()), blocked_edges, unknown_ok)

    def path_to_point(self, x: float, z: float, pose: AgentPose, within: float = 0.5,
                      blocked_edges: set[tuple[Cell, Cell]] | None = None,
                      unknown_ok: bool = True) -> tuple[list[Cell], Cell] | None:
        """A lattice path to any traversable cell within ``within`` m of (x, z) (frontiers)."""
        k = int(np.ceil(within / 0.25))
        ci, cj = cell_of(x, z)
        cells = [(ci + i, cj + j) for i in range(-k, k + 1) for j in range(-k, k + 1)
                 if (0.25 * (ci + i) - x) ** 2 + (0.25 * (cj + j) - z) ** 2 <= within ** 2]
        xz = np.array(cells, np.float64) * 0.25
        ok = self.grid.disc_clear(xz, self.cfg.agent_radius, unknown_ok)
        return self._plan(pose, {cl for cl, o in zip(cells, ok) if o}, blocked_edges, unknown_ok)

    def _plan(self, pose: AgentPose, goals: set[Cell],
              blocked_edges: set[tuple[Cell, Cell]] | None,
              unknown_ok: bool) -> tuple[list[Cell], Cell] | None:
        if not goals:
            return None
        path = astar(self.grid, (pose.x, pose.z), goals, blocked_edges, unknown_ok,
                     self.cfg.max_nodes, self.cfg.agent_radius)
        return None if path is None else (path, path[-1])

    # ------------------------------------------------------------------ serialisation
    def to_bytes(self) -> bytes:
        """The whole memory as a compressed ``.npz`` (no pickle), to keep a scene's map.

        Layout: arrays ``voxels.key_deltas`` (the delta-coded voxel keys); ``grid.origin``,
        ``grid.grid``, ``grid.evidence``, ``grid.height``; ``rooms.labels``, ``rooms.dist``,
        ``rooms.origin``; and ``meta``, the UTF-8 bytes of a JSON document ``{"format":
        "robomem.spatial", "version": 1, "cfg", "writes", "voxels", "grid", "rooms",
        "graph"}`` holding the settings, the counters and the scene graph (nodes in
        insertion order, room types, edges).
        """
        meta: dict[str, Any] = {"format": FORMAT, "version": VERSION, "cfg": asdict(self.cfg),
                                "writes": self.writes,
                                "graph": self.graph.to_json(insertion_order=True)}
        arrays: dict[str, NDArray[Any]] = {}
        for name, part in (("voxels", self.voxels), ("grid", self.grid), ("rooms", self.rooms)):
            meta[name], parts = part.to_state()
            arrays.update({f"{name}.{k}": v for k, v in parts.items()})
        arrays["meta"] = np.frombuffer(json.dumps(meta, default=_plain).encode(), np.uint8)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, cfg: SpatialMemoryConfig | None = None,
                   ontology: Ontology | None = None) -> SpatialMemory:
        """Rebuild a memory saved with :meth:`to_bytes`.

        Args:
            data: the bytes.
            cfg: settings to go on with (default: the saved ones). Its map geometry
                (``voxel``, ``resolution``, ``obstacle_band``, ``floor_max``) must match
                the saved map's; the other settings are taken from it.
            ontology: the world's object vocabulary (default: the default embodiment's).

        Raises:
            ValueError: the data is not a readable spatial-memory map, has an unsupported
                version, or does not match ``cfg``'s geometry.
        """
        try:
            loaded = np.load(io.BytesIO(data), allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise ValueError("a single array, not an archive")
            with loaded as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
            raise ValueError(f"unreadable spatial memory data ({len(data)} bytes): not a "
                             f"compressed npz archive ({e})") from e
        try:
            meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
        except (KeyError, UnicodeDecodeError, ValueError) as e:
            raise ValueError(f"unreadable spatial memory data ({len(data)} bytes): no readable "
                             f"'meta' part ({e!r})") from e
        meta = check_document(meta, FORMAT, VERSION, "spatial memory")
        try:
            return cls._restore(meta, arrays, cfg, ontology)
        except (KeyError, TypeError, IndexError, AttributeError) as e:
            raise ValueError(f"unreadable spatial memory data: missing or malformed part "
                             f"{e!r}") from e

    @classmethod
    def _restore(cls, meta: dict[str, Any], arrays: dict[str, NDArray[Any]],
                 cfg: SpatialMemoryConfig | None, ontology: Ontology | None) -> SpatialMemory:
        saved = dict(meta["cfg"])
        saved["obstacle_band"] = tuple(saved["obstacle_band"])
        names = {f.name for f in fields(SpatialMemoryConfig)}
        saved_cfg = SpatialMemoryConfig(**{k: v for k, v in saved.items() if k in names})
        if cfg is None:
            cfg = saved_cfg
        else:
            bad = [f"{k}: saved {getattr(saved_cfg, k)!r}, asked {getattr(cfg, k)!r}"
                   for k in _GEOMETRY
                   if tuple(np.atleast_1d(getattr(saved_cfg, k)).tolist())
                   != tuple(np.atleast_1d(getattr(cfg, k)).tolist())]
            if bad:
                raise ValueError("the saved spatial map does not fit the settings: "
                                 + "; ".join(bad))

        def part(name: str) -> dict[str, NDArray[Any]]:
            pre = f"{name}."
            return {k[len(pre):]: v for k, v in arrays.items() if k.startswith(pre)}

        mem = cls(cfg, ontology)
        mem.voxels = VoxelMap.from_state(meta["voxels"], part("voxels"))
        mem.voxels.max_voxels = cfg.max_voxels
        mem.grid = OccupancyGrid.from_state(meta["grid"], part("grid"))
        mem.rooms = RoomMap.from_state(meta["rooms"], part("rooms"))
        mem.graph = SceneGraph.from_json(meta["graph"], near=cfg.near, gone_range=cfg.gone_range,
                                         ontology=mem.ontology)
        mem.writes = int(meta["writes"])
        return mem

    # ------------------------------------------------------------------ export
    def export(self, folder: str | Path) -> dict[str, Path]:
        """Write ``scene_graph.json``, ``scene_graph.graphml`` and ``occupancy.png``.

        Returns:
            The written paths by name.
        """
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"json": out / "scene_graph.json", "graphml": out / "scene_graph.graphml",
                 "occupancy": out / "occupancy.png"}
        self.graph.save_json(paths["json"])
        self.graph.save_graphml(paths["graphml"])
        img = self.grid.image()
        if img.size == 0:
            img = np.full((1, 1, 3), 128, np.uint8)
        Image.fromarray(img).save(paths["occupancy"])
        return paths
