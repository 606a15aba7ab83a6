"""A local transformers backend that keeps the system part's KV cache between calls.

:class:`LocalModel` loads any causal language model (or vision-language model) from a local
folder with ``transformers`` and answers :class:`~robomem.planners.lm.GenerationRequest` s by
greedy decoding. A planner's calls share one long, static system part (skills, rules, the
output format) and differ only in the memory context, so:

* **Prefix cache.** The prompt is tokenised in three separate pieces, ``prefix`` (the system
  part and the chat template's opening), ``context`` and ``suffix`` (the end of the user turn
  and the assistant header), and the ids are concatenated, so the prefix ids never depend on
  the context. The prefix is run once and its KV cache kept; each call starts from a copy of
  it and computes only the context and suffix tokens, then decodes token by token. A request
  whose system part differs rebuilds the cache (counted in :attr:`LocalModel.rebuilds`).
  ``prefix_cache=False`` computes the whole prompt in each call (the baseline).
* **Sink plus window** (StreamingLLM, Xiao et al. 2023, arXiv:2309.17453). With
  ``sink_tokens`` and ``window_tokens`` set, after every forward pass the cache keeps only
  its first ``sink_tokens`` entries (the attention sinks) and its last ``window_tokens``
  entries, so it never holds more than ``sink + window`` entries between forward passes;
  long inputs are fed in chunks of at most ``window_tokens`` tokens. Cached keys are *not*
  re-rotated: every token keeps the rotary position it was computed at, and positions keep
  counting past the evicted middle (StreamingLLM re-rotates keys to their cache slots
  instead). With rotary models this means positions can exceed the training length on very
  long episodes; the bound on memory is what this option guarantees.
* **Images.** When the model is a vision-language model (its config has a
  ``vision_config`` and an ``AutoProcessor`` with an image processor loads from the folder),
  requests with images go through the processor and ``model.generate`` (no prefix cache on
  that path); a text-only model ignores images and warns once.

It runs on the CPU and uses CUDA when present (``device="auto"``). Needs the ``llm`` extra
(``pip install 'robomem[llm]'``).

Example (``path`` is a folder written by ``save_pretrained``; nothing is downloaded):

    lm = LocalModel(path, sink_tokens=4, window_tokens=1024)
    answer = lm.generate(GenerationRequest(system=rules, context=memory, max_new_tokens=64))
    answer.cached_tokens  # the prefix tokens whose KV cache was reused (0 on a rebuild)
"""

from __future__ import annotations

import copy
import inspect
import logging
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from robomem.planners.lm import (
    Generation,
    GenerationRequest,
    LanguageModel,
    LanguageModelError,
)

__all__ = ["LocalModel", "cache_argument", "split_chat_template"]

log = logging.getLogger(__name__)

_SENTINEL = "\u27e6ROBOMEM-CONTEXT\u27e7"
_EXTRA = "pip install 'robomem[llm]'"


def _import_torch_transformers() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(f"LocalModel needs transformers and torch: {_EXTRA}") from e
    return torch, transformers


def cache_argument(model: Any) -> str:
    """The keyword ``model``'s forward takes its KV cache by: ``cache`` or ``past_key_values``.

    transformers renamed ``past_key_values`` to ``cache`` (5.25 warns that the old name goes
    in 5.40); older releases only know ``past_key_values``. Decided once per model from the
    forward's signature, which the deprecation wrappers keep (``functools.wraps``).

    Example:
        >>> class Old:
        ...     def forward(self, input_ids=None, past_key_values=None, use_cache=None): ...
        >>> class New:
        ...     def forward(self, input_ids=None, cache=None, use_cache=None, **kwargs): ...
        >>> cache_argument(Old()), cache_argument(New())
        ('past_key_values', 'cache')
    """
    try:
        params = inspect.signature(model.forward).parameters
    except (TypeError, ValueError):  # pragma: no cover - a forward without a signature
        return "past_key_values"
    return "cache" if "cache" in params else "past_key_values"


