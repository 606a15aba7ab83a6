"""A robot behind a rosbridge server: the env's ports over roslibpy (websocket, JSON).

Robots that expose rosbridge (``rosbridge_suite`` on ROS 1 or ROS 2, or the Rust server
``rosbridge-server-rs``) need no ROS 2 graph on the agent's side: ``robomem/ROS2Robot-v0`` with
``rosbridge: ws://robot:9090`` speaks the rosbridge v2 protocol through roslibpy and runs the
same code as on a live graph (:class:`~robomem.envs.ros2.ports.Ports`). Messages travel as JSON
(``envs/ros2/jsonmsg.py``); with ``compression: png`` the server sends image topics as PNG
(rosbridge's ``png`` op: the message's JSON text packed into the pixels of a PNG), which roslibpy
itself does not read, so this module does.

roslibpy delivers messages on its own network thread; they wait in one queue per topic, as deep
as the topic's QoS history (older ones are dropped and counted, as a ROS subscription drops
them), and :meth:`RosbridgePorts.spin_once` hands them to the env's callbacks on the env's
thread, oldest first. rosbridge cannot say who subscribes to a topic, so a publisher counts
as heard once the server has had ``settle`` seconds to create its ROS publisher and match the
robot's subscription; the env's first request waits that long.

Example (the URL is checked before anything connects):
    >>> RosbridgePorts("http://robot:9090")
    Traceback (most recent call last):
    ...
    ValueError: rosbridge URL 'http://robot:9090' must look like ws://HOST:PORT or wss://HOST:PORT
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import logging
import re
import threading
import time
from collections import deque
from typing import Any

from robomem.envs.ros2.jsonmsg import JsonMessageError, from_json, to_json
from robomem.envs.ros2.ports import Callback, Ports, Publisher
from robomem.untrusted import quote

__all__ = ["COMPRESSIONS", "RosbridgeError", "RosbridgePorts", "bridge_type", "parse_url",
           "png_payload"]

log = logging.getLogger(__name__)
COMPRESSIONS = ("none", "png")
_URL = re.compile(r"^(wss?)://([A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:]+\]):([0-9]{1,5})(/[^\s]*)?$")
_IMAGE_TYPES = ("sensor_msgs/Image", "sensor_msgs/CompressedImage")


def bridge_type(cls: type) -> str:
    """The rosbridge type name of an rclpy message class: ``sensor_msgs/Image``.

    ROS 1's spelling, which ROS 1 servers need and ROS 2 servers accept beside
    ``sensor_msgs/msg/Image`` (tested with rosbridge-server-rs).
    """
    return f"{cls.__module__.split('.')[0]}/{cls.__name__}"


class RosbridgeError(RuntimeError):
    """The rosbridge server cannot be reached or answered something unusable."""


def parse_url(url: str) -> tuple[str, int, bool]:
    """``(host, port, secure)`` of a ``ws://`` or ``wss://`` URL."""
    m = _URL.match(url) if isinstance(url, str) else None
    if m is None or not 0 < int(m.group(3)) < 65536:
        raise ValueError(f"rosbridge URL {quote(url, 120)} must look like ws://HOST:PORT or "
                         f"wss://HOST:PORT")
    return m.group(2).strip("[]"), int(m.group(3)), m.group(1) == "wss"


def png_payload(data: str) -> dict[str, Any]:
    r"""The protocol message inside a rosbridge ``png`` op's base64 PNG.

    The server writes the message's JSON text as the bytes of an RGB (or grey) PNG, padded to
    fill the last row; the padding is whitespace or zeros.

    Example:
        >>> from PIL import Image
        >>> text = json.dumps({"op": "publish", "topic": "/a", "msg": {"data": "hi"}}).encode()
        >>> text += b"\n" * (-len(text) % 3)
        >>> buf = io.BytesIO()
        >>> Image.frombytes("RGB", (len(text) // 3, 1), text).save(buf, "png")
        >>> png_payload(base64.b64encode(buf.getvalue()).decode())["msg"]
        {'data': 'hi'}
    """
    from PIL import Image

    try:
        with Image.open(io.BytesIO(base64.b64decode(data))) as img:
            raw = img.tobytes()
        text = raw.rstrip(b"\x00 \n\r\t").decode("utf-8")
        body = json.loads(text)
    except (ValueError, OSError) as e:  # base64, PNG, UTF-8 and JSON errors are ValueErrors
        raise RosbridgeError(f"a png-compressed rosbridge message could not be read: "
                             f"{str(e)[:200]}") from None
    if not isinstance(body, dict):
        raise RosbridgeError("a png-compressed rosbridge message is not a JSON object")
    return body


class _BridgePublisher(Publisher):
    def __init__(self, topic: Any, settle: float, message: type) -> None:
        self._topic, self._message = topic, message  # roslibpy's Topic and Message
        self._ready = time.monotonic() + settle

    def publish(self, msg: Any) -> None:
        self._topic.publish(self._message(to_json(msg)))

    def get_subscription_count(self) -> int:
        # rosbridge has no way to ask; 1 once the server had time to match the robot's side
        return 1 if time.monotonic() >= self._ready else 0


