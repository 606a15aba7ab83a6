"""OpenAIChatModel against a real OpenAI-compatible server on loopback (``transformers serve``
with a tiny local model), through a fault-injecting proxy for the slow, flaky and broken cases,
and against a port where nothing listens."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import logging
import os
import time

import numpy as np
import pytest

from robomem.planners import http_lm
from robomem.planners.http_lm import MAX_BODY_BYTES, SERVER_HINT, OpenAIChatModel
from robomem.planners.instruction import parse_instruction
from robomem.planners.llm import LLMConfig, LLMPlanner
from robomem.planners.lm import LANGUAGE_MODELS, GenerationRequest, LanguageModelError
from tests.fixtures.openai_server import (
    SERVING_MODULES,
    FaultProxy,
    free_port,
    transformers_serve,
)
from tests.fixtures.planning import ctx, kitchen, percept
from tests.fixtures.slow_server import StubServer

REQUEST = GenerationRequest(
    system="You plan household tasks.", context="Goal: go to the kitchen", max_new_tokens=8
)
FAST = {"timeout_s": 10.0, "backoff_s": 0.01}

_missing = [m for m in SERVING_MODULES if importlib.util.find_spec(m) is None]
if _missing and os.environ.get("CI"):  # CI installs the dev extra: a gap there is a failure
    raise ImportError(f"transformers serve needs {_missing}: pip install -e '.[dev]'")
# Outside CI, an install without the dev extra skips only the tests that need the server.
needs_server = pytest.mark.skipif(
    bool(_missing),
    reason=f"transformers serve needs {_missing}: pip install 'transformers[serving]'",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(base URL, model name) of ``transformers serve`` running the tiny model."""
    root = tmp_path_factory.mktemp("openai_server")
    model = root / "tiny-llama"  # built by the server process
    with transformers_serve(model, root / "serve.log") as base_url:
        yield base_url, str(model)


@pytest.fixture(scope="module")
def _proxy(server):
    proxy = FaultProxy(server[0])
    yield proxy
    proxy.close()


@pytest.fixture
def proxy(_proxy):
    _proxy.reset()
    yield _proxy
    _proxy.reset()


@pytest.fixture
def lm(server, proxy):
    """A client of the proxy in front of the server."""
    with OpenAIChatModel(proxy.base_url, server[1], retries=2, **FAST) as model:
        yield model


@needs_server
def test_round_trip_returns_text_and_usage_and_is_greedy(server):
    with OpenAIChatModel(server[0], server[1], **FAST) as lm:
        first = lm.generate(REQUEST)
        second = lm.generate(REQUEST)
    assert isinstance(first.text, str) and first.text
    assert first.prompt_tokens > 0
    assert 1 <= first.new_tokens <= REQUEST.max_new_tokens
    assert first.seconds > 0
    assert first.meta["attempts"] == 1 and first.meta["retries"] == 0
    assert first.meta["model"] == server[1]
    assert (second.text, second.prompt_tokens, second.new_tokens) == (
        first.text,
        first.prompt_tokens,
        first.new_tokens,
    )


@needs_server
def test_messages_reach_the_server_as_sent(server, proxy):
    request = GenerationRequest(
        system="SYS part", context="CTX part", max_new_tokens=3, stop=("never-seen",)
    )
    with OpenAIChatModel(proxy.base_url, server[1], api_key="sk-test", **FAST) as lm:
        out = lm.generate(request)
    assert out.new_tokens <= 3
    (body,) = proxy.requests
    assert body == {
        "model": server[1],
        "messages": [
            {"role": "system", "content": "SYS part"},
            {"role": "user", "content": "CTX part"},
        ],
        "temperature": 0,
        "max_tokens": 3,
        "stop": ["never-seen"],
    }
    headers = {k.lower(): v for k, v in proxy.headers[0].items()}
    assert headers["authorization"] == "Bearer sk-test"


