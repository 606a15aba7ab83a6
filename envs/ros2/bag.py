"""Recording a robot's ROS 2 traffic to MCAP, and replaying it into the agent offline.

:class:`BagRecorder` writes a rosbag2 folder whose storage is MCAP (``rosbags``'s writer, with
each topic's message definition from ROS 2 Jazzy's type store, so Foxglove Studio and
``ros2 bag play`` open it). Messages are serialised to CDR by rclpy itself, so what is in the
bag is byte for byte what travelled.

``robomem/ROS2Robot-v0`` records with ``record=PATH``: every message it takes from the robot,
in the order its callbacks ran, and every command it sends. With ``replay=PATH`` the same env
reads such a bag instead of joining a graph (:class:`BagReplay`): the recorded messages reach
its callbacks one by one in the recorded order, and each command the agent sends is compared
with the one recorded next. The same agent on the same messages makes the same decisions, so
a replay rebuilds the live run's memory; an agent that sends something else stops the replay
with :class:`ReplayDiverged`, naming both.

Example (writing and reading back one message; needs the ``ros`` extra):
    >>> import tempfile
    >>> from std_msgs.msg import String
    >>> path = tempfile.mkdtemp() + "/demo"
    >>> with BagRecorder(path) as bag:
    ...     bag.write("/speech", String(data="put the mug in the sink"), 1_000)
    >>> [(e.topic, e.message.data) for e in BagReplay(path).entries()]
    [('/speech', 'put the mug in the sink')]
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from robomem.envs.ros2.node import deserialize, serialize

__all__ = ["BagEntry", "BagRecorder", "BagReplay", "ReplayDiverged", "type_name"]

log = logging.getLogger(__name__)


class ReplayDiverged(RuntimeError):
    """The agent did something else than the recording shows (or the recording ran out)."""


def _rosbags() -> Any:
    try:
        import rosbags.rosbag2 as rosbag2
    except ImportError as e:
        raise ImportError("recording and replaying ROS 2 runs needs rosbags: pip install "
                          f"'robomem[ros]' ({e})") from e
    return rosbag2


def type_name(cls: type) -> str:
    """The ROS 2 type name of an rclpy message class (``sensor_msgs/msg/Image``)."""
    package = cls.__module__.split(".")[0]
    return f"{package}/msg/{cls.__name__}"


class BagRecorder:
    """Writes messages to a new rosbag2 folder with MCAP storage (module docstring).

    Args:
        path: the bag folder to create (it must not exist; rosbag2's own rule).
    """

    def __init__(self, path: str | Path) -> None:
        rosbag2 = _rosbags()
        from rosbags.typesys import Stores, get_typestore

        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(f"cannot record to {str(self.path)!r}: it exists (a bag is a "
                                  f"new folder; choose another name or remove it)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._typestore = get_typestore(Stores.ROS2_JAZZY)
        self._writer = rosbag2.Writer(self.path, version=9,
                                      storage_plugin=rosbag2.StoragePlugin.MCAP)
        self._writer.open()
        self._connections: dict[str, Any] = {}
        self._last = 0
        self.count = 0

    def write(self, topic: str, msg: Any, stamp_ns: int) -> None:
        """Append ``msg`` (an rclpy message) on ``topic`` at log time ``stamp_ns``.

        Log times are kept strictly increasing, so a replay sees the order of the writes.
        """
        conn = self._connections.get(topic)
        if conn is None:
            conn = self._writer.add_connection(topic, type_name(type(msg)),
                                               typestore=self._typestore)
            self._connections[topic] = conn
        self._last = max(int(stamp_ns), self._last + 1)
        self._writer.write(conn, self._last, serialize(msg))
        self.count += 1

    def close(self) -> None:
        """Finish the bag (its metadata and MCAP summary); idempotent."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            log.info("recorded %d messages to %s", self.count, self.path)

    def __enter__(self) -> BagRecorder:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


@dataclass(frozen=True)
class BagEntry:
    """One recorded message."""

    topic: str
    type: str  # ROS 2 type name
    stamp_ns: int  # log time
    message: Any  # the rclpy message


def message_class(name: str) -> type:
    """The rclpy message class of a ROS 2 type name (``sensor_msgs/msg/Image``)."""
    import importlib

    package, kind, cls = name.split("/")
    if kind != "msg":
        raise ValueError(f"{name!r} is not a message type")
    return getattr(importlib.import_module(f"{package}.msg"), cls)  # type: ignore[no-any-return]


class BagReplay:
    """A recorded bag's messages, in log-time order, as rclpy messages.

    Args:
        path: a rosbag2 folder (MCAP or SQLite storage) or its ``.mcap`` file's folder.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not (self.path / "metadata.yaml").is_file():
            raise FileNotFoundError(f"{str(self.path)!r} is not a rosbag2 folder (it has no "
                                    f"metadata.yaml); record one with env.record=PATH")

    def topics(self) -> dict[str, str]:
        """Topic -> ROS 2 type name of every recorded topic."""
        with _rosbags().Reader(self.path) as reader:
            return {c.topic: c.msgtype for c in reader.connections}

    def entries(self) -> Generator[BagEntry, None, None]:
        """Every message, oldest first, deserialised by rclpy."""
        classes: dict[str, type] = {}
        with _rosbags().Reader(self.path) as reader:
            for conn, stamp, raw in reader.messages():
                cls = classes.get(conn.msgtype)
                if cls is None:
                    cls = classes[conn.msgtype] = message_class(conn.msgtype)
                yield BagEntry(conn.topic, conn.msgtype, int(stamp),
                               deserialize(bytes(raw), cls))
