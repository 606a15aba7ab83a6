"""What a table arm sees now, and the events that tell how that changed.

Where each loose object rests, which drawers are out, which buttons are lit.

Read from one multi-camera :class:`~robomem.types.Observation` alone (no memory): every
camera's instance masks are back-projected with their depth into world boxes, merged over the
cameras. The roles of objects come from the world's ontology, not from their names: a
*pickupable* type is loose, a non-openable *receptacle* that is not *structure* (or a
*container* with openable parts) is a place or a cabinet, an *openable* type is a drawer, a
*toggleable* type a button.

Example:
    >>> import numpy as np
    >>> from robomem.geometry import AABB
    >>> from robomem.policies.table_state import TableState, state_events
    >>> before = TableState(on={"Block|1": "Bowl|2"}, opened=frozenset({"Drawer|1"}))
    >>> after = TableState(boxes={"Drawer|1": AABB(np.zeros(3), np.ones(3))},
    ...                    on={"Block|1": "Plate|1"})
    >>> [e.describe() for e in state_events(before, after, step=4, labels=str)]
    ['Block|1 moved (from Bowl|2 to Plate|1)', 'Drawer|1 closed']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from robomem.geometry import AABB
from robomem.memory.relations import supports
from robomem.ontology import Ontology
from robomem.percept import (
    EVENT_CLOSED,
    EVENT_MOVED,
    EVENT_OPENED,
    EVENT_TOGGLED_OFF,
    EVENT_TOGGLED_ON,
    ObjectEvent,
)
from robomem.preprocess.pointcloud import backproject_indices
from robomem.types import Observation

__all__ = ["TableState", "perceive", "state_events"]

PROTRUDE = 0.05  # an openable part this far out of its cabinet's box is open (m)
LIT_LEVEL = 110  # a toggleable whose pixels' red and green both average above this is lit


@dataclass(frozen=True)
class TableState:
    """The table as one observation shows it.

    Attributes:
        boxes: object key -> world box (merged over the cameras that see it).
        labels: object key -> type.
        on: loose object key -> the key of what it rests on ("" when nothing; a held object
            is left out).
        opened: the openable parts that are out.
        lit: the toggleables that are lit.
    """

    boxes: dict[str, AABB] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    on: dict[str, str] = field(default_factory=dict)
    opened: frozenset[str] = frozenset()
    lit: frozenset[str] = frozenset()

    def carried(self, before: TableState | None) -> TableState:
        """This state, with ``before``'s resting places of objects not seen resting (held)."""
        if before is None:
            return self
        on = {k: v for k, v in before.on.items() if k not in self.on}
        return TableState(self.boxes, self.labels, {**on, **self.on}, self.opened, self.lit)

    def without(self, held: str | None) -> TableState:
        """This state with ``held`` (in the gripper) resting nowhere: left out of :attr:`on`."""
        if held is None or held not in self.on:
            return self
        on = {k: v for k, v in self.on.items() if k != held}
        return TableState(self.boxes, self.labels, on, self.opened, self.lit)

    def of_type(self, pred: Callable[[str], bool]) -> list[str]:
        """The keys whose type satisfies ``pred``, sorted."""
        return sorted(k for k, lab in self.labels.items() if pred(lab))


