"""robomem's standard gym layout, shared by its envs.

The observation space of one RGB-D camera with instance ids and poses, and the dict action
form ``{"action": name or index, "object": id}``.

Example:
    >>> from robomem.envs.layout import camera_observation_space, parse_action
    >>> space = camera_observation_space(32, 48)
    >>> space["rgb"].shape, space["camera_pose"].shape
    ((32, 48, 3), (4, 4))
    >>> parse_action({"action": 1, "object": ""}, ("MoveAhead", "PickupObject"))
    ('PickupObject', None)
    >>> parse_action({"action": "MoveAhead", "object": "Mug|1"}, ("MoveAhead",))
    ('MoveAhead', 'Mug|1')
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

from robomem import keys
from robomem.untrusted import quote

__all__ = ["BOUND", "camera_observation_space", "parse_action"]

BOUND = 1e6  # finite bounds for poses and intrinsics


def camera_observation_space(height: int, width: int, *, max_depth: float = BOUND,
                             max_instance: int = 2**31 - 2, instruction_chars: int = 2000,
                             charset: str = string.printable, min_instruction: int = 1,
                             max_step: int = 100_000,
                             max_time: float = BOUND) -> spaces.Dict:
    """The observation space of robomem's standard layout (one camera, the top-level keys)."""
    return spaces.Dict({
        keys.OBS_RGB: spaces.Box(0, 255, (height, width, 3), np.uint8),
        keys.OBS_DEPTH: spaces.Box(0.0, max_depth, (height, width), np.float32),
        keys.OBS_SEGMENTATION: spaces.Box(0, max_instance, (height, width), np.int32),
        keys.OBS_INTRINSICS: spaces.Box(-BOUND, BOUND, (3, 3), np.float64),
        keys.OBS_CAMERA_POSE: spaces.Box(-BOUND, BOUND, (4, 4), np.float64),
        keys.OBS_AGENT_POSE: spaces.Box(-BOUND, BOUND, (5,), np.float32),
        keys.OBS_INSTRUCTION: spaces.Text(instruction_chars, min_length=min_instruction,
                                          charset=charset),
        keys.OBS_STEP: spaces.Box(0, max_step, (), np.int64),
        keys.OBS_TIMESTAMP: spaces.Box(0.0, max_time, (), np.float64),
    })


def parse_action(action: Any, names: Sequence[str]) -> tuple[str, str | None]:
    """``(action name, object id or None)`` of a dict action over ``names``.

    Raises:
        ValueError: not a dict with an ``action``, or an action not among ``names`` (the
            message lists them).
    """
    if not isinstance(action, dict) or keys.ACT_ACTION not in action:
        raise ValueError(f"an action is {{'action': name or index, 'object': id}}, got "
                         f"{quote(action)}")
    a = action[keys.ACT_ACTION]
    if isinstance(a, int | np.integer) and not isinstance(a, bool) and 0 <= int(a) < len(names):
        name = names[int(a)]
    elif isinstance(a, str) and a in names:
        name = a
    else:
        raise ValueError(f"unknown action {quote(a)}; known: {', '.join(names)}")
    obj = action.get(keys.ACT_OBJECT)
    return name, obj if isinstance(obj, str) and obj else None
