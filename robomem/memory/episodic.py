"""Episodic memory: what happened in past episodes, found again by what was asked.

One :class:`EpisodeRecord` is kept per finished episode (instruction, scene, goal family,
outcome, the plan of skills with their statuses, a digest and a few PNG key frames). Two
vector indexes (:class:`~robomem.memory.vector_index.VectorIndex`) make it searchable:

* episodes, by the embedding of their instruction: :meth:`EpisodicMemory.recall` answers a
  planner's query with the past episodes whose instruction is closest to the current one
  (with a bonus for the same scene), so it can reuse a plan that worked or avoid one that
  failed;
* steps, by the embedding of each step's action name and percept summary (a run of steps
  with the same text is stored once): :meth:`EpisodicMemory.similar_steps`.

Step texts are collected on the write path and encoded in batches (when ``flush_every``
are waiting, at the end of an episode, or before a step search), so a step costs a string,
not a model call.

Persistence (through :class:`~robomem.memory.base.MemoryStorage`): ``save`` appends the new
``episode`` rows (vector: the instruction embedding; data: the record without frames), the
key frames as blobs ``episodic/frames/<episode>/<i>.png``, and ``episode_step`` rows
(vector: the step embedding), then rewrites the derived index files
``episodic_episodes.faiss`` and ``episodic_steps.faiss``. ``attach`` loads the rows and
checks each file against them; a missing, stale, truncated or corrupted file is rebuilt
from the stored vectors (nothing is re-encoded), logged (level INFO, logger
``robomem.memory.episodic``) and reported with an :class:`IndexRebuiltWarning`.

Example:
    >>> from robomem.memory.base import EpisodeOutcome, MemoryQuery
    >>> from robomem.memory.episodic import EpisodicMemory
    >>> mem = EpisodicMemory(encoder="hash")
    >>> mem.end_episode(EpisodeOutcome(0, "house_0", "put a mug in the fridge",
    ...                                "pick_and_place", success=True, steps=40))
    >>> mem.end_episode(EpisodeOutcome(1, "house_0", "turn on the lamp",
    ...                                "look_at_in_light", success=False, steps=90))
    >>> facts = mem.recall(MemoryQuery(2, 0, "house_0", "put the mug in the fridge", k=1))
    >>> [(f.kind, f.subject, f.value) for f in facts]
    [('similar_episode', 'put a mug in the fridge', 'succeeded')]
"""

from __future__ import annotations

import io
import logging
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from robomem.memory.background import BackgroundEncoder
from robomem.memory.base import (
    EpisodeOutcome,
    EpisodeStart,
    Fact,
    MemoryModule,
    MemoryQuery,
    MemoryStorage,
    PlanStep,
    StepInput,
    StoredRecord,
)
from robomem.memory.chunk_recall import ChunkRecall, RecalledMoment, StepEntry, as_facts
from robomem.memory.encoders import TextEncoder, make_encoder
from robomem.memory.vector_index import IndexCorruptError, VectorIndex

__all__ = [
    "EPISODES_FILE",
    "EPISODE_KIND",
    "FRAMES_PREFIX",
    "INDEX_KINDS",
    "STEPS_FILE",
    "STEP_KIND",
    "EpisodeMatch",
    "EpisodeRecord",
    "EpisodicMemory",
    "IndexRebuiltWarning",
    "StepEntry",
    "StepMatch",
    "decode_frame",
    "encode_frames",
    "step_text",
]

EPISODE_KIND = "episode"  # record kind of episodes
STEP_KIND = "episode_step"  # record kind of step embeddings
EPISODES_FILE = "episodic_episodes.faiss"
STEPS_FILE = "episodic_steps.faiss"
FRAMES_PREFIX = "episodic/frames/"  # blobs <prefix><episode>/<i>.png
INDEX_KINDS = ("flat", "hnsw")  # ivf needs training data up front, so it is not offered here
log = logging.getLogger(__name__)


class IndexRebuiltWarning(RuntimeWarning):
    """An index file was missing, stale or damaged and was rebuilt from stored vectors."""


def _plan_step(data: Mapping[str, Any]) -> PlanStep:
    """A PlanStep from its dict, ignoring keys this version of PlanStep does not have."""
    return PlanStep(**{k: v for k, v in data.items() if k in PlanStep.__dataclass_fields__})