def perceive(obs: Observation, onto: Ontology) -> TableState:
    """The :class:`TableState` of ``obs`` (see the module docstring)."""
    pts: dict[str, list[np.ndarray]] = {}
    labels: dict[str, str] = {}
    bright: dict[str, list[float]] = {}
    for cam in obs.cameras.values():
        if cam.segmentation is None or cam.depth is None:
            continue
        seg = cam.segmentation.reshape(-1)
        rgb = cam.rgb.reshape(-1, 3)
        for inst, key in cam.object_ids.items():
            idx = np.flatnonzero(seg == inst)
            idx = idx[cam.depth.reshape(-1)[idx] > 0]
            if len(idx) == 0:
                continue
            labels[key] = cam.labels.get(inst, "")
            pts.setdefault(key, []).append(
                backproject_indices(cam.depth, cam.intrinsics, cam.pose, idx))
            col = rgb[idx].astype(np.float64).mean(axis=0)
            bright.setdefault(key, []).append(float(min(col[0], col[1])))
    boxes = {k: AABB.from_points(np.concatenate(v)) for k, v in pts.items()}
    info = onto.info
    loose = [k for k in boxes if info(labels[k]).pickupable]
    hosts = [k for k in boxes if info(labels[k]).receptacle and not info(labels[k]).openable
             and not info(labels[k]).pickupable]
    on: dict[str, str] = dict.fromkeys(loose, "")
    if loose and hosts:
        objs = np.array([_row(boxes[k]) for k in loose])
        hb = np.array([_row(boxes[k]) for k in hosts])
        cont = np.array([info(labels[k]).container for k in hosts])
        for i, (j, _rel) in zip(range(len(loose)), supports(objs, hb, cont)):
            on[loose[i]] = hosts[j] if j >= 0 else ""
    opened = frozenset(k for k in boxes if info(labels[k]).openable
                       and _protrudes(boxes[k], [boxes[h] for h in hosts]))
    lit = frozenset(k for k, v in bright.items() if info(labels[k]).toggleable
                    and float(np.mean(v)) > LIT_LEVEL)
    return TableState(boxes, labels, on, opened, lit)


def _row(b: AABB) -> list[float]:
    return [*b.lo.tolist(), *b.hi.tolist()]


def _protrudes(part: AABB, hosts: list[AABB]) -> bool:
    """Whether ``part`` sticks out of the nearest host box by over :data:`PROTRUDE`.

    Only its front may be in view, outside the host's box: the nearest box (a gap of up to
    :data:`PROTRUDE`) is its host.
    """
    best, best_gap = None, PROTRUDE
    for h in hosts:
        gap = float(np.linalg.norm(np.clip(np.maximum(h.lo - part.hi, part.lo - h.hi), 0, None)))
        if gap < best_gap:
            best, best_gap = h, gap
    if best is None:
        return False
    out = np.maximum(best.lo - part.lo, part.hi - best.hi)
    return bool(out.max() > PROTRUDE)


def state_events(before: TableState | None, after: TableState, step: int,
                 labels: Callable[[str], str]) -> list[ObjectEvent]:
    """The events that turn ``before`` into ``after`` (the initial state's, without before).

    Loose objects that rest somewhere new ``moved`` (detail ``"from A to B"``; at the start
    ``"on B"``); openable parts ``opened`` / ``closed``; toggleables ``toggled_on`` /
    ``toggled_off`` (lit / went out). A held object is not in ``after.on``: the caller carries
    its last resting place over (see :meth:`TableState.carried`) so that setting it down
    reads "from A to B".
    """
    out: list[ObjectEvent] = []
    for key, host in sorted(after.on.items()):
        old = before.on.get(key) if before is not None else None
        if not host or host == old:
            continue
        if not old:
            out.append(ObjectEvent(EVENT_MOVED, key, labels(key), step, f"on {host}"))
        else:
            out.append(ObjectEvent(EVENT_MOVED, key, labels(key), step, f"from {old} to {host}"))
    prev_open = before.opened if before is not None else frozenset()
    prev_lit = before.lit if before is not None else frozenset()
    for key in sorted(after.opened - prev_open):
        out.append(ObjectEvent(EVENT_OPENED, key, labels(key), step))
    for key in sorted(prev_open - after.opened):
        if before is not None and key in after.boxes:
            out.append(ObjectEvent(EVENT_CLOSED, key, labels(key), step))
    for key in sorted(after.lit - prev_lit):
        out.append(ObjectEvent(EVENT_TOGGLED_ON, key, labels(key), step, "lit"))
    for key in sorted(prev_lit - after.lit):
        if key in after.boxes:
            out.append(ObjectEvent(EVENT_TOGGLED_OFF, key, labels(key), step, "went out"))
    return out