@needs_server
def test_api_key_defaults_to_the_environment(server, proxy, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    with OpenAIChatModel(proxy.base_url, server[1], **FAST) as lm:
        lm.generate(REQUEST)
    monkeypatch.delenv("OPENAI_API_KEY")
    with OpenAIChatModel(proxy.base_url, server[1], **FAST) as lm:
        lm.generate(REQUEST)
    first, second = ({k.lower(): v for k, v in h.items()} for h in proxy.headers)
    assert first["authorization"] == "Bearer sk-env"
    assert "authorization" not in second
    assert "stop" not in proxy.requests[0]


@needs_server
def test_images_are_sent_as_png_data_urls_or_dropped(server, proxy):
    from PIL import Image

    image = np.zeros((4, 5, 3), np.uint8)
    image[1, 2] = (255, 10, 20)
    request = GenerationRequest(system="s", context="look", images=[image], max_new_tokens=2)
    with OpenAIChatModel(proxy.base_url, server[1], **FAST) as lm:
        assert lm.generate(request).text is not None  # the real server accepts the parts
    with OpenAIChatModel(proxy.base_url, server[1], send_images=False, **FAST) as lm:
        lm.generate(request)
    with_images, without = (body["messages"][1]["content"] for body in proxy.requests)
    assert with_images[0] == {"type": "text", "text": "look"}
    assert with_images[1]["type"] == "image_url"
    url = with_images[1]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    np.testing.assert_array_equal(decoded, image)
    assert without == "look"


@needs_server
def test_503_twice_then_ok_succeeds_with_retries_recorded(lm, proxy):
    proxy.fail_times = 2
    out = lm.generate(REQUEST)
    assert out.text
    assert len(proxy.requests) == 3
    assert out.meta["attempts"] == 3 and out.meta["retries"] == 2
    assert all("HTTP 503" in reason for reason in out.meta["retry_reasons"])


@needs_server
def test_503_through_every_retry_fails_with_the_status(server, proxy):
    proxy.fail_times = 10
    with (
        OpenAIChatModel(proxy.base_url, server[1], retries=1, **FAST) as lm,
        pytest.raises(LanguageModelError, match=r"after 2 attempts.*HTTP 503.*overloaded"),
    ):
        lm.generate(REQUEST)
    assert len(proxy.requests) == 2


@needs_server
def test_slow_server_times_out_after_the_retries(server, proxy):
    proxy.delay_s = 1.5
    lm = OpenAIChatModel(proxy.base_url, server[1], timeout_s=0.3, retries=1, backoff_s=0.01)
    start = time.perf_counter()
    with lm, pytest.raises(LanguageModelError, match=r"timed out \(timeout 0.3 s\)") as error:
        lm.generate(REQUEST)
    assert time.perf_counter() - start < 1.4
    assert "2 attempts" in str(error.value) and proxy.base_url in str(error.value)
    assert len(proxy.requests) == 2


def test_down_server_names_the_url_and_the_hint():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with (
        OpenAIChatModel(url, "m", retries=2, backoff_s=0.01, timeout_s=2) as lm,
        pytest.raises(LanguageModelError) as error,
    ):
        lm.generate(REQUEST)
    message = str(error.value)
    assert f"{url}/chat/completions" in message
    assert "after 3 attempts" in message
    assert SERVER_HINT[1:] in message and "vllm serve MODEL" in message


@needs_server
def test_a_400_is_not_retried(server, proxy):
    # The real server refuses a model it does not serve with HTTP 400.
    with (
        OpenAIChatModel(proxy.base_url, "no-such-model", retries=3, **FAST) as lm,
        pytest.raises(LanguageModelError, match=r"HTTP 400.*not retried.*no-such-model"),
    ):
        lm.generate(REQUEST)
    assert len(proxy.requests) == 1


@needs_server
def test_malformed_response_raises(lm, proxy):
    proxy.garbage = True
    with pytest.raises(LanguageModelError, match=r"not a chat completion.*this is not json"):
        lm.generate(REQUEST)
    assert len(proxy.requests) == 1


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"base_url": ""}, "''"),
        ({"base_url": "127.0.0.1:8000"}, "'127.0.0.1:8000'"),
        ({"base_url": "ftp://host/v1"}, "'ftp://host/v1'"),
        ({"model": " "}, "' '"),
        ({"timeout_s": 0}, "timeout_s.*0"),
        ({"timeout_s": float("nan")}, "timeout_s.*nan"),
        ({"retries": -1}, "retries.*-1"),
        ({"retries": 1.5}, "retries.*1.5"),
        ({"backoff_s": -0.5}, "backoff_s.*-0.5"),
        ({"jitter": 2.0}, "jitter.*2.0"),
        ({"total_timeout_s": 0}, "total_timeout_s.*0"),
        ({"total_timeout_s": float("inf")}, "total_timeout_s.*inf"),
        ({"timeout_s": 90}, r"timeout_s \(90 s\) must not exceed total_timeout_s \(60 s\)"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_value(kwargs, named):
    args = {"base_url": "http://127.0.0.1:8000/v1", "model": "m", **kwargs}
    with pytest.raises(ValueError, match=named):
        OpenAIChatModel(**args)


@pytest.mark.parametrize(
    ("base_url", "url"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1/chat/completions"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/v1/chat/completions"),
        ("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1/chat/completions"),
        ("https://example.org/api/v1", "https://example.org/api/v1/chat/completions"),
    ],
)
def test_base_url_rule(base_url, url):
    with OpenAIChatModel(base_url, "m") as lm:
        assert lm.url == url


