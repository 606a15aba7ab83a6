"""A :class:`~robomem.planners.lm.LanguageModel` behind an OpenAI-compatible HTTP server.

:class:`OpenAIChatModel` (registered as ``openai``) sends each request as one chat completion
(``POST {base_url}/chat/completions``): the request's ``system`` part as the system message, its
``context`` (and, optionally, its images as PNG data URLs) as the user message, with greedy
decoding (``temperature: 0``). It works with any server speaking that API: vLLM
(``vllm serve MODEL``), Ollama (``ollama serve``), the llama.cpp server
(``llama-server -m MODEL``), ``transformers serve``, or the OpenAI API itself.

The base URL is the API root *including* its version prefix, e.g. ``http://127.0.0.1:8000/v1``.
Trailing slashes are dropped, and a URL with no path at all (``http://127.0.0.1:8000``) gets
``/v1`` appended, since every server above serves the API there; any other path is used as
given.

Connection errors, timeouts, HTTP 429 and HTTP 5xx are retried with exponential backoff
(``backoff_s * 2**k`` before retry ``k + 1``, at least the server's numeric ``Retry-After``, at
most 60 s); other HTTP errors and malformed answers fail at once. Every failure raises
:class:`~robomem.planners.lm.LanguageModelError` with the URL and what to check.

One call takes at most ``total_timeout_s`` (60 s by default), attempts and backoff together:
each connect, send and read waits at most ``timeout_s`` and never past that deadline, and no
backoff wait reaches past it. (The deadline is checked between reads, so a server that trickles
its answer a few bytes at a time can overrun it by one read's wait, or longer while still
sending headers.) A call still waiting after :data:`WAIT_NOTICE_S` seconds logs a warning
(``waiting for the model at URL ...``), and so does each retry, so a quiet run says why.

The server's answer is untrusted input: a body larger than :data:`MAX_BODY_BYTES` or nested
deeper than :data:`~robomem.untrusted.MAX_DEPTH` levels is refused
(:func:`~robomem.untrusted.loads_json`), and errors quote at most about 200 characters of it.

Example:
    >>> from robomem.planners.http_lm import OpenAIChatModel
    >>> lm = OpenAIChatModel("http://127.0.0.1:8000", model="Qwen/Qwen2.5-0.5B-Instruct")
    >>> lm.url
    'http://127.0.0.1:8000/v1/chat/completions'
    >>> lm.close()

Needs ``httpx``: ``pip install 'robomem[llm]'``.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import random
import threading
import time
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import numpy as np
from numpy.typing import NDArray

from robomem.planners.lm import (
    Generation,
    GenerationRequest,
    LanguageModel,
    LanguageModelError,
)
from robomem.untrusted import loads_json, quote

if TYPE_CHECKING:
    import httpx

__all__ = ["MAX_BODY_BYTES", "SERVER_HINT", "WAIT_NOTICE_S", "OpenAIChatModel"]

log = logging.getLogger(__name__)

SERVER_HINT = (
    "is the server running? e.g. `vllm serve MODEL`, `ollama serve`, `llama-server -m MODEL`, "
    "`transformers serve`"
)
"""What an unreachable-server error suggests checking."""

MAX_BODY_BYTES = 2_000_000
"""The largest response body read (a chat completion is a few kilobytes)."""

WAIT_NOTICE_S = 5.0
"""Seconds a call waits for the server before it logs that it is waiting (then every 3x that)."""

_MAX_RETRY_AFTER_S = 60.0
_MAX_ERROR_BYTES = 4096  # of an error response's body, read for its message
_CHUNK_BYTES = 65536


def _normalize_base_url(base_url: str) -> str:
    """``base_url`` without trailing slashes, with ``/v1`` appended when it has no path."""
    if not isinstance(base_url, str) or not base_url.strip():
        raise ValueError(f"base_url must be a non-empty URL, got {base_url!r}")
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"base_url must be an http(s) URL such as 'http://127.0.0.1:8000/v1', got {base_url!r}"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"base_url must not have a query or fragment, got {base_url!r}")
    url = base_url.strip().rstrip("/")
    if not parts.path.strip("/"):
        url += "/v1"
    return url


def _png_data_url(image: NDArray[np.uint8]) -> str:
    """An RGB uint8 image (H, W, 3) as a ``data:image/png;base64,...`` URL."""
    from PIL import Image

    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(
            f"images must be RGB uint8 arrays of shape (H, W, 3), got dtype {array.dtype} "
            f"and shape {array.shape}"
        )
    buffer = io.BytesIO()
    Image.fromarray(array, mode="RGB").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _short(body: bytes | str) -> str:
    """A response body quoted for an error message (about 200 characters at most)."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    return quote(text.strip())


