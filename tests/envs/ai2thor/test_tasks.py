"""ALFRED tasks on AI2-THOR metadata: drawn where possible, checked as ALFRED checks them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from robomem.envs.ai2thor.embodiment import AI2THOREmbodiment
from robomem.envs.ai2thor.tasks import ThorTask, goal_met, sample_task

ONTO = AI2THOREmbodiment().ontology


def _obj(oid: str, kind: str, parent: str | None = None, **state: Any) -> dict[str, Any]:
    return {"objectId": oid, "objectType": kind, "parentReceptacles": [parent] if parent else None,
            "pickupable": kind in ("Apple", "Mug"), "receptacle": kind not in ("Apple", "Mug"),
            "isPickedUp": False, **state}


def _scene(**apple: Any) -> dict[str, Any]:
    return {"sceneName": "FloorPlan1", "inventoryObjects": [], "objects": [
        _obj("Apple|1", "Apple", "Fridge|1", **apple), _obj("Mug|1", "Mug", "CounterTop|1"),
        _obj("Mug|2", "Mug", "Cabinet|1"), _obj("Fridge|1", "Fridge", isOpen=False),
        _obj("CounterTop|1", "CounterTop"), _obj("Cabinet|1", "Cabinet", isOpen=True),
        _obj("Microwave|1", "Microwave", isToggled=False), _obj("DeskLamp|1", "DeskLamp")]}


@pytest.mark.parametrize(("task", "state", "met"), [
    (ThorTask("pick_and_place", "Apple", "Fridge"), {}, True),
    (ThorTask("place_in_closed", "Apple", "Fridge"), {}, True),
    (ThorTask("pick_heat_and_place", "Apple", "Fridge"), {}, False),
    (ThorTask("pick_heat_and_place", "Apple", "Fridge"), {"temperature": "Hot"}, True),
    (ThorTask("pick_heat_and_place", "Apple", "Fridge"), {"isCooked": True}, True),
    (ThorTask("pick_cool_and_place", "Apple", "Fridge"), {"temperature": "Cold"}, True),
    (ThorTask("pick_clean_and_place", "Apple", "Fridge"), {"isDirty": True}, False),
    (ThorTask("pick_two_and_place", "Mug", "CounterTop", 2), {}, False),
    (ThorTask("pick_and_place", "Apple", "Fridge"), {"isPickedUp": True}, False),
])
def test_goal_conditions(task: ThorTask, state: dict[str, Any], met: bool) -> None:
    assert goal_met(task, _scene(**state)) is met


def test_looking_needs_the_object_in_hand_and_a_lit_lamp_in_view() -> None:
    md = _scene()
    task = ThorTask("look_at_in_light", "Mug", "DeskLamp")
    assert not goal_met(task, md)
    md["inventoryObjects"] = [{"objectId": "Mug|1", "objectType": "Mug"}]
    md["objects"][-1].update(isToggled=True, visible=True)
    assert goal_met(task, md)


def test_sampled_tasks_are_possible_and_not_done_yet() -> None:
    md = _scene()
    rng = np.random.default_rng(0)
    for _ in range(30):
        t = sample_task(md, rng, ONTO)
        assert not goal_met(t, md) and t.instruction
        assert t.object_type in ("Apple", "Mug") and t.target_type != "Microwave"
    assert sample_task(md, rng, ONTO, ["pick_two_and_place"]).object_type == "Mug"
    with pytest.raises(ValueError, match="none of the task families"):
        sample_task({"objects": []}, rng, ONTO, ["pick_cool_and_place"])
    with pytest.raises(ValueError, match="unknown task family 'juggle'"):
        sample_task(md, rng, ONTO, ["juggle"])