def test_registered_as_openai():
    assert LANGUAGE_MODELS.get("openai") is OpenAIChatModel


# -- hostile and stalled servers (no model needed) --------------------------------------------

MAX_MESSAGE = 1500  # an error: the URL, the limits, the reasons, ~200 quoted characters


def _completion(content: str) -> bytes:
    """A minimal chat completion answering ``content``."""
    message = {"role": "assistant", "content": content}
    return json.dumps({"choices": [{"message": message, "finish_reason": "stop"}]}).encode()


def test_the_stub_server_answers_a_chat_completion():
    with StubServer(_completion("hello")) as stub, OpenAIChatModel(stub.base_url, "m") as lm:
        assert lm.generate(REQUEST).text == "hello"


def test_defaults_bound_each_call_and_each_read():
    with OpenAIChatModel("http://127.0.0.1:8000/v1", "m") as lm:
        assert lm.total_timeout_s == 60.0
        assert lm.timeout_s <= lm.total_timeout_s


def test_a_server_that_never_answers_fails_within_the_total_bound(caplog, monkeypatch):
    monkeypatch.setattr(http_lm, "WAIT_NOTICE_S", 0.2)
    caplog.set_level(logging.WARNING, logger=http_lm.__name__)
    with (
        StubServer(body=None) as stub,
        OpenAIChatModel(
            stub.base_url, "m", timeout_s=0.5, total_timeout_s=1.2, retries=10, backoff_s=0.05
        ) as lm,
    ):
        start = time.monotonic()
        with pytest.raises(LanguageModelError) as error:
            lm.generate(REQUEST)
        elapsed = time.monotonic() - start
        requests = stub.requests
    message = str(error.value)
    assert 1.0 < elapsed < 2.5, elapsed  # the bound, not 11 attempts of 0.5 s
    assert f"{stub.base_url}/chat/completions" in message
    assert "total_timeout_s=1.2 s" in message and "timeout" in message
    assert 2 <= requests <= 4
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"waiting for the model at {stub.base_url}/chat/completions" in logged
    assert "retrying in" in logged


def test_a_stalled_server_makes_the_planner_fall_back():
    with (
        StubServer(body=None) as stub,
        OpenAIChatModel(stub.base_url, "m", timeout_s=0.3, total_timeout_s=0.3) as lm,
    ):
        planner = LLMPlanner(lm, LLMConfig(max_invalid=2))
        planner.reset(parse_instruction("Put a mug in the cabinet and close it."))
        start = time.monotonic()
        skill = planner.next_skill(ctx(kitchen(), percept([])))
        elapsed = time.monotonic() - start
    assert (skill.name, skill.target) == ("pickup", "Mug|1")  # the symbolic planner's choice
    # one bounded call, then the subgoal falls back at once (not max_invalid stalled calls)
    assert planner.stats()["llm_errors"] == 1 and planner.stats()["fallbacks"] == 1
    assert "total_timeout_s=0.3 s" in planner.fallbacks[0]["reason"]
    assert elapsed < 0.3 + 1.5


@pytest.mark.parametrize("content_length", [True, False], ids=["declared", "streamed"])
def test_a_20_mb_body_is_refused(content_length):
    body = _completion("x" * 20_000_000)
    with (
        StubServer(body, content_length=content_length) as stub,
        OpenAIChatModel(stub.base_url, "m", retries=2, backoff_s=0.01) as lm,
        pytest.raises(LanguageModelError, match=f"the limit is {MAX_BODY_BYTES} bytes") as error,
    ):
        lm.generate(REQUEST)
    assert stub.requests == 1  # not retried
    assert len(str(error.value)) < MAX_MESSAGE


def test_a_100000_deep_body_is_refused():
    body = b'{"choices": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with (
        StubServer(body) as stub,
        OpenAIChatModel(stub.base_url, "m", retries=2, backoff_s=0.01) as lm,
        pytest.raises(LanguageModelError, match=r"not a chat completion.*nested deeper") as error,
    ):
        lm.generate(REQUEST)
    assert stub.requests == 1
    assert len(str(error.value)) < MAX_MESSAGE


def test_error_bodies_are_quoted_briefly():
    with (
        StubServer(b"E" * 1_000_000, status=400) as stub,
        OpenAIChatModel(stub.base_url, "m") as lm,
        pytest.raises(LanguageModelError, match=r"HTTP 400.*not retried") as error,
    ):
        lm.generate(REQUEST)
    assert len(str(error.value)) < MAX_MESSAGE
