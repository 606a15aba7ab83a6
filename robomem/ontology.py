"""What the agent knows about object types in general, independent of any particular house.

Affordances (can it be picked up, opened, switched on; do things go on it or inside it) and
where a type of object is usually kept. The table is built once from the Household catalog;
labels the catalog does not know (a real detector may report anything) get a neutral
:class:`TypeInfo` rather than an error.

Example:
    >>> from robomem.ontology import type_info
    >>> type_info("Fridge").container, type_info("Apple").pickupable
    (True, True)
    >>> "CounterTop" in type_info("Mug").usual_places
    True
    >>> type_info("Giraffe") == type_info("")
    True
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

__all__ = ["NEUTRAL", "TypeInfo", "known_types", "type_info"]


@dataclass(frozen=True)
class TypeInfo:
    """Affordances of one object type.

    Attributes:
        receptacle: other objects can be put in or on it.
        pickupable: the agent can pick it up.
        openable: it has a door or drawer that opens.
        toggleable: it can be switched on and off.
        container: things go *inside* it (fridge, cabinet, drawer, microwave, sink basin);
            for other receptacles they go *on* it.
        usual_places: receptacle types where such objects are usually kept (pickupables).
    """

    receptacle: bool = False
    pickupable: bool = False
    openable: bool = False
    toggleable: bool = False
    container: bool = False
    usual_places: tuple[str, ...] = ()

    @property
    def furniture(self) -> bool:
        """True for known non-pickupable types that hold things or stand in rooms."""
        return not self.pickupable and (self.receptacle or self.toggleable)


NEUTRAL = TypeInfo()
"""The affordances assumed for an unknown label: none."""


@functools.cache
def _table() -> dict[str, TypeInfo]:
    # Imported here: the ontology must not pull the simulator in at import time.
    from robomem.envs.household.catalog import KINDS

    return {
        name: TypeInfo(
            receptacle=k.receptacle,
            pickupable=k.pickupable,
            openable=k.openable,
            toggleable=k.toggleable,
            container=k.receptacle and k.style in ("container", "basin"),
            usual_places=tuple(k.usual_places),
        )
        for name, k in KINDS.items()
    }


def type_info(label: str) -> TypeInfo:
    """The affordances of object type ``label`` (:data:`NEUTRAL` when unknown).

    Args:
        label: an object type name such as ``"Mug"``.

    Returns:
        The type's :class:`TypeInfo`.
    """
    return _table().get(label, NEUTRAL)


def known_types() -> tuple[str, ...]:
    """Every object type the ontology knows, sorted."""
    return tuple(sorted(_table()))
