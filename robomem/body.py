"""The body an embodiment declares, and the one robomem's executor can drive today.

A mobile embodiment says how its base moves and where its camera sits (:class:`MobileBase`, the
``body`` section of its data file). The executor (``policies/executor.py``,
``policies/motion.py``) and spatial memory's navigation are written for one such body: a
0.25 m move lattice, 90 degree turns, camera pitches of -30, 0, 30 and 60 degrees and a camera
1.5 m above the floor (:data:`EXECUTOR_BODY`). :func:`check_body` refuses any other body with a
message that names the difference, rather than letting the agent walk a world it misreads.

Example:
    >>> from robomem.body import EXECUTOR_BODY, MobileBase, check_body
    >>> check_body(MobileBase(radius=0.25, reach=1.2))  # radius and reach may differ
    >>> try:
    ...     check_body(MobileBase(lattice=0.5))
    ... except ValueError as e:
    ...     print(e)  # doctest: +ELLIPSIS
    robomem's executor drives a 0.25 m lattice...; this body has lattice 0.5
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from robomem.untrusted import quote

__all__ = ["EXECUTOR_BODY", "MobileBase", "body_from_dict", "check_body"]


@dataclass(frozen=True)
class MobileBase:
    """A mobile base with a pitching camera.

    Attributes:
        lattice: the step of a move (m); moves go ahead, back, left and right without turning.
        turn_degrees: one rotate_left / rotate_right.
        pitches: the camera pitches look_up / look_down step through (degrees, positive down).
        camera_height: the camera above the floor (m).
        radius: the base's footprint, a disc (m).
        reach: the farthest the arm acts on what the camera sees (m).
    """

    lattice: float = 0.25
    turn_degrees: float = 90.0
    pitches: tuple[float, ...] = (-30.0, 0.0, 30.0, 60.0)
    camera_height: float = 1.5
    radius: float = 0.2
    reach: float = 1.5


EXECUTOR_BODY = MobileBase()
"""The body robomem's executor and navigation implement (their geometry is fixed to it)."""
_FIXED = ("lattice", "turn_degrees", "pitches", "camera_height")


def check_body(body: MobileBase) -> None:
    """Raise ``ValueError`` if the executor cannot drive ``body`` (see the module docstring)."""
    bad = [f"{name} {getattr(body, name)}" for name in _FIXED
           if getattr(body, name) != getattr(EXECUTOR_BODY, name)]
    if bad:
        e = EXECUTOR_BODY
        raise ValueError(f"robomem's executor drives a {e.lattice:g} m lattice, "
                         f"{e.turn_degrees:g} degree turns, pitches {list(e.pitches)} and a "
                         f"camera {e.camera_height:g} m up; this body has {', '.join(bad)}")
    if not (0 < body.radius < 1 and 0 < body.reach < 5):
        raise ValueError(f"body radius must be in (0, 1) m and reach in (0, 5) m, got "
                         f"{body.radius} and {body.reach}")


def body_from_dict(data: Mapping[str, object]) -> MobileBase:
    """A :class:`MobileBase` from a data file's ``body`` mapping (missing keys: defaults).

    Raises:
        ValueError: an unknown key or a value that is not a number (or list of numbers).
    """
    known = {f.name for f in fields(MobileBase)}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise ValueError(f"unknown body key {quote(unknown[0])}; known: {', '.join(sorted(known))}")
    out: dict[str, object] = {}
    for k, v in data.items():
        if k == "pitches":
            if not isinstance(v, list) or not all(isinstance(x, int | float) for x in v):
                raise ValueError(f"body pitches must be a list of degrees, got {quote(v)}")
            out[k] = tuple(float(x) for x in v)
        elif isinstance(v, int | float) and not isinstance(v, bool):
            out[k] = float(v)
        else:
            raise ValueError(f"body {k} must be a number, got {quote(v)}")
    return MobileBase(**out)  # type: ignore[arg-type]
