"""The dict action form robomem's bridge envs take: ``{"action": name or index, "object": id}``.

Example:
    >>> from robomem.envs.action_form import parse_action
    >>> parse_action({"action": 1, "object": ""}, ("MoveAhead", "PickupObject"))
    ('PickupObject', None)
    >>> parse_action({"action": "MoveAhead", "object": "Mug|1"}, ("MoveAhead",))
    ('MoveAhead', 'Mug|1')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from robomem import keys
from robomem.untrusted import quote

__all__ = ["parse_action"]


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