def split_chat_template(tokenizer: Any, system: str) -> tuple[str, str] | None:
    """The text before and after the user message in ``tokenizer``'s chat template.

    Renders ``[system, user=<sentinel>]`` with the generation prompt and splits it at the
    sentinel. Templates that reject a system message get the system text at the start of
    the user message instead.

    Args:
        tokenizer: a transformers tokenizer (or processor) with ``apply_chat_template``.
        system: the system part.

    Returns:
        ``(prefix, suffix)``, or ``None`` when there is no chat template or the sentinel
        does not appear exactly once in the rendered text.
    """
    if not getattr(tokenizer, "chat_template", None):
        return None
    attempts = [
        [{"role": "system", "content": system}, {"role": "user", "content": _SENTINEL}],
        [{"role": "user", "content": f"{system}\n\n{_SENTINEL}"}],
    ]
    for messages in attempts:
        try:
            text = tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                                 tokenize=False)
        except Exception:  # templates raise anything (jinja errors, ...)
            continue
        if isinstance(text, str) and text.count(_SENTINEL) == 1:
            prefix, suffix = text.split(_SENTINEL)
            return prefix, suffix
    return None


class _StopStrings:
    """A ``generate`` stopping criterion: the decoded new tokens contain a stop string."""

    def __init__(self, tokenizer: Any, stops: Sequence[str], start: int) -> None:
        self.tokenizer, self.stops, self.start = tokenizer, list(stops), start

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        torch, _ = _import_torch_transformers()
        done = [any(s in self.tokenizer.decode(row[self.start:], skip_special_tokens=True)
                    for s in self.stops) for row in input_ids]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


