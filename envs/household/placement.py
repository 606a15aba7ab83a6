"""Where things can go: receptacle surfaces and finding a free spot on them.

Used both when a house is generated and when the agent puts an object down, so a generated
house and a played one obey the same rules.

Example:
    >>> import numpy as np
    >>> from robomem.envs.household.generator import generate_house
    >>> from robomem.envs.household.placement import find_spot
    >>> house = generate_house(1)
    >>> table = next(o for o in house.objects.values() if o.type == "CounterTop")
    >>> find_spot(house, table, "Apple", np.random.default_rng(0)) is not None
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from robomem.envs.household.catalog import kind
from robomem.envs.household.house import WALL_HEIGHT, Box, House, Obj, Rect

SHELL = 0.03  # wall thickness of containers and basins
MARGIN = 0.02  # gap kept between things on a surface


@dataclass(frozen=True)
class Surface:
    """Where a receptacle holds things: a floor rectangle at height ``y``, up to ``max_h``."""

    rect: Rect
    y: float
    max_h: float
    inside: bool


def surface(obj: Obj) -> Surface | None:
    """The holding surface of a receptacle, or ``None`` for non-receptacles."""
    k = obj.kind
    if not k.receptacle or k.pickupable:
        return None
    b = obj.box
    fp = b.footprint
    if k.style == "container":
        y = b.lo[1] + max(k.inner_floor, SHELL)
        return Surface(fp.grow(-SHELL - MARGIN), y, b.hi[1] - SHELL - y, True)
    if k.style == "basin":
        y = b.lo[1] + k.inner_floor
        return Surface(fp.grow(-2 * SHELL - MARGIN), y, WALL_HEIGHT - y - 0.3, True)
    y = b.hi[1]
    return Surface(fp.grow(-MARGIN), y, WALL_HEIGHT - y - 0.3, False)


def occupied(house: House, host: Obj, ignore: str | None = None) -> list[Rect]:
    """Footprints already taken on ``host``'s surface."""
    return [o.box.footprint for o in house.children(host.object_id)
            if o.object_id != ignore and not o.is_picked_up]


def find_spot(house: House, host: Obj, type_: str, rng: np.random.Generator,
              ignore: str | None = None, tries: int = 40,
              extra: list[Rect] | None = None, snug: bool = False,
              near: tuple[float, float, float] | None = None, reach: float = 1.4,
              accept: Callable[[Box], bool] | None = None) -> Box | None:
    """A free box for an object of ``type_`` on or in ``host``, or ``None`` if none fits.

    The object may be turned by 90 degrees to fit; positions are sampled uniformly. With
    ``snug``, of all the free positions sampled the one nearest an edge of the surface is
    taken, which keeps the middle free for what comes next (the agent's PutObject, and
    capacity checks, use it so that "two of X fit" stays true while placing them). With
    ``near`` (the agent's camera), the edge nearest the agent wins, within ``reach`` if
    possible, so that what the agent puts down stays in sight and in reach.
    ``extra`` lists footprints to treat as taken too (for capacity checks); ``accept``, when
    given, must approve a spot (the agent's PutObject only uses spots it can see).
    """
    s = surface(host)
    if s is None:
        return None
    w, h, d = kind(type_).size
    if h > s.max_h:
        return None
    taken = occupied(house, host, ignore) + (extra or [])
    best: tuple[float, Box] | None = None
    for attempt in range(tries):
        sx, sz = (w, d) if attempt % 2 == 0 else (d, w)
        if sx > s.rect.width or sz > s.rect.depth:
            continue
        x = float(rng.uniform(s.rect.x0 + sx / 2, s.rect.x1 - sx / 2))
        z = float(rng.uniform(s.rect.z0 + sz / 2, s.rect.z1 - sz / 2))
        fp = Rect(x - sx / 2, z - sz / 2, x + sx / 2, z + sz / 2)
        if any(fp.intersects(t, MARGIN) for t in taken):
            continue
        box = Box((fp.x0, s.y, fp.z0), (fp.x1, s.y + h, fp.z1))
        if accept is not None and not accept(box):
            continue
        if not snug:
            return box
        score = min(fp.x0 - s.rect.x0, s.rect.x1 - fp.x1, fp.z0 - s.rect.z0, s.rect.z1 - fp.z1)
        if near is not None:  # the edge nearest the agent: in reach and in sight later on
            d = box.distance_to(near)
            score += d + (100.0 if d > reach else 0.0)
        if best is None or score < best[0]:
            best = (score, box)
    return None if best is None else best[1]


def capacity(house: House, hosts: list[Obj], type_: str, need: int,
             rng: np.random.Generator) -> bool:
    """Whether ``need`` more objects of ``type_`` fit on ``hosts`` together."""
    found = 0
    for h in hosts:
        extra: list[Rect] = []
        while found < need:
            box = find_spot(house, h, type_, rng, extra=extra, snug=True)
            if box is None:
                break
            extra.append(box.footprint)
            found += 1
        if found >= need:
            return True
    return found >= need