class _OutOfTime(Exception):
    """The call's deadline passed while an answer was being read."""


class _TooLarge(Exception):
    """The response body is larger than the limit."""


class _WaitNotice:
    """Logs a warning while a call waits: after :data:`WAIT_NOTICE_S`, then every 3x that.

    Args:
        url: the server's URL, named in the notice.
        limit_s: the call's total time limit, named in the notice.
    """

    def __init__(self, url: str, limit_s: float) -> None:
        self.url, self.limit_s = url, limit_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="robomem-http-lm-wait",
                                        daemon=True)

    def __enter__(self) -> _WaitNotice:
        self._start = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        delay = WAIT_NOTICE_S
        while not self._stop.wait(delay):
            log.warning("waiting for the model at %s: no answer yet after %.1f s (gives up "
                        "after %g s, total_timeout_s)", self.url,
                        time.monotonic() - self._start, self.limit_s)
            delay = 3 * WAIT_NOTICE_S


def _declared_length(response: httpx.Response) -> int | None:
    """The response's ``Content-Length``, or None when missing or not a byte count."""
    value = response.headers.get("content-length", "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


def _retry_after_s(response: httpx.Response) -> float:
    """The server's ``Retry-After`` in seconds (numeric form only), or 0."""
    value = response.headers.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return 0.0
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER_S) if np.isfinite(seconds) else 0.0


