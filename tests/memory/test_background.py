"""Step texts encoded off the critical path: ordering, errors, and the same memory as inline."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import faiss
import numpy as np
import pytest
from numpy.typing import NDArray

from robomem.memory.background import BackgroundEncoder
from robomem.memory.encoders import HashEncoder, MiniLMEncoder, TextEncoder
from robomem.memory.episodic import EpisodicMemory
from robomem.memory.vector_index import VectorIndex
from tests.fixtures.episodic import run_episode
from tests.fixtures.storage import DictStorage

STEPS = [("", "start in the kitchen"), ("move_ahead", "a counter top with a mug"),
         ("pickup", "holding the mug"), ("open", "the fridge is open"),
         ("put", "the mug is in the fridge"), ("close", "the fridge is closed")]


class GatedEncoder(HashEncoder):
    """A hash encoder whose batches wait for a gate (to hold work in flight) or fail."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()
        self.fail_on: str | None = None
        self.threads: list[str] = []

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.threads.append(threading.current_thread().name)
        if len(texts) > 1 or (texts and texts[0] in {t for _, t in STEPS}):
            assert self.gate.wait(10), "the test never opened the gate"
        if self.fail_on is not None and self.fail_on in texts:
            raise RuntimeError(f"cannot encode {self.fail_on!r}")
        return super().encode(texts)


def test_batches_come_back_in_order_in_chunks() -> None:
    enc = GatedEncoder()
    bg = BackgroundEncoder(enc, chunk=2)
    enc.gate.clear()
    bg.submit(["a b", "c d", "e f"], payload=1)
    bg.submit(["g h"], payload=2)
    assert bg.ready(block=False) == [] and bg.payloads() == [1, 2] and len(bg) == 2
    enc.gate.set()
    got = bg.ready(block=True)
    assert [p for p, _ in got] == [1, 2]
    assert got[0][1].shape == (3, enc.dim)
    np.testing.assert_allclose(got[0][1], HashEncoder().encode(["a b", "c d", "e f"]))
    assert all(name.startswith("robomem-encode") for name in enc.threads)
    bg.close()


def test_an_encoding_error_is_raised_in_the_owner_thread() -> None:
    enc = GatedEncoder()
    enc.fail_on = "bad"
    bg = BackgroundEncoder(enc)
    bg.submit(["bad"], payload=0)
    with pytest.raises(RuntimeError, match="cannot encode 'bad'"):
        bg.ready(block=True)
    bg.close()


def test_bad_arguments_name_the_values() -> None:
    with pytest.raises(ValueError, match="at least 1, got 0, 16"):
        BackgroundEncoder(HashEncoder(), threads=0)


def _filled(background: bool, encoder: TextEncoder | None = None) -> EpisodicMemory:
    mem = EpisodicMemory(encoder=encoder or HashEncoder(), background=background,
                         background_batch=2)
    for i, text in enumerate(["put a mug in the fridge", "turn on the lamp"]):
        run_episode(mem, i, "house_0", text, STEPS)
    return mem


def test_background_memory_equals_inline_memory() -> None:
    inline, bg = _filled(False), _filled(True)
    assert bg.stats() == inline.stats()
    assert [e.text for e in bg.steps()] == [e.text for e in inline.steps()]
    a = inline.similar_steps("the fridge is open", k=3)
    b = bg.similar_steps("the fridge is open", k=3)
    assert [(m.entry.text, m.entry.episode) for m in a] == [(m.entry.text, m.entry.episode)
                                                            for m in b]
    s1, s2 = DictStorage(), DictStorage()
    inline.save(s1)
    bg.save(s2)
    assert s1.count("episode_step") == s2.count("episode_step") == len(inline.steps())
    bg.close()


def test_the_episode_end_does_not_wait_and_reads_wait_for_the_work() -> None:
    enc = GatedEncoder()
    mem = EpisodicMemory(encoder=enc, background=True, background_batch=100)
    enc.gate.clear()
    run_episode(mem, 0, "house_0", "put a mug in the fridge", STEPS)  # returns, gate closed
    assert [e.text for e in mem.steps()] == [e.text for e in _filled(False).steps()[:len(STEPS)]]
    assert mem.similar("put a mug in the fridge", k=1)  # episodes need no step vectors
    enc.gate.set()
    assert "holding the mug" in mem.similar_steps("holding the mug", k=1)[0].entry.text
    assert mem.stats()["step_index"] == len(STEPS)
    mem.close()


def test_reset_drops_work_in_flight() -> None:
    mem = _filled(True)
    mem.reset()
    assert mem.stats()["steps"] == 0 and mem.steps() == []
    mem.close()


def test_small_searches_run_on_one_thread_and_restore_the_count() -> None:
    before = faiss.omp_get_max_threads()
    ix = VectorIndex(8, "flat")
    ix.add(np.arange(3), np.eye(8, dtype=np.float32)[:3])
    assert ix.search_one(np.eye(8, dtype=np.float32)[1], 1) == [(1, 1.0)]
    assert faiss.omp_get_max_threads() == before


@pytest.mark.slow
def test_minilm_background_twin_shares_the_cache_and_gives_the_same_vectors() -> None:
    main = MiniLMEncoder()
    twin = main.for_background()
    assert twin._loaded is not main._loaded
    v = twin.encode(["pick up the mug"])
    assert main.misses == 0 and "pick up the mug" in main._cache
    np.testing.assert_allclose(main.encode_one("pick up the mug"), v[0], atol=1e-6)
    import torch

    before = torch.get_num_threads()
    main.encode(["a text nobody encoded before"])  # a small batch: one thread, then restored
    assert torch.get_num_threads() == before


def test_the_worker_limits_torch_threads_in_its_own_thread_only() -> None:
    import torch

    from robomem.memory.background import limit_torch_threads

    before = torch.get_num_threads()
    seen: list[int] = []

    def work() -> None:
        limit_torch_threads(1)
        seen.append(torch.get_num_threads())

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen == [1] and torch.get_num_threads() == before
