"""The record the scene graph keeps per object, and its flat (GraphML-ready) forms.

Example:
    >>> import numpy as np
    >>> from robomem.geometry import AABB
    >>> from robomem.memory.object_node import ObjectNode
    >>> n = ObjectNode("Mug|1", "Mug", AABB(np.zeros(3), np.ones(3)), 0, 4, pickupable=True)
    >>> ObjectNode.from_dict(n.to_dict()) == n
    True
    >>> sorted(k for k in n.flat() if k.startswith("lo_"))
    ['lo_x', 'lo_y', 'lo_z']
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import networkx as nx
import numpy as np

from robomem.geometry import AABB

__all__ = ["ObjectNode", "graphml_ready"]


@dataclass(eq=False)
class ObjectNode:
    """What the agent believes about one object.

    Attributes:
        key: stable identity (the detection key).
        label: object type.
        box: world-frame box (last sighting, or an estimate after a put-down).
        first_seen: step of the first sighting.
        last_seen: step of the latest sighting.
        confidence: belief that the object is where ``box`` says, in [0, 1].
        receptacle: things can go in or on it.
        pickupable: the agent can carry it.
        openable: it opens.
        is_open: open state if known.
        is_toggled: on/off state if known.
        parent: key of the receptacle it is in or on.
        relation: ``"in"`` or ``"on"`` (with ``parent``).
        room: id of the room it is in (``"room_0"``), when rooms are known.
        held: the agent holds it.
        sightings: number of steps it was seen in.
        located: ``box`` comes from a sighting (False after a put-down until seen again).
    """

    key: str
    label: str
    box: AABB
    first_seen: int
    last_seen: int
    confidence: float = 0.5
    receptacle: bool = False
    pickupable: bool = False
    openable: bool = False
    is_open: bool | None = None
    is_toggled: bool | None = None
    parent: str | None = None
    relation: str | None = None
    room: str | None = None
    held: bool = False
    sightings: int = 1
    located: bool = True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ObjectNode):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable record

    @property
    def center(self) -> tuple[float, float, float]:
        """Box centre as plain floats."""
        c = self.box.center
        return (float(c[0]), float(c[1]), float(c[2]))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the box as ``{"lo": [...], "hi": [...]}``)."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["box"] = self.box.to_dict()
        d["confidence"] = float(self.confidence)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ObjectNode:
        """Inverse of :meth:`to_dict` (unknown keys are ignored)."""
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["box"] = AABB.from_dict(d["box"])
        return cls(**kw)

    def flat(self) -> dict[str, Any]:
        """Scalar attributes only: the box as ``lo_x .. hi_z``, None values left out."""
        d = {k: v for k, v in self.to_dict().items() if v is not None and k != "box"}
        for name, arr in (("lo", self.box.lo), ("hi", self.box.hi)):
            for axis, v in zip("xyz", np.asarray(arr, np.float64)):
                d[f"{name}_{axis}"] = float(v)
        return d


def graphml_ready(g: nx.DiGraph) -> nx.DiGraph:
    """A copy of a scene graph whose attributes are all scalars (GraphML can store them)."""
    out = nx.DiGraph()
    for v, attrs in g.nodes(data=True):
        flat: dict[str, Any] = {}
        for k, a in attrs.items():
            if isinstance(a, ObjectNode):
                flat.update(a.flat())
            elif a is not None:
                flat[k] = a if isinstance(a, (bool, int, float, str)) else str(a)
        out.add_node(v, **flat)
    for u, v, attrs in g.edges(data=True):
        out.add_edge(u, v, **{k: a for k, a in attrs.items() if a is not None})
    return out
