"""EB-ALFRED's "find X" on AI2-THOR: the reachable poses from which to look at an object.

EmbodiedBench's EB-ALFRED (after LLM-Planner's ``ThorConnector``) navigates with one high-level
action: ``GetReachablePositions``, then ``TeleportFull`` to the reachable grid point nearest
the object, turned to face it. :func:`find_poses` ranks those poses from the metadata alone:
reachable points by floor distance to the object's box centre, the yaw that faces it rounded
to the rotation step (robomem's executor walks the 90-degree lattice afterwards), and the
camera pitch that looks at it rounded to the LookUp/LookDown step, clamped to AI2-THOR's
limits (30 up, 60 down). All in AI2-THOR's own frame: ``rotation.y`` 0 faces +z, 90 faces
+x, ``horizon`` positive looks down (``envs/ai2thor/frames.py``).

Example:
    >>> md = {"agent": {"position": {"x": 0.0, "y": 0.9, "z": 0.0}},
    ...       "cameraPosition": {"x": 0.0, "y": 1.575, "z": 0.0},
    ...       "objects": [{"objectId": "Mug|1", "objectType": "Mug",
    ...                    "position": {"x": 2.0, "y": 0.9, "z": 0.0}}]}
    >>> reachable = [{"x": 0.0, "y": 0.9, "z": 0.0}, {"x": 1.25, "y": 0.9, "z": 0.0}]
    >>> pose = find_poses(md, reachable, "Mug")[0]
    >>> pose.object_id, pose.position["x"], pose.rotation, pose.horizon
    ('Mug|1', 1.25, 90.0, 30.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["FindPose", "find_poses", "target_object"]

MAX_UP, MAX_DOWN = -30.0, 60.0  # AI2-THOR's cameraHorizon limits (negative looks up)
MIN_DISTANCE = 0.25  # a point closer than this to the box centre is inside the object


@dataclass(frozen=True)
class FindPose:
    """A ``TeleportFull`` pose facing one object (AI2-THOR's frame)."""

    object_id: str
    position: dict[str, float]
    rotation: float
    horizon: float

    def teleport(self) -> dict[str, Any]:
        """``controller.step`` keyword arguments for this pose."""
        return {"action": "TeleportFull", "position": dict(self.position),
                "rotation": {"x": 0.0, "y": self.rotation, "z": 0.0},
                "horizon": self.horizon, "standing": True}


def _centre(o: Mapping[str, Any]) -> tuple[float, float, float]:
    box = o.get("axisAlignedBoundingBox") or {}
    c = box.get("center") or o["position"]
    return float(c["x"]), float(c["y"]), float(c["z"])


def target_object(metadata: Mapping[str, Any], target: str) -> Mapping[str, Any] | None:
    """The object ``target`` names: an objectId, else the nearest instance of a type.

    For a type: instances out of view first (asking to find an X while one is in view asks
    for another one), then those not shut inside a closed receptacle, then the nearest.
    """
    objects: list[Mapping[str, Any]] = list(metadata.get("objects") or [])
    for o in objects:
        if o.get("objectId") == target:
            return o
    same = [o for o in objects if o.get("objectType") == target]
    if not same:
        return None
    by_id = {o.get("objectId"): o for o in objects}

    def closed_in(o: Mapping[str, Any]) -> bool:
        return any((p := by_id.get(pid)) is not None and p.get("openable") and
                   not p.get("isOpen") for pid in o.get("parentReceptacles") or ())

    a = metadata["agent"]["position"]
    # "find X" while an X is in view asks for another one (the second of two, say); one that
    # can be seen from outside before one shut in something; then the nearest.
    return min(same, key=lambda o: (bool(o.get("visible")), closed_in(o),
                                    math.dist((a["x"], a["z"]), (_centre(o)[0], _centre(o)[2]))))


def _round(value: float, step: float) -> float:
    return float(round(value / step) * step) if step > 0 else value


def find_poses(metadata: Mapping[str, Any], reachable: Sequence[Mapping[str, float]],
               target: str, rotate_step: float = 90.0, look_step: float = 30.0,
               limit: int = 6) -> list[FindPose]:
    """Up to ``limit`` poses facing ``target``, nearest first (module docstring).

    Args:
        metadata: an event's metadata (``objects``, ``agent``, ``cameraPosition``).
        reachable: ``GetReachablePositions``' ``actionReturn``.
        target: an objectId, or an objectType (its instance nearest the agent).
        rotate_step: yaw is rounded to this many degrees.
        look_step: the camera pitch is rounded to this many degrees.
        limit: how many poses to return.

    Returns:
        The poses; empty when the target is unknown or nothing is reachable.
    """
    obj = target_object(metadata, target)
    if obj is None or not reachable:
        return []
    ox, oy, oz = _centre(obj)
    agent_y = float(metadata["agent"]["position"]["y"])
    cam = metadata.get("cameraPosition") or {}
    eye = float(cam.get("y", agent_y + 0.675)) - agent_y
    ranked = sorted(((math.hypot(ox - p["x"], oz - p["z"]), p) for p in reachable),
                    key=lambda t: (t[0], t[1]["x"], t[1]["z"]))
    out = []
    for dist, p in ranked:
        if dist < MIN_DISTANCE:
            continue
        yaw = math.degrees(math.atan2(ox - p["x"], oz - p["z"])) % 360.0
        pitch = math.degrees(math.atan2(float(p["y"]) + eye - oy, dist))
        horizon = min(MAX_DOWN, max(MAX_UP, _round(pitch, look_step)))
        out.append(FindPose(str(obj["objectId"]),
                            {"x": float(p["x"]), "y": float(p["y"]), "z": float(p["z"])},
                            _round(yaw, rotate_step) % 360.0, horizon))
        if len(out) >= limit:
            break
    return out
