"""ALFRED's task families on AI2-THOR scenes: drawn from, and checked on, the event metadata.

A task names a family, an object type, a target type and how many; :func:`goal_met` checks it
on ``event.metadata`` alone (``parentReceptacles``, ``isPickedUp``, ``isOpen``, ``isToggled``,
``isDirty``, ``temperature`` / ``isCooked``, ``inventoryObjects``, ``visible``), as ALFRED's
own goal conditions do, so the same check runs on the real AI2-THOR and on a stand-in.
:func:`sample_task` draws a task the scene makes possible.

Example:
    >>> import numpy as np
    >>> from robomem.envs.ai2thor.tasks import ThorTask, goal_met
    >>> md = {"objects": [
    ...     {"objectId": "Mug|1", "objectType": "Mug", "parentReceptacles": ["Shelf|2"],
    ...      "isPickedUp": False},
    ...     {"objectId": "Shelf|2", "objectType": "Shelf", "parentReceptacles": None}],
    ...     "inventoryObjects": []}
    >>> goal_met(ThorTask("pick_and_place", "Mug", "Shelf"), md)
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from robomem.ontology import Ontology, words_of

__all__ = ["FAMILIES", "ThorTask", "goal_met", "instruction_for", "sample_task"]

FAMILIES = ("pick_and_place", "pick_two_and_place", "place_in_closed", "pick_heat_and_place",
            "pick_cool_and_place", "pick_clean_and_place", "look_at_in_light")
# What each state-changing family needs in the scene (AI2-THOR's types).
_NEEDS = {"pick_heat_and_place": "Microwave", "pick_cool_and_place": "Fridge",
          "pick_clean_and_place": "SinkBasin"}
_LAMPS = ("DeskLamp", "FloorLamp")


@dataclass(frozen=True)
class ThorTask:
    """One task: ``count`` objects of ``object_type`` into ``target_type``, as ``family`` asks.

    For ``look_at_in_light`` the target is the lamp.
    """

    family: str
    object_type: str
    target_type: str
    count: int = 1
    instruction: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The task as a plain dict (for ``info["task"]`` and logs)."""
        return asdict(self)


def _placed(o: Mapping[str, Any], task: ThorTask, by_id: Mapping[str, Mapping[str, Any]]) -> bool:
    if o.get("isPickedUp"):
        return False
    hosts = [by_id[p] for p in o.get("parentReceptacles") or [] if p in by_id]
    host = next((h for h in hosts if h.get("objectType") == task.target_type), None)
    if host is None:
        return False
    temp = o.get("temperature", o.get("ObjectTemperature"))
    if task.family == "place_in_closed":
        return bool(host.get("isOpen") is False)
    if task.family == "pick_heat_and_place":
        return temp == "Hot" or bool(o.get("isCooked"))
    if task.family == "pick_cool_and_place":
        return bool(temp == "Cold")
    if task.family == "pick_clean_and_place":
        return not o.get("isDirty")
    return True


def goal_met(task: ThorTask, metadata: Mapping[str, Any]) -> bool:
    """Whether ``task`` holds in ``metadata`` (an AI2-THOR event's)."""
    objects = metadata.get("objects") or []
    by_id = {o["objectId"]: o for o in objects}
    if task.family == "look_at_in_light":
        held = {o.get("objectType") for o in metadata.get("inventoryObjects") or []}
        return task.object_type in held and any(
            o.get("objectType") == task.target_type and o.get("isToggled") and o.get("visible")
            for o in objects)
    done = [o for o in objects if o.get("objectType") == task.object_type
            and _placed(o, task, by_id)]
    return len(done) >= task.count


def instruction_for(task: ThorTask, ontology: Ontology) -> str:
    """A plain English instruction for ``task`` in the ontology's words."""
    o, r = words_of(task.object_type), words_of(task.target_type)
    a = "an" if o[:1] in "aeiou" else "a"
    p = "in" if ontology.info(task.target_type).container else "on"
    return {"pick_and_place": f"Put {a} {o} {p} the {r}.",
            "pick_two_and_place": f"Put two {o}s {p} the {r}.",
            "place_in_closed": f"Put {a} {o} in the {r} and close it.",
            "pick_heat_and_place": f"Heat {a} {o} and put it {p} the {r}.",
            "pick_cool_and_place": f"Chill {a} {o} and put it {p} the {r}.",
            "pick_clean_and_place": f"Clean {a} {o} and put it {p} the {r}.",
            "look_at_in_light": f"Examine {a} {o} under the {r}."}[task.family]


def sample_task(metadata: Mapping[str, Any], rng: np.random.Generator, ontology: Ontology,
                families: Sequence[str] = FAMILIES) -> ThorTask:
    """A task the scene in ``metadata`` makes possible and does not already satisfy.

    Raises:
        ValueError: an unknown family, or none of ``families`` is possible in this scene.
    """
    bad = [f for f in families if f not in FAMILIES]
    if bad:
        raise ValueError(f"unknown task family {bad[0]!r}; known: {', '.join(FAMILIES)}")
    objects = list(metadata.get("objects") or [])
    present = {o["objectType"] for o in objects}
    items = sorted({o["objectType"] for o in objects if o.get("pickupable")})
    receptacles = sorted({o["objectType"] for o in objects if o.get("receptacle")
                          and not ontology.info(o["objectType"]).appliance})
    for _ in range(200):
        fam = families[int(rng.integers(len(families)))]
        if fam in _NEEDS and _NEEDS[fam] not in present:
            continue
        cands = items
        if fam == "pick_two_and_place":
            cands = [t for t in items if sum(o["objectType"] == t for o in objects) >= 2]
        if not cands:
            continue
        obj = cands[int(rng.integers(len(cands)))]
        if fam == "look_at_in_light":
            lamps = sorted(present & set(_LAMPS))
            if not lamps:
                continue
            target = lamps[int(rng.integers(len(lamps)))]
        else:
            pool = [r for r in receptacles if not (fam == "place_in_closed"
                                                   and not ontology.info(r).openable)]
            if not pool:
                continue
            target = pool[int(rng.integers(len(pool)))]
        task = ThorTask(fam, obj, target, 2 if fam == "pick_two_and_place" else 1)
        if goal_met(task, metadata):
            continue
        return ThorTask(task.family, obj, target, task.count, instruction_for(task, ontology))
    raise ValueError(f"none of the task families {', '.join(families)} is possible in "
                     f"{metadata.get('sceneName', 'this scene')!r}")
