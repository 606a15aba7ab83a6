"""Fuzz: random mutations of the shipped launch file give a config or a clear ConfigError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from robomem.config import ConfigError, default_launch, load_config
from robomem.runner import make_env
from tests.fixtures.fuzz import mutated, mutated_text, time_limit

LAUNCH_TEXT = default_launch().read_text()
LAUNCH = yaml.safe_load(LAUNCH_TEXT)
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _check(path: Path) -> None:
    with time_limit(20):
        try:
            cfg = load_config(path)
        except ConfigError as e:
            assert 0 < len(str(e)) < 1000, str(e)[:2000]
            return
        try:  # a config that loads makes its env or says clearly why not
            make_env(cfg).close()
        except ValueError as e:
            assert 0 < len(str(e)) < 1000, str(e)[:2000]


@FUZZ
@given(doc=mutated(LAUNCH))
def test_mutated_launch_values(tmp_path_factory: pytest.TempPathFactory,
                               doc: dict[str, Any]) -> None:
    path = tmp_path_factory.mktemp("launch") / "launch.yaml"
    path.write_text(yaml.safe_dump(doc))
    _check(path)


@FUZZ
@given(text=mutated_text(LAUNCH_TEXT))
def test_mutated_launch_text(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("launch") / "launch.yaml"
    path.write_text(text)
    _check(path)
