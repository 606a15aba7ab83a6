"""AI2-THOR-style metadata for one step, built from the simulator's ground truth.

Every object entry carries every field that AI2-THOR's published metadata JSON schema
requires, with the schema's types. Fields that have no meaning in this simulator get the
schema-valid neutral value listed in :data:`NEUTRAL_OBJECT_FIELDS` (and in
``docs/household.md``).

Example:
    >>> from robomem.envs.household.generator import generate_house
    >>> from robomem.envs.household.world import World
    >>> from robomem.envs.household.metadata import build_metadata
    >>> w = World(generate_house(0)); w.reset_agent()
    >>> md = build_metadata(w, "Initialize", True, "", 300, 300, 90.0)
    >>> sorted(md["agent"]["position"]), md["lastActionSuccess"]
    (['x', 'y', 'z'], True)
"""

from __future__ import annotations

import math
from typing import Any

from robomem.envs.household.house import Box, Obj
from robomem.envs.household.meshes import extent
from robomem.envs.household.world import AGENT_Y, World

# Schema-required object fields with no meaning here, and the neutral value they get.
NEUTRAL_OBJECT_FIELDS: dict[str, Any] = {
    "obstructed": False,
    "breakable": False,
    "isBroken": False,
    "canFillWithLiquid": False,
    "fillLiquid": None,
    "isFilledWithLiquid": False,
    "canBeUsedUp": False,
    "isUsedUp": False,
    "sliceable": False,
    "isSliced": False,
    "isMoving": False,
    "objectOrientedBoundingBox": None,
}


def _xyz(v: tuple[float, float, float] | list[float]) -> dict[str, float]:
    return {"x": float(v[0]), "y": float(v[1]), "z": float(v[2])}


def aabb(box: Box) -> dict[str, Any]:
    """AI2-THOR's ``axisAlignedBoundingBox`` dict."""
    return {"cornerPoints": box.corners(), "center": _xyz(box.center), "size": _xyz(box.size)}


def object_entry(world: World, o: Obj) -> dict[str, Any]:
    """One entry of ``metadata["objects"]``."""
    k = o.kind
    cam = world.agent.camera
    c = o.box.center
    kids = [c_.object_id for c_ in world.house.children(o.object_id) if k.receptacle]
    entry: dict[str, Any] = {
        "name": o.object_id.replace("|", "_"),
        "objectId": o.object_id,
        "objectType": o.type,
        "position": _xyz(c),
        "rotation": {"x": 0.0, "y": float(o.facing), "z": 0.0},
        "axisAlignedBoundingBox": aabb(extent(o)),
        "visible": o.object_id in world.visible,
        "distance": float(math.dist(cam, c)),
        "receptacle": k.receptacle,
        "receptacleObjectIds": kids if k.receptacle else None,
        "parentReceptacles": [o.parent] if o.parent else None,
        "openable": k.openable,
        "isOpen": o.is_open,
        "pickupable": k.pickupable,
        "isPickedUp": o.is_picked_up,
        "moveable": False,
        "toggleable": k.toggleable,
        "isToggled": o.is_toggled,
        "dirtyable": k.dirtyable,
        "isDirty": o.is_dirty,
        "cookable": k.cookable,
        "isCooked": o.is_cooked,
        "ObjectTemperature": o.temperature,
        "isHeatSource": k.heat_source and o.is_toggled,
        "isColdSource": k.cold_source,
        "mass": float(k.mass),
        "salientMaterials": list(k.materials) if k.materials else None,
    }
    entry.update(NEUTRAL_OBJECT_FIELDS)
    return entry


def build_metadata(world: World, last_action: str, success: bool, error: str,
                   width: int, height: int, fov: float, scene_name: str = "",
                   current_time: float = 0.0) -> dict[str, Any]:
    """The whole metadata dict of a step (AI2-THOR field names)."""
    a = world.agent
    held = world.holding()
    b = world.house.bounds
    bounds = Box((b.x0, 0.0, b.z0), (b.x1, 2.6, b.z1))
    held_pose = {"position": _xyz(held.box.center if held else (0, 0, 0)),
                 "rotation": _xyz((0, 0, 0)), "localPosition": _xyz((0, 0, 0)),
                 "localRotation": _xyz((0, 0, 0))}
    return {
        "objects": [object_entry(world, o) for o in world.house.objects.values()],
        "agent": {"name": "agent", "position": _xyz((a.x, AGENT_Y, a.z)),
                  "rotation": _xyz((0.0, a.yaw, 0.0)), "cameraHorizon": float(a.horizon),
                  "isStanding": True, "inHighFrictionArea": False},
        "heldObjectPose": held_pose,
        "inventoryObjects": ([{"objectId": held.object_id, "objectType": held.type}]
                             if held else []),
        "cameraPosition": _xyz(a.camera),
        "fov": float(fov),
        "cameraOrthSize": 0.0,
        "thirdPartyCameras": [],
        "collided": world.collided,
        "collidedObjects": [],
        "isSceneAtRest": True,
        "sceneName": scene_name or world.house.name,
        "lastAction": last_action,
        "lastActionSuccess": bool(success),
        "errorMessage": error,
        "errorCode": None,
        "screenWidth": int(width),
        "screenHeight": int(height),
        "agentId": 0,
        "colors": None,
        "colorBounds": None,
        "flatSurfacesOnGrid": [],
        "distances": [],
        "normals": [],
        "isOpenableGrid": [],
        "segmentedObjectIds": [],
        "objectIdsInBox": [],
        "actionIntReturn": 0,
        "actionFloatReturn": 0.0,
        "actionStringsReturn": [],
        "actionFloatsReturn": [],
        "actionVector3sReturn": [],
        "visibleRange": None,
        "actionReturn": None,
        "currentTime": float(current_time),
        "sceneBounds": aabb(bounds),
    }
