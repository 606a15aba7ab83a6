"""Run configuration: typed dataclasses, loaded from a launch YAML plus ``key=value`` overrides.

OmegaConf merges the YAML and the overrides onto the dataclass schema, so an unknown key or
a value of the wrong type is reported with its full dotted name.

Example:
    >>> from robomem.config import load_config
    >>> cfg = load_config(None, ["episodes=3", "env.width=64"])
    >>> cfg.episodes, cfg.env.width
    (3, 64)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from robomem.memory.system import MemorySystemConfig
from robomem.planners.llm import LLMConfig


class ConfigError(ValueError):
    """A launch file or override that cannot be used; the message says which and why."""


@dataclass
class EnvConfig:
    """Which env to run and its keyword arguments."""

    id: str = "robomem/Household-v0"
    scene: str | None = None
    width: int = 300
    height: int = 300
    fov: float = 90.0
    lifelong: bool = True
    relocation_prob: float = 0.2
    families: list[str] | None = None
    n_rooms: int | None = None
    step_limit: int | None = None


@dataclass
class RunConfig:
    """One ``robomem run``: env, agent and how many episodes on which seeds."""

    name: str = "household"
    env: EnvConfig = field(default_factory=EnvConfig)
    policy: str = "agent"
    memory: str = "full"
    planner: str = "symbolic"
    memory_system: MemorySystemConfig = field(default_factory=MemorySystemConfig)
    critic: bool = True
    llm: LLMConfig = field(default_factory=LLMConfig)  # the llm planner's backend and settings
    worldmodel_critic: str | None = None  # a model.pt from `robomem train worldmodel`
    worldmodel_threshold: float = 0.2
    store: str | None = None
    episodes: int = 10
    seeds: list[int] = field(default_factory=lambda: [0])
    out: str = "runs"
    spl: bool = True
    save_scene_graphs: bool = True
    trajectories: bool = False  # record world-model training data (RUN_DIR/trajectories/)


def default_launch() -> Path:
    """The shipped ``launch/household.yaml``."""
    return Path(str(resources.files("robomem.launch"))) / "household.yaml"


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> RunConfig:
    """Merge a launch YAML (``None``: built-in defaults) and dotted overrides onto the schema."""
    try:
        cfg = OmegaConf.structured(RunConfig)
        if path is not None:
            p = Path(path)
            if not p.exists():
                raise ConfigError(f"launch file {str(p)!r} does not exist")
            loaded = OmegaConf.load(p)
            cfg = OmegaConf.merge(cfg, loaded)
        if overrides:
            bad = [o for o in overrides if "=" not in o]
            if bad:
                raise ConfigError(f"overrides must look like key=value, got {bad}")
            cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(list(overrides)))
        run = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as e:
        first = str(e).splitlines()[0]
        where = getattr(e, "full_key", None)
        raise ConfigError(f"bad config{f' at {where!r}' if where else ''}: {first}") from None
    except Exception as e:  # YAML syntax errors and the like
        if isinstance(e, ConfigError):
            raise
        raise ConfigError(f"cannot read launch file {str(path)!r}: {e}") from None
    assert isinstance(run, RunConfig)
    if run.episodes < 1:
        raise ConfigError(f"episodes must be at least 1, got {run.episodes}")
    if not run.seeds:
        raise ConfigError("seeds must list at least one seed")
    if run.memory in ("random", "oracle"):  # `--memory random|oracle` picks those baselines
        run.policy, run.memory = run.memory, "none"
    if run.memory not in ("full", "none"):
        raise ConfigError(f"memory must be full, none, random or oracle, got {run.memory!r}")
    return run


def to_yaml(cfg: RunConfig) -> str:
    """The config as YAML (saved in every run directory)."""
    return OmegaConf.to_yaml(OmegaConf.structured(cfg))