class OpenAIChatModel(LanguageModel):
    """Chat completions from an OpenAI-compatible server (vLLM, Ollama, llama.cpp, ...).

    Args:
        base_url: the API root with its version prefix, e.g. ``http://127.0.0.1:8000/v1``
            (``/v1`` is appended when the URL has no path).
        model: the model name the server knows (``model`` field of the request).
        api_key: sent as ``Authorization: Bearer ...``; defaults to the ``OPENAI_API_KEY``
            environment variable when it is set, else no header.
        timeout_s: seconds allowed to connect, to send, and between bytes of the answer, > 0
            and at most ``total_timeout_s``.
        retries: retries after the first attempt on connection errors, timeouts, HTTP 429 and
            HTTP 5xx, >= 0.
        backoff_s: wait before the first retry, doubled for each further one, >= 0.
        send_images: send the request's images as PNG ``image_url`` parts (for vision-language
            models); when False they are dropped.
        jitter: up to this fraction of each wait is added at random (0 keeps waits exact), in
            [0, 1].
        total_timeout_s: seconds one call may take in all, attempts and backoff included, > 0;
            no wait for the server reaches past it.

    Raises:
        ValueError: an argument out of range (the message names it and its value).
        ImportError: ``httpx`` is missing.
    """

    name: ClassVar[str] = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        send_images: bool = True,
        jitter: float = 0.0,
        total_timeout_s: float = 60.0,
    ) -> None:
        self.base_url = _normalize_base_url(base_url)
        if not isinstance(model, str) or not model.strip():
            raise ValueError(f"model must be a non-empty model name, got {model!r}")
        if not isinstance(timeout_s, (int, float)) or not 0 < timeout_s < float("inf"):
            raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be an integer >= 0, got {retries!r}")
        if not isinstance(backoff_s, (int, float)) or not 0 <= backoff_s < float("inf"):
            raise ValueError(f"backoff_s must be a number of seconds >= 0, got {backoff_s!r}")
        if not isinstance(jitter, (int, float)) or not 0 <= jitter <= 1:
            raise ValueError(f"jitter must be a fraction in [0, 1], got {jitter!r}")
        if not isinstance(total_timeout_s, (int, float)) or not 0 < total_timeout_s < float("inf"):
            raise ValueError(
                f"total_timeout_s must be a positive number of seconds, got {total_timeout_s!r}"
            )
        if timeout_s > total_timeout_s:
            raise ValueError(
                f"timeout_s ({timeout_s:g} s) must not exceed total_timeout_s "
                f"({total_timeout_s:g} s): raise total_timeout_s too"
            )
        try:
            import httpx
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("OpenAIChatModel needs httpx: pip install 'robomem[llm]'") from e

        self.model = model
        self.url = self.base_url + "/chat/completions"
        self.timeout_s = float(timeout_s)
        self.retries = retries
        self.backoff_s = float(backoff_s)
        self.send_images = send_images
        self.jitter = float(jitter)
        self.total_timeout_s = float(total_timeout_s)
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._random = random.Random()
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(self.timeout_s))

    def __repr__(self) -> str:
        return f"OpenAIChatModel(base_url={self.base_url!r}, model={self.model!r})"

    def __enter__(self) -> OpenAIChatModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def payload(self, request: GenerationRequest) -> dict[str, Any]:
        """The JSON body of the chat completion for ``request``."""
        user: str | list[dict[str, Any]] = request.context
        if request.images and self.send_images:
            user = [{"type": "text", "text": request.context}] + [
                {"type": "image_url", "image_url": {"url": _png_data_url(image)}}
                for image in request.images
            ]
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": user},
            ],
            "temperature": 0,
            "max_tokens": request.max_new_tokens,
        }
        if request.stop:
            body["stop"] = list(request.stop)
        return body

    def generate(self, request: GenerationRequest) -> Generation:
        """Send ``request`` as a chat completion and return the first choice.

        Raises:
            LanguageModelError: the server stayed unreachable, timed out or failed (HTTP 429 or
                5xx) through every retry or until ``total_timeout_s`` ran out, answered another
                HTTP error, or answered something that is not a chat completion (too large or
                too deeply nested included).
        """
        import httpx

        body = json.dumps(self.payload(request))
        start = time.perf_counter()
        deadline = time.monotonic() + self.total_timeout_s
        reasons: list[str] = []
        attempts = self.retries + 1
        with _WaitNotice(self.url, self.total_timeout_s):
            for attempt in range(attempts):
                wait = self.backoff_s * 2**attempt
                timeout = min(self.timeout_s, deadline - time.monotonic())
                if timeout <= 0:
                    raise self._out_of_time(reasons)
                try:
                    status, retry_after, raw = self._post(body, timeout, deadline)
                except _OutOfTime:
                    reasons.append("no complete answer before the deadline")
                    raise self._out_of_time(reasons) from None
                except _TooLarge as e:
                    raise LanguageModelError(
                        f"{self.url} answered a body of {e} (model {self.model!r}); the limit is "
                        f"{MAX_BODY_BYTES} bytes and a chat completion is a few kilobytes: is "
                        "this an OpenAI-compatible server?"
                    ) from None
                except httpx.TimeoutException as e:
                    reasons.append(f"timeout ({type(e).__name__})")
                    if timeout < self.timeout_s:  # cut short by the deadline
                        raise self._out_of_time(reasons) from None
                except httpx.TransportError as e:
                    reasons.append(f"connection error ({type(e).__name__}: {quote(str(e))})")
                else:
                    if status == 429 or status >= 500:
                        reasons.append(f"HTTP {status}: {_short(raw)}")
                        wait = max(wait, retry_after)
                    elif status >= 400:
                        raise LanguageModelError(
                            f"{self.url} answered HTTP {status} (model {self.model!r}), not "
                            f"retried: {_short(raw)}"
                        )
                    else:
                        return self._parse(status, raw, reasons, time.perf_counter() - start)
                if attempt + 1 == attempts:
                    break
                wait *= 1 + self.jitter * self._random.random()
                if time.monotonic() + wait >= deadline:  # the retry could not even start
                    raise self._out_of_time(reasons)
                log.warning("%s: attempt %d of %d failed (%s); retrying in %.2g s (gives up "
                            "after %g s in all, total_timeout_s)", self.url, attempt + 1,
                            attempts, reasons[-1], wait, self.total_timeout_s)
                time.sleep(wait)
        raise self._failure(reasons, attempts)

    def _post(self, body: str, timeout: float, deadline: float) -> tuple[int, float, bytes]:
        """One POST: its status, the server's ``Retry-After`` (seconds) and its body.

        Each connect, send and read waits at most ``timeout`` seconds; the body is read in
        chunks, at most :data:`MAX_BODY_BYTES` of it (an error's body: its first kilobytes),
        checking ``deadline`` after each.

        Raises:
            _OutOfTime: the deadline passed while the body was read.
            _TooLarge: a successful answer's body is larger than :data:`MAX_BODY_BYTES`.
            httpx.TimeoutException: a connect, send or read took longer than ``timeout``.
            httpx.TransportError: the connection failed.
        """
        import httpx

        with self._client.stream(
            "POST", self.url, content=body, timeout=httpx.Timeout(timeout)
        ) as response:
            status = response.status_code
            ok = status < 400
            limit = MAX_BODY_BYTES if ok else _MAX_ERROR_BYTES
            declared = _declared_length(response)
            if ok and declared is not None and declared > limit:
                raise _TooLarge(f"{declared} bytes (Content-Length)")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes(_CHUNK_BYTES):
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    if ok:
                        raise _TooLarge(f"more than {limit} bytes")
                    break
                if time.monotonic() > deadline:
                    raise _OutOfTime
            return status, _retry_after_s(response), b"".join(chunks)[:limit]

    def _out_of_time(self, reasons: list[str]) -> LanguageModelError:
        """The error for a call that ran out of ``total_timeout_s`` after ``reasons``."""
        tries = f"{len(reasons)} attempt{'s' if len(reasons) != 1 else ''}"
        return LanguageModelError(
            f"{self.url} gave no answer within total_timeout_s={self.total_timeout_s:g} s "
            f"({tries}, timeout_s={self.timeout_s:g}): {'; '.join(reasons)}. The server may be "
            "overloaded, stalled or the model too slow: check the server, or raise "
            "total_timeout_s"
        )

    def _failure(self, reasons: list[str], attempts: int) -> LanguageModelError:
        """The error for a request that failed ``attempts`` times for ``reasons``."""
        tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"
        last = reasons[-1]
        if last.startswith("timeout"):
            return LanguageModelError(
                f"{self.url} timed out (timeout {self.timeout_s:g} s); {tries} failed "
                f"(retries={self.retries}): {'; '.join(reasons)}. The server may be overloaded "
                "or the model too slow: raise timeout_s"
            )
        if last.startswith("connection error"):
            return LanguageModelError(
                f"could not reach {self.url} after {tries} (retries={self.retries}): {last}. "
                f"{SERVER_HINT[0].upper()}{SERVER_HINT[1:]}"
            )
        return LanguageModelError(
            f"{self.url} kept failing after {tries} (retries={self.retries}); last: {last}"
        )

    def _parse(self, status: int, raw: bytes, reasons: list[str], seconds: float) -> Generation:
        """The :class:`Generation` in a successful answer's body ``raw``."""
        try:
            data = loads_json(raw, max_chars=MAX_BODY_BYTES)
            choice = data["choices"][0]
            content = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise LanguageModelError(
                f"{self.url} answered HTTP {status} with something that is not a chat "
                f"completion ({type(e).__name__}: {quote(str(e))}): {_short(raw)}"
            ) from None
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise LanguageModelError(
                f"{self.url} answered a chat completion whose message content is not a string: "
                f"{_short(raw)}"
            )
        usage = data.get("usage") if isinstance(data, dict) else None
        usage = usage if isinstance(usage, dict) else {}
        details = usage.get("prompt_tokens_details")
        details = details if isinstance(details, dict) else {}
        meta: dict[str, Any] = {
            "model": self.model,
            "server_model": data.get("model"),
            "url": self.url,
            "finish_reason": choice.get("finish_reason") if isinstance(choice, dict) else None,
            "attempts": len(reasons) + 1,
            "retries": len(reasons),
            "retry_reasons": list(reasons),
        }
        return Generation(
            text=content,
            prompt_tokens=_count(usage.get("prompt_tokens")),
            new_tokens=_count(usage.get("completion_tokens")),
            cached_tokens=_count(details.get("cached_tokens")),
            seconds=seconds,
            meta=meta,
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()


def _count(value: Any) -> int:
    """A token count from a usage field (0 when missing or not a count)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
