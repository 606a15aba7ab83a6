"""A faiss vector index with int64 ids and a checked on-disk form (for episodic memory).

Vectors are compared by inner product, which is cosine similarity for the L2-normalised
vectors that :mod:`robomem.memory.encoders` makes. Three kinds (:data:`KINDS`):

* ``flat``: exact search (``IndexFlatIP``); cost grows linearly with the entries.
* ``hnsw``: a navigable small-world graph (``IndexHNSWFlat``, ``M`` links per node, beam
  ``ef_construction`` when adding and ``ef_search`` when querying); approximate,
  sub-linear, needs no training, but adding is slow (about 1,000-3,000 entries/s on 2 cores).
* ``ivf``: an inverted file (``IndexIVFFlat``, ``nlist`` k-means cells, ``nprobe`` visited
  per query); approximate, needs training on data first (done on the first :meth:`add` if
  needed).

Every kind sits in an ``IndexIDMap2``, so callers use their own ids. Ids are append-only:
each added id must be greater than every id already held, which makes "count and largest
id" a cheap fingerprint of what an index holds. :meth:`VectorIndex.to_bytes` prefixes faiss'
serialisation with a header (kind, dimension, count, largest id, payload length and CRC-32,
header CRC-32) so that :meth:`VectorIndex.from_bytes` refuses a truncated or corrupted file
with :class:`IndexCorruptError` instead of loading it.

Example:
    >>> import numpy as np
    >>> from robomem.memory.vector_index import VectorIndex
    >>> idx = VectorIndex(dim=4, kind="flat")
    >>> idx.add([10, 11, 12], np.eye(4, dtype=np.float32)[:3])
    >>> ids, scores = idx.search(np.array([0.0, 1.0, 0.0, 0.0], np.float32), k=2)
    >>> ids.tolist(), scores.round(2).tolist()
    ([[11, 10]], [[1.0, 0.0]])
    >>> again = VectorIndex.from_bytes(idx.to_bytes())
    >>> len(again), again.max_id, again.kind
    (3, 12, 'flat')
    >>> VectorIndex.from_bytes(idx.to_bytes()[:-5])
    Traceback (most recent call last):
    ...
    robomem.memory.vector_index.IndexCorruptError: truncated index: the header promises ...
"""

from __future__ import annotations

import logging
import struct
import zlib
from dataclasses import dataclass
from typing import Any, cast

import faiss
import numpy as np
from numpy.typing import ArrayLike, NDArray

KINDS = ("flat", "hnsw", "ivf")
MAGIC = b"RMVX"
VERSION = 1
SMALL_SEARCH = 2_000_000  # queries x entries up to which a search runs on one thread
# magic, version, kind, dim, count, max id, payload length, payload crc32, header crc32
_HEADER = struct.Struct("<4sH8sIQqQII")
HEADER_SIZE = _HEADER.size
log = logging.getLogger(__name__)


class IndexCorruptError(ValueError):
    """Serialised index bytes failed a check (truncated, corrupted, or not an index)."""


@dataclass(frozen=True)
class IndexHeader:
    """What the header of a serialised :class:`VectorIndex` says about it."""

    kind: str
    dim: int
    count: int
    max_id: int
    payload_len: int
    payload_crc: int

    def pack(self) -> bytes:
        """The header bytes, ending with their own CRC-32."""
        body = _HEADER.pack(MAGIC, VERSION, self.kind.encode(), self.dim, self.count,
                            self.max_id, self.payload_len, self.payload_crc, 0)[:-4]
        return body + struct.pack("<I", zlib.crc32(body))

    @classmethod
    def unpack(cls, data: bytes | memoryview) -> IndexHeader:
        """Parse and check a header; raises :class:`IndexCorruptError` when it is not valid."""
        if len(data) < HEADER_SIZE:
            raise IndexCorruptError(f"truncated index: {len(data)} bytes, shorter than the "
                                    f"{HEADER_SIZE}-byte header")
        magic, version, kind, dim, count, max_id, plen, pcrc, hcrc = _HEADER.unpack_from(data)
        if magic != MAGIC:
            raise IndexCorruptError(f"not a robomem vector index: starts with {bytes(magic)!r}, "
                                    f"expected {MAGIC!r}")
        if zlib.crc32(bytes(data[:HEADER_SIZE - 4])) != hcrc:
            raise IndexCorruptError("corrupted index: the header checksum does not match")
        if version != VERSION:
            raise IndexCorruptError(f"unsupported index format version {version}; "
                                    f"this code reads version {VERSION}")
        name = kind.rstrip(b"\0").decode("ascii", "replace")
        if name not in KINDS:
            raise IndexCorruptError(f"unknown index kind {name!r} in header; "
                                    f"known: {', '.join(KINDS)}")
        return cls(name, dim, count, max_id, plen, pcrc)


