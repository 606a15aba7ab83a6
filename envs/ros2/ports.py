"""Where a ROS 2 env's messages come from and go to: a live graph, or a recorded bag.

``robomem/ROS2Robot-v0`` subscribes, publishes and spins through :class:`Ports`, so the same
code runs live (:class:`LivePorts`, a node in a context of its own, or rosbridge's ports in
``envs/ros2/rosbridge.py``), recorded (:class:`RecordingPorts` around either, writing every
message taken and sent to MCAP) and offline (:class:`ReplayPorts`, the messages of a bag
handed to the same callbacks in the recorded order; ``envs/ros2/bag.py``).

Example (offline: a bag of one instruction, handed to a callback):
    >>> import tempfile
    >>> from std_msgs.msg import String
    >>> from robomem.envs.ros2.bag import BagRecorder
    >>> path = tempfile.mkdtemp() + "/demo"
    >>> with BagRecorder(path) as bag:
    ...     bag.write("/speech", String(data="heat a mug"), 1_000)
    >>> ports, heard = ReplayPorts(path), []
    >>> ports.subscribe(String, "/speech", lambda m: heard.append(m.data), None)
    >>> ports.spin_once(0.0); heard
    ['heat a mug']
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from robomem.envs.ros2.bag import BagEntry, BagRecorder, BagReplay, ReplayDiverged
from robomem.envs.ros2.node import RosNode, serialize

__all__ = ["LivePorts", "Ports", "Publisher", "RecordingPorts", "ReplayPorts"]

log = logging.getLogger(__name__)
Callback = Callable[[Any], None]


class Publisher(ABC):
    """Sends messages on one topic."""

    @abstractmethod
    def publish(self, msg: Any) -> None:
        """Send ``msg``."""

    @abstractmethod
    def get_subscription_count(self) -> int:
        """How many subscribers listen (rclpy's name, so a live publisher fits as is)."""


class Ports(ABC):
    """An env's way to the robot (module docstring)."""

    @abstractmethod
    def subscribe(self, cls: type, topic: str, callback: Callback, qos: Any) -> None:
        """Call ``callback`` with each message of type ``cls`` on ``topic``."""

    @abstractmethod
    def publisher(self, cls: type, topic: str, qos: Any) -> Publisher:
        """A publisher of ``cls`` messages on ``topic``."""

    @abstractmethod
    def spin_once(self, timeout: float) -> None:
        """Run at most one waiting callback (waiting at most ``timeout`` s)."""

    @abstractmethod
    def now(self) -> float:
        """The current time (s): the wall clock live, the recording's time offline."""

    @abstractmethod
    def close(self) -> None:
        """Release the graph or the bag (idempotent)."""

    def service(self, cls: type, name: str, handler: Callable[[Any, Any], Any]) -> bool:
        """Serve ``name`` with ``handler(request, response)``; False where these ports cannot."""
        return False

    def stats(self) -> dict[str, float]:
        """The transport's own counters (none here; rosbridge counts its queue drops)."""
        return {}


class LivePorts(Ports):
    """A node on a live graph.

    Args:
        ros: the node (``envs/ros2/node.py``'s ``start_node``).
    """

    def __init__(self, ros: RosNode) -> None:
        self.ros = ros

    def subscribe(self, cls: type, topic: str, callback: Callback, qos: Any) -> None:
        """Subscribe on the node."""
        self.ros.node.create_subscription(cls, topic, callback, qos)

    def publisher(self, cls: type, topic: str, qos: Any) -> Publisher:
        """A node publisher (rclpy's publisher has the :class:`Publisher` methods)."""
        pub: Publisher = self.ros.node.create_publisher(cls, topic, qos)
        return pub

    def service(self, cls: type, name: str, handler: Callable[[Any, Any], Any]) -> bool:
        """Serve ``name`` on the node (answered while the env spins)."""
        self.ros.node.create_service(cls, name, handler)
        return True

    def spin_once(self, timeout: float) -> None:
        """Spin the node once."""
        self.ros.spin_once(timeout)

    def now(self) -> float:
        """The wall clock (s)."""
        return time.time()

    def close(self) -> None:
        """Leave the graph."""
        self.ros.close()


class _RecordedPublisher(Publisher):
    def __init__(self, pub: Publisher, topic: str, recorder: BagRecorder) -> None:
        self._pub, self._topic, self._recorder = pub, topic, recorder

    def publish(self, msg: Any) -> None:
        self._recorder.write(self._topic, msg, time.time_ns())
        self._pub.publish(msg)

    def get_subscription_count(self) -> int:
        return int(self._pub.get_subscription_count())


class RecordingPorts(Ports):
    """Other ports (live or rosbridge), with every message taken or sent written to a bag.

    Args:
        inner: the ports to record.
        path: a new bag folder (MCAP; ``envs/ros2/bag.py``).
    """

    def __init__(self, inner: Ports, path: str | Path) -> None:
        self.inner = inner
        self.recorder = BagRecorder(path)

    def subscribe(self, cls: type, topic: str, callback: Callback, qos: Any) -> None:
        """Subscribe through the inner ports, recording each message before the callback."""
        rec = self.recorder

        def recorded(msg: Any) -> None:
            rec.write(topic, msg, time.time_ns())
            callback(msg)

        self.inner.subscribe(cls, topic, recorded, qos)

    def publisher(self, cls: type, topic: str, qos: Any) -> Publisher:
        """The inner ports' publisher, recording each message it sends."""
        return _RecordedPublisher(self.inner.publisher(cls, topic, qos), topic, self.recorder)

    def service(self, cls: type, name: str, handler: Callable[[Any, Any], Any]) -> bool:
        """Serve through the inner ports (calls are not recorded)."""
        return self.inner.service(cls, name, handler)

    def spin_once(self, timeout: float) -> None:
        """Spin the inner ports."""
        self.inner.spin_once(timeout)

    def now(self) -> float:
        """The inner ports' clock."""
        return self.inner.now()

    def stats(self) -> dict[str, float]:
        """The inner ports' counters."""
        return self.inner.stats()

    def close(self) -> None:
        """Close the inner ports and finish the recording."""
        try:
            self.inner.close()
        finally:
            self.recorder.close()


class _ReplayPublisher(Publisher):
    def __init__(self, ports: ReplayPorts, topic: str) -> None:
        self._ports, self._topic = ports, topic

    def publish(self, msg: Any) -> None:
        self._ports.expect(self._topic, msg)

    def get_subscription_count(self) -> int:
        return 1


class ReplayPorts(Ports):
    """A recorded bag in place of the graph (module docstring).

    Each ``spin_once`` hands the next recorded message to its subscriber. A message the env
    sends must be the one recorded next on its topic; otherwise, and when the env waits for
    the robot where the recording has it send something first, :class:`ReplayDiverged`.
    Messages on topics the env neither takes nor sends are skipped.
    """

    def __init__(self, path: str | Path) -> None:
        self.bag = BagReplay(path)
        self._entries: Generator[BagEntry, None, None] = self.bag.entries()
        self._next: BagEntry | None = None
        self._subs: dict[str, Callback] = {}
        self._outgoing: set[str] = set()
        self._sent: dict[str, bytes] = {}  # the last message sent on each topic
        self._time = 0.0
        self.replayed = 0

    def subscribe(self, cls: type, topic: str, callback: Callback, qos: Any) -> None:
        """Hand this topic's recorded messages to ``callback``."""
        self._subs[topic] = callback

    def publisher(self, cls: type, topic: str, qos: Any) -> Publisher:
        """A publisher whose messages are checked against the recording."""
        self._outgoing.add(topic)
        return _ReplayPublisher(self, topic)

    def _peek(self) -> BagEntry | None:
        while self._next is None:
            e = next(self._entries, None)
            if e is None:
                return None
            if e.topic in self._subs or e.topic in self._outgoing:
                self._next = e
        return self._next

    def _take(self) -> BagEntry:
        e = self._peek()
        assert e is not None
        self._next = None
        self._time = e.stamp_ns * 1e-9
        self.replayed += 1
        return e

    def spin_once(self, timeout: float) -> None:
        """Hand the next recorded message to its subscriber."""
        e = self._peek()
        if e is None:
            raise ReplayDiverged(f"the recording {str(self.bag.path)!r} ends here, after "
                                 f"{self.replayed} messages, but the agent still waits for "
                                 f"the robot")
        if e.topic in self._outgoing and self._sent.get(e.topic) == serialize(e.message):
            self._take()  # a request the recording repeated (rosbridge resends resets)
            return
        if e.topic in self._outgoing:
            raise ReplayDiverged(f"the agent waits for the robot, but the recording has it "
                                 f"send {_show(e.message)} on {e.topic} first")
        self._take()
        self._subs[e.topic](e.message)

    def expect(self, topic: str, msg: Any) -> None:
        """The env sends ``msg`` on ``topic``: it must be the next recorded command."""
        while True:  # messages recorded before the command reach their subscribers first
            e = self._peek()
            if e is None or e.topic in self._outgoing:
                break
            self._take()
            self._subs[e.topic](e.message)
        if e is None:
            raise ReplayDiverged(f"the agent sends {_show(msg)} on {topic}, but the recording "
                                 f"{str(self.bag.path)!r} ends here")
        data = serialize(msg)
        if e.topic != topic or serialize(e.message) != data:
            raise ReplayDiverged(f"the agent sends {_show(msg)} on {topic}, but the recording "
                                 f"has {_show(e.message)} on {e.topic}")
        self._sent[topic] = data
        self._take()

    def now(self) -> float:
        """The log time of the last replayed message (s)."""
        return self._time

    def close(self) -> None:
        """Close the bag."""
        self._entries.close()


def _show(msg: Any) -> str:
    data = getattr(msg, "data", None)
    text = repr(data) if isinstance(data, str) else repr(msg)
    return text if len(text) <= 160 else text[:157] + "..."
