"""Non-parametric HCAM recall over episodic memory: "recall the moment when ...".

HCAM (Hierarchical Chunk Attention Memory, Lampinen et al. 2021; the parametric torch
module is :mod:`robomem.memory.hcam`) splits a long history into chunks, attends first to
one summary per chunk, picks the top-k chunks and then attends in detail only to the steps
inside them. :class:`ChunkRecall` does the same with fixed text embeddings and no training:

1. The ordered step history (:class:`StepEntry` rows, as episodic memory keeps them, and their
   unit-norm embeddings) is cut, per episode, into chunks of ``chunk_size`` consecutive
   steps; a chunk never crosses an episode boundary (the last chunk of an episode may be
   shorter).
2. Each chunk is summarised by the mean of its step embeddings, re-normalised to unit length
   (HCAM's chunk summary), and the summaries go into a flat inner-product
   :class:`~robomem.memory.vector_index.VectorIndex`.
3. A query text is embedded; the ``top_chunks`` chunks whose summaries are most similar
   (cosine) are retrieved (HCAM's coarse top-k attention).
4. Inside those chunks every step is scored by its cosine with the query (HCAM's detailed
   attention); the best steps come back as :class:`RecalledMoment` with their chunk's score
   and the neighbouring steps of the chunk as context.

With ``top_chunks`` at least the number of chunks the answer equals a brute-force search
for the best steps; smaller values trade exactness for looking at ``top_chunks *
chunk_size`` steps instead of all of them.

Example:
    >>> import numpy as np
    >>> from robomem.memory.chunk_recall import ChunkRecall
    >>> from robomem.memory.encoders import HashEncoder
    >>> from robomem.memory.chunk_recall import StepEntry
    >>> texts = ["MoveAhead: a hallway"] * 6 + ["PickupObject: Mug|3 from Fridge"]
    >>> entries = [StepEntry(0, i, "house", t) for i, t in enumerate(texts)]
    >>> enc = HashEncoder()
    >>> recall = ChunkRecall.build(enc, entries, enc.encode(texts), chunk_size=4, top_chunks=1)
    >>> recall.num_chunks
    2
    >>> best = recall.recall("take the mug out of the fridge", k=1)[0]
    >>> (best.episode, best.step, best.text)
    (0, 6, 'PickupObject: Mug|3 from Fridge')
    >>> [e.step for e in best.context]
    [4, 5, 6]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from robomem.memory.base import Fact
from robomem.memory.encoders import TextEncoder
from robomem.memory.vector_index import VectorIndex

__all__ = ["ChunkRecall", "RecalledMoment", "StepEntry", "StepHistory", "as_facts"]

ENCODE_BATCH = 512  # step texts encoded per call when re-encoding an episodic memory


@dataclass(frozen=True)
class StepEntry:
    """One embedded step (the first of a run of steps with the same text)."""

    episode: int
    step: int
    scene: str
    text: str
    action: str = ""
    action_success: bool = True

    def to_data(self) -> dict[str, Any]:
        """A JSON-friendly dict."""
        return asdict(self)


class StepHistory(Protocol):
    """What :meth:`ChunkRecall.from_episodic` reads of a memory: its encoder and its steps.

    :class:`~robomem.memory.episodic.EpisodicMemory` is one.
    """

    @property
    def encoder(self) -> TextEncoder:
        """The encoder the step vectors come from."""
        ...

    def steps(self) -> list[StepEntry]:
        """Every step entry, oldest first."""
        ...


@dataclass(frozen=True)
class RecalledMoment:
    """One recalled step.

    Attributes:
        episode: the step's episode.
        step: the step index within the episode.
        text: the embedded step text.
        score: cosine similarity of the step with the query (orders the moments).
        chunk_score: cosine similarity of the step's chunk summary with the query.
        context: the steps around it within its chunk (itself included), in order.
        query: the query text the moment was recalled for.
        scene: the step's scene.
        chunk: the index of the step's chunk.
    """

    episode: int
    step: int
    text: str
    score: float
    chunk_score: float
    context: list[StepEntry]
    query: str = ""
    scene: str = ""
    chunk: int = -1


def _unit_rows(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """Rows scaled to unit length (all-zero rows stay zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: NDArray[np.float32] = (x / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    return out


class ChunkRecall:
    """Two-stage (chunk summary, then step) recall of past moments by text.

    Args:
        encoder: embeds query texts; it must be the encoder the step vectors came from.
        chunk_size: consecutive steps of one episode per chunk (C).
        top_chunks: chunks retrieved by summary similarity before steps are scored (k).

    Raises:
        ValueError: ``chunk_size`` or ``top_chunks`` below 1.
    """

    def __init__(self, encoder: TextEncoder, chunk_size: int = 16, top_chunks: int = 4) -> None:
        if not isinstance(encoder, TextEncoder):
            raise TypeError(f"encoder must be a TextEncoder, got {type(encoder).__name__}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        if top_chunks < 1:
            raise ValueError(f"top_chunks must be at least 1, got {top_chunks}")
        self.encoder = encoder
        self.chunk_size, self.top_chunks = chunk_size, top_chunks
        self._entries: list[StepEntry] = []
        self._vectors: NDArray[np.float32] = np.zeros((0, encoder.dim), np.float32)
        self._chunks: list[tuple[int, int]] = []  # [start, end) rows of each chunk
        self._index = VectorIndex(encoder.dim, "flat")

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls, encoder: TextEncoder, entries: Sequence[StepEntry], vectors: ArrayLike,
              chunk_size: int = 16, top_chunks: int = 4) -> ChunkRecall:
        """A recall over ``entries`` (in history order) and their embeddings.

        Args:
            encoder: the encoder the vectors came from (used for queries).
            entries: the steps, oldest first.
            vectors: ``(len(entries), encoder.dim)`` step embeddings.
            chunk_size: steps per chunk.
            top_chunks: chunks searched in detail per query.

        Raises:
            ValueError: bad sizes, or vectors that do not match the entries.
        """
        out = cls(encoder, chunk_size, top_chunks)
        out.fit(entries, vectors)
        return out

    @classmethod
    def from_episodic(cls, mem: StepHistory, chunk_size: int = 16,
                      top_chunks: int = 4) -> ChunkRecall:
        """A recall over every step ``mem`` holds, re-encoded with ``mem.encoder``.

        The step texts are encoded in batches of :data:`ENCODE_BATCH`.
        """
        entries = mem.steps()
        texts = [e.text for e in entries]
        parts = [mem.encoder.encode(texts[i:i + ENCODE_BATCH])
                 for i in range(0, len(texts), ENCODE_BATCH)]
        vectors = (np.concatenate(parts) if parts
                   else np.zeros((0, mem.encoder.dim), np.float32))
        return cls.build(mem.encoder, entries, vectors, chunk_size, top_chunks)

    def fit(self, entries: Sequence[StepEntry], vectors: ArrayLike) -> None:
        """Replace the history with ``entries`` and their ``vectors`` and rebuild the chunks.

        Raises:
            ValueError: ``vectors`` not ``(len(entries), encoder.dim)`` or not finite.
        """
        x = np.asarray(vectors, dtype=np.float32)
        if x.ndim == 1 and x.size == 0:
            x = x.reshape(0, self.encoder.dim)
        if x.ndim != 2:
            raise ValueError(f"vectors must be a 2-d (n, dim) array, got shape {x.shape}")
        if len(x) != len(entries):
            raise ValueError(f"got {len(x)} vectors for {len(entries)} entries; "
                             f"there must be one vector per entry")
        if x.shape[1] != self.encoder.dim:
            raise ValueError(f"vectors have dimension {x.shape[1]}, the encoder "
                             f"{self.encoder.dim}")
        if not np.all(np.isfinite(x)):
            raise ValueError("vectors must be finite")
        chunks: list[tuple[int, int]] = []
        start = 0
        for i in range(1, len(entries) + 1):
            if (i == len(entries) or entries[i].episode != entries[start].episode
                    or i - start == self.chunk_size):
                chunks.append((start, i))
                start = i
        x = _unit_rows(x)
        summaries = (np.stack([x[a:b].mean(axis=0) for a, b in chunks]) if chunks
                     else np.zeros((0, self.encoder.dim), np.float32))
        index = VectorIndex(self.encoder.dim, "flat")
        index.add(np.arange(len(chunks)), _unit_rows(summaries.astype(np.float32)))
        self._entries, self._vectors = list(entries), x
        self._chunks, self._index = chunks, index

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return len(self._entries)

    @property
    def num_chunks(self) -> int:
        """How many chunks the history was cut into."""
        return len(self._chunks)

    def chunks(self) -> list[list[StepEntry]]:
        """The steps of every chunk, in history order."""
        return [self._entries[a:b] for a, b in self._chunks]

    def recall(self, text: str, k: int = 3, window: int | None = 2) -> list[RecalledMoment]:
        """The ``k`` steps best matching ``text``, best first.

        Args:
            text: what to recall ("when did I take the mug out of the fridge").
            k: moments returned at most.
            window: context steps taken on each side of a moment, within its chunk
                (``None``: the whole chunk).

        Returns:
            Up to ``k`` moments from the ``top_chunks`` best chunks, ordered by step score
            (ties: earlier step first); empty when no steps are held.

        Raises:
            ValueError: an empty query, ``k`` below 1 or a negative ``window``.
        """
        if not text or not text.strip():
            raise ValueError("query text must not be empty")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if window is not None and window < 0:
            raise ValueError(f"window must be >= 0 or None, got {window}")
        if not self._chunks:
            return []
        q = self.encoder.encode_one(text).astype(np.float32)
        hits = self._index.search_one(q, self.top_chunks)
        rows: list[int] = []
        row_chunk: list[tuple[int, float]] = []
        for c, chunk_score in hits:
            a, b = self._chunks[c]
            rows.extend(range(a, b))
            row_chunk.extend([(c, chunk_score)] * (b - a))
        cand = np.asarray(rows, dtype=np.int64)
        scores = self._vectors[cand] @ q
        order = np.lexsort((cand, -scores))[:k]  # best score first, then history order
        out = []
        for j in order.tolist():
            row = int(cand[j])
            c, chunk_score = row_chunk[j]
            a, b = self._chunks[c]
            lo, hi = (a, b) if window is None else (max(a, row - window),
                                                    min(b, row + window + 1))
            e = self._entries[row]
            out.append(RecalledMoment(e.episode, e.step, e.text, float(scores[j]),
                                      float(chunk_score), self._entries[lo:hi], text,
                                      e.scene, c))
        return out


def as_facts(moments: Sequence[RecalledMoment]) -> list[Fact]:
    """Moments as episodic :class:`~robomem.memory.base.Fact` rows (kind ``moment``).

    ``subject`` is the query, ``value`` the step text and ``score`` the step score; ``data``
    holds the episode, step, scene, chunk, chunk score and the context steps as dicts.
    """
    facts = []
    for m in moments:
        data: dict[str, Any] = {"episode": m.episode, "step": m.step, "scene": m.scene,
                                "chunk": m.chunk, "chunk_score": m.chunk_score,
                                "context": [e.to_data() for e in m.context]}
        facts.append(Fact("episodic", "moment", m.query, m.text, m.score, data))
    return facts
