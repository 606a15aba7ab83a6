"""A ROS 2 robot's embodiment: robomem's primitive names on the wire, codes in the feedback.

Example:
    >>> from robomem.envs.ros2.embodiment import ROS2Embodiment
    >>> emb = ROS2Embodiment()
    >>> code, subject = emb.classify("put", "[is_closed:Fridge|1] Fridge|1 is closed")
    >>> code.value, subject
    ('is_closed', 'Fridge|1')
"""

from __future__ import annotations

from pathlib import Path

from robomem.embodiment import TableEmbodiment

__all__ = ["ROS2Embodiment"]


class ROS2Embodiment(TableEmbodiment):
    """A mobile manipulator on ROS 2 (``data/embodiment.yaml``)."""

    name = "ros2"
    DATA = Path(__file__).parent / "data" / "embodiment.yaml"
