"""World-model files are read as data only: a malicious pickle never runs."""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import pytest
import torch

from robomem.cli import main
from robomem.worldmodel.train import CHECKPOINT_FORMAT, load_worldmodel, read_checkpoint


class _Evil:
    """Unpickling this calls os.system (the classic pickle payload)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def _evil_checkpoint(path: Path, marker: Path) -> Path:
    payload = {"format": CHECKPOINT_FORMAT, "version": 1, "model": {"x": torch.zeros(1)},
               "evil": _Evil(marker)}
    buf = io.BytesIO()
    torch.save(payload, buf)
    path.write_bytes(buf.getvalue())
    return path


def test_a_plain_pickle_runs_its_payload_when_unpickled(tmp_path: Path) -> None:
    """The payload is real: unpickling it unsafely does run the command (the control)."""
    marker = tmp_path / "ran"
    data = torch.load(_evil_checkpoint(tmp_path / "evil.pt", marker), weights_only=False)
    assert data["evil"] == 0 and marker.exists()


def test_a_malicious_checkpoint_is_refused_before_its_code_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = _evil_checkpoint(tmp_path / "evil.pt", marker)
    with pytest.raises(ValueError, match="weights-only"):
        load_worldmodel(path, device="cpu")
    with pytest.raises(ValueError, match="weights-only"):
        read_checkpoint(path)
    assert not marker.exists()


def test_the_cli_refuses_it_with_exit_2(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "ran"
    path = _evil_checkpoint(tmp_path / "evil.pt", marker)
    out = tmp_path / "runs"
    code = main(["run", "--episodes", "1", "--no-progress", "--out", str(out),
                 f"agent.worldmodel_critic={path}", "env.width=64", "env.height=64"])
    err = capsys.readouterr().err
    assert code == 2 and "not a robomem world-model checkpoint" in err
    assert not marker.exists()
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("content, match", [
    (b"", "cannot be read"),
    (b"\x00garbage" * 10, "cannot be read"),
    (pickle.dumps([1, 2, 3], protocol=2), "cannot be read|no format"),
], ids=["empty", "garbage", "plain-pickle"])
def test_other_files_are_named_and_refused(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match):
        load_worldmodel(path, device="cpu")


def test_wrong_format_and_version(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    torch.save({"format": "something-else"}, path)
    with pytest.raises(ValueError, match="no format="):
        read_checkpoint(path)
    torch.save({"format": CHECKPOINT_FORMAT, "version": 99}, path)
    with pytest.raises(ValueError, match="version 99"):
        read_checkpoint(path)
    torch.save({"format": CHECKPOINT_FORMAT, "version": 1, "model": {}}, path)
    with pytest.raises(ValueError, match="incomplete"):
        read_checkpoint(path)
