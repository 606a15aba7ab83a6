"""Tasks in ALFRED's families: an instruction, a success checker on ground truth, a step limit.

Example:
    >>> import numpy as np
    >>> from robomem.envs.household.generator import generate_house
    >>> from robomem.envs.household.tasks import sample_task
    >>> house = generate_house(2)
    >>> task = sample_task(house, np.random.default_rng(0), families=["pick_and_place"])
    >>> task.family, task.check(house, held=None, visible=set())
    ('pick_and_place', False)
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from robomem.envs.household.catalog import (
    CLEANABLE_TYPES,
    COOLABLE_TYPES,
    HEATABLE_TYPES,
    KINDS,
)
from robomem.envs.household.house import House, Obj
from robomem.envs.household.placement import capacity, surface
from robomem.untrusted import quote

FAMILIES = (
    "pick_and_place",
    "pick_two_and_place",
    "place_in_closed",
    "pick_heat_and_place",
    "pick_cool_and_place",
    "pick_clean_and_place",
    "look_at_in_light",
)
PAST_FAMILIES = ("put_back", "bring_back", "switch_off")
"""Tasks about the past: their object is what the agent itself did in an earlier episode
(:mod:`robomem.envs.household.past` poses them from the env's record of the agent's actions)."""
STEP_LIMITS = {"pick_and_place": 200, "pick_two_and_place": 320, "place_in_closed": 240,
               "pick_heat_and_place": 320, "pick_cool_and_place": 300,
               "pick_clean_and_place": 300, "look_at_in_light": 200,
               "put_back": 200, "bring_back": 200, "switch_off": 160}
LAMPS = ("DeskLamp", "FloorLamp")
# Bounds on a task given as a dict (by a user, a launch file or an earlier run's log).
MAX_STEP_LIMIT = 2**31 - 1  # the env's step counter is an int32-ranged observation
MAX_TASK_COUNT = 16  # objects a task may ask for (the families ask for 1 or 2)
MAX_INSTRUCTION_CHARS = 256
INSTRUCTION_PUNCTUATION = " .,'-!?"
INSTRUCTION_CHARSET = string.ascii_letters + string.digits + INSTRUCTION_PUNCTUATION
MAX_ID_CHARS = 128
ID_CHARSET = string.ascii_letters + string.digits + "|.+-_"


class TaskError(ValueError):
    """A task spec that names an unknown family, type or an impossible goal."""


@dataclass(frozen=True)
class Task:
    """One goal in a house.

    Attributes:
        family: one of :data:`FAMILIES`.
        object_type: the type to move (or to examine, for ``look_at_in_light``).
        target_type: the receptacle type it must end in (the lamp type for looking).
        instruction: the sentence the agent reads.
        step_limit: steps before the episode is truncated.
        count: how many objects of ``object_type`` must end in the target.
        object_id: for a task about the past, the very object it is about ("" otherwise).
        target_id: for ``put_back``, the receptacle the object must go back to.
        keep_on: for ``switch_off``, the lamps that must stay on (only one is switched off).

    A task about the past (:data:`PAST_FAMILIES`) given without ``object_id`` is a template:
    the env fills it in at reset from what the agent did in earlier episodes.
    """

    family: str
    object_type: str
    target_type: str
    instruction: str
    step_limit: int
    count: int = 1
    object_id: str = ""
    target_id: str = ""
    keep_on: tuple[str, ...] = ()

    @property
    def is_past(self) -> bool:
        """Whether the task is about what the agent did in an earlier episode."""
        return self.family in PAST_FAMILIES

    @property
    def is_template(self) -> bool:
        """A task about the past whose object the env has yet to fill in."""
        return self.is_past and not self.object_id

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Task:
        """Validate and build a task from a dict (as written in a scene spec or log).

        Raises:
            TaskError: not a mapping, an unknown key, family or type, or a value of the wrong
                type or out of bounds; the message names the key and quotes the value.
        """
        if not isinstance(d, Mapping):
            raise TaskError(f"a task must be a Task or a dict, got {type(d).__name__} "
                            f"{quote(d)}")
        known = [f.name for f in fields(cls)]
        unknown = [k for k in d if k not in known]
        if unknown:
            raise TaskError(f"unknown task keys {quote(sorted(unknown, key=repr))}; known: "
                            f"{', '.join(known)}")
        fam = d.get("family")
        if not isinstance(fam, str) or fam not in FAMILIES + PAST_FAMILIES:
            raise TaskError(f"unknown task family {quote(fam)}; known: "
                            f"{', '.join(FAMILIES + PAST_FAMILIES)}")
        past = fam in PAST_FAMILIES
        for key in ("object_type", "target_type"):
            v = d.get(key, "" if past else None)
            if not isinstance(v, str) or (v not in KINDS and not (past and v == "")):
                raise TaskError(f"task {key} {quote(v)} is not an object type; "
                                f"known: {', '.join(sorted(KINDS))}")
        obj, target = d.get("object_type", ""), d.get("target_type", "")
        ids = {k: _object_id(d, k) for k in ("object_id", "target_id")}
        keep = d.get("keep_on", ())
        if not isinstance(keep, (list, tuple)) or len(keep) > MAX_TASK_COUNT:
            raise TaskError(f"task keep_on must be a list of at most {MAX_TASK_COUNT} object "
                            f"ids, got {quote(keep)}")
        keep_on = tuple(_object_id({"keep_on": k}, "keep_on") for k in keep)
        if past and not ids["object_id"]:  # a template: the env words it when it fills it in
            step_limit = _bounded_int(d, "step_limit", STEP_LIMITS[fam], MAX_STEP_LIMIT)
            return Task(fam, obj, target, "", step_limit)
        instruction = d.get("instruction") or (instruction_for(fam, obj, target) if not past
                                               else "")
        if not isinstance(instruction, str) or len(instruction) > MAX_INSTRUCTION_CHARS:
            raise TaskError(f"task instruction must be a string of at most "
                            f"{MAX_INSTRUCTION_CHARS} characters, got {quote(instruction)}")
        odd = sorted(set(instruction) - set(INSTRUCTION_CHARSET))
        if odd:
            raise TaskError(f"task instruction {quote(instruction)} has characters outside "
                            f"letters, digits and {INSTRUCTION_PUNCTUATION!r}: {quote(odd)}")
        step_limit = _bounded_int(d, "step_limit", STEP_LIMITS[fam], MAX_STEP_LIMIT)
        count = _bounded_int(d, "count", 2 if fam == "pick_two_and_place" else 1,
                             MAX_TASK_COUNT)
        return Task(fam, obj, target, instruction, step_limit, count, ids["object_id"],
                    ids["target_id"], keep_on)

    def check(self, house: House, held: str | None, visible: set[str]) -> bool:
        """Whether the goal holds in the house right now (ground truth)."""
        objs = house.objects
        if self.is_past:
            return self._check_past(house)
        if self.family == "look_at_in_light":
            h = objs.get(held) if held else None
            return (h is not None and h.type == self.object_type
                    and any(o.type == self.target_type and o.is_toggled and o.object_id in visible
                            for o in objs.values()))
        done = [o for o in objs.values() if o.type == self.object_type and self._placed(o, house)]
        return len(done) >= self.count

    def _check_past(self, house: House) -> bool:
        objs = house.objects
        o = objs.get(self.object_id)
        if o is None:
            return False
        if self.family == "switch_off":
            return not o.is_toggled and all(objs[k].is_toggled for k in self.keep_on
                                            if k in objs)
        if o.is_picked_up or o.parent is None:
            return False
        if self.family == "put_back":
            return o.parent == self.target_id
        return objs[o.parent].type == self.target_type  # bring_back

    def _placed(self, o: Obj, house: House) -> bool:
        if o.parent is None or o.is_picked_up:
            return False
        rec = house.objects[o.parent]
        if rec.type != self.target_type:
            return False
        if self.family == "place_in_closed":
            return not rec.is_open
        if self.family == "pick_heat_and_place":
            return o.temperature == "Hot"
        if self.family == "pick_cool_and_place":
            return o.temperature == "Cold"
        if self.family == "pick_clean_and_place":
            return not o.is_dirty
        return True


_VERB = {"pick_and_place": "Put {a} {o} {p} the {r}.",
         "pick_two_and_place": "Put two {os} {p} the {r}.",
         "place_in_closed": "Put {a} {o} in the {r} and close it.",
         "pick_heat_and_place": "Heat {a} {o} and put it {p} the {r}.",
         "pick_cool_and_place": "Chill {a} {o} and put it {p} the {r}.",
         "pick_clean_and_place": "Clean {a} {o} and put it {p} the {r}.",
         "look_at_in_light": "Examine {a} {o} under the {r}."}


# How people phrase each family (robomem.planners reads them all; tests check every one).
PARAPHRASES: dict[str, tuple[str, ...]] = {
    "pick_and_place": ("Put {a} {o} {p} the {r}.", "Place {a} {o} {p} the {r}.",
                       "Move {a} {o} to the {r}.", "Take {a} {o} and put it {p} the {r}.",
                       "Bring {a} {o} over to the {r}.", "Set {a} {o} {p} the {r}."),
    "pick_two_and_place": ("Put two {os} {p} the {r}.", "Place both {os} {p} the {r}.",
                           "Move two {os} to the {r}.", "Put a pair of {os} {p} the {r}."),
    "place_in_closed": ("Put {a} {o} in the {r} and close it.",
                        "Place {a} {o} inside the {r}, then shut it.",
                        "Put {a} {o} away in the {r} and close the {r}."),
    "pick_heat_and_place": ("Heat {a} {o} and put it {p} the {r}.",
                            "Put a heated {o} {p} the {r}.",
                            "Warm up {a} {o}, then place it {p} the {r}.",
                            "Place a hot {o} {p} the {r}.",
                            "Microwave {a} {o} and set it {p} the {r}."),
    "pick_cool_and_place": ("Chill {a} {o} and put it {p} the {r}.",
                            "Put a cold {o} {p} the {r}.",
                            "Cool {a} {o} down, then put it {p} the {r}.",
                            "Place a chilled {o} {p} the {r}."),
    "pick_clean_and_place": ("Clean {a} {o} and put it {p} the {r}.",
                             "Put a washed {o} {p} the {r}.",
                             "Rinse {a} {o}, then place it {p} the {r}.",
                             "Place a clean {o} {p} the {r}."),
    "look_at_in_light": ("Examine {a} {o} under the {r}.",
                         "Look at {a} {o} by the light of the {r}.",
                         "Pick up {a} {o} and turn on the {r}.",
                         "Hold {a} {o} while you switch on the {r}."),
}


def _words(type_: str) -> str:
    out = "".join(" " + c.lower() if c.isupper() else c for c in type_).strip()
    return out.replace("cell phone", "phone").replace("t v", "TV")


_IRREGULAR = {"knife": "knives", "potato": "potatoes", "tomato": "tomatoes"}


def _plural(noun: str) -> str:
    head, _, last = noun.rpartition(" ")
    if last in _IRREGULAR:
        word = _IRREGULAR[last]
    elif last.endswith(("sh", "ch", "x", "s")):
        word = last + "es"
    else:
        word = last + "s"
    return f"{head} {word}".strip()


def _bounded_int(d: Mapping[str, Any], key: str, default: int, high: int) -> int:
    """``d[key]`` (or ``default``) checked to be an integer in ``[1, high]``."""
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= high:
        raise TaskError(f"task {key} must be an integer in [1, {high}], got {quote(v)}")
    return int(v)


def _object_id(d: Mapping[str, Any], key: str) -> str:
    """``d[key]`` checked to be an object id (letters, digits and ``|.+-_``), "" if absent."""
    v = d.get(key, "")
    if not isinstance(v, str) or len(v) > MAX_ID_CHARS or set(v) - set(ID_CHARSET):
        raise TaskError(f"task {key} must be an object id of at most {MAX_ID_CHARS} letters, "
                        f"digits and {'|.+-_'!r}, got {quote(v)}")
    return v


def instruction_for(family: str, object_type: str, target_type: str,
                    rng: np.random.Generator | None = None) -> str:
    """The instruction sentence of a task.

    The family's first phrasing, or one of :data:`PARAPHRASES` drawn with ``rng``.
    """
    o = _words(object_type)
    k = KINDS[target_type]
    prep = "in" if k.style in ("container", "basin") else "on"
    a = "an" if o[0] in "aeiou" else "a"
    os_ = _plural(o)
    forms = PARAPHRASES[family]
    form = forms[int(rng.integers(len(forms)))] if rng is not None else _VERB[family]
    return form.format(a=a, o=o, os=os_, p=prep, r=_words(target_type))


def _targets(house: House, obj_type: str, exclude_parent_types: set[str],
             openable: bool | None = None) -> list[str]:
    h = KINDS[obj_type].size[1]
    out = []
    for o in house.objects.values():
        s = surface(o)
        if s is None or o.type in exclude_parent_types or h > s.max_h:
            continue
        if openable is not None and o.kind.openable != openable:
            continue
        if o.kind.heat_source or o.kind.cold_source or o.type == "SinkBasin":
            continue  # appliances are tools in these tasks, not destinations
        if min(KINDS[obj_type].size[0], KINDS[obj_type].size[2]) > min(s.rect.width,
                                                                        s.rect.depth):
            continue
        out.append(o.type)
    return sorted(set(out))


def sample_task(house: House, rng: np.random.Generator,
                families: list[str] | tuple[str, ...] | None = None,
                observable: Callable[[Obj], bool] | None = None,
                paraphrase: bool = False) -> Task:
    """A task that the house makes possible, not already satisfied, chosen by ``rng``.

    ``observable`` (when given) says whether an object can be seen from some reachable pose;
    tasks are only posed about objects for which it holds. With ``paraphrase`` the instruction
    is one of :data:`PARAPHRASES`, drawn from a child of ``rng`` (the tasks themselves are the
    same as without).
    """
    wording = rng.spawn(1)[0] if paraphrase else None
    fams = list(families or FAMILIES)
    for f in fams:
        if f not in FAMILIES:
            raise TaskError(f"unknown task family {f!r}; known: {', '.join(FAMILIES)}")
    present = {o.type for o in house.objects.values()}
    items = [o for o in house.objects.values() if o.kind.pickupable]
    for _ in range(200):
        fam = fams[int(rng.integers(len(fams)))]
        cand = items
        if fam == "pick_heat_and_place":
            if "Microwave" not in present:
                continue
            cand = [o for o in items if o.type in HEATABLE_TYPES]
        elif fam == "pick_cool_and_place":
            if "Fridge" not in present:
                continue
            cand = [o for o in items if o.type in COOLABLE_TYPES and o.temperature != "Cold"]
        elif fam == "pick_clean_and_place":
            if "SinkBasin" not in present:
                continue
            cand = [o for o in items if o.type in CLEANABLE_TYPES]
        elif fam == "pick_two_and_place":
            types = [t for t in {o.type for o in items} if sum(o.type == t for o in items) >= 2]
            cand = [o for o in items if o.type in types]
        if not cand:
            continue
        obj = cand[int(rng.integers(len(cand)))]
        if observable is not None:
            need = 2 if fam == "pick_two_and_place" else 1
            seen = [o for o in items if o.type == obj.type and o in cand and observable(o)]
            if len(seen) < need:
                continue
        if fam == "look_at_in_light":
            lamps = sorted(present & set(LAMPS))
            if not lamps:
                continue
            target = lamps[int(rng.integers(len(lamps)))]
        else:
            parent_types = {house.objects[o.parent].type for o in items
                            if o.type == obj.type and o.parent}
            exclude = parent_types if fam in ("pick_and_place", "pick_two_and_place",
                                              "place_in_closed") else set()
            targets = _targets(house, obj.type, exclude,
                               openable=True if fam == "place_in_closed" else None)
            count = 2 if fam == "pick_two_and_place" else 1
            check_rng = np.random.default_rng(0)
            targets = [t for t in targets if capacity(house, house.of_type(t), obj.type, count,
                                                      check_rng)]
            if not targets:
                continue
            target = targets[int(rng.integers(len(targets)))]
        task = Task(fam, obj.type, target, instruction_for(fam, obj.type, target, wording),
                    STEP_LIMITS[fam], 2 if fam == "pick_two_and_place" else 1)
        if fam == "pick_clean_and_place":
            for o in items:
                if o.type == obj.type:
                    o.is_dirty = True  # there is something to clean
        if not task.check(house, None, set()):
            return task
    raise TaskError(f"no task of families {fams} is possible in {house.name}")
