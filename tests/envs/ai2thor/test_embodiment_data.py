"""The AI2-THOR embodiment: AI2-THOR's real failure messages map to robomem's codes."""

from __future__ import annotations

import pytest

from robomem.embodiment import embodiment_class
from robomem.feedback import FeedbackCode as C

EMB = embodiment_class("ai2thor")()

# Real errorMessage strings of AI2-THOR 5.x (sources cited in envs/ai2thor/data/embodiment.yaml);
# an exception inside an action comes back with its C# type and stack trace around it.
MESSAGES = [
    ("PutObject", "Target openable Receptacle is CLOSED, can't place if target is closed!",
     C.IS_CLOSED),
    ("PickupObject", "Agent hand has something in it already! Can't pick up anything else",
     C.HAND_FULL),
    ("PutObject", "Can't place an object if Agent isn't holding anything", C.NOTHING_HELD),
    ("PutObject", "No valid positions to place object found", C.NO_FREE_SPOT),
    ("PickupObject", "Mug|1|2|3 must have the property CanPickup to be picked up.",
     C.NOT_AFFORDED),
    ("OpenObject", "objectId: Fridge|9 is not the objectId on any object in the scene!",
     C.UNKNOWN_OBJECT),
    ("PickupObject", "Target object is visible but not interactable. It is likely obstructed",
     C.OUT_OF_REACH),
    ("PickupObject", "Target object not found within the specified visibility.", C.NOT_VISIBLE),
    ("MoveAhead", "Wall_3 is blocking Agent 0 from moving by (0.0000, 0.0000, 0.2500).",
     C.BLOCKED),
    ("LookDown", "can't look down beyond 60 degrees below the forward horizon", C.LIMIT),
    ("ToggleObjectOn", "can't toggle object on if it's already on!", C.ALREADY_ON),
    ("PickupObject", "InvalidOperationException: Agent hand has something in it already! "
     "trace:   at PhysicsRemoteFPSAgentController.PickupObject ()", C.HAND_FULL),
]


@pytest.mark.parametrize(("action", "message", "code"), MESSAGES)
def test_real_messages_get_their_codes(action: str, message: str, code: C) -> None:
    assert EMB.classify(action, message)[0] is code


def test_actions_skills_and_vocabulary() -> None:
    assert EMB.world_action("pickup") == "PickupObject" and EMB.primitive_of("Done") == "done"
    assert "navigate_to" in EMB.skills and EMB.body is not None
    assert "CoffeeMachine" in EMB.ontology and EMB.label_from_id("Mug|+1.0|+0.9|-2.0") == "Mug"