@dataclass
class EpisodeRecord:
    """One finished episode.

    Attributes:
        episode: episode index over the agent's lifetime.
        scene: the house or scene.
        instruction: the task text.
        family: the parsed goal family ("" when unknown).
        success: whether the task was done.
        steps: steps taken.
        plan: the skills run, in order, with how each ended.
        summary: a one-paragraph digest.
        key_frames: a few small PNG thumbnails (see :func:`decode_frame`).
    """

    episode: int
    scene: str
    instruction: str
    family: str
    success: bool
    steps: int
    plan: list[PlanStep] = field(default_factory=list)
    summary: str = ""
    key_frames: list[bytes] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        """A JSON-friendly dict of everything but the frames (their count is kept)."""
        return {"episode": self.episode, "scene": self.scene, "instruction": self.instruction,
                "family": self.family, "success": self.success, "steps": self.steps,
                "plan": [asdict(p) for p in self.plan], "summary": self.summary,
                "frames": len(self.key_frames)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any], key_frames: Sequence[bytes] = ()
                  ) -> EpisodeRecord:
        """Inverse of :meth:`to_data`."""
        return cls(int(data["episode"]), str(data["scene"]), str(data["instruction"]),
                   str(data.get("family", "")), bool(data["success"]), int(data["steps"]),
                   [_plan_step(p) for p in data.get("plan", [])], str(data.get("summary", "")),
                   list(key_frames))


@dataclass(frozen=True)
class EpisodeMatch:
    """A past episode found by :meth:`EpisodicMemory.similar`.

    ``similarity`` is the cosine similarity of the instructions; ``score`` adds the
    same-scene bonus and orders the matches.
    """

    record: EpisodeRecord
    score: float
    similarity: float


@dataclass(frozen=True)
class StepMatch:
    """A past step found by :meth:`EpisodicMemory.similar_steps` (score: cosine similarity)."""

    entry: StepEntry
    score: float


def step_text(step: StepInput) -> str:
    """The text embedded for a step: ``"<action>[ (failed)]: <percept summary>"``."""
    summary = step.percept.summary.strip()
    if step.action is None:
        return summary
    act = step.action.name + ("" if step.action_success else " (failed)")
    return f"{act}: {summary}" if summary else act


def encode_frames(frames: Sequence[NDArray[np.uint8]], max_frames: int = 4,
                  size: int = 96) -> list[bytes]:
    """Up to ``max_frames`` frames (evenly spaced) as PNGs no larger than ``size`` pixels.

    Raises:
        ValueError: a frame that is not an (H, W, 3) or (H, W) uint8 image.
    """
    if max_frames <= 0 or not frames:
        return []
    picks = np.unique(np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).round())
    out = []
    for i in picks.astype(int):
        f = np.asarray(frames[i])
        if f.dtype != np.uint8 or f.ndim not in (2, 3) or (f.ndim == 3 and f.shape[2] != 3):
            raise ValueError(f"key frame {i} is {f.dtype} with shape {f.shape}; expected an "
                             f"(H, W, 3) or (H, W) uint8 image")
        img = Image.fromarray(np.ascontiguousarray(f))
        img.thumbnail((size, size))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        out.append(buf.getvalue())
    return out


def decode_frame(png: bytes) -> NDArray[np.uint8]:
    """A PNG key frame back as an (H, W, 3) (or (H, W)) uint8 array."""
    with Image.open(io.BytesIO(png)) as img:
        out: NDArray[np.uint8] = np.array(img, dtype=np.uint8)
    return out


