"""Fuzz: random mutations of every shipped scene spec build a house or raise a clear SpecError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from robomem.envs.household.spec import SpecError, _scenes_dir, list_scenes, load_scene
from tests.fixtures.fuzz import mutated, mutated_text, time_limit

SCENES = {name: (_scenes_dir() / f"{name}.yaml").read_text() for name in list_scenes()}
FUZZ = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _check(path: Path) -> None:
    with time_limit(20):
        try:
            load_scene(str(path))
        except SpecError as e:
            msg = str(e)
            assert 0 < len(msg) < 1000, msg[:2000]
            assert "spec.yaml" in msg, msg  # the file is named


@st.composite
def mutated_spec(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(SCENES)))
    return draw(mutated(yaml.safe_load(SCENES[name])))


@st.composite
def mutated_spec_text(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(sorted(SCENES)))
    return draw(mutated_text(SCENES[name]))


@FUZZ
@given(doc=mutated_spec())
def test_mutated_spec_values(tmp_path_factory: pytest.TempPathFactory,
                             doc: dict[str, Any]) -> None:
    path = tmp_path_factory.mktemp("spec") / "spec.yaml"
    path.write_text(yaml.safe_dump(doc))
    _check(path)


@FUZZ
@given(text=mutated_spec_text())
def test_mutated_spec_text(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("spec") / "spec.yaml"
    path.write_text(text)
    _check(path)
