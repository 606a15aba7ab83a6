"""The action set of the Household simulator, with AI2-THOR's names.

Example:
    >>> from robomem.envs.household.actions import ACTIONS, needs_object
    >>> ACTIONS[0], needs_object("PickupObject"), needs_object("MoveAhead")
    ('MoveAhead', True, False)
"""

from __future__ import annotations

from robomem.untrusted import quote

MOVE_ACTIONS = ("MoveAhead", "MoveBack", "MoveLeft", "MoveRight")
TURN_ACTIONS = ("RotateLeft", "RotateRight", "LookUp", "LookDown")
OBJECT_ACTIONS = ("PickupObject", "PutObject", "OpenObject", "CloseObject",
                  "ToggleObjectOn", "ToggleObjectOff")
DONE = "Done"
ACTIONS: tuple[str, ...] = MOVE_ACTIONS + TURN_ACTIONS + OBJECT_ACTIONS + (DONE,)
ACTION_INDEX: dict[str, int] = {a: i for i, a in enumerate(ACTIONS)}


def needs_object(action: str) -> bool:
    """Whether ``action`` takes a target object."""
    return action in OBJECT_ACTIONS


def action_index(action: str) -> int:
    """Index of an action name; raises ``ValueError`` naming the valid actions on a miss."""
    try:
        return ACTION_INDEX[action]
    except KeyError:
        valid = ", ".join(ACTIONS)
        raise ValueError(f"unknown action {quote(action)}; valid actions: {valid}") from None