class VectorIndex:
    """Inner-product search over float32 vectors with caller-chosen, increasing int64 ids.

    Args:
        dim: vector size.
        kind: one of :data:`KINDS`.
        hnsw_m: links per node (``hnsw``).
        ef_construction: build-time beam width (``hnsw``). 200, as hnswlib: faiss' default
            of 40 builds a graph whose recall@10 stalls near 0.8 at a million clustered
            entries whatever ``ef_search`` (``benchmarks/memory_scale.py``).
        ef_search: query-time beam width (``hnsw``); higher is slower and more exact.
        nlist: k-means cells (``ivf``); training needs at least this many vectors.
        nprobe: cells visited per query (``ivf``).

    Raises:
        ValueError: a bad kind or parameter, naming it and the allowed values.
    """

    def __init__(self, dim: int, kind: str = "flat", *, hnsw_m: int = 32,
                 ef_construction: int = 200, ef_search: int = 64, nlist: int = 1024,
                 nprobe: int = 16) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown index kind {kind!r}; known: {', '.join(KINDS)}")
        if dim < 1:
            raise ValueError(f"dim must be at least 1, got {dim}")
        for pname, value in (("hnsw_m", hnsw_m), ("ef_construction", ef_construction),
                             ("ef_search", ef_search), ("nlist", nlist), ("nprobe", nprobe)):
            if value < 1:
                raise ValueError(f"{pname} must be at least 1, got {value}")
        inner: Any
        if kind == "flat":
            inner = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            inner = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = ef_construction
            inner.hnsw.efSearch = ef_search
        else:
            quantizer = faiss.IndexFlatIP(dim)  # the wrapper keeps a reference to it
            inner = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            inner.nprobe = min(nprobe, nlist)
        self._init(kind, dim, faiss.IndexIDMap2(inner), max_id=-1)

    def _init(self, kind: str, dim: int, index: Any, max_id: int) -> None:
        self.kind, self.dim = kind, dim
        self._index = index
        self._inner: Any = cast(Any, faiss.downcast_index(index.index))
        self._max_id = max_id
        if kind == "ivf":
            self._inner.make_direct_map()  # lets vector() reconstruct by id

    # ------------------------------------------------------------------ properties
    def __len__(self) -> int:
        return int(self._index.ntotal)

    def __repr__(self) -> str:
        return f"VectorIndex(kind={self.kind!r}, dim={self.dim}, entries={len(self)})"

    @property
    def max_id(self) -> int:
        """The largest id held (-1 when empty)."""
        return self._max_id

    @property
    def is_trained(self) -> bool:
        """Whether vectors can be added (only an untrained ``ivf`` index cannot)."""
        return bool(self._inner.is_trained)

    @property
    def ef_search(self) -> int:
        """The query-time beam width of an ``hnsw`` index."""
        return int(self._hnsw().efSearch)

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        if value < 1:
            raise ValueError(f"ef_search must be at least 1, got {value}")
        self._hnsw().efSearch = int(value)

    @property
    def nprobe(self) -> int:
        """The cells an ``ivf`` index visits per query."""
        return int(self._ivf().nprobe)

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        if value < 1:
            raise ValueError(f"nprobe must be at least 1, got {value}")
        self._ivf().nprobe = int(value)

    def _hnsw(self) -> Any:
        if self.kind != "hnsw":
            raise ValueError(f"ef_search is a setting of hnsw indexes; this one is {self.kind!r}")
        return self._inner.hnsw

    def _ivf(self) -> Any:
        if self.kind != "ivf":
            raise ValueError(f"nprobe is a setting of ivf indexes; this one is {self.kind!r}")
        return self._inner

    def ids(self) -> NDArray[np.int64]:
        """The ids held, in insertion (so increasing) order."""
        return faiss.vector_to_array(self._index.id_map).astype(np.int64, copy=False)

    # ------------------------------------------------------------------ writing
    def _as_matrix(self, vectors: ArrayLike, what: str) -> NDArray[np.float32]:
        x = np.asarray(vectors, dtype=np.float32)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"{what} must have shape (n, {self.dim}) for this {self.dim}-dim "
                             f"index, got shape {np.shape(vectors)}")
        if not np.isfinite(x).all():
            raise ValueError(f"{what} contain NaN or infinite values")
        return np.ascontiguousarray(x)

    def train(self, vectors: ArrayLike) -> None:
        """Train an ``ivf`` index's cells on ``vectors`` (a no-op for other kinds).

        Raises:
            ValueError: fewer vectors than cells, or wrong dimension.
        """
        x = self._as_matrix(vectors, "training vectors")
        if self.kind != "ivf" or self.is_trained:
            return
        nlist = int(self._inner.nlist)
        if len(x) < nlist:
            raise ValueError(f"an ivf index with nlist={nlist} needs at least {nlist} training "
                             f"vectors, got {len(x)}; use fewer cells, or kind 'flat'/'hnsw'")
        log.info("training a %d-dim ivf index (%d cells) on %d vectors", self.dim, nlist, len(x))
        self._inner.train(x)

    def add(self, ids: ArrayLike, vectors: ArrayLike) -> None:
        """Add ``vectors`` (``(n, dim)``, or one ``(dim,)``) under ``ids`` (n ints).

        Ids must be non-negative, increasing, and greater than every id already held. An
        untrained ``ivf`` index is first trained on these vectors.

        Raises:
            ValueError: wrong shapes or dimension, non-finite values, or ids that are not
                new and increasing.
        """
        x = self._as_matrix(vectors, "vectors")
        i = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(i) != len(x):
            raise ValueError(f"got {len(i)} ids for {len(x)} vectors")
        if len(i) == 0:
            return
        if i[0] <= self._max_id or (len(i) > 1 and bool(np.any(np.diff(i) <= 0))):
            raise ValueError(f"ids must increase and exceed the largest id held "
                             f"({self._max_id}); got {i[:8].tolist()}"
                             f"{' ...' if len(i) > 8 else ''}")
        if i[0] < 0:
            raise ValueError(f"ids must be >= 0, got {int(i[0])}")
        if not self.is_trained:
            self.train(x)
        self._index.add_with_ids(x, i)
        self._max_id = int(i[-1])

    # ------------------------------------------------------------------ reading
    def search(self, queries: ArrayLike, k: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """The ``k`` best ids and scores (inner products) for each query, best first.

        Args:
            queries: ``(m, dim)``, or one ``(dim,)`` vector (answered as ``m = 1``).
            k: results per query; fewer columns come back when the index holds fewer.

        Returns:
            ``(ids, scores)``, both ``(m, min(k, len(self)))``. An approximate index may
            find fewer than that for a query: the missing slots hold id -1 and score -inf
            (:meth:`search_one` drops them).
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        q = self._as_matrix(queries, "queries")
        kk = min(k, len(self))
        if kk == 0:
            return np.zeros((len(q), 0), np.int64), np.zeros((len(q), 0), np.float32)
        if len(q) * len(self) <= SMALL_SEARCH:
            # One thread: a small search takes microseconds, but waking OpenMP's team costs
            # milliseconds when the other cores are busy (7.8 ms against 0.04 ms measured
            # for 5 entries on two cores beside a busy process). The limit is per thread.
            threads = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)
            try:
                scores, ids = self._index.search(q, kk)
            finally:
                faiss.omp_set_num_threads(threads)
        else:
            scores, ids = self._index.search(q, kk)
        scores = np.where(ids < 0, -np.inf, scores).astype(np.float32)
        return ids.astype(np.int64, copy=False), scores

    def search_one(self, query: ArrayLike, k: int) -> list[tuple[int, float]]:
        """``(id, score)`` pairs for one query, best first, without empty slots."""
        ids, scores = self.search(query, k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def vector(self, id_: int) -> NDArray[np.float32]:
        """The stored vector of ``id_``; raises ``KeyError`` when it is not held."""
        try:
            return np.asarray(self._index.reconstruct(int(id_)), dtype=np.float32)
        except RuntimeError:
            raise KeyError(f"id {id_} is not in this index ({len(self)} entries, "
                           f"largest id {self._max_id})") from None

    # ------------------------------------------------------------------ bytes
    def header(self) -> IndexHeader:
        """The header :meth:`to_bytes` would write, without the payload fields."""
        return IndexHeader(self.kind, self.dim, len(self), self._max_id, 0, 0)

    def to_bytes(self) -> bytes:
        """The index as header + faiss serialisation (see :meth:`from_bytes`)."""
        payload = faiss.serialize_index(self._index)
        view = payload.data.cast("B")
        head = IndexHeader(self.kind, self.dim, len(self), self._max_id, len(view),
                           zlib.crc32(view))
        return b"".join([head.pack(), view])

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> VectorIndex:
        """Load what :meth:`to_bytes` wrote, after checking it.

        Raises:
            IndexCorruptError: the bytes are truncated, corrupted (a checksum does not
                match), not an index, or the loaded index disagrees with its header.
        """
        view = memoryview(data).cast("B")
        head = IndexHeader.unpack(view)
        have = len(view) - HEADER_SIZE
        if have != head.payload_len:
            what = "truncated" if have < head.payload_len else "corrupted"
            raise IndexCorruptError(f"{what} index: the header promises {head.payload_len} "
                                    f"payload bytes, there are {have}")
        payload = view[HEADER_SIZE:]
        if zlib.crc32(payload) != head.payload_crc:
            raise IndexCorruptError("corrupted index: the payload checksum does not match")
        try:
            index = faiss.deserialize_index(np.frombuffer(payload, dtype=np.uint8))
        except RuntimeError as e:
            raise IndexCorruptError(f"corrupted index: faiss cannot read it ({e})") from e
        want = {"flat": faiss.IndexFlat, "hnsw": faiss.IndexHNSWFlat, "ivf": faiss.IndexIVFFlat}
        if not isinstance(index, faiss.IndexIDMap2) or not isinstance(
                faiss.downcast_index(index.index), want[head.kind]):
            raise IndexCorruptError(f"corrupted index: the payload is not an id-mapped "
                                    f"{head.kind} index")
        if int(index.d) != head.dim or int(index.ntotal) != head.count:
            raise IndexCorruptError(f"corrupted index: the header says {head.count} x "
                                    f"{head.dim}-dim, the payload holds {index.ntotal} x "
                                    f"{index.d}-dim")
        if index.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise IndexCorruptError("corrupted index: the payload does not use inner product")
        ids = faiss.vector_to_array(index.id_map)
        max_id = int(ids.max()) if len(ids) else -1
        if max_id != head.max_id:
            raise IndexCorruptError(f"corrupted index: the header says the largest id is "
                                    f"{head.max_id}, the payload's is {max_id}")
        out = cls.__new__(cls)
        out._init(head.kind, head.dim, index, max_id)
        return out
