"""The core logs through ``logging``, one logger per module, named after the module.

A long-running robot process keeps a log, not a terminal: fallbacks, rebuilds and dropped
answers must reach it as log records of the module that decided them.
"""

from __future__ import annotations

import ast
import logging
import time
import warnings
from pathlib import Path

import pytest

from robomem.memory.base import EpisodeOutcome, Fact, MemoryModule, MemoryQuery, StepInput
from robomem.memory.episodic import EPISODES_FILE, EpisodicMemory, IndexRebuiltWarning
from robomem.memory.system import MemorySystem
from robomem.planners.instruction import parse_instruction
from robomem.planners.llm import LLMConfig, LLMPlanner
from robomem.planners.lm import Generation, GenerationRequest, LanguageModel, LanguageModelError
from robomem.skills import PICKUP
from robomem.store import Store
from tests.fixtures.planning import ctx, kitchen, percept
from tests.fixtures.steps import start, step_input

ROOT = Path(__file__).resolve().parents[2]
# the folders that import as robomem.* (envs/, planners/ and policies/ are mapped into it)
PACKAGES = {"robomem": "robomem", "envs": "robomem.envs", "planners": "robomem.planners",
            "policies": "robomem.policies"}


def _records(caplog: pytest.LogCaptureFixture, logger: str, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger and r.levelno == level]


class _Down(LanguageModel):
    """A backend whose server is down."""

    name = "down"

    def generate(self, request: GenerationRequest) -> Generation:
        raise LanguageModelError("connection refused")


def test_a_backend_failure_and_the_fallback_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    planner = LLMPlanner(_Down(), LLMConfig(max_invalid=2))
    planner.reset(parse_instruction("Put a mug in the cabinet and close it."))
    with caplog.at_level(logging.DEBUG, logger="robomem.planners.llm"):
        skill = planner.next_skill(ctx(kitchen(), percept([])))
    assert (skill.name, skill.target) == (PICKUP, "Mug|1")  # the symbolic planner's choice
    failed = _records(caplog, "robomem.planners.llm", logging.WARNING)
    assert len(failed) == 1 and "_Down could not answer: connection refused" in failed[0]
    fallback = _records(caplog, "robomem.planners.llm", logging.INFO)
    assert len(fallback) == 1 and "the symbolic planner takes over" in fallback[0]


def test_an_index_rebuild_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="robomem.store"), Store.open(tmp_path / "s") as s:
        mem = EpisodicMemory(encoder="hash")
        for e, text in enumerate(("put a mug in the fridge", "turn on the lamp")):
            mem.end_episode(EpisodeOutcome(e, "house_0", text, "", True, 10))
        with s.transaction():
            mem.save(s)
    assert any("created a new store" in m
               for m in _records(caplog, "robomem.store.store", logging.INFO))
    (tmp_path / "s" / "index" / EPISODES_FILE).unlink()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="robomem.memory.episodic"), \
            Store.open(tmp_path / "s") as s, pytest.warns(IndexRebuiltWarning):
        EpisodicMemory(encoder="hash").attach(s)
    rebuilt = _records(caplog, "robomem.memory.episodic", logging.INFO)
    assert rebuilt == [f"episodic memory: rebuilt {EPISODES_FILE} from 2 stored vectors: "
                       f"the file is missing"]


class _Slow(MemoryModule):
    name = "slow"

    def write(self, step: StepInput) -> None:
        time.sleep(0.2)

    def recall(self, query: MemoryQuery) -> list[Fact]:
        return []

    def reset(self) -> None:
        pass


def test_a_late_module_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    system = MemorySystem([_Slow()], parallel=True, deadline_ms=20)
    try:
        system.begin_episode(start(0))
        with caplog.at_level(logging.WARNING, logger="robomem.memory.system"):
            assert system.write(step_input(0, 0)) == ["slow"]
    finally:
        system.close()
    late = _records(caplog, "robomem.memory.system", logging.WARNING)
    assert len(late) == 1 and "'slow' missed the 20 ms deadline on write" in late[0]


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = [PACKAGES[rel.parts[0]], *rel.parts[1:]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _loggers(tree: ast.Module) -> list[tuple[str, ast.expr | None]]:
    """``(assigned name, argument)`` of every module-level ``x = logging.getLogger(...)``."""
    out = []
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            f = node.value.func
            if (isinstance(f, ast.Attribute) and f.attr == "getLogger") or \
                    (isinstance(f, ast.Name) and f.id == "getLogger"):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                name = targets[0].id if isinstance(targets[0], ast.Name) else "?"
                out.append((name, node.value.args[0] if node.value.args else None))
    return out


def test_every_logger_is_named_after_its_module() -> None:
    """One logger per module, ``log`` or ``logger``, made with ``getLogger(__name__)``."""
    bad = []
    found = 0
    for folder in PACKAGES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SyntaxWarning)
                tree = ast.parse(path.read_text(), str(path))
            loggers = _loggers(tree)
            found += bool(loggers)
            where = _module_name(path)
            if len(loggers) > 1:
                bad.append(f"{where}: {len(loggers)} loggers")
            for name, arg in loggers:
                if name not in ("log", "logger"):
                    bad.append(f"{where}: logger named {name!r}")
                if not (isinstance(arg, ast.Name) and arg.id == "__name__"):
                    bad.append(f"{where}: getLogger({ast.unparse(arg) if arg else ''})")
    assert bad == []
    assert found >= 10  # the store, the memory system, the planners' backends, ...
