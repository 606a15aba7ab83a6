"""Planners read memory through a read-only scene view and recall, never the memory itself."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from robomem.planners.base import PlanContext
from tests.fixtures.planning import COUNTER, MUG, ctx, kitchen, percept

PLANNERS = Path(__file__).resolve().parents[2] / "planners"


def test_plan_context_carries_a_scene_view_not_the_memory() -> None:
    names = [f.name for f in dataclasses.fields(PlanContext)]
    assert "scene" in names and "memory" not in names
    mem = kitchen()
    c = ctx(mem, percept([]))
    assert c.scene.node(MUG.key) is mem.graph.node(MUG.key)  # a view: no copy
    assert [n.key for n in c.scene.find("Mug")] == [n.key for n in mem.where_is("Mug")]
    assert [n.key for n in c.scene.nodes()] == [n.key for n in mem.graph.nodes()]
    assert c.scene.node(MUG.key).parent == COUNTER.key and c.scene.node("Mug|9") is None


def test_no_planner_reaches_past_the_view() -> None:
    """No planner module names spatial memory, its scene graph class or its ``graph``."""
    bad = re.compile(r"SpatialMemory|SceneGraph\b|ctx\.memory|\.graph\b|memory\.spatial")
    found = {p.name: sorted(set(bad.findall(p.read_text())))
             for p in sorted(PLANNERS.glob("*.py"))}
    assert {k: v for k, v in found.items() if v and k != "llm_output.py"} == {}
    # llm_output's docstring example builds an empty SceneGraph to stand for a context's view
    assert found["llm_output.py"] in ([], ["SceneGraph"])
