from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pytest

from robomem.config import (
    ENV_CONFIGS,
    ConfigError,
    EnvConfig,
    RunConfig,
    default_launch,
    load_config,
    to_yaml,
)


def test_shipped_launch_file_loads() -> None:
    cfg = load_config(default_launch())
    assert cfg.env.id == "robomem/Household-v0" and cfg.policy == "agent"
    assert cfg.agent.memory == "full" and cfg.agent.planner == "symbolic"
    assert cfg.env.type == "household" and type(cfg.env).__name__ == "HouseholdEnvConfig"
    assert cfg.env.lifelong is True and cfg.seeds


def test_overrides_apply_with_types() -> None:
    cfg = load_config(None, ["episodes=4", "env.width=128", "seeds=[3,4]",
                             "env.families=[pick_and_place]"])
    assert (cfg.episodes, cfg.env.width, cfg.seeds) == (4, 128, [3, 4])
    assert cfg.env.families == ["pick_and_place"]


@pytest.mark.parametrize("override, needle", [
    (["nope=1"], "nope"),
    (["env.width=wide"], "env.width"),
    (["episodes=0"], "episodes must be between 1 and"),
    (["seeds=[]"], "at least one seed"),
    (["episodes"], "key=value"),
    (["seeds=[-1]"], "seeds must be integers from 0"),
    (["seeds=[4294967296]"], "seeds must be integers from 0"),
    (["env.step_limit=0"], "env.step_limit must be at least 1"),
    (["agent.modules.modules=[nope]"], "unknown memory module 'nope'; known: "),
    (["agent.memory=everything"], "agent.memory must be full, none, random or oracle"),
    (["name=../../etc"], "names the run folder"),
    (["agent.worldmodel_threshold=2"], "agent.worldmodel_threshold must be between 0 and 1"),
    (["agent.key_frames=-1"], "key_frames must be at least 0"),
    (["agent.executor.max_steps=many"], "agent.executor.max_steps"),
    (["agent.preprocess.nope=1"], "agent.preprocess.nope"),
    (["env.widht=3"], "'env.widht'"),
    (["env.type=moon"], "unknown env type 'moon'; known: ai2thor, household"),
    (["env.type=[a]"], "env.type must name an env type"),
    (["env.id=''"], "env.id must name a Gymnasium env"),
    (["seeds=" + "[" * 5_000], "nested deeper"),
    (["name=" + "x" * 20_000], "longer than 10000 characters"),
])
def test_bad_overrides_name_the_problem(override: list[str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_config(None, override)


def test_malformed_launch_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("env: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml"):
        load_config(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("env:\n  widht: 3\n")
    with pytest.raises(ConfigError, match="widht"):
        load_config(wrong)


def test_alias_bomb_in_a_launch_file_is_refused(tmp_path: Path) -> None:
    """A billion-laughs launch file (1 KB) is refused without expanding it."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\nseeds: *a8\n")
    assert bomb.stat().st_size < 1500
    with pytest.raises(ConfigError, match=r"bomb\.yaml.*aliases expand") as e:
        load_config(bomb)
    assert len(str(e.value)) < 400


@pytest.mark.parametrize("content, needle", [
    ("a: " + "[" * 50_000 + "]" * 50_000, "nested deeper"),
    ("- 1\n- 2\n", "must be a mapping of settings, got list"),
    ("episodes: 3\n" + "# padding\n" * 200_000, "bytes; the limit is"),
    (b"\xff\xfe episodes: 3", "not UTF-8"),
], ids=["deep", "not-a-mapping", "too-large", "not-utf8"])
def test_hostile_launch_files_name_the_file(tmp_path: Path, content: str | bytes,
                                            needle: str) -> None:
    f = tmp_path / "launch.yaml"
    if isinstance(content, bytes):
        f.write_bytes(content)
    else:
        f.write_text(content)
    with pytest.raises(ConfigError, match=needle) as e:
        load_config(f)
    assert "launch.yaml" in str(e.value) and len(str(e.value)) < 400


def test_a_folder_as_launch_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a file"):
        load_config(tmp_path)


def test_env_type_selects_the_config_class() -> None:
    from robomem.envs.household.config import HouseholdEnvConfig

    for over in ([], ["env.type=household"]):
        cfg = load_config(None, [*over, "env.width=64", "env.step_limit=9"])
        assert isinstance(cfg.env, HouseholdEnvConfig) and cfg.env.type == "household"
        assert cfg.env.id == "robomem/Household-v0"
    # what the runner passes to gym.make: today's keyword arguments, None left out
    assert cfg.env.gym_kwargs() == {"width": 64, "height": 300, "fov": 90.0, "lifelong": True,
                                    "relocation_prob": 0.2, "step_limit": 9,
                                    "paraphrase": True}
    assert isinstance(RunConfig().env, HouseholdEnvConfig)  # the default, built lazily
    assert "household" in ENV_CONFIGS.names()


def test_unknown_env_type_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"env\.type: unknown env type 'moon'; known: "
                                          r".*household") as e:
        load_config(None, ["env.type=moon"])
    assert "Traceback" not in str(e.value)
    launch = tmp_path / "moon.yaml"
    launch.write_text("env: {type: moon, gravity: 1.6}\n")
    with pytest.raises(ConfigError, match="unknown env type 'moon'"):
        load_config(launch)
    moon = tmp_path / "only_type.yaml"
    moon.write_text("env: {type: moon}\n")
    assert load_config(moon, ["env.type=household"]).env.type == "household"  # overrides win


def test_unknown_key_under_env_names_the_full_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"at 'env\.gravity'.*HouseholdEnvConfig"):
        load_config(None, ["env.gravity=1.6"])
    launch = tmp_path / "launch.yaml"
    launch.write_text("env:\n  type: household\n  gravity: 1.6\n")
    with pytest.raises(ConfigError, match=r"at 'env\.gravity'"):
        load_config(launch)


def test_every_agent_setting_is_a_dotted_override() -> None:
    cfg = load_config(None, ["agent.preprocess.detector=segmentation",
                             "agent.executor.max_steps=300", "agent.key_frames=2",
                             "agent.spatial.max_nodes=500", "agent.patience=40",
                             "agent.modules.options.episodic.encoder=hash",
                             "agent.llm.max_new_tokens=12", "agent.planner=llm"])
    a = cfg.agent
    assert (a.preprocess.detector, a.executor.max_steps, a.key_frames) == ("segmentation", 300, 2)
    assert (a.spatial.max_nodes, a.patience, a.llm.max_new_tokens) == (500, 40, 12)
    assert a.modules.options == {"episodic": {"encoder": "hash"}} and a.planner == "llm"
    assert type(a).__name__ == "AgentConfig"


@pytest.mark.parametrize("key", ["agent.memory", "memory"])
@pytest.mark.parametrize("baseline", ["random", "oracle"])
def test_memory_random_or_oracle_picks_that_policy(key: str, baseline: str) -> None:
    cfg = load_config(None, [f"{key}={baseline}"])
    assert (cfg.policy, cfg.agent.memory) == (baseline, "none")


def test_old_top_level_keys_move_under_agent(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="robomem.config"):
        cfg = load_config(None, ["memory=none", "planner=llm", "critic=false",
                                 "memory_system.modules=[spatial]", "llm.backend=scripted",
                                 "worldmodel_threshold=0.5"])
    a = cfg.agent
    assert (a.memory, a.planner, a.critic, a.modules.modules, a.llm.backend,
            a.worldmodel_threshold) == ("none", "llm", False, ["spatial"], "scripted", 0.5)
    assert "'memory_system' moved to 'agent.modules'" in caplog.text
    assert "'memory' moved to 'agent.memory'" in caplog.text
    launch = tmp_path / "old.yaml"
    launch.write_text("memory: none\nmemory_system: {modules: [spatial, episodic]}\n"
                      "agent: {key_frames: 1}\n")
    cfg = load_config(launch)
    assert (cfg.agent.memory, cfg.agent.modules.modules, cfg.agent.key_frames) == \
        ("none", ["spatial", "episodic"], 1)
    both = tmp_path / "both.yaml"
    both.write_text("critic: false\nagent: {critic: true}\n")
    with pytest.raises(ConfigError, match=r"sets both 'critic' and 'agent\.critic'; critic "
                                          r"moved to agent\.critic"):
        load_config(both)


@dataclass
class ToyEnvConfig(EnvConfig):
    """A third-party env's settings, registered by string in the test below."""

    type: str = "toy"
    id: str = "toy/Toy-v0"
    speed: float = 1.0
    rooms: list[str] | None = None


@pytest.fixture
def toy_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """``toy`` registered by its ``module:Class`` string, only for the one test."""
    for attr in ("_items", "_lazy", "_origin"):
        monkeypatch.setattr(ENV_CONFIGS, attr, dict(getattr(ENV_CONFIGS, attr)))
    ENV_CONFIGS.add_lazy("toy", f"{__name__}:ToyEnvConfig")
    ENV_CONFIGS.add_lazy("fraction", "fractions:Fraction")


@pytest.mark.usefixtures("toy_registered")
def test_a_third_party_env_config_registered_by_string(tmp_path: Path) -> None:
    launch = tmp_path / "toy.yaml"
    launch.write_text("env: {type: toy, speed: 2.5}\nepisodes: 2\n")
    cfg = load_config(launch, ["env.rooms=[a,b]"])
    assert isinstance(cfg.env, ToyEnvConfig) and cfg.env.id == "toy/Toy-v0"
    assert cfg.env.gym_kwargs() == {"speed": 2.5, "rooms": ["a", "b"]}
    cfg = load_config(None, ["env.type=toy", "env.step_limit=7"])
    assert isinstance(cfg.env, ToyEnvConfig) and cfg.env.gym_kwargs()["step_limit"] == 7
    with pytest.raises(ConfigError, match=r"at 'env\.width'.*ToyEnvConfig"):
        load_config(None, ["env.type=toy", "env.width=64"])  # a household key
    with pytest.raises(ConfigError, match="known: ai2thor, fraction, household, rlbench, "
                                            "ros2, tabletop, toy"):
        load_config(None, ["env.type=moon"])
    with pytest.raises(ConfigError, match="not an EnvConfig dataclass"):
        load_config(None, ["env.type=fraction"])
    again = tmp_path / "again.yaml"
    again.write_text(to_yaml(cfg))
    assert load_config(again) == cfg


def test_run_config_round_trips_through_yaml(tmp_path: Path) -> None:
    cfg = load_config(default_launch(), ["env.width=64", "env.families=[pick_and_place]",
                                         "agent.executor.max_steps=300", "agent.memory=oracle",
                                         "agent.modules.options.episodic.encoder=hash",
                                         "agent.spatial.obstacle_band=[0.1,1.5]",
                                         "seeds=[3,4]", "store=null"])
    saved = tmp_path / "config.yaml"
    saved.write_text(to_yaml(cfg))
    assert "agent:" in saved.read_text() and "type: household" in saved.read_text()
    back = load_config(saved)
    assert back == cfg and back.policy == "oracle"
    assert back.agent.spatial.obstacle_band == (0.1, 1.5)
