"""The agent's memory on ROS 2: the scene graph as markers and JSON, and questions answered.

When ``robomem run`` drives ``robomem/ROS2Robot-v0``, the runner hands the env the agent's
:class:`~robomem.memory.reader.MemoryReader`, and the env's node then also:

- publishes the scene graph as a ``visualization_msgs/MarkerArray`` on ``topics.markers``
  (RViz and Foxglove draw it: a box per object, coloured by type and as opaque as memory is
  sure, its key and confidence above it, and a line to the receptacle it is in or on) and as
  JSON on ``topics.scene_graph`` (latched), before every step;
- answers questions sent on ``topics.query`` (``std_msgs/String``: plain text, or JSON
  ``{"id": ..., "question": "where is the mug?"}``) with JSON on ``topics.answer``, positions
  given in the map frame (REP 103) as ``position`` beside robomem's own ``center``;
- serves ``std_srvs/Trigger`` on ``topics.scene_graph + "/get"``: the scene graph JSON now
  (on a live graph; through rosbridge the JSON topic and the questions serve instead).

Questions are answered while the env waits for the robot (inside a step), from the memory the
agent has written so far; between the agent's steps nobody changes memory under the answer.
"""

from __future__ import annotations

import colorsys
import json
import logging
import zlib
from typing import Any

import numpy as np

from robomem.envs.ros2.config import RosTopics
from robomem.envs.ros2.convert import PERMUTE
from robomem.envs.ros2.node import marker_msgs, msgs, qos, to_stamp
from robomem.envs.ros2.ports import Ports
from robomem.memory.reader import MemoryReader

__all__ = ["MemoryTopics", "to_map"]

log = logging.getLogger(__name__)
MAX_QUERY_CHARS = 2000


def to_map(v: Any) -> list[float]:
    """A robomem world-frame vector (point or size) in the ROS map frame."""
    return [round(float(x), 4) for x in PERMUTE.T @ np.asarray(v, np.float64)]


def _color(label: str, confidence: float) -> tuple[float, float, float, float]:
    hue = (zlib.crc32(label.encode()) % 360) / 360.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.65, 0.95)
    return r, g, b, 0.25 + 0.65 * max(0.0, min(1.0, confidence))


