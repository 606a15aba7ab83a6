from __future__ import annotations

from pathlib import Path

import pytest

from robomem.config import ConfigError, default_launch, load_config


def test_shipped_launch_file_loads() -> None:
    cfg = load_config(default_launch())
    assert cfg.env.id == "robomem/Household-v0" and cfg.policy == "agent"
    assert cfg.memory == "full"
    assert cfg.env.lifelong is True and cfg.seeds


def test_overrides_apply_with_types() -> None:
    cfg = load_config(None, ["episodes=4", "env.width=128", "seeds=[3,4]",
                             "env.families=[pick_and_place]"])
    assert (cfg.episodes, cfg.env.width, cfg.seeds) == (4, 128, [3, 4])
    assert cfg.env.families == ["pick_and_place"]


@pytest.mark.parametrize("override, needle", [
    (["nope=1"], "nope"),
    (["env.width=wide"], "env.width"),
    (["episodes=0"], "episodes must be at least 1"),
    (["seeds=[]"], "at least one seed"),
    (["episodes"], "key=value"),
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
