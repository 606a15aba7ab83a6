"""rosbridge JSON <-> rclpy messages (envs/ros2/jsonmsg.py), and the png op's payload."""

from __future__ import annotations

import base64
import io
import json
import math

import numpy as np
import pytest

from tests.fixtures.ros import needs_ros

pytestmark = needs_ros


def test_an_image_travels_as_base64_and_comes_back_whole() -> None:
    from sensor_msgs.msg import Image

    from robomem.envs.ros2.jsonmsg import from_json, to_json

    pixels = np.arange(4 * 5 * 3, dtype=np.uint8)
    img = Image(height=4, width=5, encoding="rgb8", step=15, data=pixels.tobytes())
    img.header.frame_id, img.header.stamp.sec, img.header.stamp.nanosec = "cam", 7, 9
    body = json.loads(json.dumps(to_json(img)))  # through JSON text, as on the wire
    assert isinstance(body["data"], str)
    assert base64.b64decode(body["data"]) == pixels.tobytes()
    back = from_json(Image, body)
    assert bytes(back.data) == pixels.tobytes()
    assert (back.height, back.width, back.encoding, back.step) == (4, 5, "rgb8", 15)
    assert (back.header.frame_id, back.header.stamp.sec, back.header.stamp.nanosec) == \
        ("cam", 7, 9)
    # a server that sends the bytes as a list of integers is understood too
    listed = from_json(Image, {**body, "data": list(pixels.tolist())})
    assert bytes(listed.data) == pixels.tobytes()


def test_ros1_spellings_are_read_as_the_ros2_fields() -> None:
    from sensor_msgs.msg import CameraInfo

    from robomem.envs.ros2.jsonmsg import from_json

    body = {"header": {"seq": 12, "stamp": {"secs": 3, "nsecs": 500}, "frame_id": "cam"},
            "height": 480, "width": 640, "distortion_model": "plumb_bob",
            "D": [0.1, 0.0, 0.0, 0.0, 0.0], "K": [500.0, 0, 320, 0, 500, 240, 0, 0, 1],
            "R": [1.0, 0, 0, 0, 1, 0, 0, 0, 1], "P": [500.0, 0, 320, 0, 0, 500, 240, 0, 0, 0, 1, 0]}
    info = from_json(CameraInfo, body)
    assert (info.header.stamp.sec, info.header.stamp.nanosec) == (3, 500)
    assert np.allclose(info.k, body["K"]) and np.allclose(info.p, body["P"])
    assert list(info.d) == body["D"]


def test_nested_message_lists_round_trip() -> None:
    from geometry_msgs.msg import Point
    from visualization_msgs.msg import Marker, MarkerArray

    from robomem.envs.ros2.jsonmsg import from_json, to_json

    arr = MarkerArray(markers=[Marker(id=i, text=f"m{i}", points=[Point(x=float(i), y=2.0)])
                               for i in range(3)])
    back = from_json(MarkerArray, json.loads(json.dumps(to_json(arr))))
    assert [m.id for m in back.markers] == [0, 1, 2]
    assert [m.text for m in back.markers] == ["m0", "m1", "m2"]
    assert back.markers[2].points[0].x == 2.0 and back.markers[2].points[0].y == 2.0


def test_not_finite_floats_become_null_and_come_back_as_defaults_or_nan() -> None:
    from nav_msgs.msg import Odometry

    from robomem.envs.ros2.jsonmsg import from_json, to_json

    odo = Odometry()
    odo.pose.pose.position.x = math.inf
    odo.pose.covariance[0] = math.nan
    body = to_json(odo)
    json.dumps(body, allow_nan=False)  # strict JSON: rosbridge servers reject NaN tokens
    back = from_json(Odometry, body)
    assert back.pose.pose.position.x == 0.0  # null keeps the default
    assert math.isnan(back.pose.covariance[0])


@pytest.mark.parametrize(("body", "where"), [
    ({"height": "tall"}, "Image.height"),
    ({"header": {"stamp": {"sec": 1.5}}}, "Image.header.stamp.sec"),
    ({"data": "%%% not base64"}, "Image.data"),
    ({"data": 12}, "Image.data"),
    ({"header": []}, "Image.header"),
])
def test_a_field_of_the_wrong_kind_is_an_error_naming_it(body: dict[str, object],
                                                         where: str) -> None:
    from sensor_msgs.msg import Image

    from robomem.envs.ros2.jsonmsg import JsonMessageError, from_json

    with pytest.raises(JsonMessageError) as e:
        from_json(Image, body)
    assert where in str(e.value) and len(str(e.value)) < 400


def _png(text: bytes, pad: bytes) -> str:
    from PIL import Image

    text += pad * (-len(text) % 3)
    width = max(1, int(math.sqrt(len(text) / 3)))
    height = -(-len(text) // (3 * width))
    text += pad * (width * height * 3 - len(text))
    buf = io.BytesIO()
    Image.frombytes("RGB", (width, height), text).save(buf, "png")
    return base64.b64encode(buf.getvalue()).decode()


@pytest.mark.parametrize("pad", [b"\n", b"\x00", b" "])
def test_a_png_op_unpacks_to_its_message_whatever_the_padding(pad: bytes) -> None:
    from robomem.envs.ros2.rosbridge import png_payload

    inner = {"op": "publish", "topic": "/camera", "msg": {"data": "x" * 1001}}
    assert png_payload(_png(json.dumps(inner).encode(), pad)) == inner


@pytest.mark.parametrize("data", ["not base64 at all", base64.b64encode(b"GIF89a").decode(),
                                  _png(b"[1, 2, 3]", b" ")])
def test_an_unreadable_png_op_is_a_named_error(data: str) -> None:
    from robomem.envs.ros2.rosbridge import RosbridgeError, png_payload

    with pytest.raises(RosbridgeError, match="png-compressed"):
        png_payload(data)
