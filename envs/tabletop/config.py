"""The tabletop env's run settings: ``env.type=tabletop`` in a launch file or an override.

Example:
    >>> from robomem.config import load_config
    >>> cfg = load_config(None, ["env.type=tabletop", "env.task=reopen_drawer"])
    >>> type(cfg.env).__name__, cfg.env.id, cfg.env.gym_kwargs()["task"]
    ('TabletopEnvConfig', 'robomem/Tabletop-v0', 'reopen_drawer')
    >>> TabletopEnvConfig(width=8).width
    Traceback (most recent call last):
    ...
    ValueError: tabletop width and height must be in 16..1024 pixels, got 8 x 128
"""

from __future__ import annotations

from dataclasses import dataclass

from robomem.config import EnvConfig
from robomem.envs.tabletop.cameras import CAMERA_NAMES
from robomem.envs.tabletop.tasks import TASKS
from robomem.untrusted import quote

__all__ = ["TabletopEnvConfig"]


@dataclass
class TabletopEnvConfig(EnvConfig):
    """``TabletopEnv``'s keyword arguments.

    Attributes:
        task: one of :data:`robomem.envs.tabletop.tasks.TASKS`.
        width, height: every camera's image size (RLBench's default is 128 x 128).
        cameras: the cameras to render (None: all five of RLBench's).
        step_limit: actions per episode before it is cut off.
    """

    type: str = "tabletop"
    id: str = "robomem/Tabletop-v0"
    task: str = "put_block_back"
    width: int = 128
    height: int = 128
    cameras: list[str] | None = None
    step_limit: int | None = 20

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"unknown tabletop task {quote(self.task, 60)}; known: "
                             f"{', '.join(TASKS)}")
        if not (16 <= self.width <= 1024 and 16 <= self.height <= 1024):
            raise ValueError(f"tabletop width and height must be in 16..1024 pixels, got "
                             f"{self.width} x {self.height}")
        bad = [c for c in self.cameras or () if c not in CAMERA_NAMES]
        if bad or (self.cameras is not None and not self.cameras):
            raise ValueError(f"unknown tabletop camera {quote(bad[0] if bad else '', 40)}; "
                             f"known: {', '.join(CAMERA_NAMES)}")
        if self.step_limit is not None and not 1 <= self.step_limit <= 10_000:
            raise ValueError(f"step_limit must be in 1..10000, got {self.step_limit}")

    def camera_names(self) -> tuple[str, ...]:
        """The cameras to render, in RLBench's order."""
        return tuple(c for c in CAMERA_NAMES if self.cameras is None or c in self.cameras)
