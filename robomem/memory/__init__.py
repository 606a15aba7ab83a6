"""Memory modules: spatial (maps, rooms, scene graph), temporal (event log) and working.

Example:
    >>> from robomem.memory import SpatialMemory, SpatialMemoryConfig
    >>> SpatialMemory(SpatialMemoryConfig(rooms_every=5)).cfg.rooms_every
    5
"""

from __future__ import annotations

from robomem.memory.navigation import Cell, astar, cell_of, cell_xz, viewpoints
from robomem.memory.object_node import ObjectNode
from robomem.memory.occupancy import FREE, OCCUPIED, UNKNOWN, Frontier, OccupancyGrid
from robomem.memory.rooms import RoomMap, guess_room_type
from robomem.memory.scene_graph import SceneGraph
from robomem.memory.spatial import SpatialMemory, SpatialMemoryConfig
from robomem.memory.temporal import EventRecord, TemporalMemory
from robomem.memory.voxel_map import VoxelMap
from robomem.memory.working import WorkingMemory

__all__ = [
    "FREE",
    "OCCUPIED",
    "UNKNOWN",
    "Cell",
    "EventRecord",
    "Frontier",
    "ObjectNode",
    "OccupancyGrid",
    "RoomMap",
    "SceneGraph",
    "SpatialMemory",
    "SpatialMemoryConfig",
    "TemporalMemory",
    "VoxelMap",
    "WorkingMemory",
    "astar",
    "cell_of",
    "cell_xz",
    "guess_room_type",
    "viewpoints",
]
