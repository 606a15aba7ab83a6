"""What the preprocessor (the thalamus) hands to memory: fused 3D detections and events.

Example:
    >>> from robomem.percept import EVENT_APPEARED, ObjectEvent
    >>> ObjectEvent(EVENT_APPEARED, "Mug|1", "Mug", step=3).describe()
    'Mug|1 appeared'
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from robomem.geometry import AABB
from robomem.types import AgentPose

EVENT_APPEARED = "appeared"  # first seen
EVENT_MOVED = "moved"  # seen again somewhere else
EVENT_OPENED = "opened"
EVENT_CLOSED = "closed"
EVENT_PICKED_UP = "picked_up"
EVENT_PUT_DOWN = "put_down"
EVENT_TOGGLED_ON = "toggled_on"
EVENT_TOGGLED_OFF = "toggled_off"
EVENT_GONE = "gone"  # expected in view but not seen (a stale belief)
EVENT_KINDS = (EVENT_APPEARED, EVENT_MOVED, EVENT_OPENED, EVENT_CLOSED, EVENT_PICKED_UP,
               EVENT_PUT_DOWN, EVENT_TOGGLED_ON, EVENT_TOGGLED_OFF, EVENT_GONE)


@dataclass(frozen=True)
class ObjectEvent:
    """A state change of one object at one step."""

    kind: str
    key: str
    label: str
    step: int
    detail: str = ""

    def describe(self) -> str:
        """A short human-readable phrase."""
        base = f"{self.key} {self.kind.replace('_', ' ')}"
        return f"{base} ({self.detail})" if self.detail else base


@dataclass
class Detection:
    """One object as fused by the preprocessor after this frame.

    Attributes:
        key: stable identity (the simulator's objectId when segmentation gives one, else a
            key the fusion made up, such as ``"Mug#3"``).
        label: object type (``"Mug"``).
        box: fused world-frame box.
        visible: seen in this frame.
        pixels: pixels in this frame (0 if not seen now).
        min_distance: distance from the camera to its nearest seen point this frame
            (``inf`` if not seen now): within 1.5 m the agent can interact with it.
        instance: its segmentation id in this frame (0 if not seen now).
        points: a downsampled sample of its fused world points (K, 3).
    """

    key: str
    label: str
    box: AABB
    visible: bool = True
    pixels: int = 0
    min_distance: float = float("inf")
    instance: int = 0
    points: NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 3), np.float32))


@dataclass
class Percept:
    """Everything one step contributes to memory.

    Attributes:
        step: step index in the episode.
        timestamp: seconds.
        agent_pose: the agent's pose (odometry).
        camera_pose: (4, 4) camera-to-world.
        intrinsics: (3, 3).
        depth: (H, W) z-depth of this frame (for visibility tests against memory).
        points: (M, 3) downsampled world points of the whole frame (for maps).
        detections: fused objects seen in this frame.
        events: state changes detected this step.
        held: key of the object the agent holds, if any.
        summary: one line describing the step.
    """

    step: int
    timestamp: float
    agent_pose: AgentPose
    camera_pose: NDArray[np.float64]
    intrinsics: NDArray[np.float64]
    depth: NDArray[np.float32]
    points: NDArray[np.float32]
    detections: list[Detection] = field(default_factory=list)
    events: list[ObjectEvent] = field(default_factory=list)
    held: str | None = None
    summary: str = ""