class EpisodicMemory(MemoryModule):
    """Past episodes and steps, searchable by text similarity.

    Args:
        encoder: a registered encoder name (``minilm``, ``hash``) or an encoder instance
            (to share one loaded model between modules).
        index: vector index kind for both indexes, one of :data:`INDEX_KINDS`.
        step_embeddings: embed and index steps (else only episodes are kept).
        max_key_frames: PNG thumbnails kept per episode.
        frame_size: their largest side in pixels.
        scene_bonus: added to the similarity of an episode from the query's scene.
        min_similarity: episodes less similar than this are not recalled.
        flush_every: step texts waiting to be encoded before a batch is encoded mid-episode
            (the default, larger than most episodes, keeps the model off the per-step path
            so a recall never queues behind a batch; the episode's end encodes the rest).
        hnsw_m: links per node (``hnsw``).
        ef_search: query beam width (``hnsw``).
        chunk_size: steps per chunk of moment recall (:meth:`moments`).
        top_chunks: chunks searched step by step per moment query.
        background: encode step texts on a worker thread (:class:`BackgroundEncoder`), in
            batches of ``background_batch`` during the episode and the rest at its end, so
            the episode's end does not wait for the model; a step search, a moment recall
            or a save first takes in what is ready and waits for the rest.
        background_batch: step texts per background batch.
        encode_threads: torch threads the background worker may use.
    """

    name: ClassVar[str] = "episodic"

    def __init__(self, *, encoder: str | TextEncoder = "minilm", index: str = "flat",
                 step_embeddings: bool = True, max_key_frames: int = 4, frame_size: int = 96,
                 scene_bonus: float = 0.1, min_similarity: float = 0.0, flush_every: int = 512,
                 hnsw_m: int = 32, ef_search: int = 64, chunk_size: int = 16,
                 top_chunks: int = 4, background: bool = True, background_batch: int = 16,
                 encode_threads: int = 1) -> None:
        if index not in INDEX_KINDS:
            raise ValueError(f"unknown episodic index kind {index!r}; "
                             f"known: {', '.join(INDEX_KINDS)}")
        for pname, value, least in (("max_key_frames", max_key_frames, 0),
                                    ("frame_size", frame_size, 1), ("flush_every", flush_every, 1),
                                    ("chunk_size", chunk_size, 1), ("top_chunks", top_chunks, 1),
                                    ("background_batch", background_batch, 1),
                                    ("encode_threads", encode_threads, 1)):
            if value < least:
                raise ValueError(f"{pname} must be at least {least}, got {value}")
        if not isinstance(encoder, (str, TextEncoder)):
            raise TypeError(f"encoder must be a registered name or a TextEncoder, "
                            f"got {type(encoder).__name__}")
        self.encoder = make_encoder(encoder) if isinstance(encoder, str) else encoder
        self.index_kind = index
        self.step_embeddings = step_embeddings
        self.max_key_frames, self.frame_size = max_key_frames, frame_size
        self.scene_bonus, self.min_similarity = scene_bonus, min_similarity
        self.flush_every = flush_every
        self.hnsw_m, self.ef_search = hnsw_m, ef_search
        self.chunk_size, self.top_chunks = chunk_size, top_chunks
        self._lock = threading.RLock()
        self.background_batch = background_batch
        self._bg = (BackgroundEncoder(self.encoder.for_background(), encode_threads)
                    if background else None)
        self.reset()

    def _new_index(self) -> VectorIndex:
        return VectorIndex(self.encoder.dim, self.index_kind, hnsw_m=self.hnsw_m,
                           ef_search=self.ef_search)

    # ------------------------------------------------------------------ hooks
    def reset(self) -> None:
        """Forget every episode and step held in memory (a store is left alone)."""
        with self._lock:
            bg: BackgroundEncoder | None = getattr(self, "_bg", None)
            if bg is not None:
                bg.ready(block=True)  # drop what was still being encoded
            self._records: list[EpisodeRecord] = []
            self._steps: list[StepEntry] = []
            self._pending: list[StepEntry] = []
            self._episodes = self._new_index()
            self._step_index = self._new_index()
            self._last_text: tuple[int, str] | None = None  # (episode, text) of the last step
            self._skipped = 0
            self._saved_episodes = 0
            self._saved_steps = 0
            self._chunks: ChunkRecall | None = None  # built on the first moment query

    def begin_episode(self, start: EpisodeStart) -> None:
        """A new episode begins: embed its instruction now, so that no recall has to."""
        with self._lock:
            self._last_text = None
        if start.instruction.strip():
            self.encoder.encode_one(start.instruction)  # cached by the encoder (MiniLM)

    def write(self, step: StepInput) -> None:
        """Queue the step's text for embedding (skipped when it repeats the previous step's)."""
        if not self.step_embeddings:
            return
        with self._lock:
            text = step_text(step)
            if not text or self._last_text == (step.episode, text):
                self._skipped += 1
                return
            self._last_text = (step.episode, text)
            self._pending.append(StepEntry(step.episode, step.step, step.scene, text,
                                           step.action.name if step.action else "",
                                           step.action_success))
            if self._bg is not None:
                self._integrate(block=False)
                if len(self._pending) >= self.background_batch:
                    self._submit()
            elif len(self._pending) >= self.flush_every:
                self._flush()

    def end_episode(self, outcome: EpisodeOutcome) -> None:
        """Store the episode's record and index its instruction."""
        with self._lock:
            if self._bg is not None:
                self._submit()  # encoded on the worker; taken in when next needed
            else:
                self._flush()
            summary = outcome.summary or "; ".join(
                " ".join(x for x in (p.skill, p.label) if x)
                + ("" if p.status == "succeeded" else f" ({p.status})") for p in outcome.plan)
            rec = EpisodeRecord(outcome.episode, outcome.scene, outcome.instruction,
                                outcome.family, outcome.success, outcome.steps,
                                list(outcome.plan), summary,
                                encode_frames(outcome.key_frames, self.max_key_frames,
                                              self.frame_size))
            self._episodes.add([len(self._records)], self.encoder.encode_one(rec.instruction))
            self._records.append(rec)
            self._last_text = None

    def recall(self, query: MemoryQuery) -> list[Fact]:
        """Past episodes like ``query.instruction``, and moments like ``query.moment``.

        With ``query.moment`` set, the ``query.k`` best matching steps come first as ``moment``
        facts (:meth:`moments`, :func:`~robomem.memory.chunk_recall.as_facts`). Then the
        ``query.k`` past episodes most like ``query.instruction``, as ``similar_episode``.

        Each fact's subject is the past instruction, its value ``succeeded`` or ``failed``,
        its score the similarity plus the same-scene bonus, and its data holds ``episode``,
        ``scene``, ``success``, ``steps``, ``family``, ``plan`` (a list of
        :class:`~robomem.memory.base.PlanStep` dicts), ``summary`` and ``similarity``.
        """
        if query.k < 1:
            return []
        facts = []
        if query.moment.strip():
            facts.extend(as_facts(self.moments(query.moment, query.k)))
        if not query.instruction.strip():
            return facts
        for m in self.similar(query.instruction, query.k, scene=query.scene or None):
            r = m.record
            facts.append(Fact(self.name, "similar_episode", r.instruction,
                              "succeeded" if r.success else "failed", m.score,
                              {"episode": r.episode, "scene": r.scene, "success": r.success,
                               "steps": r.steps, "family": r.family,
                               "plan": [asdict(p) for p in r.plan], "summary": r.summary,
                               "similarity": m.similarity}))
        return facts

    # ------------------------------------------------------------------ direct API
    def records(self) -> list[EpisodeRecord]:
        """Every episode held, oldest first."""
        with self._lock:
            return list(self._records)

    def steps(self) -> list[StepEntry]:
        """Every step entry held (encoded or waiting), oldest first."""
        with self._lock:
            running = [e for batch in (self._bg.payloads() if self._bg else []) for e in batch]
            return self._steps + running + self._pending

    def similar(self, text: str, k: int = 5, scene: str | None = None) -> list[EpisodeMatch]:
        """The ``k`` episodes whose instruction is most like ``text``, best first.

        Episodes from ``scene`` get :attr:`scene_bonus` added to their score. With an
        approximate index the bonus re-ranks a shortlist (``4 k``, at least 64) of the most
        similar episodes; with up to 256 episodes every one is ranked.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        with self._lock:
            n = len(self._records)
            if n == 0:
                return []
            fetch = n if n <= 256 else min(n, max(4 * k, 64))
            hits = self._episodes.search_one(self.encoder.encode_one(text), fetch)
            out = []
            for i, sim in hits:
                if sim < self.min_similarity:
                    continue
                rec = self._records[i]
                bonus = self.scene_bonus if scene is not None and rec.scene == scene else 0.0
                out.append(EpisodeMatch(rec, sim + bonus, sim))
            out.sort(key=lambda m: (-m.score, -m.record.episode))
            return out[:k]

    def similar_steps(self, text: str, k: int = 5) -> list[StepMatch]:
        """The ``k`` stored steps whose text is most like ``text``, best first."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        with self._lock:
            self._flush()
            if not self._steps:
                return []
            hits = self._step_index.search_one(self.encoder.encode_one(text), k)
            return [StepMatch(self._steps[i], s) for i, s in hits]

    def moments(self, text: str, k: int = 3, window: int | None = 2) -> list[RecalledMoment]:
        """"Recall the moment when ...": the ``k`` stored steps best matching ``text``.

        HCAM's two levels over every stored step (:class:`ChunkRecall`): chunks of
        :attr:`chunk_size` steps of one episode are ranked by their mean embedding, and the
        steps of the best :attr:`top_chunks` chunks by their own. The chunk summaries are
        built from the stored step vectors (nothing is re-encoded) and rebuilt only after
        new steps arrive.

        Raises:
            ValueError: an empty ``text``, ``k`` below 1 or a negative ``window``.
        """
        with self._lock:
            self._flush()
            n = len(self._steps)
            if self._chunks is None or len(self._chunks) != n:
                vecs = (np.stack([self._step_index.vector(i) for i in range(n)]) if n
                        else np.zeros((0, self.encoder.dim), np.float32))
                self._chunks = ChunkRecall.build(self.encoder, self._steps, vecs,
                                                 self.chunk_size, self.top_chunks)
                log.debug("episodic memory: chunk summaries rebuilt over %d steps", n)
            chunks = self._chunks
        return chunks.recall(text, k, window)

    def close(self) -> None:
        """Take in the steps still being encoded and stop the background worker."""
        with self._lock:
            if self._bg is not None:
                self._integrate(block=True)
                self._bg.close()

    def _submit(self) -> None:
        """Hand the waiting step texts to the background worker."""
        assert self._bg is not None
        batch, self._pending = self._pending, []
        self._bg.submit([e.text for e in batch], batch)

    def _integrate(self, block: bool) -> None:
        """Index the background batches that are done (all of them with ``block``), in order."""
        assert self._bg is not None
        for batch, vecs in self._bg.ready(block):
            start = len(self._steps)
            self._step_index.add(np.arange(start, start + len(vecs)), vecs)
            self._steps.extend(batch)

    def _flush(self) -> None:
        """Index every step text: the background batches, then the waiting ones in one batch."""
        if self._bg is not None:
            self._integrate(block=True)
        if not self._pending:
            return
        vecs = self.encoder.encode([e.text for e in self._pending])
        start = len(self._steps)
        self._step_index.add(np.arange(start, start + len(vecs)), vecs)
        self._steps.extend(self._pending)
        self._pending = []

    def stats(self) -> dict[str, float]:
        """Episodes, steps (encoded and waiting), index sizes, repeated steps skipped."""
        with self._lock:
            if self._bg is not None:
                self._integrate(block=True)  # exact counts (stats are off the step path)
            return {"episodes": len(self._records), "successes":
                    sum(r.success for r in self._records),
                    "steps": len(self._steps) + len(self._pending),
                    "steps_pending": len(self._pending), "steps_skipped": self._skipped,
                    "episode_index": len(self._episodes), "step_index": len(self._step_index)}

    # ------------------------------------------------------------------ persistence
    def save(self, storage: MemoryStorage) -> None:
        """Append the episodes and steps that are new since the last save, then the indexes.

        The index files are only rewritten while this module mirrors the store (it holds
        exactly the rows the store has plus the new ones); otherwise (after a :meth:`reset`,
        or saving into a store it did not attach) the next :meth:`attach` rebuilds them.
        """
        with self._lock:
            self._flush()
            mirrors = (storage.count(EPISODE_KIND) == self._saved_episodes
                       and storage.count(STEP_KIND) == self._saved_steps)
            new_eps = range(self._saved_episodes, len(self._records))
            rows = []
            for i in new_eps:
                rec = self._records[i]
                for j, png in enumerate(rec.key_frames):
                    storage.put_blob(f"{FRAMES_PREFIX}{rec.episode}/{j}.png", png)
                rows.append(StoredRecord(rec.episode, rec.steps, rec.scene, rec.family,
                                         {**rec.to_data(), "encoder": self.encoder.name},
                                         self._episodes.vector(i)))
            if rows:
                storage.append(EPISODE_KIND, rows)
            new_steps = range(self._saved_steps, len(self._steps))
            step_rows = [StoredRecord(e.episode, e.step, e.scene, e.action,
                                      {**e.to_data(), "encoder": self.encoder.name},
                                      self._step_index.vector(i))
                         for i, e in ((i, self._steps[i]) for i in new_steps)]
            if step_rows:
                storage.append(STEP_KIND, step_rows)
            self._saved_episodes, self._saved_steps = len(self._records), len(self._steps)
            if mirrors and rows:
                storage.write_file(EPISODES_FILE, self._episodes.to_bytes())
            if mirrors and step_rows:
                storage.write_file(STEPS_FILE, self._step_index.to_bytes())

    def attach(self, storage: MemoryStorage) -> None:
        """Replace what is held with what the store holds, checking (or rebuilding) indexes."""
        with self._lock:
            self.reset()
            frames: dict[int, list[tuple[int, bytes]]] = {}
            for name in storage.blob_names(FRAMES_PREFIX):
                ep, _, file = name[len(FRAMES_PREFIX):].partition("/")
                blob = storage.get_blob(name)
                if blob is not None and ep.lstrip("-").isdigit() and file.endswith(".png"):
                    frames.setdefault(int(ep), []).append((int(file[:-4]), blob))
            ep_rows = list(storage.records(EPISODE_KIND))
            records = [EpisodeRecord.from_data(r.data, [b for _, b in sorted(
                frames.get(int(r.data["episode"]), []))]) for r in ep_rows]
            ep_vecs = self._stored_vectors(ep_rows, [r.instruction for r in records], "episode")
            step_rows = list(storage.records(STEP_KIND)) if self.step_embeddings else []
            steps = [StepEntry(**{k: r.data[k] for k in StepEntry.__dataclass_fields__})
                     for r in step_rows]
            step_vecs = self._stored_vectors(step_rows, [e.text for e in steps], "step")
            self._episodes = self._load_index(storage, EPISODES_FILE, ep_vecs)
            self._step_index = self._load_index(storage, STEPS_FILE, step_vecs)
            self._records, self._steps = records, steps
            self._chunks = None
            self._saved_episodes, self._saved_steps = len(records), len(steps)

    def _stored_vectors(self, rows: list[StoredRecord], texts: list[str], what: str
                        ) -> NDArray[np.float32]:
        """The rows' vectors as one matrix; rows made by another encoder are re-encoded."""
        out = np.zeros((len(rows), self.encoder.dim), np.float32)
        redo = []
        for i, r in enumerate(rows):
            v = None if r.vector is None else np.asarray(r.vector, np.float32).reshape(-1)
            if v is None or v.shape != (self.encoder.dim,) or \
                    r.data.get("encoder", self.encoder.name) != self.encoder.name:
                redo.append(i)
            else:
                out[i] = v
        if redo:
            message = (f"episodic memory: re-encoding {len(redo)} stored {what} vectors made "
                       f"by another encoder (or missing); this module uses "
                       f"{self.encoder.name!r} ({self.encoder.dim} dims)")
            log.info("%s", message)
            warnings.warn(message, IndexRebuiltWarning, stacklevel=3)
            out[redo] = self.encoder.encode([texts[i] for i in redo])
        return out

    def _load_index(self, storage: MemoryStorage, name: str, vectors: NDArray[np.float32]
                    ) -> VectorIndex:
        """The index file ``name`` if it matches ``vectors``, else one rebuilt from them."""
        data = storage.read_file(name)
        n = len(vectors)
        why: str | None = None
        if data is None:
            if n == 0:
                return self._new_index()
            why = "the file is missing"
        else:
            try:
                idx = VectorIndex.from_bytes(data)
            except IndexCorruptError as e:
                why = str(e)
            else:
                why = self._mismatch(idx, vectors)
                if why is None:
                    if idx.kind == "hnsw":
                        idx.ef_search = self.ef_search
                    return idx
        idx = self._new_index()
        if n:
            idx.add(np.arange(n), vectors)
        message = f"episodic memory: rebuilt {name} from {n} stored vectors: {why}"
        log.info("%s", message)
        warnings.warn(message, IndexRebuiltWarning, stacklevel=3)
        storage.write_file(name, idx.to_bytes())
        return idx

    def _mismatch(self, idx: VectorIndex, vectors: NDArray[np.float32]) -> str | None:
        """Why a loaded index does not fit the stored vectors, or None when it does."""
        n = len(vectors)
        if idx.kind != self.index_kind:
            return f"it is a {idx.kind!r} index and this module uses {self.index_kind!r}"
        if idx.dim != self.encoder.dim:
            return f"it holds {idx.dim}-dim vectors and the encoder makes {self.encoder.dim}"
        if len(idx) != n or idx.max_id != n - 1:
            return (f"it is stale: it holds {len(idx)} entries (largest id {idx.max_id}) and "
                    f"the store has {n}")
        for i in sorted({0, n // 2, n - 1}) if n else []:
            if not np.allclose(idx.vector(i), vectors[i], atol=1e-5):
                return f"it is stale: entry {i} differs from the stored vector"
        return None
