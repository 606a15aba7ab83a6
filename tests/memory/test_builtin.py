"""The built-in spatial, temporal and working modules behind the MemoryModule interface."""

from __future__ import annotations

import pytest

from robomem.memory.base import MemoryQuery
from robomem.memory.builtin import SpatialModule, TemporalModule, WorkingModule
from robomem.percept import EVENT_OPENED, ObjectEvent
from tests.fixtures.steps import start, step_input
from tests.fixtures.storage import DictStorage


def _fridge_opened(module: SpatialModule, episode: int = 0) -> None:
    module.begin_episode(start(episode, scene="house"))
    module.write(step_input(episode, 0, ["Fridge", "Mug"]))
    module.write(step_input(episode, 1, ["Fridge", "Mug"], action="OpenObject",
                            events=[ObjectEvent(EVENT_OPENED, "Fridge|1", "Fridge", 1)]))


def test_spatial_keeps_a_map_per_scene_and_reloads_it_without_stale_states() -> None:
    storage = DictStorage()
    first = SpatialModule()
    first.attach(storage)
    _fridge_opened(first)
    node = first.memory.graph.node("Fridge|1")
    assert node is not None and node.is_open is True
    first.save(storage)
    assert storage.blob_names("spatial/") == ["spatial/house"]
    facts = first.recall(MemoryQuery(0, 2, "house", labels=("Mug",)))
    assert [(f.kind, f.subject, f.value) for f in facts] == [("seen", "Mug", "Mug|1")]

    later = SpatialModule()  # another day, another process
    later.attach(storage)
    later.begin_episode(start(1, scene="house"))
    assert {n.key for n in later.memory.graph.nodes()} == {"Fridge|1", "Mug|1"}
    reloaded = later.memory.graph.node("Fridge|1")
    assert reloaded is not None and reloaded.is_open is None  # someone may have closed it
    assert later.inherited == {"Mug|1"}  # it may have been moved, too
    old = later.recall(MemoryQuery(1, 0, "house", labels=("Mug",)))
    assert old[0].data["inherited"] is True and old[0].score < facts[0].score
    later.write(step_input(1, 0, ["Mug"]))
    assert later.inherited == set()  # seen today
    later.begin_episode(start(2, scene="elsewhere"))
    assert len(later.memory.graph) == 0  # a scene it has never seen starts empty


def test_spatial_episode_scope_forgets_between_episodes() -> None:
    module = SpatialModule(scope="episode")
    _fridge_opened(module)
    assert len(module.memory.graph) == 2
    module.begin_episode(start(1, scene="house"))
    assert len(module.memory.graph) == 0
    storage = DictStorage()
    module.save(storage)
    assert storage.blobs == {}  # nothing lifelong to keep
    with pytest.raises(ValueError, match="scope must be one of lifelong, episode"):
        SpatialModule(scope="forever")


def test_temporal_logs_actions_and_answers_when_and_what_changed() -> None:
    module = TemporalModule()
    module.begin_episode(start(3))
    module.write(step_input(3, 0, ["Mug"], action=None))
    module.write(step_input(3, 1, ["Fridge"], action="OpenObject", success=False,
                            error="Fridge|1 is closed"))
    module.write(step_input(3, 2, [], action="OpenObject",
                            events=[ObjectEvent(EVENT_OPENED, "Fridge|1", "Fridge", 2)]))
    facts = module.recall(MemoryQuery(3, 3, "house", labels=("Mug", "Apple")))
    assert [(f.kind, f.subject, f.data.get("step")) for f in facts] == [
        ("last_seen", "Mug", 0), ("changed", "Fridge|1", 2)]
    failed = [r for r in module.memory.records() if r.kind == "action" and r.detail]
    assert [(r.label, r.detail) for r in failed] == [("OpenObject", "Fridge|1 is closed")]
    storage = DictStorage()
    module.save(storage)
    module.save(storage)  # nothing new: nothing appended twice
    again = TemporalModule()
    again.attach(storage)
    assert again.memory.records() == module.memory.records()


def test_working_memory_prefers_the_goal_and_starts_empty_each_episode() -> None:
    module = WorkingModule(capacity=2, policy="recency_relevance")
    module.begin_episode(start(0))
    module.write(step_input(0, 0, ["Mug", "Apple"], goal=("Mug",)))
    module.write(step_input(0, 1, ["Bowl"], goal=("Mug",)))
    keys = [f.value for f in module.recall(MemoryQuery(0, 2, "house", labels=("Mug",)))]
    assert keys[0] == "Mug|1" and len(keys) == 2 and "Apple|1" not in keys
    module.begin_episode(start(1))
    assert module.recall(MemoryQuery(1, 0, "house")) == []