class LocalModel(LanguageModel):
    """A causal LM (or VLM) from a local folder, with a reused system-prefix KV cache.

    Args:
        path: a folder holding a transformers model and tokenizer (``save_pretrained``).
            Nothing is downloaded (``local_files_only``).
        device: ``"auto"`` (CUDA when available, else the CPU), ``"cpu"``, ``"cuda"``,
            ``"cuda:1"``...
        dtype: ``"auto"`` (bfloat16 on CUDA, float32 on the CPU), ``"float32"``,
            ``"float16"`` or ``"bfloat16"``.
        prefix_cache: keep the system part's KV cache between calls; ``False`` computes the
            whole prompt in every call.
        sink_tokens: with ``window_tokens``, bound the cache to ``sink + window`` entries
            (StreamingLLM); both or neither.
        window_tokens: the most recent entries kept with the sinks.
        chat_template: wrap the request in the tokenizer's chat template when it has one.

    Attributes:
        prefix_builds: times the prefix cache was computed (the first call included).
        rebuilds: times it was rebuilt because the system part changed.
        last_cache_len: the longest the KV cache was between forward passes in the last call
            (at most ``sink_tokens + window_tokens`` when those are set).
        last_prefill_seconds: seconds the last prefix build took (0 when it was reused).

    ``Generation.meta`` holds ``model`` (the path), ``rebuilt`` (this call built the prefix
    cache), ``prompt_seconds`` (until the first new token's logits: the prompt's share of the
    call), ``prefill_seconds`` (the prefix build, 0 when reused) and ``cache_len``.

    Raises:
        LanguageModelError: ``path`` is missing or holds no loadable model.
        ValueError: bad options.
    """

    name: ClassVar[str] = "local"

    def __init__(self, path: str, device: str = "auto", dtype: str = "auto",
                 prefix_cache: bool = True, sink_tokens: int | None = None,
                 window_tokens: int | None = None, chat_template: bool = True) -> None:
        if (sink_tokens is None) != (window_tokens is None):
            raise ValueError("set both sink_tokens and window_tokens, or neither")
        if sink_tokens is not None and window_tokens is not None and (
                sink_tokens < 0 or window_tokens < 1):
            raise ValueError(f"need sink_tokens >= 0 and window_tokens >= 1, got "
                             f"{sink_tokens} and {window_tokens}")
        torch, transformers = _import_torch_transformers()
        self.path = str(path)
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise LanguageModelError(f"no model folder at {self.path} (LocalModel loads from a "
                                     "local path written by save_pretrained)")
        self.device = torch.device(
            ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device)
        if dtype == "auto":
            self.dtype = (torch.bfloat16 if self.device.type == "cuda"
                          and torch.cuda.is_bf16_supported() else torch.float32)
        else:
            try:
                self.dtype = {"float32": torch.float32, "float16": torch.float16,
                              "bfloat16": torch.bfloat16}[dtype]
            except KeyError:
                raise ValueError(f"unknown dtype {dtype!r}: auto, float32, float16 or "
                                 "bfloat16") from None
        try:
            self.tokenizer: Any = transformers.AutoTokenizer.from_pretrained(
                str(folder), local_files_only=True)
            config = transformers.AutoConfig.from_pretrained(str(folder), local_files_only=True)
            self.model: Any = None
            if hasattr(config, "vision_config"):  # most VLMs load as image-text-to-text
                try:
                    self.model = transformers.AutoModelForImageTextToText.from_pretrained(
                        str(folder), local_files_only=True, dtype=self.dtype)
                except (ValueError, AttributeError) as e:
                    log.info("%s does not load as an image-text-to-text model (%s); loading "
                             "it as a causal language model", self.path, e)
                    self.model = None
            if self.model is None:
                self.model = transformers.AutoModelForCausalLM.from_pretrained(
                    str(folder), local_files_only=True, dtype=self.dtype)
        except (OSError, ValueError, KeyError) as e:
            raise LanguageModelError(f"could not load a model and tokenizer from {self.path}: "
                                     f"{e}") from e
        self.model.to(self.device).eval()
        self._cache_arg = cache_argument(self.model)
        self.prefix_cache = prefix_cache
        self.sink_tokens = sink_tokens
        self.window_tokens = window_tokens
        self.chat_template = chat_template
        self.processor: Any = self._load_processor(folder) if hasattr(
            self.model.config, "vision_config") else None
        eos = self.model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [] if eos is None else [eos])
        if self.tokenizer.eos_token_id is not None:
            eos_ids.add(int(self.tokenizer.eos_token_id))
        self.eos_ids: frozenset[int] = frozenset(int(i) for i in eos_ids)
        self.prefix_builds = 0
        self.rebuilds = 0
        self.last_cache_len = 0
        self.last_prefill_seconds = 0.0
        self._cached_system: str | None = None
        self._cached_prefix_ids: list[int] = []
        self._cached: Any = None  # the prefix's DynamicCache
        self._prefix_logits: Any = None  # its last position's logits (for an empty context)
        self._warned_images = False
        self._logged_plain_prompt = False
        log.info("loaded %s (%s) on %s as %s%s", self.path, type(self.model).__name__,
                 self.device, str(self.dtype).removeprefix("torch."),
                 ", with an image processor" if self.processor is not None else "")

    @property
    def streaming(self) -> bool:
        """Whether the sink-plus-window bound is on."""
        return self.window_tokens is not None

    def _load_processor(self, folder: Path) -> Any:
        _, transformers = _import_torch_transformers()
        try:
            processor = transformers.AutoProcessor.from_pretrained(str(folder),
                                                                   local_files_only=True)
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.info("%s: no image processor could be loaded (%s); images are ignored",
                     self.path, e)
            return None
        if getattr(processor, "image_processor", None) is None:
            log.info("%s: the processor has no image processor; images are ignored", self.path)
            return None
        return processor

    # -- prompt ---------------------------------------------------------------------------

    def prompt_parts(self, system: str) -> tuple[str, str, bool]:
        """The prefix and suffix text around the context, and whether a chat template made them.

        Without a chat template (or with ``chat_template=False``): the system part and a blank
        line, and a newline.
        """
        if self.chat_template:
            split = split_chat_template(self.tokenizer, system)
            if split is not None:
                return split[0], split[1], True
            if not self._logged_plain_prompt:
                log.info("%s: no usable chat template; prompts are plain text (the system "
                         "part, a blank line, the context)", self.path)
                self._logged_plain_prompt = True
        return system + "\n\n", "\n", False

    def _ids(self, text: str, special: bool) -> list[int]:
        if not text:
            return []
        return list(self.tokenizer(text, add_special_tokens=special)["input_ids"])

    def prompt_ids(self, system: str, context: str) -> tuple[list[int], list[int]]:
        """The prefix ids and the context-plus-suffix ids, tokenised separately.

        The tokenizer's own special tokens (e.g. BOS) are added to the prefix only when no
        chat template is used (a rendered template already spells them out).
        """
        prefix, suffix, templated = self.prompt_parts(system)
        return (self._ids(prefix, special=not templated),
                self._ids(context, False) + self._ids(suffix, False))

    # -- cache ----------------------------------------------------------------------------

    def _new_cache(self) -> Any:
        _, transformers = _import_torch_transformers()
        return transformers.DynamicCache(config=self.model.config)

    def _trim(self, cache: Any) -> int:
        """Evict between the sinks and the window; the cache length afterwards."""
        length = int(cache.get_seq_length())
        if not self.streaming or self.sink_tokens is None or self.window_tokens is None:
            return length
        sink, window = self.sink_tokens, self.window_tokens
        if length <= sink + window:
            return length
        torch, _ = _import_torch_transformers()
        for layer in cache.layers:
            if getattr(layer, "is_sliding", False) or not hasattr(layer, "keys"):
                raise LanguageModelError(f"{self.path}: the sink-plus-window cache needs plain "
                                         f"full-attention cache layers, got {type(layer)}")
            if layer.keys is None or layer.keys.shape[-2] <= sink + window:
                continue
            layer.keys = torch.cat([layer.keys[..., :sink, :], layer.keys[..., -window:, :]],
                                   dim=-2)
            layer.values = torch.cat([layer.values[..., :sink, :],
                                      layer.values[..., -window:, :]], dim=-2)
        return int(cache.get_seq_length())

    def _forward(self, ids: Sequence[int], cache: Any, pos: int) -> tuple[Any, int]:
        """Feed ``ids`` (positions ``pos``...) into ``cache``; the last logits and new pos.

        Streaming feeds at most ``window_tokens`` ids per forward and trims after each.
        """
        torch, _ = _import_torch_transformers()
        step = self.window_tokens if self.streaming and self.window_tokens else max(1, len(ids))
        logits = None
        for start in range(0, len(ids), step):
            chunk = torch.tensor([list(ids[start:start + step])], device=self.device)
            kwargs: dict[str, Any] = {}
            if self.streaming:  # the cache is shorter than the position once it evicts
                kwargs["position_ids"] = torch.arange(
                    pos, pos + chunk.shape[1], device=self.device).unsqueeze(0)
            kwargs[self._cache_arg] = cache
            out = self.model(input_ids=chunk, use_cache=True, logits_to_keep=1, **kwargs)
            logits = out.logits[0, -1]
            pos += int(chunk.shape[1])
            self.last_cache_len = max(self.last_cache_len, self._trim(cache))
        return logits, pos

    def _prefix_state(self, system: str, prefix_ids: list[int]) -> tuple[Any, int, bool]:
        """A private copy of the prefix cache, its position, and whether it was (re)built."""
        rebuilt = False
        if self._cached is None or self._cached_system != system \
                or self._cached_prefix_ids != prefix_ids:
            t0 = time.perf_counter()
            if self._cached is not None:
                self.rebuilds += 1
            cache = self._new_cache()
            self._prefix_logits, _ = self._forward(prefix_ids, cache, 0)
            self._cached, self._cached_system = cache, system
            self._cached_prefix_ids = list(prefix_ids)
            self.prefix_builds += 1
            self.last_prefill_seconds = time.perf_counter() - t0
            rebuilt = True
            log.debug("%s: prefix cache %s: %d tokens in %.3f s", self.path,
                      "rebuilt" if self.rebuilds else "built", len(prefix_ids),
                      self.last_prefill_seconds)
        # Deep copy: the call's forward passes extend (and may trim) its own cache; the stored
        # prefix stays as it was. Costs one copy of the prefix's keys and values per call.
        return copy.deepcopy(self._cached), len(prefix_ids), rebuilt

    # -- generation -----------------------------------------------------------------------

    def generate(self, request: GenerationRequest) -> Generation:
        """Greedy answer to ``request`` (see the module docstring for the caching).

        Raises:
            LanguageModelError: an empty prompt, or the model failed (out of memory, ...).
        """
        try:
            return self._generate(request)
        except LanguageModelError:
            raise
        except (RuntimeError, ValueError, IndexError) as e:
            raise LanguageModelError(f"{self.path}: generation failed: {e}") from e

    def _generate(self, request: GenerationRequest) -> Generation:
        torch, _ = _import_torch_transformers()
        t0 = time.perf_counter()
        if request.images:
            if self.processor is not None:
                return self._generate_vlm(request, t0)
            if not self._warned_images:
                warnings.warn(f"{self.path} is a text-only model: request images are ignored",
                              stacklevel=3)
                self._warned_images = True
        prefix_ids, rest_ids = self.prompt_ids(request.system, request.context)
        if not prefix_ids and not rest_ids:
            raise LanguageModelError(f"{self.path}: the request's prompt has no tokens")
        self.last_cache_len = 0
        self.last_prefill_seconds = 0.0
        with torch.inference_mode():
            if self.prefix_cache:
                cache, pos, rebuilt = self._prefix_state(request.system, prefix_ids)
                self.last_cache_len = int(cache.get_seq_length())
                logits, pos = self._forward(rest_ids, cache, pos)
                if logits is None:  # nothing after the prefix
                    logits = self._prefix_logits
                cached = 0 if rebuilt else len(prefix_ids)
            else:
                cache, rebuilt, cached = self._new_cache(), False, 0
                if self.streaming:  # the same chunk boundaries as with the prefix cache
                    prefix_logits, pos = self._forward(prefix_ids, cache, 0)
                    logits, pos = self._forward(rest_ids, cache, pos)
                    logits = prefix_logits if logits is None else logits
                else:
                    logits, pos = self._forward(prefix_ids + rest_ids, cache, 0)
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
            prompt_seconds = time.perf_counter() - t0
            new_ids, text = self._decode(logits, cache, pos, request)
        return Generation(text=text, prompt_tokens=len(prefix_ids) + len(rest_ids),
                          new_tokens=len(new_ids), cached_tokens=cached,
                          seconds=time.perf_counter() - t0,
                          meta={"model": self.path, "rebuilt": rebuilt,
                                "prompt_seconds": prompt_seconds,
                                "prefill_seconds": self.last_prefill_seconds,
                                "cache_len": self.last_cache_len})

    def _decode(self, logits: Any, cache: Any, pos: int,
                request: GenerationRequest) -> tuple[list[int], str]:
        """Greedy decoding until EOS, ``max_new_tokens`` or a stop string."""
        new_ids: list[int] = []
        text = ""
        while True:
            token = int(logits.argmax())
            if token in self.eos_ids:
                break
            new_ids.append(token)
            if request.stop:
                text = self.tokenizer.decode(new_ids, skip_special_tokens=True)
                cut = min((i for i in (text.find(s) for s in request.stop if s) if i >= 0),
                          default=-1)
                if cut >= 0:
                    return new_ids, text[:cut]
            if len(new_ids) >= request.max_new_tokens:
                break
            logits, pos = self._forward([token], cache, pos)
        return new_ids, self.tokenizer.decode(new_ids, skip_special_tokens=True)

    def _generate_vlm(self, request: GenerationRequest, t0: float) -> Generation:
        """Images through the processor and ``model.generate`` (no prefix cache)."""
        torch, _ = _import_torch_transformers()
        from PIL import Image

        images = [Image.fromarray(np.asarray(im, dtype=np.uint8)) for im in request.images]
        content: list[dict[str, Any]] = [{"type": "image"} for _ in images]
        content.append({"type": "text", "text": request.context})
        messages = [{"role": "system", "content": [{"type": "text", "text": request.system}]},
                    {"role": "user", "content": content}]
        text = self.processor.apply_chat_template(messages, add_generation_prompt=True,
                                                  tokenize=False)
        inputs = self.processor(text=text, images=images, return_tensors="pt").to(self.device)
        n = int(inputs["input_ids"].shape[1])
        # Stop strings are checked on the decoded text (as the text path does) rather than with
        # generate's ``stop_strings``, whose token-vocabulary analysis fails on some tokenizers.
        stops = [s for s in request.stop if s]
        criteria = [_StopStrings(self.tokenizer, stops, n)] if stops else []
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=request.max_new_tokens,
                                      do_sample=False, stopping_criteria=criteria)
        new_ids = [int(i) for i in out[0, n:] if int(i) not in self.eos_ids]
        answer = self.tokenizer.decode(new_ids, skip_special_tokens=True)
        for s in request.stop:
            if s and s in answer:
                answer = answer[:answer.index(s)]
        return Generation(text=answer, prompt_tokens=n, new_tokens=len(new_ids),
                          seconds=time.perf_counter() - t0,
                          meta={"model": self.path, "rebuilt": False, "images": len(images)})

    def close(self) -> None:
        """Drop the prefix cache (the model stays loaded until the object goes)."""
        self._cached = self._prefix_logits = None
        self._cached_system = None
        self._cached_prefix_ids = []
