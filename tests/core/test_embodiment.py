"""Embodiments: data files, feedback rules, the standard gym layout and the lookup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from robomem import keys
from robomem.embodiment import (
    EMBODIMENTS,
    EmbodimentError,
    TableEmbodiment,
    embodiment_for,
    standard_observation,
)
from robomem.feedback import ActionFeedback, FeedbackCode
from robomem.types import Action

ONTOLOGY = ("format: robomem.ontology\ntypes:\n  Gem: {pickupable: true}\n"
            "  Wall: {structure: true}\n")
SPEC = """format: robomem.embodiment
name: toy
skills: [navigate_to, pickup, done]
actions: {move_ahead: fwd, pickup: grab, done: stop}
feedback:
  - {match: 'too far', code: out_of_reach}
  - {match: 'held by (?P<who>\\S+)', code: hand_full, subject: who, actions: [grab]}
ontology: onto.yaml
object_id: '^(?P<type>[a-z]+)-'
"""


def _toy(tmp_path: Path, spec: str = SPEC) -> TableEmbodiment:
    (tmp_path / "onto.yaml").write_text(ONTOLOGY)
    (tmp_path / "toy.yaml").write_text(spec)
    return TableEmbodiment(tmp_path / "toy.yaml")


def test_a_data_file_maps_actions_wording_and_ids(tmp_path: Path) -> None:
    emb = _toy(tmp_path)
    assert emb.name == "toy" and emb.skills == {"navigate_to", "pickup", "done"}
    assert emb.primitives == {"move_ahead", "pickup", "done"}
    assert emb.command(Action("pickup", "gem-1")) == {keys.ACT_ACTION: "grab",
                                                      keys.ACT_OBJECT: "gem-1"}
    with pytest.raises(ValueError, match="toy has no primitive 'open'; it supports: done, "
                                         "move_ahead, pickup"):
        emb.command(Action("open", "gem-1"))
    assert emb.classify("grab", "gem-1 is too far") == (FeedbackCode.OUT_OF_REACH, None)
    assert emb.classify("grab", "held by gem-2") == (FeedbackCode.HAND_FULL, "gem-2")
    assert emb.classify("fwd", "held by gem-2") == (FeedbackCode.UNKNOWN, None)  # not for fwd
    assert emb.label_from_id("gem-7") == "gem" and emb.label_from_id("GEM7") == ""
    fb = emb.feedback({keys.INFO_ACTION_NAME: "grab", keys.INFO_ACTION_SUCCESS: False,
                       keys.INFO_ACTION_ERROR: "gem-1 is too far"})
    assert fb == ActionFeedback("pickup", False, FeedbackCode.OUT_OF_REACH, "gem-1 is too far",
                                None, "grab")


@pytest.mark.parametrize(("change", "message"), [
    (("format: robomem.embodiment", "format: other"), "not a robomem embodiment file"),
    (("move_ahead: fwd", "fly: fwd"), "unknown primitive 'fly'"),
    (("skills: [navigate_to, pickup, done]", "skills: [juggle]"), "unknown skill 'juggle'"),
    (("code: out_of_reach", "code: sulking"), "unknown code 'sulking'"),
    (("match: 'too far'", "match: '(unclosed'"), "bad regular expression"),
    (("subject: who", "subject: whom"), "subject 'whom' is not a named group"),
    (("ontology: onto.yaml", "ontology: missing.yaml"), "cannot read ontology"),
    (("(?P<type>[a-z]+)", "([a-z]+)"), "needs a group named 'type'"),
])
def test_bad_data_files_say_what_is_wrong(tmp_path: Path, change: tuple[str, str],
                                          message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _toy(tmp_path, SPEC.replace(*change))


def _camera(h: int, w: int, ids: int = 3) -> dict[str, Any]:
    seg = np.arange(h * w, dtype=np.int32).reshape(h, w) % ids
    return {keys.OBS_RGB: np.zeros((h, w, 3), np.uint8), keys.OBS_DEPTH: np.ones((h, w),
            np.float32), keys.OBS_INTRINSICS: np.eye(3), keys.OBS_CAMERA_POSE: np.eye(4),
            keys.OBS_SEGMENTATION: seg}


def test_standard_layout_with_several_cameras() -> None:
    obs = {keys.OBS_CAMERAS: {"front": _camera(4, 6), "wrist": _camera(2, 2)},
           keys.OBS_AGENT_POSE: np.array([1.0, 0.9, 2.0, 90.0, 30.0]), keys.OBS_TIMESTAMP: 2.5,
           keys.OBS_INSTRUCTION: "tidy up", keys.OBS_STEP: 3}
    info = {keys.OBS_CAMERAS: {"wrist": {keys.INFO_LABELS: {1: "Gem"},
                                         keys.INFO_FRAME_ID: "wrist_link"}},
            keys.INFO_SCENE: "lab"}
    o = standard_observation(obs, info)
    assert list(o.cameras) == ["front", "wrist"] and o.primary == "front"
    assert (o.height, o.width) == (4, 6) and o.cameras["wrist"].labels == {1: "Gem"}
    assert o.cameras["wrist"].frame_id == "wrist_link" and o.cameras["front"].frame_id == "front"
    assert o.cameras["wrist"].stamp == 2.5 and (o.step, o.scene) == (3, "lab")
    np.testing.assert_allclose(o.base_pose[:3, 3], [1.0, 0.9, 2.0])
    np.testing.assert_allclose(o.base_pose[:3, 2], [-1.0, 0.0, 0.0], atol=1e-12)  # yaw 90: -x
    assert o.feedback.success and o.last_action == ""


def test_structure_is_left_unlabelled(tmp_path: Path) -> None:
    emb = _toy(tmp_path)
    obs = {**_camera(2, 2), keys.OBS_AGENT_POSE: np.zeros(5)}
    info = {keys.INFO_LABELS: {1: "Wall", 2: "Gem"}, keys.INFO_OBJECT_IDS: {1: "wall-1",
                                                                           2: "gem-1"}}
    o = emb.observe(obs, info)
    assert o.labels == {2: "Gem"} and o.object_ids == {2: "gem-1"}


class _Nameless(gym.Env[Any, Any]):
    metadata: dict[str, Any] = {}  # noqa: RUF012


class _Unknown(gym.Env[Any, Any]):
    metadata: dict[str, Any] = {"robomem.embodiment": "no-such-world"}  # noqa: RUF012


def test_embodiment_for_explains_a_missing_or_unknown_name() -> None:
    with pytest.raises(EmbodimentError, match=r"_Nameless names no embodiment: set "
                                              r"metadata\['robomem.embodiment'\]"):
        embodiment_for(_Nameless())
    with pytest.raises(KeyError, match=r"no-such-world.*household"):
        embodiment_for(_Unknown())
    assert "household" in EMBODIMENTS.names()


def test_feedback_codes_agree_with_success() -> None:
    with pytest.raises(ValueError, match="contradicts success"):
        ActionFeedback("pickup", False, FeedbackCode.OK)
    assert ActionFeedback.failure("pickup", FeedbackCode.OK).code is FeedbackCode.UNKNOWN


@pytest.mark.parametrize(("body", "message"), [
    ("body: null", "has no mobile base"),
    ("body: {lattice: 0.5}", "this body has lattice 0.5"),
    ("body: {pitches: [0, 45]}", r"this body has pitches \(0.0, 45.0\)"),
])
def test_the_agent_refuses_a_body_its_executor_cannot_drive(tmp_path: Path, body: str,
                                                            message: str) -> None:
    from robomem.agent import AgentConfig, MemoryAgent

    emb = _toy(tmp_path, SPEC + body + "\n")
    with pytest.raises(EmbodimentError, match=message):
        MemoryAgent(AgentConfig(), emb)


def test_a_body_bounds_reach_and_footprint(tmp_path: Path) -> None:
    from robomem.agent import AgentConfig, MemoryAgent

    emb = _toy(tmp_path, SPEC + "body: {reach: 1.0, radius: 0.3}\n")
    agent = MemoryAgent(AgentConfig(), emb)
    try:
        assert agent.cfg.executor.reach == pytest.approx(0.95)
        assert agent.cfg.spatial.reach == pytest.approx(0.9)
        assert agent.cfg.spatial.agent_radius == pytest.approx(0.3)
    finally:
        agent.close()
    with pytest.raises(EmbodimentError, match="unknown body key 'wheels'"):
        _toy(tmp_path, SPEC + "body: {wheels: 4}\n")
    with pytest.raises(EmbodimentError, match="body reach must be a number"):
        _toy(tmp_path, SPEC + "body: {reach: far}\n")
