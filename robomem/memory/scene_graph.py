"""The scene graph: which objects the agent believes are where (house -> rooms -> objects).

Nodes are kept as :class:`ObjectNode` records and mirrored in a ``networkx.DiGraph``: a
``"house"`` node, room nodes ``"room:<id>"``, and one node per object key. Edges carry a
``relation`` attribute: ``contains`` (house -> room, room -> furniture and loose objects),
``in`` / ``on`` (object -> its supporting receptacle) and ``near`` (a symmetric pair between
a pickupable and a receptacle within 0.5 m that does not support it).

Each :meth:`SceneGraph.update` upserts the percept's detections, applies its events, works
out supports from geometry, and retires stale beliefs: a known object whose spot is in view,
close and unoccluded but that was not detected loses confidence and is finally dropped with
an :data:`~robomem.percept.EVENT_GONE` event.

Example:
    >>> import numpy as np
    >>> from robomem.geometry import AABB
    >>> from robomem.memory.scene_graph import SceneGraph
    >>> from robomem.percept import Detection, Percept
    >>> from robomem.types import AgentPose
    >>> top = AABB.from_center_size([0, 0.375, 2], [1.4, 0.75, 0.9])
    >>> table = Detection("Table|1", "DiningTable", top)
    >>> mug = Detection("Mug|1", "Mug", AABB.from_center_size([0.2, 0.8, 2], [0.09, 0.1, 0.09]))
    >>> p = Percept(0, 0.0, AgentPose(0, 0.9, 0, 0, 0), np.eye(4), np.eye(3),
    ...             np.zeros((1, 1), np.float32), np.zeros((0, 3), np.float32), [table, mug])
    >>> sg = SceneGraph()
    >>> sg.update(p)
    []
    >>> sg.node("Mug|1").parent, sg.node("Mug|1").relation, [n.key for n in sg.contents("Table|1")]
    ('Table|1', 'on', ['Mug|1'])
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from robomem.geometry import AABB
from robomem.memory.object_node import ObjectNode, graphml_ready
from robomem.memory.relations import near_pairs, stale_mask, supports
from robomem.memory.rooms import RoomMap
from robomem.ontology import Ontology, default_ontology
from robomem.percept import (
    EVENT_CLOSED,
    EVENT_GONE,
    EVENT_OPENED,
    EVENT_PICKED_UP,
    EVENT_PUT_DOWN,
    EVENT_TOGGLED_OFF,
    EVENT_TOGGLED_ON,
    Detection,
    ObjectEvent,
    Percept,
)

__all__ = ["HOUSE", "ObjectNode", "SceneGraph"]

HOUSE = "house"
_FLOOR = 0.05  # nodes whose bottom is this low stand on the floor


class SceneGraph:
    """Object-level memory of one house.

    Args:
        near: distance (m) under which a pickupable is ``near`` a receptacle.
        initial_confidence: confidence of a node seen once.
        sighting_gain: confidence added per later sighting (capped at 1).
        gone_decay: factor applied when an object is expected in view but not seen.
        gone_threshold: below this confidence the node is removed (EVENT_GONE).
        gone_range: only spots within this distance (m) of the camera are checked.
        occlusion_tol: a spot counts as unoccluded when its depth is at most the observed
            depth plus this (m).
        floor: objects whose bottom is this low stand on the floor and get no support (m;
            the world's floor height, a tabletop world's table top).
    """

    def __init__(self, near: float = 0.5, initial_confidence: float = 0.5,
                 sighting_gain: float = 0.15, gone_decay: float = 0.4,
                 gone_threshold: float = 0.25, gone_range: float = 3.0,
                 occlusion_tol: float = 0.03, ontology: Ontology | None = None,
                 floor: float = _FLOOR) -> None:
        self.ontology = ontology or default_ontology()
        self.floor = floor
        self.near = near
        self.initial_confidence, self.sighting_gain = initial_confidence, sighting_gain
        self.gone_decay, self.gone_threshold = gone_decay, gone_threshold
        self.gone_range, self.occlusion_tol = gone_range, occlusion_tol
        self.graph = nx.DiGraph()
        self._nodes: dict[str, ObjectNode] = {}
        self.rooms: dict[str, str] = {}  # room id -> room type
        self.reset()

    def reset(self) -> None:
        """Forget every object and room."""
        self._nodes.clear()
        self.rooms.clear()
        self.graph.clear()
        self.graph.add_node(HOUSE, kind="house")

    # ------------------------------------------------------------------ update
    def update(self, percept: Percept, rooms: RoomMap | None = None) -> list[ObjectEvent]:
        """Fold one percept into the graph.

        Args:
            percept: the step's detections, events and camera.
            rooms: the current room segmentation (room membership and types), if any.

        Returns:
            The events the graph itself concluded this step (:data:`EVENT_GONE`); the
            percept's own events are applied but not repeated.
        """
        step = percept.step
        # Events first: a put-down estimates where the object went, and a sighting in the
        # same frame (PutObject puts things in view) then replaces the estimate.
        for ev in percept.events:
            self._apply(ev)
        seen: set[str] = set()
        new_receptacle = False
        for d in percept.detections:
            new_receptacle |= self._upsert(d, step) and self.ontology.info(d.label).receptacle
            if d.visible:
                seen.add(d.key)
        listed = {d.key for d in percept.detections}  # vouched for: never stale this step
        if percept.held is not None and percept.held in self._nodes:
            self._pick(self._nodes[percept.held])
        redo = [n for n in self._nodes.values() if n.located and not n.held and (
            new_receptacle or n.key in seen or n.parent is None)]
        self._support(redo)
        out = self._stale(percept, listed)
        if rooms is not None:
            self._assign_rooms(rooms)
        self._sync_edges()
        return out

    def _upsert(self, d: Detection, step: int) -> bool:
        """Insert or refresh a node from a detection; True when the node is new."""
        n = self._nodes.get(d.key)
        if n is None:
            t = self.ontology.info(d.label)
            self._nodes[d.key] = ObjectNode(
                key=d.key, label=d.label, box=d.box, first_seen=step, last_seen=step,
                confidence=self.initial_confidence, receptacle=t.receptacle,
                pickupable=t.pickupable, openable=t.openable)
            return True
        n.box = d.box
        if d.visible:
            n.last_seen, n.sightings, n.located = step, n.sightings + 1, True
            n.confidence = min(1.0, n.confidence + self.sighting_gain)
            n.held = False  # seen lying somewhere, so not in the hand
        return False

    def _pick(self, n: ObjectNode) -> None:
        n.held, n.parent, n.relation = True, None, None

    def _apply(self, ev: ObjectEvent) -> None:
        n = self._nodes.get(ev.key)
        if n is None:
            return
        if ev.kind == EVENT_PICKED_UP:
            self._pick(n)
        elif ev.kind == EVENT_PUT_DOWN:
            n.held, n.located = False, False
            host = self._nodes.get(ev.detail) if ev.detail else None
            n.parent = ev.detail or None
            n.relation = None
            if host is not None:
                n.relation = "in" if self.ontology.info(host.label).container else "on"
                size = n.box.size
                top = host.box.hi[1] if n.relation == "on" else host.box.center[1]
                c = np.array([host.box.center[0], top + size[1] / 2, host.box.center[2]])
                n.box = AABB.from_center_size(c, size)
        elif ev.kind in (EVENT_OPENED, EVENT_CLOSED):
            n.is_open = ev.kind == EVENT_OPENED
        elif ev.kind in (EVENT_TOGGLED_ON, EVENT_TOGGLED_OFF):
            n.is_toggled = ev.kind == EVENT_TOGGLED_ON
        elif ev.kind == EVENT_GONE:
            self._remove(ev.key)

    def _support(self, nodes: list[ObjectNode]) -> None:
        """Set parent/relation of ``nodes`` from geometry (unchanged when nothing fits)."""
        hosts = [n for n in self._nodes.values() if n.receptacle and not n.pickupable]
        objs = [n for n in nodes if n.box.lo[1] > self.floor]  # floor-standing: no support
        if not hosts or not objs:
            return
        found = supports(np.array([[*n.box.lo, *n.box.hi] for n in objs]),
                         np.array([[*h.box.lo, *h.box.hi] for h in hosts]),
                         np.array([self.ontology.info(h.label).container for h in hosts]),
                         exclude=np.array([[h is n for h in hosts] for n in objs]))
        for n, (k, rel) in zip(objs, found):
            if k >= 0:
                n.parent, n.relation = hosts[k].key, rel

    def _stale(self, percept: Percept, seen: set[str]) -> list[ObjectEvent]:
        cands = [n for n in self._nodes.values()
                 if n.pickupable and not n.held and n.located and n.key not in seen]
        if not cands:
            return []
        boxes = np.array([[*n.box.lo, *n.box.hi] for n in cands])
        mask = stale_mask(boxes, percept.camera_pose, percept.intrinsics, percept.depth,
                          self.gone_range, self.occlusion_tol)
        out: list[ObjectEvent] = []
        for n, gone in zip(cands, mask):
            if not gone:
                continue
            n.confidence *= self.gone_decay
            if n.confidence < self.gone_threshold:
                self._remove(n.key)
                out.append(ObjectEvent(EVENT_GONE, n.key, n.label, percept.step))
        return out

    def _remove(self, key: str) -> None:
        self._nodes.pop(key, None)
        for n in self._nodes.values():
            if n.parent == key:
                n.parent, n.relation = None, None
        if key in self.graph:
            self.graph.remove_node(key)

    def _assign_rooms(self, rooms: RoomMap) -> None:
        for n in self._nodes.values():
            c = n.box.center
            n.room = rooms.room_of(float(c[0]), float(c[2]))
        self.rooms = rooms.room_types(self, self.ontology)

    def set_rooms(self, rooms: RoomMap) -> None:
        """Re-assign every node's room (and the room nodes) from a new segmentation."""
        self._assign_rooms(rooms)
        self._sync_edges()

    def _sync_edges(self) -> None:
        """Rebuild the networkx mirror from the node records (deterministic order)."""
        g = self.graph
        g.remove_edges_from(list(g.edges))
        g.remove_nodes_from([v for v, k in list(g.nodes(data="kind"))
                             if k == "room" and v.removeprefix("room:") not in self.rooms])
        for rid in sorted(self.rooms):
            g.add_node(f"room:{rid}", kind="room", type=self.rooms[rid])
            g.add_edge(HOUSE, f"room:{rid}", relation="contains")
        for key in sorted(self._nodes):
            n = self._nodes[key]
            g.add_node(key, kind="object", node=n)
            if n.room is not None and n.room in self.rooms and (
                    not n.pickupable or (n.parent is None and not n.held)):
                g.add_edge(f"room:{n.room}", key, relation="contains")
            if n.parent is not None and n.parent in self._nodes:
                g.add_edge(key, n.parent, relation=n.relation or "on")
        loose = [n for n in self._nodes.values() if n.pickupable and not n.held]
        hosts = [n for n in self._nodes.values() if n.receptacle and not n.pickupable]
        if loose and hosts:
            pairs = near_pairs(np.array([[*n.box.lo, *n.box.hi] for n in loose]),
                               np.array([[*h.box.lo, *h.box.hi] for h in hosts]), self.near)
            for i, k in pairs:
                a, b = loose[i].key, hosts[k].key
                if loose[i].parent != b:
                    g.add_edge(a, b, relation="near")
                    g.add_edge(b, a, relation="near")

    # ------------------------------------------------------------------ queries
    def node(self, key: str) -> ObjectNode | None:
        """The node with ``key``, if known."""
        return self._nodes.get(key)

    def nodes(self) -> list[ObjectNode]:
        """Every object node, by key."""
        return [self._nodes[k] for k in sorted(self._nodes)]

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, key: object) -> bool:
        return key in self._nodes

    def find(self, label: str) -> list[ObjectNode]:
        """Nodes of type ``label``, best first (confidence, then recency, then key)."""
        hits = [n for n in self._nodes.values() if n.label == label]
        return sorted(hits, key=lambda n: (-n.confidence, -n.last_seen, n.key))

    def contents(self, key: str) -> list[ObjectNode]:
        """Objects believed in or on receptacle ``key``, by key."""
        return [n for n in self.nodes() if n.parent == key]

    def nearest(self, label: str, xz: tuple[float, float]) -> ObjectNode | None:
        """The node of type ``label`` whose centre is horizontally closest to ``xz``."""
        hits = self.find(label)
        if not hits:
            return None
        d = [float(np.hypot(n.box.center[0] - xz[0], n.box.center[2] - xz[1])) for n in hits]
        return hits[int(np.argmin(d))]

    def relations(self, key: str) -> list[tuple[str, str]]:
        """``(relation, other key)`` for every edge leaving ``key``, sorted."""
        if key not in self.graph:
            return []
        return sorted((str(a["relation"]), str(v)) for _, v, a in self.graph.out_edges(key,
                                                                                      data=True))

    # ------------------------------------------------------------------ export
    def to_json(self, insertion_order: bool = False) -> dict[str, Any]:
        """A JSON-ready dict: nodes, room types and edges.

        Args:
            insertion_order: list the nodes in the order they were first seen (which breaks
                ties in later support tests) rather than by key, so that :meth:`from_json`
                restores a graph that goes on updating exactly as this one would.
        """
        nodes = list(self._nodes.values()) if insertion_order else self.nodes()
        return {
            "nodes": [n.to_dict() for n in nodes],
            "rooms": dict(sorted(self.rooms.items())),
            "edges": sorted([str(u), str(v), str(a["relation"])]
                            for u, v, a in self.graph.edges(data=True)),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], **kwargs: Any) -> SceneGraph:
        """Rebuild a graph saved with :meth:`to_json`."""
        sg = cls(**kwargs)
        for d in data.get("nodes", []):
            n = ObjectNode.from_dict(d)
            sg._nodes[n.key] = n
        sg.rooms = {str(k): str(v) for k, v in data.get("rooms", {}).items()}
        sg._sync_edges()
        return sg

    def save_json(self, path: str | Path) -> None:
        """Write :meth:`to_json` to ``path``."""
        Path(path).write_text(json.dumps(self.to_json(), indent=1))

    def save_graphml(self, path: str | Path) -> None:
        """Write the graph as GraphML (scalar attributes only; boxes are flattened)."""
        nx.write_graphml(graphml_ready(self.graph), str(path))
