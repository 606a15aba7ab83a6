"""Tasks about the past: the env's record of what the agent did, and tasks posed from it.

"Put the mug back where it was before", "bring what you put in the fridge last time to the
table", "turn off the lamp you turned on last time": each is about an object the agent itself
moved or switched on in an earlier episode. The env keeps a :class:`PastLog` of the agent's
successful moves and switches (ground truth, never shown to the agent) and
:func:`pose_past_task` turns its latest entry into a :class:`~robomem.envs.household.tasks.Task`
that names the very objects. A memoryless agent can only guess which mug, which receptacle or
which lamp; an agent that remembers what it did can answer.

Example:
    >>> import numpy as np
    >>> from robomem.envs.household.generator import generate_house
    >>> from robomem.envs.household.past import PastEvent, PastLog, pose_past_task
    >>> house = generate_house(1, 2)
    >>> mug = next(o for o in house.objects.values() if o.kind.pickupable)
    >>> shelf = next(o for o in house.objects.values() if o.kind.receptacle and
    ...              o.object_id != mug.parent and not o.kind.pickupable and not o.kind.openable)
    >>> log = PastLog()
    >>> log.add(PastEvent(1, "moved", mug.object_id, mug.type, mug.parent or "",
    ...                   shelf.object_id))
    >>> mug.parent = shelf.object_id  # where the agent left it
    >>> task = pose_past_task("put_back", house, log, np.random.default_rng(0))
    >>> task.family, task.object_id == mug.object_id, task.check(house, None, set())
    ('put_back', True, False)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from robomem.envs.household.house import House, Obj
from robomem.envs.household.placement import find_spot
from robomem.envs.household.tasks import (
    LAMPS,
    PAST_FAMILIES,
    STEP_LIMITS,
    Task,
    TaskError,
    _targets,
    _words,
)

log = logging.getLogger(__name__)

MOVED = "moved"
SWITCHED_ON = "switched_on"
MAX_EVENTS = 256  # the log keeps this many latest events

PAST_PHRASES: dict[str, tuple[str, ...]] = {
    "put_back": ("Put the {o} back where it was before.",
                 "Return the {o} to where it was this morning.",
                 "Put the {o} back where you found it.",
                 "Move the {o} back to where it was."),
    "bring_back": ("Bring what you put {p} the {r} last time to the {t}.",
                   "Take the thing you put {p} the {r} yesterday to the {t}.",
                   "Move what you left {p} the {r} earlier to the {t}."),
    "switch_off": ("Turn off the lamp you turned on last time.",
                   "Switch off the light you switched on yesterday.",
                   "Turn the lamp you turned on earlier back off."),
}
"""How people ask about the past (robomem.planners.past reads them all; tests check each)."""


@dataclass(frozen=True)
class PastEvent:
    """One thing the agent did: moved an object or switched a lamp on.

    Attributes:
        episode: the env's episode number it happened in.
        kind: :data:`MOVED` or :data:`SWITCHED_ON`.
        object_id: the object moved or the lamp switched on.
        object_type: its type.
        source_id: for a move, the receptacle it was taken from ("" if unknown).
        target_id: for a move, the receptacle it was put in or on.
    """

    episode: int
    kind: str
    object_id: str
    object_type: str
    source_id: str = ""
    target_id: str = ""


class PastLog:
    """The agent's moves and switches, latest last (the env writes, task posing reads)."""

    def __init__(self) -> None:
        self.events: list[PastEvent] = []

    def add(self, event: PastEvent) -> None:
        """Record one event (the oldest is dropped past :data:`MAX_EVENTS`)."""
        self.events.append(event)
        del self.events[:-MAX_EVENTS]

    def clear(self) -> None:
        """Forget everything (a new house)."""
        self.events.clear()

    def latest(self, kind: str) -> PastEvent | None:
        """The latest event of ``kind``, or None."""
        return next((e for e in reversed(self.events) if e.kind == kind), None)

    def copy(self) -> PastLog:
        """An independent copy (for a cloned env)."""
        out = PastLog()
        out.events = list(self.events)
        return out


def _prep(rec: Obj) -> str:
    return "in" if rec.kind.style in ("container", "basin") else "on"


def pose_past_task(family: str, house: House, past: PastLog, rng: np.random.Generator,
                   wording: np.random.Generator | None = None) -> Task | None:
    """A task of ``family`` about the latest thing the agent did, or None if none fits.

    ``put_back``: the latest moved object goes back to the very receptacle it was taken
    from. ``bring_back``: the latest moved object, named by the receptacle type it was put
    in, goes to another receptacle type (drawn with ``rng``). ``switch_off``: the latest lamp
    switched on (and still on) goes off while the house's other lamps, switched on for the
    task by "someone else" (the caller does it, see :func:`lamps_to_switch_on`), stay on.

    Raises:
        TaskError: ``family`` is not one of :data:`PAST_FAMILIES`.
    """
    if family not in PAST_FAMILIES:
        raise TaskError(f"unknown task family about the past {family!r}; known: "
                        f"{', '.join(PAST_FAMILIES)}")
    objs = house.objects
    forms = PAST_PHRASES[family]
    form = forms[int(wording.integers(len(forms)))] if wording is not None else forms[0]
    limit = STEP_LIMITS[family]
    if family == "switch_off":
        ev = past.latest(SWITCHED_ON)
        lamp = objs.get(ev.object_id) if ev is not None else None
        if lamp is None or not lamp.is_toggled:
            return None
        others = tuple(sorted(o.object_id for o in objs.values()
                              if o.type in LAMPS and o.object_id != lamp.object_id))
        if not others:
            return None  # one lamp: nothing to tell apart
        return Task(family, lamp.type, "", form, limit, 1, lamp.object_id, "", others)
    ev = past.latest(MOVED)
    o = objs.get(ev.object_id) if ev is not None else None
    if ev is None or o is None or o.is_picked_up or o.parent is None:
        return None
    if family == "put_back":
        source = objs.get(ev.source_id)
        if source is None or o.parent == source.object_id or \
                find_spot(house, source, o.type, np.random.default_rng(0),
                          ignore=o.object_id) is None:
            return None
        return Task(family, o.type, source.type, form.format(o=_words(o.type)), limit, 1,
                    o.object_id, source.object_id)
    put_in = objs.get(ev.target_id)
    if put_in is None:
        return None
    here = objs[o.parent].type
    targets = [t for t in _targets(house, o.type, {put_in.type, here})
               if any(find_spot(house, h, o.type, np.random.default_rng(0)) is not None
                      for h in house.of_type(t))]
    if not targets:
        return None
    target = targets[int(rng.integers(len(targets)))]
    text = form.format(p=_prep(put_in), r=_words(put_in.type), t=_words(target))
    return Task(family, o.type, target, text, limit, 1, o.object_id)


def lamps_to_switch_on(task: Task, house: House) -> list[Obj]:
    """For ``switch_off``: the lamps it keeps on that are off now (the env switches them on)."""
    return [house.objects[k] for k in task.keep_on
            if k in house.objects and not house.objects[k].is_toggled]


def fill_template(task: Task, house: House, past: PastLog, rng: np.random.Generator,
                  wording: np.random.Generator | None = None) -> Task | None:
    """A template (``task.is_template``) filled in from ``past``, keeping its step limit."""
    posed = pose_past_task(task.family, house, past, rng, wording)
    return None if posed is None else replace(posed, step_limit=task.step_limit)