class MemoryTopics:
    """Publishes one agent's memory and answers questions to it (module docstring).

    Args:
        ports: the env's ports (a live node, rosbridge, or a replay) to publish through.
        topics: where (``scene_graph``, ``markers``, ``query``, ``answer``; "" turns one off).
        reader: the agent's memory, read only.
    """

    def __init__(self, ports: Ports, topics: RosTopics, reader: MemoryReader) -> None:
        self.topics, self.reader, self.ports = topics, reader, ports
        self.m, self.v = msgs(), marker_msgs()
        t = topics
        self._json = (ports.publisher(self.m.String, t.scene_graph, qos("latched"))
                      if t.scene_graph else None)
        self._markers = (ports.publisher(self.v.MarkerArray, t.markers, qos("latched"))
                         if t.markers else None)
        self._answers = (ports.publisher(self.m.String, t.answer, qos("command", 50))
                         if t.answer else None)
        if t.query and self._answers is not None:
            ports.subscribe(self.m.String, t.query, self._on_query, qos("command", 50))
        self.serves_graph = bool(t.scene_graph) and ports.service(
            self.v.Trigger, t.scene_graph + "/get", self._on_get)
        self.counts = {"published": 0, "questions": 0}

    def now(self) -> Any:
        """The ports' time as a ``builtin_interfaces/Time``."""
        sec, nanosec = to_stamp(self.ports.now())
        return self.v.Time(sec=sec, nanosec=nanosec)

    # ------------------------------------------------------------------ scene graph
    def snapshot(self) -> dict[str, Any]:
        """The scene graph as JSON-ready dict: objects (with map-frame positions) and rooms."""
        objects = [{**o, "position": to_map(o["center"])} for o in self.reader.objects()]
        stamp = self.now()
        return {"frame": self.topics.frame, "stamp": [stamp.sec, stamp.nanosec],
                "objects": objects, "rooms": dict(self.reader.rooms())}

    def publish(self) -> None:
        """Publish the scene graph now (JSON and markers)."""
        if self._json is None and self._markers is None:
            return
        snap = self.snapshot()
        if self._json is not None:
            self._json.publish(self.m.String(data=json.dumps(snap)))
        if self._markers is not None:
            self._markers.publish(self.markers(snap))
        self.counts["published"] += 1

    def markers(self, snap: dict[str, Any]) -> Any:
        """A MarkerArray of a :meth:`snapshot`: clear, then boxes, labels and relations."""
        v, frame = self.v, self.topics.frame
        stamp = self.now()

        def marker(ns: str, ident: int, kind: int) -> Any:
            mk = v.Marker()
            mk.header.frame_id, mk.header.stamp = frame, stamp
            mk.ns, mk.id, mk.type, mk.action = ns, ident, kind, v.Marker.ADD
            mk.pose.orientation.w = 1.0
            return mk

        out = v.MarkerArray()
        clear = v.Marker()
        clear.header.frame_id, clear.header.stamp = frame, stamp
        clear.action = v.Marker.DELETEALL
        out.markers.append(clear)
        by_key = {o["key"]: o for o in snap["objects"]}
        lines = marker("relations", 0, v.Marker.LINE_LIST)
        lines.scale.x = 0.01
        lines.color.r = lines.color.g = lines.color.b = lines.color.a = 0.8
        for i, o in enumerate(snap["objects"]):
            x, y, z = o["position"]
            box = marker("objects", i, v.Marker.CUBE)
            box.pose.position.x, box.pose.position.y, box.pose.position.z = x, y, z
            sx, sy, sz = (max(0.02, abs(s)) for s in to_map(o["size"]))
            box.scale.x, box.scale.y, box.scale.z = sx, sy, sz
            box.color.r, box.color.g, box.color.b, box.color.a = _color(o["label"],
                                                                         o["confidence"])
            out.markers.append(box)
            text = marker("labels", i, v.Marker.TEXT_VIEW_FACING)
            text.pose.position.x, text.pose.position.y = x, y
            text.pose.position.z = z + sz / 2 + 0.08
            text.scale.z = 0.1
            text.color.r = text.color.g = text.color.b = text.color.a = 1.0
            text.text = f"{o['key']} ({o['confidence']:.2f})"
            out.markers.append(text)
            parent = by_key.get(o["parent"]) if o["parent"] else None
            if parent is not None:
                lines.points.extend([v.Point(x=x, y=y, z=z),
                                     v.Point(x=parent["position"][0], y=parent["position"][1],
                                             z=parent["position"][2])])
        if lines.points:
            out.markers.append(lines)
        return out

    # ------------------------------------------------------------------ questions
    def _on_query(self, msg: Any) -> None:
        text, ident = str(msg.data)[:MAX_QUERY_CHARS], None
        if text.lstrip().startswith("{"):
            try:
                body = json.loads(text)
            except json.JSONDecodeError as e:
                body = {"question": "", "error": f"not JSON ({e.msg})"}
            if isinstance(body, dict):
                ident, text = body.get("id"), str(body.get("question", ""))
        answer = self.reader.ask(text).to_dict()
        for o in answer["objects"]:
            o["position"] = to_map(o["center"])
        answer.update({"id": ident if isinstance(ident, (int, str)) else None,
                       "frame": self.topics.frame})
        self.counts["questions"] += 1
        assert self._answers is not None
        self._answers.publish(self.m.String(data=json.dumps(answer)))

    def _on_get(self, request: Any, response: Any) -> Any:
        response.success = True
        response.message = json.dumps(self.snapshot())
        return response
