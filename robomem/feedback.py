"""Structured action feedback: whether the last action worked and, if not, why, as a code.

Every world words its failures differently (AI2-THOR: "Mug|1 is inside closed Fridge|2"; a
ROS action server: a result code; a grid world: "the door is shut"). Each
:class:`~robomem.embodiment.Embodiment` maps its world's messages to a :class:`FeedbackCode`
once; memory, critics and planners read the code, never the English. The world's own message
is kept for logs and people.

Example:
    >>> from robomem.feedback import ActionFeedback, FeedbackCode
    >>> fb = ActionFeedback.failure("pickup", FeedbackCode.IS_CLOSED, "Mug|1 is inside closed "
    ...                             "Fridge|2", subject="Fridge|2")
    >>> fb.success, fb.code.value, fb.subject
    (False, 'is_closed', 'Fridge|2')
    >>> ActionFeedback.ok("move_ahead").code is FeedbackCode.OK
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["ActionFeedback", "FeedbackCode"]


class FeedbackCode(str, Enum):
    """Why an action failed, in words every world can map to (``OK`` when it did not)."""

    OK = "ok"
    NOT_VISIBLE = "not_visible"  # the target is not in view
    OUT_OF_REACH = "out_of_reach"  # in view but too far to touch
    IS_CLOSED = "is_closed"  # the target, or what holds it (``subject``), is closed
    ALREADY_OPEN = "already_open"
    ALREADY_CLOSED = "already_closed"
    ALREADY_ON = "already_on"
    ALREADY_OFF = "already_off"
    HAND_FULL = "hand_full"  # something is held already
    NOTHING_HELD = "nothing_held"  # put with an empty hand
    BLOCKED = "blocked"  # a motion hit something
    NO_FREE_SPOT = "no_free_spot"  # nowhere to put the held object
    UNKNOWN_OBJECT = "unknown_object"  # the target id does not exist
    NOT_AFFORDED = "not_afforded"  # the object cannot do that (not pickupable, not openable, ...)
    LIMIT = "limit"  # a joint or camera limit (e.g. looking further down than the camera can)
    UNSUPPORTED = "unsupported"  # the world has no such action
    UNKNOWN = "unknown"  # failed for a reason the embodiment does not recognise


@dataclass(frozen=True)
class ActionFeedback:
    """The outcome of the last action, as the agent is told it (never ground truth).

    Attributes:
        action: the action in robomem's vocabulary (:class:`robomem.primitives.Primitive`
            values such as ``"pickup"``; ``""`` after a reset).
        success: whether it worked.
        code: why not (``OK`` on success).
        message: the world's own message, for logs ("" on success).
        subject: the object the code is about when that is not the action's target (the closed
            receptacle that holds a pickup's target), else ``None``.
        world_action: the world's name for the action (``"PickupObject"``), for logs.
    """

    action: str = ""
    success: bool = True
    code: FeedbackCode = FeedbackCode.OK
    message: str = ""
    subject: str | None = None
    world_action: str = ""

    def __post_init__(self) -> None:
        if self.success != (self.code is FeedbackCode.OK):
            raise ValueError(f"feedback code {self.code.value!r} contradicts success="
                             f"{self.success}: use code OK exactly when the action succeeded")

    @classmethod
    def ok(cls, action: str = "", world_action: str = "") -> ActionFeedback:
        """A success."""
        return cls(action, True, FeedbackCode.OK, "", None, world_action)

    @classmethod
    def failure(cls, action: str, code: FeedbackCode, message: str = "",
                subject: str | None = None, world_action: str = "") -> ActionFeedback:
        """A failure with its code (``OK`` is turned into ``UNKNOWN``)."""
        if code is FeedbackCode.OK:
            code = FeedbackCode.UNKNOWN
        return cls(action, False, code, message, subject, world_action)
