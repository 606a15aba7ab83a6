"""`robomem run` end to end: the run folder, metrics, crash-safe episode log, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from robomem.cli import main
from robomem.config import load_config
from robomem.runner import make_env, run, wilson

SMALL = ["env.width=64", "env.height=64"]


def test_run_writes_folder(tmp_path: Path) -> None:
    cfg = load_config(None, [*SMALL, "episodes=2", "seeds=[0]", f"out={tmp_path}",
                             "env.families=[pick_and_place]", "policy=oracle"])
    res = run(cfg, progress=False)
    names = {p.name for p in res.folder.iterdir()}
    assert {"config.yaml", "episodes.jsonl", "metrics.json", "episodes.png",
            "report.md"} <= names
    lines = (res.folder / "episodes.jsonl").read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(x)["family"] == "pick_and_place" for x in lines)
    m = json.loads((res.folder / "metrics.json").read_text())
    assert m["episodes"] == 2 and m["success_rate"] == 1.0  # the oracle
    assert m["latency"]["env_step"]["p50_ms"] > 0
    assert "success rate" in (res.folder / "report.md").read_text()


def test_cli_run_and_lists(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["run", "--no-progress", "--policy", "random", "--episodes", "1", "--seeds", "0",
               "--out", str(tmp_path), *SMALL, "env.step_limit=5"])
    assert rc == 0
    assert "success 0.0% over 1 episodes" in capsys.readouterr().out
    assert main(["scenes"]) == 0 and "FloorPlan1" in capsys.readouterr().out
    assert main(["policies"]) == 0 and "oracle" in capsys.readouterr().out
    assert main(["envs"]) == 0 and "robomem/Household-v0" in capsys.readouterr().out


@pytest.mark.parametrize("args, needle", [
    (["--policy", "nope"], "unknown policy 'nope'; known: agent, keyframe, oracle, random"),
    (["--memory", "half"], "memory must be full, none, random or oracle"),
    (["--planner", "gpt"], "unknown planner 'gpt'; known: llm, symbolic"),
    (["env.scene=Atlantis"], "unknown scene 'Atlantis'"),
    (["env.families=[juggling]"], "unknown task family 'juggling'"),
    (["env.id=robomem/Moon-v0"], "unknown env 'robomem/Moon-v0'"),
    (["env.widht=3"], "widht"),
    (["env.type=moon"], "unknown env type 'moon'; known: ai2thor, household"),
    (["agent.executor.max_steps=lots"], "agent.executor.max_steps"),
])
def test_cli_errors_are_clear(args: list[str], needle: str, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["run", "--no-progress", "--out", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert rc == 2 and needle in err and "Traceback" not in err


def test_console_script_help() -> None:
    out = subprocess.run([sys.executable, "-m", "robomem.cli", "run", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "KEY=VALUE" in out and "--policy" in out and "env.scene" in out
    assert "agent.preprocess.detector=" in out and "agent.executor.max_steps=" in out
    # a shell continuation in an example stays a backslash at the end of its line
    cont = [line for line in out.splitlines() if "--planner llm" in line]
    assert cont and cont[0].rstrip().endswith("\\"), cont


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import robomem

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"robomem {robomem.__version__}"


def test_no_progress_hides_model_loading_bars(tmp_path: Path) -> None:
    """`--no-progress` prints no bar at all, the language model's "Loading weights" included."""
    from tests.fixtures.tiny_lm import save_tiny_lm

    model = save_tiny_lm(tmp_path / "lm")
    proc = subprocess.run(
        [sys.executable, "-m", "robomem.cli", "run", "--no-progress", "--episodes", "1",
         "--seeds", "0", "--out", str(tmp_path / "runs"), *SMALL, "env.step_limit=3",
         "spl=false", "--planner", "llm", "agent.llm.backend=local",
         f"agent.llm.options.path={model}", "agent.llm.max_new_tokens=4"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Loading weights" not in proc.stderr and "it/s" not in proc.stderr, proc.stderr


def test_wilson_interval() -> None:
    lo, hi = wilson(8, 10)
    assert 0.45 < lo < 0.8 < hi < 0.97
    assert wilson(0, 0) == (0.0, 0.0)


def test_an_unreadable_instruction_is_a_recorded_reason_not_a_silent_done(tmp_path: Path) -> None:
    cfg = load_config(None, [*SMALL, "episodes=1", "seeds=[0]", f"out={tmp_path}",
                             "spl=false", "agent.modules.options.episodic.encoder=hash"])
    env = make_env(cfg)
    _, info = env.reset(seed=0)
    env.close()
    task = {**info["task"], "instruction": "Juggle it near the counter top"}  # no verb we know
    res = run(cfg, progress=False, tasks={0: [task]})
    rec = json.loads((res.folder / "episodes.jsonl").read_text().splitlines()[0])
    assert not rec["success"] and rec["steps"] == 1
    assert rec["notes"] and "could not read the instruction: cannot tell what to do" in \
        rec["notes"][0]
    report = (res.folder / "report.md").read_text()
    assert "Why episodes failed" in report and "cannot tell what to do" in report
