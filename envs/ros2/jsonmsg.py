"""ROS messages as rosbridge v2 JSON, and back.

rosbridge (``rosbridge_suite``'s protocol, spoken by ROS 1 and ROS 2 servers alike) carries each
message as a JSON object of its fields. Its conventions, which :func:`to_json` writes and
:func:`from_json` reads:

- nested messages are nested objects; arrays are lists;
- ``uint8[]`` and ``char[]`` arrays (image pixels) are one base64 string; a plain list of
  integers is accepted as well;
- a ROS 2 ``builtin_interfaces/Time`` is ``{"sec", "nanosec"}``; ROS 1's ``{"secs", "nsecs"}``
  is read as the same;
- ROS 1 spells some fields in capitals (``sensor_msgs/CameraInfo``'s ``K``, ``D``, ``P``, ``R``):
  a field is matched exactly first, then ignoring case; fields the message lacks (ROS 1's
  ``header.seq``) are ignored, missing ones keep their defaults.

The classes are rclpy's generated message classes (the ``ros-jazzy-*-msgs`` wheels); nothing
here joins a ROS graph.

Example:
    >>> from sensor_msgs.msg import Image
    >>> img = Image(height=1, width=2, encoding="rgb8", step=6, data=[255, 0, 0, 0, 255, 0])
    >>> body = to_json(img)
    >>> body["data"], body["header"]["stamp"]
    ('/wAAAP8A', {'sec': 0, 'nanosec': 0})
    >>> back = from_json(Image, {**body, "header": {"seq": 7, "stamp": {"secs": 3, "nsecs": 9}}})
    >>> list(back.data) == list(img.data), back.header.stamp.sec, back.header.stamp.nanosec
    (True, 3, 9)
"""

from __future__ import annotations

import array
import base64
import binascii
import importlib
import math
from typing import Any

__all__ = ["JsonMessageError", "from_json", "to_json"]

_BYTES = ("uint8", "char", "octet", "byte")
_INTS = ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "char",
         "octet", "byte")
_FLOATS = ("float", "double", "float32", "float64")
_ROS1_TIME = {"secs": "sec", "nsecs": "nanosec"}


class JsonMessageError(ValueError):
    """A rosbridge JSON message does not fit its ROS type; the message names the field."""


def _element(kind: str) -> tuple[str, bool]:
    """The element type of a field type string, and whether the field is an array."""
    if kind.startswith("sequence<"):
        inner = kind[len("sequence<"):-1].split(",")[0]
        return inner, True
    if kind.endswith("]"):
        return kind[:kind.index("[")], True
    return kind, False


def _is_message(kind: str) -> bool:
    return "/" in kind


def to_json(msg: Any) -> dict[str, Any]:
    """The rosbridge JSON object of an rclpy message (module docstring)."""
    out: dict[str, Any] = {}
    for name, kind in msg.get_fields_and_field_types().items():
        out[name] = _plain(getattr(msg, name), kind)
    return out


def _plain(value: Any, kind: str) -> Any:
    base, is_array = _element(kind)
    if not is_array:
        if _is_message(base):
            return to_json(value)
        if isinstance(value, float) and not math.isfinite(value):
            return None  # JSON has no NaN; rosbridge reads null as the field's default
        return value.item() if hasattr(value, "item") else value
    if base in _BYTES:
        raw = value.tobytes() if hasattr(value, "tobytes") else bytes(value)
        return base64.b64encode(raw).decode("ascii")
    if _is_message(base):
        return [to_json(v) for v in value]
    items = value.tolist() if hasattr(value, "tolist") else list(value)
    return [None if isinstance(v, float) and not math.isfinite(v) else v for v in items]


def _message_class(base: str) -> type:
    package, _, name = base.rpartition("/")
    module = importlib.import_module(f"{package.split('/')[0]}.msg")
    cls: type = getattr(module, name)
    return cls


def from_json(cls: type, body: Any, where: str = "") -> Any:
    """An rclpy message of ``cls`` from its rosbridge JSON object (module docstring).

    Raises:
        JsonMessageError: a field's value has the wrong kind; the error names the field.
    """
    if not isinstance(body, dict):
        raise JsonMessageError(f"{where or cls.__name__}: expected a JSON object, got "
                               f"{type(body).__name__}")
    msg = cls()
    fields = msg.get_fields_and_field_types()
    lower = {n.lower(): n for n in fields}
    is_time = cls.__name__ == "Time" and "nanosec" in fields
    for key, value in body.items():
        name = _ROS1_TIME.get(key, key) if is_time else key
        name = name if name in fields else lower.get(str(name).lower(), "")
        if not name or value is None:
            continue
        here = f"{where}.{name}" if where else f"{cls.__name__}.{name}"
        try:
            setattr(msg, name, _typed(getattr(msg, name), fields[name], value, here))
        except JsonMessageError:
            raise
        except (AssertionError, TypeError, ValueError, OverflowError) as e:
            raise JsonMessageError(f"{here}: {str(e)[:200] or type(e).__name__} "
                                   f"(the field is {fields[name]})") from None
    return msg


def _typed(current: Any, kind: str, value: Any, where: str) -> Any:
    base, is_array = _element(kind)
    if not is_array:
        if _is_message(base):
            return from_json(type(current), value, where)
        if base in _FLOATS:
            return float(value)
        if base in _INTS:
            if isinstance(value, bool) or not isinstance(value, int):
                raise JsonMessageError(f"{where}: expected an integer, got "
                                       f"{type(value).__name__}")
            return value
        if base == "boolean" or base == "bool":
            return bool(value)
        return str(value)
    if base in _BYTES:
        if isinstance(value, str):
            try:
                raw = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as e:
                raise JsonMessageError(f"{where}: not base64 ({e})") from None
        elif isinstance(value, list):
            raw = bytes(value)
        else:
            raise JsonMessageError(f"{where}: expected base64 text or a list of bytes, got "
                                   f"{type(value).__name__}")
        if isinstance(current, array.array):
            return array.array(current.typecode, raw)
        return list(raw)
    if not isinstance(value, list):
        raise JsonMessageError(f"{where}: expected a list, got {type(value).__name__}")
    if _is_message(base):
        element = _message_class(base)
        return [from_json(element, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if base in _FLOATS:
        return [math.nan if v is None else float(v) for v in value]
    return value
