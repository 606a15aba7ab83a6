"""Read-only views of spatial memory, for planners and critics.

Planners choose skills from what spatial memory believes, but must not change it: only the
memory's own write path does. :class:`SceneView` is the part of the scene graph a planner may
read (look an object up by key, list every object, find the objects of a type), and
:class:`ObjectView` the part of an object's record it may read, as read-only properties. Both
are typing protocols: :class:`~robomem.memory.scene_graph.SceneGraph` and
:class:`~robomem.memory.object_node.ObjectNode` satisfy them as they are, so a view costs no
copy, and a type checker refuses a planner that assigns to a node or reaches for the graph
behind the view. :attr:`SpatialMemory.scene <robomem.memory.spatial.SpatialMemory.scene>` is
the view a :class:`~robomem.planners.base.PlanContext` carries.

Example:
    >>> import numpy as np
    >>> from robomem.geometry import AABB
    >>> from robomem.memory.scene_graph import SceneGraph
    >>> from robomem.memory.view import SceneView
    >>> from robomem.percept import Detection, Percept
    >>> from robomem.types import AgentPose
    >>> mug = Detection("Mug|1", "Mug", AABB.from_center_size([0, 0.9, 1], [0.1] * 3))
    >>> sg = SceneGraph()
    >>> _ = sg.update(Percept(0, 0.0, AgentPose(0, 0.9, 0, 0, 0), np.eye(4), np.eye(3),
    ...                       np.zeros((1, 1), np.float32), np.zeros((0, 3), np.float32), [mug]))
    >>> scene: SceneView = sg
    >>> [n.key for n in scene.find("Mug")], scene.node("Mug|1").label, scene.node("Cup|1")
    (['Mug|1'], 'Mug', None)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from robomem.geometry import AABB

__all__ = ["ObjectView", "SceneView"]


class ObjectView(Protocol):
    """What a planner may read about one remembered object (see :class:`ObjectNode`).

    :class:`~robomem.memory.object_node.ObjectNode` implements it; the fields mean what
    they mean there.
    """

    @property
    def key(self) -> str:
        """Stable identity (the detection key)."""
        ...

    @property
    def label(self) -> str:
        """Object type."""
        ...

    @property
    def box(self) -> AABB:
        """World-frame box (last sighting, or an estimate after a put-down)."""
        ...

    @property
    def center(self) -> tuple[float, float, float]:
        """Box centre as plain floats."""
        ...

    @property
    def first_seen(self) -> int:
        """Step of the first sighting."""
        ...

    @property
    def last_seen(self) -> int:
        """Step of the latest sighting."""
        ...

    @property
    def confidence(self) -> float:
        """Belief that the object is where ``box`` says, in [0, 1]."""
        ...

    @property
    def receptacle(self) -> bool:
        """Things can go in or on it."""
        ...

    @property
    def pickupable(self) -> bool:
        """The agent can carry it."""
        ...

    @property
    def openable(self) -> bool:
        """It opens."""
        ...

    @property
    def is_open(self) -> bool | None:
        """Open state, None when unknown."""
        ...

    @property
    def is_toggled(self) -> bool | None:
        """On/off state, None when unknown."""
        ...

    @property
    def parent(self) -> str | None:
        """Key of the receptacle it is in or on."""
        ...

    @property
    def relation(self) -> str | None:
        """``"in"`` or ``"on"`` (with ``parent``)."""
        ...

    @property
    def room(self) -> str | None:
        """Id of the room it is in, when rooms are known."""
        ...

    @property
    def held(self) -> bool:
        """The agent holds it."""
        ...

    @property
    def sightings(self) -> int:
        """Number of steps it was seen in."""
        ...

    @property
    def located(self) -> bool:
        """``box`` comes from a sighting (False after a put-down until seen again)."""
        ...


class SceneView(Protocol):
    """What a planner may read of the scene graph (see :class:`SceneGraph`)."""

    def node(self, key: str) -> ObjectView | None:
        """The object with ``key``, if known."""
        ...

    def nodes(self) -> Sequence[ObjectView]:
        """Every object, by key."""
        ...

    def find(self, label: str) -> Sequence[ObjectView]:
        """Objects of type ``label``, best first (confidence, then recency, then key)."""
        ...
