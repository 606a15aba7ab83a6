"""Run configuration: typed dataclasses, loaded from a launch YAML plus ``key=value`` overrides.

A run is a :class:`RunConfig`: the env (an :class:`EnvConfig` subclass chosen by
``env.type``), the agent (:class:`robomem.agent.AgentConfig`, every setting of it reachable as
``agent.<dotted key>``) and the episodes and seeds. OmegaConf merges the YAML and the overrides
onto the dataclass schema, so an unknown key or a value of the wrong type is reported with its
full dotted name.

Env config types are registered by name in :data:`ENV_CONFIGS` (lazily by ``"module:Class"``
string, or by another package through the ``robomem.env_configs`` entry-point group); the
core names no simulator. ``env.type`` (default ``household``) is read from the launch file and
the overrides first, and picks the schema that the rest of ``env`` is checked against.

Example:
    >>> from robomem.config import load_config
    >>> cfg = load_config(None, ["episodes=3", "env.width=64", "agent.executor.max_steps=300"])
    >>> cfg.episodes, cfg.env.type, cfg.env.width, cfg.agent.executor.max_steps
    (3, 'household', 64, 300)
    >>> cfg.env.gym_kwargs()["width"]
    64
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from robomem.agent import AgentConfig
from robomem.registry import Registry
from robomem.untrusted import UntrustedInput, quote, yaml_file, yaml_text

log = logging.getLogger(__name__)


class ConfigError(ValueError):
    """A launch file or override that cannot be used; the message says which and why."""


@dataclass
class EnvConfig:
    """What every env config has; an env's own settings live in a subclass (``env.type``).

    Attributes:
        type: the registered name of the config type (:data:`ENV_CONFIGS`).
        id: the Gymnasium id that is made.
        step_limit: steps per episode before the episode is cut off (None: the env's default).
    """

    type: str = ""
    id: str = ""
    step_limit: int | None = None

    def gym_kwargs(self) -> dict[str, Any]:
        """The keyword arguments ``gym.make(self.id, ...)`` gets.

        By default every field but ``type`` and ``id`` that is not None; a subclass whose env
        names its arguments differently overrides this.
        """
        skip = {"type", "id"}
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name not in skip and getattr(self, f.name) is not None}


ENV_CONFIGS: Registry[type[EnvConfig]] = Registry("env type", group="robomem.env_configs")
ENV_CONFIGS.add_lazy("household", "robomem.envs.household.config:HouseholdEnvConfig")
ENV_CONFIGS.add_lazy("ai2thor", "robomem.envs.ai2thor.config:AI2THOREnvConfig")
ENV_CONFIGS.add_lazy("ros2", "robomem.envs.ros2.config:ROS2EnvConfig")
ENV_CONFIGS.add_lazy("tabletop", "robomem.envs.tabletop.config:TabletopEnvConfig")
ENV_CONFIGS.add_lazy("rlbench", "robomem.envs.rlbench.config:RLBenchEnvConfig")
DEFAULT_ENV_TYPE = "household"


def env_config_class(name: str) -> type[EnvConfig]:
    """The env config class registered as ``name``.

    Raises:
        ConfigError: an unknown name (the message lists the known ones), a target that cannot
            be imported, or one that is not an :class:`EnvConfig` dataclass.
    """
    if name not in ENV_CONFIGS:
        raise ConfigError(f"env.type: unknown env type {quote(name, 60)}; known: "
                          f"{', '.join(ENV_CONFIGS.names()) or '(none)'}")
    try:
        cls = ENV_CONFIGS.get(name)
    except ImportError as e:
        raise ConfigError(f"env.type: {str(e)[:300]}") from None
    if not (isinstance(cls, type) and issubclass(cls, EnvConfig)
            and dataclasses.is_dataclass(cls)):
        raise ConfigError(f"env.type {name!r} is registered as {quote(cls)}, which is not an "
                          f"EnvConfig dataclass")
    return cls


def default_env_config() -> EnvConfig:
    """The default env's config (``env.type=household``, its defaults)."""
    return env_config_class(DEFAULT_ENV_TYPE)(type=DEFAULT_ENV_TYPE)


@dataclass
class RunConfig:
    """One ``robomem run``: env, agent and how many episodes on which seeds.

    ``policy`` is ``agent`` (the memory agent, built from ``agent``) or another registered
    policy (``oracle``, ``random``, ...), which ignores ``agent``.
    """

    name: str = "household"
    env: EnvConfig = field(default_factory=default_env_config)
    policy: str = "agent"
    agent: AgentConfig = field(default_factory=AgentConfig)
    store: str | None = None
    episodes: int = 10
    seeds: list[int] = field(default_factory=lambda: [0])
    out: str = "runs"
    spl: bool = True
    save_scene_graphs: bool = True
    trajectories: bool = False  # record world-model training data (RUN_DIR/trajectories/)


# Top-level keys that moved under ``agent`` (old key -> new dotted key). Still accepted, with a
# warning, in launch files and overrides.
MOVED_KEYS = {
    "memory": "agent.memory",
    "planner": "agent.planner",
    "critic": "agent.critic",
    "llm": "agent.llm",
    "memory_system": "agent.modules",
    "worldmodel_critic": "agent.worldmodel_critic",
    "worldmodel_threshold": "agent.worldmodel_threshold",
}
MEMORY_CHOICES = ("full", "none", "random", "oracle")  # random | oracle pick those policies


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


def _moved(old: str, where: str) -> None:
    log.warning("%s: %r moved to %r; the old key still works but will be removed", where, old,
                MOVED_KEYS[old])


def _migrate_launch(loaded: dict[str, Any], where: str) -> dict[str, Any]:
    """Move a launch file's old top-level agent keys (``memory``, ...) under ``agent``."""
    old = [k for k in MOVED_KEYS if k in loaded]
    if not old:
        return loaded
    agent = loaded.get("agent")
    if agent is None:
        agent = {}
    if not isinstance(agent, dict):
        raise ConfigError(f"{where}: agent must be a mapping of agent settings, got "
                          f"{type(agent).__name__} {quote(agent)}")
    agent = dict(agent)
    for key in old:
        new = MOVED_KEYS[key].split(".", 1)[1]
        if new in agent:
            raise ConfigError(f"{where} sets both {key!r} and 'agent.{new}'; {key} moved to "
                              f"agent.{new}: keep only that")
        agent[new] = loaded.pop(key)
        _moved(key, where)
    loaded["agent"] = agent
    return loaded


def _migrate_overrides(overrides: list[str]) -> list[str]:
    """``memory=none`` -> ``agent.memory=none`` (and the other moved keys), with a warning."""
    out: list[str] = []
    warned: set[str] = set()
    for override in overrides:
        key, value = override.split("=", 1)
        head = key.strip().split(".", 1)[0]
        if head in MOVED_KEYS:
            override = f"{MOVED_KEYS[head]}{key.strip()[len(head):]}={value}"
            if head not in warned:
                warned.add(head)
                _moved(head, "override")
        out.append(override)
    return out


def _env_type(loaded: dict[str, Any], overrides: list[str]) -> str:
    """``env.type`` as the launch file and then the overrides set it (default household)."""
    name: Any = DEFAULT_ENV_TYPE
    env = loaded.get("env")
    if isinstance(env, dict) and "type" in env:
        name = env["type"]
    picked = [o for o in overrides if o.split("=", 1)[0].strip() in ("env", "env.type")]
    if picked:
        over = OmegaConf.to_container(OmegaConf.from_dotlist(picked))
        env = over.get("env") if isinstance(over, dict) else None
        if isinstance(env, dict) and "type" in env:
            name = env["type"]
    if not isinstance(name, str) or not name:
        raise ConfigError(f"env.type must name an env type (known: "
                          f"{', '.join(ENV_CONFIGS.names())}), got {quote(name)}")
    return name


def _schema(env_type: str) -> DictConfig:
    """The :class:`RunConfig` schema with ``env`` of the type registered as ``env_type``."""
    cls = env_config_class(env_type)
    schema: DictConfig = OmegaConf.structured(RunConfig)
    schema.env = OmegaConf.structured(cls)
    schema.env.type = env_type
    return schema


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> RunConfig:
    """Merge a launch YAML (``None``: built-in defaults) and dotted overrides onto the schema.

    The old top-level agent keys (``memory``, ``planner``, ``critic``, ``llm.*``,
    ``memory_system.*``, ``worldmodel_critic``, ``worldmodel_threshold``) are read as their
    ``agent.*`` keys (``memory_system`` is ``agent.modules``), with a logged warning.

    Raises:
        ConfigError: an unreadable or hostile launch file, an unknown key or env type, a value
            of the wrong type or out of range; the message names the key and quotes the value
            (bounded).
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
    loaded = _migrate_launch(loaded, f"launch file {str(path)!r}")
    overrides = _migrate_overrides(overrides)
    try:
        for o in overrides:  # each value bounded like a launch file's
            yaml_text(o.split("=", 1)[1] or "null")
        cfg: Any = _schema(_env_type(loaded, overrides))
        cfg = OmegaConf.merge(cfg, OmegaConf.create(loaded))
        if overrides:
            cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(overrides))
        _baseline(cfg)
        run = OmegaConf.to_object(cfg)
    except ConfigError:
        raise
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
    return run


def _baseline(cfg: DictConfig) -> None:
    """``agent.memory=random|oracle`` (``--memory random``) runs that baseline policy instead."""
    memory = cfg.agent.memory
    if memory not in MEMORY_CHOICES:
        raise ConfigError(f"agent.memory must be full, none, random or oracle, got "
                          f"{quote(memory)}")
    if memory in ("random", "oracle"):
        cfg.policy, cfg.agent.memory = memory, "none"


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
    if run.env.step_limit is not None and run.env.step_limit < 1:
        raise ConfigError(f"env.step_limit must be at least 1 (or null for the env's default), "
                          f"got {run.env.step_limit}")
    if not run.env.id:
        raise ConfigError(f"env.id must name a Gymnasium env (env.type {run.env.type!r} sets "
                          f"no default)")
    if not 0.0 <= run.agent.worldmodel_threshold <= 1.0:
        raise ConfigError(f"agent.worldmodel_threshold must be between 0 and 1, got "
                          f"{run.agent.worldmodel_threshold}")
    if not run.name or len(run.name) > 100 or any(c in run.name for c in "/\\\0"):
        raise ConfigError(f"name must be 1 to 100 characters without '/', '\\' or NUL (it "
                          f"names the run folder), got {quote(run.name, 60)}")


def to_yaml(cfg: RunConfig) -> str:
    """The config as YAML (saved in every run directory; :func:`load_config` reads it back)."""
    return OmegaConf.to_yaml(OmegaConf.structured(cfg))
