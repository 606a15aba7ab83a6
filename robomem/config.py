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
from typing import Any

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from robomem.memory.system import MemorySystemConfig
from robomem.planners.llm import LLMConfig
from robomem.untrusted import UntrustedInput, quote, yaml_file, yaml_text


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


MAX_EPISODES = 1_000_000  # per seed
MAX_SEEDS = 10_000
MAX_SEED = 2**32 - 1  # numpy and gymnasium take seeds in [0, 2**32)
MAX_OVERRIDE_CHARS = 10_000  # one key=value on the command line


def _read_launch(path: str | Path) -> dict[str, Any]:
    """A launch file's YAML, size-, nesting- and alias-bounded (robomem.untrusted)."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"launch file {str(p)!r} does not exist")
    if not p.is_file():
        raise ConfigError(f"launch file {str(p)!r} is not a file")
    try:
        data = yaml_file(p, what="launch file")
    except (UntrustedInput, yaml.YAMLError, OSError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ConfigError(f"cannot read launch file {str(p)!r}: {first[:300]}") from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"launch file {str(p)!r} must be a mapping of settings, got "
                          f"{type(data).__name__} {quote(data)}")
    return dict(data or {})


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> RunConfig:
    """Merge a launch YAML (``None``: built-in defaults) and dotted overrides onto the schema.

    Raises:
        ConfigError: an unreadable or hostile launch file, an unknown key, a value of the wrong
            type or out of range; the message names the key and quotes the value (bounded).
    """
    overrides = list(overrides or [])
    bad = [o for o in overrides if "=" not in o]
    if bad:
        raise ConfigError(f"overrides must look like key=value, got {quote(bad)}")
    long = [o for o in overrides if len(o) > MAX_OVERRIDE_CHARS]
    if long:
        raise ConfigError(f"override {quote(long[0], 60)} is longer than "
                          f"{MAX_OVERRIDE_CHARS} characters")
    loaded = _read_launch(path) if path is not None else {}
    try:
        cfg = OmegaConf.structured(RunConfig)
        cfg = OmegaConf.merge(cfg, OmegaConf.create(loaded))
        if overrides:
            for o in overrides:  # each value bounded like a launch file's
                yaml_text(o.split("=", 1)[1] or "null")
            cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(overrides))
        run = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        where = getattr(e, "full_key", None)
        raise ConfigError(f"bad config{f' at {where!r}' if where else ''}: {first[:300]}") \
            from None
    except UntrustedInput as e:
        raise ConfigError(f"bad override: {e}") from None
    except (ValueError, KeyError, TypeError) as e:  # a section's own checks (__post_init__)
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        raise ConfigError(f"bad config: {str(msg)[:300]}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"bad override: {str(e).splitlines()[0][:300]}") from None
    assert isinstance(run, RunConfig)
    _check(run)
    if run.memory in ("random", "oracle"):  # `--memory random|oracle` picks those baselines
        run.policy, run.memory = run.memory, "none"
    return run


def _check(run: RunConfig) -> None:
    """The run-level bounds (the env checks its own arguments when it is made)."""
    if not 1 <= run.episodes <= MAX_EPISODES:
        raise ConfigError(f"episodes must be between 1 and {MAX_EPISODES}, got {run.episodes}")
    if not run.seeds:
        raise ConfigError("seeds must list at least one seed")
    if len(run.seeds) > MAX_SEEDS:
        raise ConfigError(f"seeds lists {len(run.seeds)} seeds; at most {MAX_SEEDS}")
    wrong = [s for s in run.seeds if not 0 <= s <= MAX_SEED]
    if wrong:
        raise ConfigError(f"seeds must be integers from 0 to {MAX_SEED}, got {quote(wrong[0])}")
    if run.memory not in ("full", "none", "random", "oracle"):
        raise ConfigError(f"memory must be full, none, random or oracle, got {quote(run.memory)}")
    if run.env.step_limit is not None and run.env.step_limit < 1:
        raise ConfigError(f"env.step_limit must be at least 1 (or null for the env's default), "
                          f"got {run.env.step_limit}")
    if not 0.0 <= run.worldmodel_threshold <= 1.0:
        raise ConfigError(f"worldmodel_threshold must be between 0 and 1, got "
                          f"{run.worldmodel_threshold}")
    if not run.name or len(run.name) > 100 or any(c in run.name for c in "/\\\0"):
        raise ConfigError(f"name must be 1 to 100 characters without '/', '\\' or NUL (it "
                          f"names the run folder), got {quote(run.name, 60)}")


def to_yaml(cfg: RunConfig) -> str:
    """The config as YAML (saved in every run directory)."""
    return OmegaConf.to_yaml(OmegaConf.structured(cfg))
