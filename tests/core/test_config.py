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
    (["episodes=0"], "episodes must be between 1 and"),
    (["seeds=[]"], "at least one seed"),
    (["episodes"], "key=value"),
    (["seeds=[-1]"], "seeds must be integers from 0"),
    (["seeds=[4294967296]"], "seeds must be integers from 0"),
    (["env.step_limit=0"], "env.step_limit must be at least 1"),
    (["memory_system.modules=[nope]"], "unknown memory module 'nope'; known: "),
    (["memory=everything"], "memory must be full, none, random or oracle"),
    (["name=../../etc"], "names the run folder"),
    (["worldmodel_threshold=2"], "between 0 and 1"),
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
