"""Lifelong AI2-THOR: the same scene across episodes, some objects moved in between.

Between two episodes someone tidies up: each loose pickupable object moves, with probability
``prob``, onto another open surface. The move is done the way AI2-THOR documents it for
restoring scene states: ``GetSpawnCoordinatesAboveReceptacle`` gives points above the new
surface, and one ``SetObjectPoses`` call sets every pickupable and moveable object's pose
(AI2-THOR removes any such object the call does not list, so all of them are listed: moved
ones at their new point, the rest where they are). This module decides the moves from the
metadata alone; ``robomem/AI2THOR-v0`` (``lifelong=True``) runs them.

Example:
    >>> import numpy as np
    >>> md = {"objects": [
    ...     {"name": "Mug_1", "objectId": "Mug|1", "objectType": "Mug", "pickupable": True,
    ...      "moveable": False, "isPickedUp": False, "parentReceptacles": ["CounterTop|1"],
    ...      "position": {"x": 1.0, "y": 0.95, "z": 0.0},
    ...      "rotation": {"x": 0.0, "y": 90.0, "z": 0.0},
    ...      "axisAlignedBoundingBox": {"center": {"x": 1.0, "y": 0.95, "z": 0.0},
    ...                                 "size": {"x": 0.1, "y": 0.1, "z": 0.1}}},
    ...     {"name": "Table_2", "objectId": "DiningTable|2", "objectType": "DiningTable",
    ...      "pickupable": False, "moveable": False, "receptacle": True, "openable": False,
    ...      "position": {"x": 3.0, "y": 0.0, "z": 0.0}}]}
    >>> moves = choose_moves(md, np.random.default_rng(0), prob=1.0)
    >>> [(m.object_id, m.receptacle_id) for m in moves]
    [('Mug|1', 'DiningTable|2')]
    >>> landing(md["objects"][0], {"x": 3.1, "y": 0.8, "z": 0.2})
    {'x': 3.1, 'y': 0.85, 'z': 0.2}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["SURFACES", "Move", "choose_moves", "landing", "object_poses"]

SURFACES = frozenset({"CounterTop", "DiningTable", "SideTable", "CoffeeTable", "Desk",
                      "Dresser", "Shelf", "TVStand", "Sofa", "ArmChair", "Bed", "Ottoman"})
"""Open surfaces objects may be tidied onto (AI2-THOR types that hold loose objects)."""


@dataclass(frozen=True)
class Move:
    """One object to move onto another surface."""

    object_id: str
    receptacle_id: str


def _loose(o: Mapping[str, Any]) -> bool:
    parents = o.get("parentReceptacles") or []
    return bool(o.get("pickupable")) and not o.get("isPickedUp") and \
        any(p.split("|")[0] in SURFACES for p in parents)


def choose_moves(metadata: Mapping[str, Any], rng: np.random.Generator,
                 prob: float) -> list[Move]:
    """For each loose object on a surface, with probability ``prob``, another surface."""
    objects = list(metadata.get("objects") or [])
    surfaces = sorted(o["objectId"] for o in objects if o.get("objectType") in SURFACES)
    out = []
    for o in sorted(objects, key=lambda o: str(o["objectId"])):
        if not _loose(o) or rng.random() >= prob:
            continue
        others = [s for s in surfaces if s not in (o.get("parentReceptacles") or [])]
        if others:
            out.append(Move(str(o["objectId"]), others[int(rng.integers(len(others)))]))
    return out


def landing(obj: Mapping[str, Any], point: Mapping[str, float]) -> dict[str, float]:
    """``obj``'s new ``position`` when its bottom rests at ``point`` (from the spawn points).

    AI2-THOR's ``position`` is an object's pivot, not its bottom: the pivot keeps its height
    above the bottom of the object's box.
    """
    box = obj.get("axisAlignedBoundingBox") or {}
    centre, size = box.get("center"), box.get("size")
    lift = (float(obj["position"]["y"]) - (float(centre["y"]) - float(size["y"]) / 2.0)
            if centre and size else 0.0)
    return {"x": float(point["x"]), "y": round(float(point["y"]) + lift, 6),
            "z": float(point["z"])}


def object_poses(metadata: Mapping[str, Any],
                 moved: Mapping[str, Mapping[str, float]]) -> list[dict[str, Any]]:
    """``SetObjectPoses``' ``objectPoses``: every pickupable and moveable object not held.

    Args:
        metadata: the current event's metadata.
        moved: objectId -> new position for the objects that move.
    """
    out = []
    for o in metadata.get("objects") or []:
        if not (o.get("pickupable") or o.get("moveable")) or o.get("isPickedUp"):
            continue
        pos = moved.get(o["objectId"], o["position"])
        out.append({"objectName": o["name"], "position": dict(pos),
                    "rotation": dict(o.get("rotation") or {"x": 0.0, "y": 0.0, "z": 0.0})})
    return out


def spawn_point(points: Sequence[Mapping[str, float]], rng: np.random.Generator
                ) -> Mapping[str, float] | None:
    """One of ``GetSpawnCoordinatesAboveReceptacle``'s points, drawn with ``rng``."""
    return points[int(rng.integers(len(points)))] if points else None
