"""The faiss vector index: exact and approximate search, ids, and the checked byte format."""

from __future__ import annotations

import numpy as np
import pytest

from robomem.memory.vector_index import HEADER_SIZE, KINDS, IndexCorruptError, VectorIndex


def unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def clustered(rng: np.random.Generator, n: int, dim: int, clusters: int) -> np.ndarray:
    centres = unit(rng, clusters, dim)
    x = centres[rng.integers(clusters, size=n)] + unit(rng, n, dim)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_flat_is_exact() -> None:
    rng = np.random.default_rng(0)
    x, q = unit(rng, 500, 32), unit(rng, 20, 32)
    ids = np.arange(500) * 7 + 3  # the caller's ids, not positions
    idx = VectorIndex(32, "flat")
    idx.add(ids, x)
    got_ids, got_scores = idx.search(q, 5)
    sims = q @ x.T
    want = np.argsort(-sims, axis=1)[:, :5]
    assert np.array_equal(got_ids, ids[want])
    np.testing.assert_allclose(got_scores, np.take_along_axis(sims, want, 1), atol=1e-5)
    assert len(idx) == 500 and idx.max_id == ids[-1] and np.array_equal(idx.ids(), ids)
    np.testing.assert_allclose(idx.vector(int(ids[42])), x[42])
    with pytest.raises(KeyError, match="id 4 is not in this index"):
        idx.vector(4)


def test_small_and_empty_indexes() -> None:
    idx = VectorIndex(8, "hnsw")
    ids, scores = idx.search(np.ones(8, np.float32), 3)
    assert ids.shape == (1, 0) and scores.shape == (1, 0)
    idx.add([5], np.eye(8, dtype=np.float32)[0])
    idx.add([6, 9], np.eye(8, dtype=np.float32)[1:3])
    hits = idx.search_one(np.eye(8, dtype=np.float32)[2], k=10)  # k > entries: all 3
    assert hits[0] == (9, pytest.approx(1.0)) and sorted(hits[1:]) == [(5, 0.0), (6, 0.0)]


def test_hnsw_recall_on_clustered_vectors() -> None:
    rng = np.random.default_rng(1)
    x, q = clustered(rng, 4000, 64, 100), clustered(rng, 200, 64, 100)
    flat, hnsw = VectorIndex(64, "flat"), VectorIndex(64, "hnsw", hnsw_m=32, ef_search=128)
    flat.add(np.arange(4000), x)
    hnsw.add(np.arange(4000), x)
    truth, _ = flat.search(q, 10)
    got, _ = hnsw.search(q, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, got)])
    assert recall >= 0.95
    hnsw.ef_search = 10  # a narrow beam loses neighbours: the setting is really used
    narrow, _ = hnsw.search(q, 10)
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, narrow)]) < recall


def test_ivf_trains_on_first_add() -> None:
    rng = np.random.default_rng(2)
    x = clustered(rng, 3000, 32, 40)
    idx = VectorIndex(32, "ivf", nlist=16, nprobe=16)  # every cell: exact
    assert not idx.is_trained
    with pytest.raises(ValueError, match="needs at least 16 training vectors, got 3"):
        idx.add([0, 1, 2], x[:3])
    idx.add(np.arange(3000), x)
    assert idx.is_trained and idx.nprobe == 16
    flat = VectorIndex(32)
    flat.add(np.arange(3000), x)
    assert np.array_equal(idx.search(x[:50], 5)[0], flat.search(x[:50], 5)[0])
    with pytest.raises(ValueError, match="ef_search is a setting of hnsw indexes"):
        idx.ef_search = 10


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip(kind: str) -> None:
    rng = np.random.default_rng(3)
    x = clustered(rng, 1200, 16, 20)
    idx = VectorIndex(16, kind, nlist=8, ef_search=40)
    idx.add(np.arange(1200) * 2, x)
    back = VectorIndex.from_bytes(idx.to_bytes())
    assert (back.kind, back.dim, len(back), back.max_id) == (kind, 16, 1200, 2398)
    assert np.array_equal(back.ids(), idx.ids())
    assert np.array_equal(back.search(x[:30], 5)[0], idx.search(x[:30], 5)[0])
    if kind == "hnsw":
        assert back.ef_search == 40
    back.add([5000], x[0])  # a loaded index keeps growing
    assert back.search_one(x[0], 2)[0][1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"ids must increase and exceed the largest id held "
                                         r"\(5000\)"):
        back.add([4000], x[1])


def test_corruption_and_truncation_are_detected() -> None:
    idx = VectorIndex(16, "hnsw")
    idx.add(np.arange(300), unit(np.random.default_rng(4), 300, 16))
    data = idx.to_bytes()
    VectorIndex.from_bytes(data)  # intact: loads
    with pytest.raises(IndexCorruptError, match="truncated index: the header promises"):
        VectorIndex.from_bytes(data[:-100])
    with pytest.raises(IndexCorruptError, match="shorter than the"):
        VectorIndex.from_bytes(data[:HEADER_SIZE - 1])
    with pytest.raises(IndexCorruptError, match="not a robomem vector index"):
        VectorIndex.from_bytes(b"garbage" * 50)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01  # one bit in the payload
    with pytest.raises(IndexCorruptError, match="payload checksum does not match"):
        VectorIndex.from_bytes(bytes(flipped))
    header = bytearray(data)
    header[12] ^= 0x01  # one bit of the dimension field
    with pytest.raises(IndexCorruptError, match="header checksum does not match"):
        VectorIndex.from_bytes(bytes(header))
    with pytest.raises(IndexCorruptError, match="corrupted index: the header promises"):
        VectorIndex.from_bytes(data + b"\0")


def test_wrong_dimensions_and_bad_arguments() -> None:
    idx = VectorIndex(8)
    with pytest.raises(ValueError, match=r"must have shape \(n, 8\) for this 8-dim index, got "
                                         r"shape \(2, 9\)"):
        idx.add([0, 1], np.zeros((2, 9), np.float32))
    idx.add([0, 1], np.eye(8, dtype=np.float32)[:2])
    with pytest.raises(ValueError, match=r"queries must have shape \(n, 8\).*\(4,\)"):
        idx.search(np.zeros(4, np.float32), 1)
    with pytest.raises(ValueError, match="got 3 ids for 2 vectors"):
        idx.add([2, 3, 4], np.zeros((2, 8), np.float32))
    with pytest.raises(ValueError, match="NaN or infinite"):
        idx.add([2], np.full(8, np.nan, np.float32))
    with pytest.raises(ValueError, match=r"ids must increase.*\(1\); got \[1\]"):
        idx.add([1], np.zeros(8, np.float32))
    with pytest.raises(ValueError, match="k must be at least 1, got 0"):
        idx.search(np.zeros(8, np.float32), 0)
    with pytest.raises(ValueError, match="unknown index kind 'lsh'; known: flat, hnsw, ivf"):
        VectorIndex(8, "lsh")
    with pytest.raises(ValueError, match="nprobe is a setting of ivf indexes"):
        _ = idx.nprobe
