"""Starting rclpy for robomem: a private context, the domain, QoS profiles, message classes.

Everything here imports ``rclpy`` lazily and turns a missing install into :class:`RosUnavailable`
naming the ``ros`` extra. A context of robomem's own (not rclpy's global one) keeps an env and
a server in one process apart and lets each shut down cleanly; rclpy's signal handlers are
installed only when asked (``robomem ros serve``), never by an env inside a user's program.

``ROS_AUTOMATIC_DISCOVERY_RANGE`` and ``ROS_DOMAIN_ID`` are read by the middleware when the
context starts: set them before (the test suite sets ``LOCALHOST`` and a private domain per
test; docs/ros.md says how to keep discovery on the host).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["RosNode", "RosUnavailable", "deserialize", "marker_msgs", "msgs", "qos",
           "quiet_rosidl", "serialize", "start_node", "to_stamp"]

log = logging.getLogger(__name__)


class RosUnavailable(RuntimeError):
    """ROS 2's Python client cannot be used here; the message says what to install."""


def _rclpy() -> Any:
    try:
        import rclpy
    except ImportError as e:
        raise RosUnavailable("robomem's ROS 2 parts need rclpy and the message packages: "
                             "pip install 'robomem[ros]' (ROS 2 Jazzy wheels for CPython "
                             f"3.11; {e})") from e
    return rclpy


def msgs() -> Any:
    """The message classes robomem uses, as one namespace (imported on first use)."""
    _rclpy()
    from types import SimpleNamespace

    from geometry_msgs.msg import PoseStamped, Twist
    from nav_msgs.msg import Odometry
    from sensor_msgs.msg import CameraInfo, Image
    from std_msgs.msg import String

    return SimpleNamespace(Image=Image, CameraInfo=CameraInfo, PoseStamped=PoseStamped,
                           Twist=Twist, Odometry=Odometry, String=String)


def marker_msgs() -> Any:
    """Marker and MarkerArray, Point, ColorRGBA, Time, and std_srvs Trigger."""
    _rclpy()
    from types import SimpleNamespace

    from builtin_interfaces.msg import Time
    from geometry_msgs.msg import Point
    from std_msgs.msg import ColorRGBA
    from std_srvs.srv import Trigger
    from visualization_msgs.msg import Marker, MarkerArray

    return SimpleNamespace(Marker=Marker, MarkerArray=MarkerArray, Point=Point,
                           ColorRGBA=ColorRGBA, Trigger=Trigger, Time=Time)


def qos(kind: str, depth: int = 10, reliability: str = "reliable") -> Any:
    """A QoS profile: ``sensor`` (keep last ``depth``), ``latched`` or ``command``."""
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

    if kind == "latched":  # the last instruction reaches a subscriber that joins later
        return QoSProfile(  # type: ignore[no-untyped-call]
            depth=1, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE,
            durability=DurabilityPolicy.TRANSIENT_LOCAL)
    rel = (ReliabilityPolicy.BEST_EFFORT if kind == "sensor" and reliability == "best_effort"
           else ReliabilityPolicy.RELIABLE)
    return QoSProfile(  # type: ignore[no-untyped-call]
        depth=depth, history=HistoryPolicy.KEEP_LAST, reliability=rel)


@dataclass
class RosNode:
    """A node in a context of its own, with the executor that spins it."""

    context: Any
    node: Any
    executor: Any

    def spin_once(self, timeout: float = 0.05) -> None:
        """Run the callbacks that are ready (waiting at most ``timeout`` s)."""
        self.executor.spin_once(timeout_sec=timeout)

    def now(self) -> Any:
        """The node clock's time as a ``builtin_interfaces/Time``."""
        return self.node.get_clock().now().to_msg()

    def close(self) -> None:
        """Destroy the node and shut its context down (idempotent)."""
        rclpy = _rclpy()
        try:
            self.executor.shutdown(timeout_sec=1.0)
            self.node.destroy_node()
        finally:
            if self.context.ok():
                rclpy.shutdown(context=self.context)


@contextmanager
def quiet_rosidl() -> Iterator[None]:
    """Hide lark's deprecation warning while rclpy loads a message's type support.

    rclpy's parameter services and its (de)serialisation load rosidl's parser, which imports
    lark, which imports the deprecated ``sre_parse`` (lark's issue, not ours; Python 3.11
    still has it).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "module 'sre_parse' is deprecated", DeprecationWarning)
        warnings.filterwarnings("ignore", "module 'sre_constants' is deprecated",
                                DeprecationWarning)
        yield


def serialize(msg: Any) -> bytes:
    """``msg`` in CDR, as it travels (rclpy's serialiser)."""
    from rclpy.serialization import serialize_message

    with quiet_rosidl():
        return serialize_message(msg)


def deserialize(raw: bytes, cls: type) -> Any:
    """A ``cls`` message from CDR bytes (rclpy's deserialiser)."""
    from rclpy.serialization import deserialize_message

    with quiet_rosidl():
        return deserialize_message(raw, cls)


def start_node(name: str, domain_id: int | None = None, signals: bool = False) -> RosNode:
    """A node named ``name`` in a fresh context on ``domain_id`` (None: ``ROS_DOMAIN_ID``)."""
    rclpy = _rclpy()
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.signals import SignalHandlerOptions

    if os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE") not in ("LOCALHOST", "OFF"):
        log.info("ROS_AUTOMATIC_DISCOVERY_RANGE is %r: DDS discovery may leave this host "
                 "(set it to LOCALHOST to keep it here)",
                 os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE"))
    ctx = rclpy.Context()
    rclpy.init(context=ctx, domain_id=domain_id,
               signal_handler_options=(SignalHandlerOptions.ALL if signals
                                       else SignalHandlerOptions.NO))
    with quiet_rosidl():
        node = rclpy.create_node(name, context=ctx)
    executor = SingleThreadedExecutor(context=ctx)
    executor.add_node(node)
    return RosNode(ctx, node, executor)


def to_stamp(seconds: float) -> tuple[int, int]:
    """``(sec, nanosec)`` of a time in seconds."""
    sec = int(seconds // 1)
    return sec, round((seconds - sec) * 1e9) % 1_000_000_000
