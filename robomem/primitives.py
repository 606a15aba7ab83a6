"""robomem's primitive actions: what the executor emits and each embodiment translates.

The names are robomem's own. An :class:`~robomem.embodiment.Embodiment` maps each one it
supports to its world's action (Household and AI2-THOR: ``move_ahead`` -> ``MoveAhead``,
``pickup`` -> ``PickupObject``). The interaction primitives share their names with the
skills that end in them (:mod:`robomem.skills`).

The order is fixed: world models number actions by it (:func:`primitive_id`), so appending is
fine and reordering breaks trained models.

Example:
    >>> from robomem.primitives import Primitive, needs_object, primitive_id
    >>> Primitive.PICKUP.value, needs_object("pickup"), needs_object("move_ahead")
    ('pickup', True, False)
    >>> primitive_id("move_ahead"), primitive_id("done")
    (0, 14)
"""

from __future__ import annotations

from enum import Enum

from robomem.untrusted import quote

__all__ = ["INTERACTIONS", "MOTIONS", "PRIMITIVES", "TARGETED", "Primitive", "needs_object",
           "primitive_id"]


class Primitive(str, Enum):
    """One primitive action of a mobile manipulator (in a fixed order)."""

    MOVE_AHEAD = "move_ahead"
    MOVE_BACK = "move_back"
    MOVE_LEFT = "move_left"
    MOVE_RIGHT = "move_right"
    ROTATE_LEFT = "rotate_left"
    ROTATE_RIGHT = "rotate_right"
    LOOK_UP = "look_up"
    LOOK_DOWN = "look_down"
    PICKUP = "pickup"
    PUT = "put"
    OPEN = "open"
    CLOSE = "close"
    TOGGLE_ON = "toggle_on"
    TOGGLE_OFF = "toggle_off"
    DONE = "done"
    FIND = "find"
    """Go straight to a view of the target (EB-ALFRED's "find X"); worlds that can teleport."""


PRIMITIVES: tuple[str, ...] = tuple(p.value for p in Primitive)
MOTIONS: tuple[str, ...] = PRIMITIVES[:4]
"""The lattice moves (no turning)."""
INTERACTIONS: tuple[str, ...] = PRIMITIVES[8:14]
"""The primitives that act on an object (``Action.object_id``)."""
TARGETED: tuple[str, ...] = (*INTERACTIONS, Primitive.FIND.value)
"""The primitives that take a target (an object id, or for ``find`` also a type)."""
_INDEX = {p: i for i, p in enumerate(PRIMITIVES)}


def needs_object(name: str) -> bool:
    """Whether primitive ``name`` takes a target object."""
    return name in TARGETED


def primitive_id(name: str) -> int:
    """The fixed index of primitive ``name``.

    Raises:
        ValueError: an unknown name; the message lists the known ones.
    """
    try:
        return _INDEX[name]
    except KeyError:
        raise ValueError(f"unknown primitive {quote(name)}; known: {', '.join(PRIMITIVES)}") \
            from None
