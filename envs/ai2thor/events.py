"""An AI2-THOR ``Event`` in robomem's standard gym layout (``robomem.keys``).

The event's images need no conversion: a camera sees the same scene whatever frame its
coordinates are written in. Its coordinates do (``robomem.envs.ai2thor.frames``):

* ``frame`` -> rgb; ``depth_frame`` (metres) -> depth, 0 where it is not finite;
* ``instance_segmentation_frame`` with ``color_to_object_id`` -> instance ids (1, 2, ... in
  sorted object-id order, 0 for colours without an id), labels from the metadata's
  ``objectType`` (structure the metadata does not list stays unlabelled) and object ids;
* intrinsics from the field of view and the image size;
* the camera-to-world pose and the body pose from ``metadata["agent"]`` and
  ``metadata["cameraPosition"]``, mirrored into robomem's frame;
* the metadata itself into ``info["privileged"]``; ``lastAction``, ``lastActionSuccess`` and
  ``errorMessage`` into the action keys that the embodiment turns into feedback codes.

Example:
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from robomem.envs.ai2thor.events import event_to_gym
    >>> md = {"agent": {"position": {"x": 1.0, "y": 0.9, "z": 2.0},
    ...                 "rotation": {"x": 0, "y": 90, "z": 0}, "cameraHorizon": 0.0},
    ...       "objects": [{"objectId": "Mug|1|2|3", "objectType": "Mug"}],
    ...       "lastAction": "RotateRight", "lastActionSuccess": True, "errorMessage": "",
    ...       "sceneName": "FloorPlan1"}
    >>> seg = np.zeros((2, 2, 3), np.uint8); seg[0, 0] = (9, 9, 9)
    >>> ev = SimpleNamespace(frame=np.zeros((2, 2, 3), np.uint8),
    ...                      depth_frame=np.ones((2, 2), np.float32), metadata=md,
    ...                      instance_segmentation_frame=seg,
    ...                      color_to_object_id={(9, 9, 9): "Mug|1|2|3"})
    >>> obs, info = event_to_gym(ev, fov=90.0)
    >>> obs["segmentation"].tolist(), info["labels"], obs["agent_pose"].tolist()[:4]
    ([[1, 0], [0, 0]], {1: 'Mug'}, [-1.0, 0.8999999761581421, 2.0, 90.0])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from robomem import keys
from robomem.envs.ai2thor.frames import agent_pose, camera_pose
from robomem.geometry import pinhole_intrinsics

__all__ = ["event_to_gym", "instance_ids"]


def _color(c: object) -> tuple[int, int, int] | None:
    if isinstance(c, str):  # some builds key colours as "(r, g, b)" strings
        parts = c.strip("()[] ").split(",")
        c = tuple(int(float(p)) for p in parts) if len(parts) == 3 else None
    if isinstance(c, tuple | list) and len(c) == 3:
        return (int(c[0]), int(c[1]), int(c[2]))
    return None


def instance_ids(seg_rgb: NDArray[np.uint8], color_to_object_id: Mapping[Any, str]
                 ) -> tuple[NDArray[np.int32], dict[int, str]]:
    """(H, W) instance ids and id -> object id from a colour segmentation image."""
    colors = {col: oid for c, oid in color_to_object_id.items() if (col := _color(c))}
    ids = {oid: i + 1 for i, oid in enumerate(sorted(set(colors.values())))}
    img = np.asarray(seg_rgb, np.int64)
    packed = (img[..., 0] << 16) | (img[..., 1] << 8) | img[..., 2]
    lut_keys = np.array([(r << 16) | (g << 8) | b for r, g, b in colors], np.int64)
    lut_vals = np.array([ids[oid] for oid in colors.values()], np.int32)
    seg = np.zeros(packed.shape, np.int32)
    if len(lut_keys):
        order = np.argsort(lut_keys)
        k, v = lut_keys[order], lut_vals[order]
        pos = np.clip(np.searchsorted(k, packed), 0, len(k) - 1)
        hit = k[pos] == packed
        seg[hit] = v[pos[hit]]
    return seg, {i: oid for oid, i in ids.items()}


def event_to_gym(event: Any, fov: float, instruction: str = "", step: int = 0,
                 timestamp: float = 0.0) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(obs, info)`` in robomem's standard layout for an AI2-THOR event (module docstring)."""
    md: Mapping[str, Any] = event.metadata
    rgb = np.asarray(event.frame, np.uint8)
    h, w = rgb.shape[:2]
    depth = np.asarray(event.depth_frame, np.float32)
    depth = np.where(np.isfinite(depth) & (depth > 0), depth, 0.0).astype(np.float32)
    seg_rgb = getattr(event, "instance_segmentation_frame", None)
    seg, object_ids = (instance_ids(seg_rgb, event.color_to_object_id or {}) if seg_rgb is not None
                       else (np.zeros((h, w), np.int32), {}))
    types = {o["objectId"]: o["objectType"] for o in md.get("objects", [])}
    labels = {i: types[oid] for i, oid in object_ids.items() if oid in types}
    pose = agent_pose(md["agent"])
    obs = {
        keys.OBS_RGB: rgb, keys.OBS_DEPTH: depth, keys.OBS_SEGMENTATION: seg,
        keys.OBS_INTRINSICS: pinhole_intrinsics(w, h, fov),
        keys.OBS_CAMERA_POSE: camera_pose(md["agent"], md.get("cameraPosition")),
        keys.OBS_AGENT_POSE: pose.as_array(), keys.OBS_INSTRUCTION: instruction,
        keys.OBS_STEP: np.array(step, np.int64),
        keys.OBS_TIMESTAMP: np.array(timestamp, np.float64),
    }
    info = {
        keys.INFO_LABELS: labels,
        keys.INFO_OBJECT_IDS: {i: oid for i, oid in object_ids.items() if oid in types},
        keys.INFO_PRIVILEGED: {keys.PRIV_METADATA: md},
        keys.INFO_ACTION_NAME: str(md.get("lastAction", "")),
        keys.INFO_ACTION_SUCCESS: bool(md.get("lastActionSuccess", True)),
        keys.INFO_ACTION_ERROR: str(md.get("errorMessage") or ""),
        keys.INFO_SCENE: str(md.get("sceneName", "")),
    }
    return obs, info
