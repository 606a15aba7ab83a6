"""The AI2-THOR env's run settings: ``env.type=ai2thor`` in a launch file or an override.

Example:
    >>> from robomem.config import load_config
    >>> cfg = load_config(None, ["env.type=ai2thor", "env.scene=FloorPlan5",
    ...                          "env.platform=CloudRendering"])
    >>> type(cfg.env).__name__, cfg.env.id, cfg.env.gym_kwargs()["scene"]
    ('AI2THOREnvConfig', 'robomem/AI2THOR-v0', 'FloorPlan5')
"""

from __future__ import annotations

from dataclasses import dataclass

from robomem.config import EnvConfig


@dataclass
class AI2THOREnvConfig(EnvConfig):
    """``AI2THOREnv``'s keyword arguments (see its docstring for each).

    Attributes:
        scene: an iTHOR FloorPlan name.
        width, height, fov: the camera.
        platform: ``CloudRendering`` (Vulkan, no display) or ``Linux64`` (an X display).
        x_display: the X display for Linux64.
        local_executable_path: a Unity build to run instead of downloading one.
        commit_id: the AI2-THOR build to fetch on first use.
        instruction: the instruction of episodes without a task.
        families: ALFRED task families to draw each episode's task from (None: no tasks).
        lifelong: keep the scene across episodes, moving some objects in between
            (``SetObjectPoses``).
        relocation_prob: in lifelong mode, the chance that each loose object is moved.
    """

    type: str = "ai2thor"
    id: str = "robomem/AI2THOR-v0"
    scene: str = "FloorPlan1"
    width: int = 300
    height: int = 300
    fov: float = 90.0
    platform: str | None = None
    x_display: str | None = None
    local_executable_path: str | None = None
    commit_id: str | None = None
    instruction: str = ""
    families: list[str] | None = None
    lifelong: bool = False
    relocation_prob: float = 0.2
