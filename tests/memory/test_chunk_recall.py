"""Chunked (HCAM-style) recall of past moments over episodic step embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from robomem.memory.base import EpisodeOutcome, Fact
from robomem.memory.chunk_recall import ChunkRecall, RecalledMoment, as_facts
from robomem.memory.encoders import HashEncoder
from robomem.memory.episodic import EpisodicMemory, StepEntry
from tests.fixtures.steps import start, step_input

ROUTINE = ["MoveAhead: hallway, Chair|1 ahead", "RotateLeft: Sofa|2 and Window|1",
           "MoveAhead: CounterTop|1 next to Fridge|1", "RotateLeft: Television|1 on a table",
           "MoveAhead: Floor, nothing new", "RotateLeft: Lamp|4 by Bed|1"]
EVENT = "PickupObject: Mug|3 from Fridge|1, holding Mug|3"
EPISODES, STEPS = 5, 60
PLANTED = (3, 37)  # (episode, step) of the event


def history() -> tuple[list[StepEntry], list[str]]:
    entries = []
    for ep in range(EPISODES):
        for s in range(STEPS):
            text = EVENT if (ep, s) == PLANTED else f"{ROUTINE[(s + ep) % len(ROUTINE)]} {s}"
            entries.append(StepEntry(ep, s, f"house_{ep % 2}", text,
                                     text.split(":")[0]))
    return entries, [e.text for e in entries]


@pytest.fixture(scope="module")
def encoder() -> HashEncoder:
    return HashEncoder()


@pytest.fixture(scope="module")
def data(encoder: HashEncoder) -> tuple[list[StepEntry], np.ndarray]:
    entries, texts = history()
    return entries, encoder.encode(texts)


def built(encoder: HashEncoder, data: tuple[list[StepEntry], np.ndarray], chunk_size: int = 16,
          top_chunks: int = 4) -> ChunkRecall:
    return ChunkRecall.build(encoder, data[0], data[1], chunk_size, top_chunks)


def test_planted_event_is_recalled_first_for_a_paraphrase(encoder: HashEncoder, data: tuple[
        list[StepEntry], np.ndarray]) -> None:
    recall = built(encoder, data, chunk_size=16, top_chunks=2)
    moments = recall.recall("when did I take the mug out of the fridge", k=3)
    assert len(moments) == 3
    best = moments[0]
    assert isinstance(best, RecalledMoment)
    assert (best.episode, best.step, best.text) == (*PLANTED, EVENT)
    assert best.scene == "house_1" and best.query == "when did I take the mug out of the fridge"
    assert best.score > moments[1].score
    assert [m.score for m in moments] == sorted((m.score for m in moments), reverse=True)
    # context: up to 2 neighbours each side, same episode, contiguous, inside the chunk
    assert [e.step for e in best.context] == [35, 36, 37, 38, 39]
    assert all(e.episode == PLANTED[0] for e in best.context)
    chunk = recall.chunks()[best.chunk]
    assert all(e in chunk for e in best.context)
    assert -1.0 <= best.chunk_score <= 1.0 and best.chunk_score > 0


def test_context_is_clipped_to_the_chunk(encoder: HashEncoder, data: tuple[
        list[StepEntry], np.ndarray]) -> None:
    # chunk_size 16: episode 3 chunks are steps 0-15, 16-31, 32-47, 48-59 -> event in 32-47
    best = built(encoder, data).recall("take the mug out of the fridge", k=1, window=None)[0]
    assert [e.step for e in best.context] == list(range(32, 48))
    edge = built(encoder, data, chunk_size=5).recall("take the mug out of the fridge", k=1)[0]
    assert (edge.episode, edge.step) == PLANTED
    assert [e.step for e in edge.context] == [35, 36, 37, 38, 39]  # chunk 35-39
    alone = built(encoder, data, chunk_size=16).recall("mug fridge", k=1, window=0)[0]
    assert [e.step for e in alone.context] == [37]


def test_chunks_never_cross_episodes(encoder: HashEncoder, data: tuple[
        list[StepEntry], np.ndarray]) -> None:
    recall = built(encoder, data, chunk_size=16)
    chunks = recall.chunks()
    assert recall.num_chunks == len(chunks) == EPISODES * 4  # 16+16+16+12 per episode
    assert all(len({e.episode for e in c}) == 1 for c in chunks)
    assert all(1 <= len(c) <= 16 for c in chunks)
    assert [e for c in chunks for e in c] == data[0]  # order kept, nothing lost
    # a history whose episodes are shorter than a chunk: one chunk per episode
    entries = [StepEntry(ep, s, "h", f"MoveAhead {s}") for ep in range(3) for s in range(5)]
    short = ChunkRecall.build(encoder, entries, encoder.encode([e.text for e in entries]), 16)
    assert [[e.episode for e in c] for c in short.chunks()] == [[0] * 5, [1] * 5, [2] * 5]


def test_top_chunks_larger_than_the_number_of_chunks(encoder: HashEncoder, data: tuple[
        list[StepEntry], np.ndarray]) -> None:
    recall = built(encoder, data, chunk_size=64, top_chunks=1000)
    assert recall.num_chunks == EPISODES
    moments = recall.recall("when did I take the mug out of the fridge", k=500)
    assert len(moments) == len(data[0])  # every step scored once
    assert (moments[0].episode, moments[0].step) == PLANTED


@pytest.mark.parametrize("chunk_size", [1, 7, 16, 60])
@pytest.mark.parametrize("query", ["when did I take the mug out of the fridge",
                                   "rotate towards the sofa", "look at the floor", "lamp bed 12"])
def test_equals_brute_force_when_all_chunks_are_searched(
        encoder: HashEncoder, data: tuple[list[StepEntry], np.ndarray], chunk_size: int,
        query: str) -> None:
    entries, vecs = data
    recall = built(encoder, data, chunk_size=chunk_size, top_chunks=len(entries))
    got = recall.recall(query, k=10)
    scores = vecs @ encoder.encode_one(query)
    best = np.lexsort((np.arange(len(entries)), -scores))[:10]
    assert [(m.episode, m.step) for m in got] == [(entries[i].episode, entries[i].step)
                                                  for i in best]
    np.testing.assert_allclose([m.score for m in got], scores[best], rtol=1e-5, atol=1e-6)


def test_few_top_chunks_only_look_inside_the_best_chunks(encoder: HashEncoder, data: tuple[
        list[StepEntry], np.ndarray]) -> None:
    recall = built(encoder, data, chunk_size=16, top_chunks=1)
    moments = recall.recall("when did I take the mug out of the fridge", k=100)
    assert len(moments) == 16  # one chunk's steps only
    assert len({m.chunk for m in moments}) == 1
    assert len({m.chunk_score for m in moments}) == 1


def test_as_facts(encoder: HashEncoder, data: tuple[list[StepEntry], np.ndarray]) -> None:
    query = "when did I take the mug out of the fridge"
    moments = built(encoder, data).recall(query, k=2)
    facts = as_facts(moments)
    assert [type(f) for f in facts] == [Fact, Fact]
    f = facts[0]
    assert (f.module, f.kind, f.subject, f.value) == ("episodic", "moment", query, EVENT)
    assert f.score == pytest.approx(moments[0].score)
    assert (f.data["episode"], f.data["step"]) == PLANTED
    assert f.data["chunk_score"] == pytest.approx(moments[0].chunk_score)
    assert [c["step"] for c in f.data["context"]] == [35, 36, 37, 38, 39]
    assert as_facts([]) == []


def test_bad_arguments_raise(encoder: HashEncoder, data: tuple[list[StepEntry], np.ndarray]
                             ) -> None:
    entries, vecs = data
    with pytest.raises(ValueError, match="chunk_size"):
        ChunkRecall(encoder, chunk_size=0)
    with pytest.raises(ValueError, match="top_chunks"):
        ChunkRecall(encoder, top_chunks=0)
    with pytest.raises(ValueError, match="one vector per entry"):
        ChunkRecall.build(encoder, entries, vecs[:-1])
    with pytest.raises(ValueError, match="dimension"):
        ChunkRecall.build(encoder, entries, vecs[:, :10])
    with pytest.raises(ValueError, match="2-d"):
        ChunkRecall.build(encoder, entries[:1], vecs[0])
    bad = vecs.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        ChunkRecall.build(encoder, entries, bad)
    recall = built(encoder, data)
    for empty in ("", "   "):
        with pytest.raises(ValueError, match="empty"):
            recall.recall(empty)
    with pytest.raises(ValueError, match="k must"):
        recall.recall("mug", k=0)
    with pytest.raises(ValueError, match="window"):
        recall.recall("mug", window=-1)


def test_empty_history_recalls_nothing(encoder: HashEncoder) -> None:
    recall = ChunkRecall.build(encoder, [], np.zeros((0, encoder.dim), np.float32))
    assert len(recall) == 0 and recall.num_chunks == 0
    assert recall.recall("the mug") == []
    assert ChunkRecall.from_episodic(EpisodicMemory(encoder=encoder)).recall("mug") == []


def test_from_episodic_memory(encoder: HashEncoder) -> None:
    mem = EpisodicMemory(encoder=encoder)
    _fill(mem, range(3), (1, 23))
    assert len(mem.steps()) == 120
    recall = ChunkRecall.from_episodic(mem, chunk_size=8, top_chunks=2)
    assert len(recall) == 120 and recall.num_chunks == 15
    assert recall.encoder is mem.encoder
    assert all(len({e.episode for e in c}) == 1 for c in recall.chunks())
    best = recall.recall("when did I pick up the mug from the fridge", k=1)[0]
    assert (best.episode, best.step) == (1, 23)
    assert best.text.startswith("PickupObject")
    # the step search of the memory itself agrees on the best step
    top = mem.similar_steps("when did I pick up the mug from the fridge", k=1)[0]
    assert (top.entry.episode, top.entry.step) == (1, 23)
    assert best.score == pytest.approx(top.score, abs=1e-5)


def _fill(mem: EpisodicMemory, episodes: range, planted: tuple[int, int]) -> None:
    for ep in episodes:
        mem.begin_episode(start(ep))
        for s in range(40):
            if (ep, s) == planted:
                step = step_input(ep, s, ["Mug", "Fridge"], action="PickupObject")
            else:
                step = step_input(ep, s, [["Chair"], ["Sofa"], ["Window"]][s % 3],
                                  action="RotateLeft" if s % 2 else "MoveAhead")
            mem.write(step)
        mem.end_episode(EpisodeOutcome(ep, "house", "put a mug in the fridge",
                                       "pick_and_place", success=True, steps=40))


def test_moment_queries_through_the_memory_system(encoder: HashEncoder) -> None:
    from robomem.memory.base import MemoryQuery
    from robomem.memory.system import MemorySystem
    from tests.fixtures.storage import DictStorage

    system = MemorySystem([EpisodicMemory(encoder=encoder, chunk_size=8, top_chunks=2)])
    _fill(system.module("episodic"), range(3), (1, 23))  # type: ignore[arg-type]
    facts = system.recall_moments("when did I pick up the mug from the fridge", k=2)
    assert [f.kind for f in facts] == ["moment", "moment"]
    assert (facts[0].data["episode"], facts[0].data["step"]) == (1, 23)
    assert [c["step"] for c in facts[0].data["context"]] == [21, 22, 23]  # clipped to its chunk
    # the same query field inside an ordinary recall, next to similar episodes
    ctx = system.recall(MemoryQuery(3, 0, "house", instruction="put a mug in the fridge",
                                    moment="picked up the mug", k=1))
    kinds = [f.kind for f in ctx.of("episodic")]
    assert kinds == ["moment", "similar_episode"]
    # new steps are searched after they arrive (the chunk summaries are rebuilt)
    _fill(system.module("episodic"), range(3, 4), (3, 5))  # type: ignore[arg-type]
    ranked = system.recall_moments("when did I pick up the mug from the fridge", k=2)
    assert {(f.data["episode"], f.data["step"]) for f in ranked} == {(1, 23), (3, 5)}
    # and after a save -> attach round trip, from the stored vectors
    storage = DictStorage()
    system.save(storage)
    fresh = EpisodicMemory(encoder=encoder, chunk_size=8, top_chunks=2)
    fresh.attach(storage)
    again = fresh.moments("when did I pick up the mug from the fridge", k=2)
    assert {(m.episode, m.step) for m in again} == {(1, 23), (3, 5)}
    with pytest.raises(ValueError, match="non-empty text"):
        system.recall_moments("  ")
    with pytest.raises(KeyError, match="episodic"):
        MemorySystem([]).recall_moments("the mug")
