"""The language-model interface planners and critics talk to, and its registry.

A :class:`LanguageModel` turns a :class:`GenerationRequest` (a static ``system`` part, the
changing ``context``, optional images) into a :class:`Generation`. Keeping the two text parts
apart is what lets a local backend keep the system part's KV cache between calls
(:mod:`robomem.planners.local_lm`); an HTTP backend (:mod:`robomem.planners.http_lm`) sends
them as the system and user messages of a chat completion.

Backends register under a name in :data:`LANGUAGE_MODELS` (``local``, ``openai``, and
``scripted`` for tests and demos) and are built by :func:`make_language_model`.

Example:
    >>> from robomem.planners.lm import GenerationRequest, ScriptedModel
    >>> lm = ScriptedModel(['{"skill": {"name": "done"}}'])
    >>> lm.generate(GenerationRequest(system="You plan.", context="Goal: nothing")).text
    '{"skill": {"name": "done"}}'
    >>> lm.requests[0].context
    'Goal: nothing'
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from robomem.registry import Registry

__all__ = [
    "LANGUAGE_MODELS",
    "Generation",
    "GenerationRequest",
    "LanguageModel",
    "LanguageModelError",
    "ScriptedModel",
    "backend_class",
    "make_language_model",
]


class LanguageModelError(RuntimeError):
    """A backend could not answer (server unreachable, timed out, model failed to load...).

    The message says what failed and what to check.
    """


@dataclass(frozen=True)
class GenerationRequest:
    """One call to a language model.

    Attributes:
        system: the static part (skills, rules, output format); the same across calls of an
            episode, so backends may cache it.
        context: the changing part (memory context, feedback, the question).
        images: RGB images (H, W, 3) uint8 for models that accept them; others ignore them.
        max_new_tokens: the most tokens to generate, >= 1.
        stop: strings that end the answer early (not included in it).
    """

    system: str
    context: str
    images: Sequence[NDArray[np.uint8]] = ()
    max_new_tokens: int = 256
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")


@dataclass(frozen=True)
class Generation:
    """A model's answer and what it cost.

    Attributes:
        text: the generated text (after the prompt).
        prompt_tokens: tokens in the prompt.
        new_tokens: tokens generated.
        cached_tokens: prompt tokens whose KV cache was reused rather than computed.
        seconds: wall time of the call.
        meta: backend-specific detail (the model name, retries, ...).
    """

    text: str
    prompt_tokens: int = 0
    new_tokens: int = 0
    cached_tokens: int = 0
    seconds: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)


class LanguageModel(ABC):
    """A text (or vision-language) model that completes a :class:`GenerationRequest`."""

    name: ClassVar[str] = ""

    @abstractmethod
    def generate(self, request: GenerationRequest) -> Generation:
        """Answer ``request`` (greedy decoding: the same request gives the same answer).

        Raises:
            LanguageModelError: the backend could not answer.
        """

    def close(self) -> None:  # noqa: B027  (optional hook)
        """Release connections or memory."""


LANGUAGE_MODELS: Registry[type[LanguageModel]] = Registry(
    "language model backend", group="robomem.language_models")
# The built-in backends, imported on first use (other packages add theirs by entry point).
LANGUAGE_MODELS.add_lazy("scripted", "robomem.planners.lm:ScriptedModel")
LANGUAGE_MODELS.add_lazy("openai", "robomem.planners.http_lm:OpenAIChatModel")
LANGUAGE_MODELS.add_lazy("local", "robomem.planners.local_lm:LocalModel")


class ScriptedModel(LanguageModel):
    """Answers from a list (cycling) or a function of the request; for tests and demos.

    Args:
        answers: the answers in turn (the last one repeats), or a function of the request.
    """

    name: ClassVar[str] = "scripted"

    def __init__(self, answers: Sequence[str] | Callable[[GenerationRequest], str]) -> None:
        if not callable(answers) and not answers:
            raise ValueError("ScriptedModel needs at least one answer")
        self.answers = answers
        self.requests: list[GenerationRequest] = []

    def generate(self, request: GenerationRequest) -> Generation:
        """The next scripted answer."""
        self.requests.append(request)
        if callable(self.answers):
            return Generation(self.answers(request))
        i = min(len(self.requests) - 1, len(self.answers) - 1)
        return Generation(self.answers[i])


def backend_class(name: str) -> type[LanguageModel]:
    """The backend registered as ``name``, built-ins included (``KeyError`` lists the names)."""
    return LANGUAGE_MODELS.get(name)


def make_language_model(name: str, **options: Any) -> LanguageModel:
    """Build the backend ``name`` with its options (e.g. ``path=...`` for ``local``).

    Raises:
        KeyError: an unknown name (the message lists the known ones).
        ValueError: a missing option, or one the backend does not take.
    """
    cls = backend_class(name)
    try:
        return cls(**options)
    except TypeError as e:  # a missing or unknown option: say which, in the config's terms
        raise ValueError(f"language model backend {name!r} cannot be built from options "
                         f"{options}: {e}; set them as llm.options.<name>=VALUE") from None
