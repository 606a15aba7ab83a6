"""The Household env's run settings: ``env.type=household`` (the default) in a launch file.

The core registers this class lazily by name (``robomem.config.ENV_CONFIGS``), so it is
imported only when a run uses the Household env.

Example:
    >>> from robomem.config import load_config
    >>> cfg = load_config(None, ["env.type=household", "env.width=64", "env.n_rooms=3"])
    >>> type(cfg.env).__name__, cfg.env.id
    ('HouseholdEnvConfig', 'robomem/Household-v0')
    >>> sorted(cfg.env.gym_kwargs().items())[:4]
    [('fov', 90.0), ('height', 300), ('lifelong', True), ('n_rooms', 3)]
"""

from __future__ import annotations

from dataclasses import dataclass

from robomem.config import EnvConfig


@dataclass
class HouseholdEnvConfig(EnvConfig):
    """The embedded Household simulator's keyword arguments (``HouseholdEnv``).

    Attributes:
        scene: a shipped scene (``FloorPlan1`` ..), a scene spec path, or None (procedural).
        width, height: camera image size in pixels.
        fov: camera field of view in degrees.
        lifelong: keep the same house across episodes, some objects tidied away in between.
        relocation_prob: the chance that an object is tidied away between episodes.
        families: task families to draw from (None: all).
        n_rooms: rooms of a procedural house (None: the generator's choice).
        paraphrase: word instructions as people do, in varied seeded phrasings.
    """

    type: str = "household"
    id: str = "robomem/Household-v0"
    scene: str | None = None
    width: int = 300
    height: int = 300
    fov: float = 90.0
    lifelong: bool = True
    relocation_prob: float = 0.2
    families: list[str] | None = None
    n_rooms: int | None = None
    paraphrase: bool = True