class RosbridgePorts(Ports):
    """The env's ports over a rosbridge v2 server (module docstring).

    Args:
        url: ``ws://HOST:PORT`` of the server (``wss://`` for TLS).
        compression: ``none`` or ``png`` (image topics only; the server must offer it).
        connect_timeout: seconds to wait for the websocket to open.
        settle: seconds after advertising before a publisher counts as heard.
    """

    def __init__(self, url: str, compression: str = "none", connect_timeout: float = 10.0,
                 settle: float = 0.5) -> None:
        host, port, secure = parse_url(url)
        if compression not in COMPRESSIONS:
            raise ValueError(f"rosbridge compression must be one of {', '.join(COMPRESSIONS)},"
                             f" got {quote(compression, 40)}")
        try:
            import roslibpy
        except ImportError as e:
            raise ImportError("the rosbridge client needs roslibpy: pip install "
                              "'robomem[ros]'") from e
        self.url, self.compression, self.settle = url, compression, settle
        self._cond = threading.Condition()
        self._queues: dict[str, deque[tuple[int, Any]]] = {}
        self._subs: dict[str, tuple[type, Callback]] = {}
        self._topics: list[Any] = []
        self._order = itertools.count()
        self.counts = {"received": 0, "dropped": 0, "bad": 0}
        self.ros = roslibpy.Ros(host=host, port=port, is_secure=secure)
        try:
            self.ros.run(timeout=connect_timeout)
        except Exception as e:
            self._stop_trying()
            raise RosbridgeError(f"no rosbridge server answered at {url} within "
                                 f"{connect_timeout:g} s ({type(e).__name__}); is it running "
                                 f"and reachable from here?") from None
        self.ros.factory.on_ready(self._add_png_handler)
        log.info("connected to rosbridge at %s", url)

    def _stop_trying(self) -> None:
        stop = getattr(self.ros.factory, "stopTrying", None)
        if callable(stop):
            stop()

    def _add_png_handler(self, proto: Any) -> None:
        def on_png(message: Any) -> None:
            try:
                body = png_payload(message["data"])
            except (RosbridgeError, KeyError, TypeError) as e:
                with self._cond:
                    self.counts["bad"] += 1
                log.warning("%s", e)
                return
            if body.get("op") == "publish":
                proto.factory.emit(body.get("topic"), body.get("msg"))

        try:
            proto.register_message_handlers("png", on_png)
        except Exception:  # already registered on this connection
            log.debug("png handler already registered")

    # ------------------------------------------------------------------ ports
    def subscribe(self, cls: type, topic: str, callback: Callback, qos: Any) -> None:
        """Subscribe through the server; messages wait for :meth:`spin_once`."""
        import roslibpy

        depth = int(getattr(qos, "depth", 10) or 10)
        kind = bridge_type(cls)
        compression = self.compression if kind in _IMAGE_TYPES else "none"
        self._queues[topic] = deque(maxlen=depth)
        self._subs[topic] = (cls, callback)
        t = roslibpy.Topic(self.ros, topic, kind, compression=compression,
                           queue_length=depth)
        t.subscribe(lambda body, topic=topic: self._arrive(topic, body))
        self._topics.append(t)

    def _arrive(self, topic: str, body: Any) -> None:
        with self._cond:
            q = self._queues[topic]
            if len(q) == q.maxlen:
                self.counts["dropped"] += 1
            q.append((next(self._order), body))
            self.counts["received"] += 1
            self._cond.notify()

    def publisher(self, cls: type, topic: str, qos: Any) -> Publisher:
        """Advertise ``topic`` on the server."""
        import roslibpy

        durability = getattr(qos, "durability", None)
        latched = str(getattr(durability, "name", durability)).upper() == "TRANSIENT_LOCAL"
        t = roslibpy.Topic(self.ros, topic, bridge_type(cls), latch=latched,
                           queue_size=int(getattr(qos, "depth", 10) or 10))
        t.advertise()
        self._topics.append(t)
        return _BridgePublisher(t, self.settle, roslibpy.Message)

    def _pop(self) -> tuple[str, Any] | None:
        best: str | None = None
        for topic, q in self._queues.items():
            if q and (best is None or q[0][0] < self._queues[best][0][0]):
                best = topic
        return None if best is None else (best, self._queues[best].popleft()[1])

    def spin_once(self, timeout: float) -> None:
        """Hand the oldest waiting message to its callback (waiting at most ``timeout`` s)."""
        if not self.ros.is_connected:
            raise RosbridgeError(f"the rosbridge connection to {self.url} is closed")
        with self._cond:
            got = self._pop()
            if got is None:
                self._cond.wait(timeout)
                got = self._pop()
        if got is None:
            return
        topic, body = got
        cls, callback = self._subs[topic]
        try:
            msg = from_json(cls, body)
        except JsonMessageError as e:
            self.counts["bad"] += 1
            log.warning("dropped a message on %s: %s", topic, e)
            return
        callback(msg)

    def now(self) -> float:
        """The wall clock (s)."""
        return time.time()

    def stats(self) -> dict[str, float]:
        """Messages received, dropped (queue full) and unreadable."""
        with self._cond:
            return {f"rosbridge_{k}": float(v) for k, v in self.counts.items()}

    def close(self) -> None:
        """Close the websocket; the server drops this client's topics (the loop stays up)."""
        self._topics = []
        if self.ros.is_connected:
            try:
                self.ros.close()
            except Exception as e:  # a connection already going down is no reason to fail
                log.debug("rosbridge close: %s", e)
        self._stop_trying()
