"""String constants for observation, info and metadata keys, defined once.

Every env and bridge fills a Gymnasium observation dict with the ``OBS_*`` keys and an info
dict with the ``INFO_*`` keys; :func:`robomem.embodiment.standard_observation` reads them
back into an :class:`robomem.types.Observation`.
"""

from __future__ import annotations

# Gymnasium observation dict keys.
OBS_RGB = "rgb"
OBS_DEPTH = "depth"
OBS_SEGMENTATION = "segmentation"
OBS_INTRINSICS = "intrinsics"
OBS_CAMERA_POSE = "camera_pose"
OBS_AGENT_POSE = "agent_pose"
OBS_INSTRUCTION = "instruction"
OBS_STEP = "step"
OBS_TIMESTAMP = "timestamp"
OBS_CAMERAS = "cameras"  # several cameras: name -> a dict of the camera keys above

OBS_KEYS = (
    OBS_RGB,
    OBS_DEPTH,
    OBS_SEGMENTATION,
    OBS_INTRINSICS,
    OBS_CAMERA_POSE,
    OBS_AGENT_POSE,
    OBS_INSTRUCTION,
    OBS_STEP,
    OBS_TIMESTAMP,
)

# Info dict keys.
INFO_LABELS = "labels"  # instance id -> object type (what a segmenting camera tells)
INFO_OBJECT_IDS = "object_ids"  # instance id -> objectId (as AI2-THOR's color_to_object_id)
INFO_PRIVILEGED = "privileged"  # simulator ground truth: oracles and tests only
INFO_TASK = "task"
INFO_SUCCESS = "success"
INFO_GOAL_SATISFIED = "goal_satisfied"
INFO_ACTION_NAME = "action_name"
INFO_ACTION_SUCCESS = "action_success"  # did the last action succeed (controller feedback)
INFO_ACTION_ERROR = "action_error"  # why not, if it failed
INFO_SCENE = "scene"  # which house or scene (an agent keeps its map per scene)
INFO_FRAME_ID = "frame_id"  # a camera's coordinate frame name (ROS frame_id)

# Keys inside the privileged dict.
PRIV_METADATA = "metadata"  # AI2-THOR-style metadata dict
PRIV_RELOCATED = "relocated"  # lifelong worlds: ids of the objects moved before this episode

# Action dict keys.
ACT_ACTION = "action"
ACT_OBJECT = "object"
