from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from robomem.memory.base import MemoryModule
from robomem.registry import Registry, import_target


def test_register_get_and_list() -> None:
    reg: Registry[int] = Registry("thing")
    reg.add("b", 2)

    @reg.register("a")
    def _a() -> int:
        return 1

    assert reg.get("b") == 2 and reg.names() == ["a", "b"] and "a" in reg and len(reg) == 2
    assert list(reg) == ["a", "b"]


def test_duplicate_raises() -> None:
    reg: Registry[int] = Registry("thing")
    reg.add("x", 1)
    with pytest.raises(ValueError, match="thing 'x' is already registered"):
        reg.add("x", 2)


def test_miss_lists_known_names() -> None:
    reg: Registry[int] = Registry("planner")
    reg.add("symbolic", 1)
    reg.add("http", 2)
    with pytest.raises(KeyError, match="unknown planner 'vlm'; known: http, symbolic"):
        reg.get("vlm")


# ------------------------------------------------------------- lazy targets, entry points

def _plugin_package(root: Path, entry_points: str, dist: str = "robomem_plugin_demo") -> None:
    """An installed-looking distribution on ``root``: a module and its entry_points.txt."""
    (root / "robomem_plugin_demo.py").write_text(
        "from robomem.memory.builtin import WorkingModule\n\n\n"
        "class NoteModule(WorkingModule):\n    name = 'notes'\n")
    info = root / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)


def test_lazy_target_is_imported_on_first_use() -> None:
    reg: Registry[type] = Registry("thing")
    reg.add_lazy("od", "collections:OrderedDict")
    assert reg.names() == ["od"] and "od" in reg
    import collections

    assert reg.get("od") is collections.OrderedDict


@pytest.mark.parametrize("target", ["collections.OrderedDict", ":x", "collections:"])
def test_malformed_targets(target: str) -> None:
    reg: Registry[type] = Registry("thing")
    with pytest.raises(ValueError, match="module:Name"):
        reg.add_lazy("x", target)
        reg.get("x")


def test_a_missing_target_names_the_plugin() -> None:
    reg: Registry[type] = Registry("thing")
    reg.add_lazy("ghost", "no_such_module_here:Ghost")
    with pytest.raises(ImportError, match=r"thing 'ghost' .no_such_module_here:Ghost"):
        reg.get("ghost")


def test_lazy_duplicates_raise() -> None:
    reg: Registry[type] = Registry("thing")
    reg.add_lazy("od", "collections:OrderedDict")
    with pytest.raises(ValueError, match="already registered"):
        reg.add_lazy("od", "collections:Counter")
    with pytest.raises(ValueError, match="already registered as 'collections:OrderedDict'"):
        reg.add("od", dict)


def test_a_module_that_registers_itself_is_not_a_duplicate() -> None:
    """Importing a lazy target runs its module's own @register: the same plugin."""
    reg: Registry[type] = Registry("thing")
    target = f"{Registry.__module__}:{Registry.__qualname__}"
    reg.add_lazy("registry", target)
    reg.add("registry", Registry)  # what a decorator in that module would do
    assert reg.get("registry") is Registry


def test_third_party_memory_module_through_an_entry_point(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A package that declares `robomem.memory_modules` is found, listed and built."""
    _plugin_package(tmp_path, "[robomem.memory_modules]\nnotes = robomem_plugin_demo:NoteModule\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg: Registry[type[MemoryModule]] = Registry("memory module", group="robomem.memory_modules")
    import robomem.memory.base as base

    monkeypatch.setattr(base, "MEMORY_MODULES", reg)
    import robomem.memory.system as system

    monkeypatch.setattr(system, "MEMORY_MODULES", reg)
    assert "notes" in reg.names()
    module = system.build_module("notes")
    assert type(module).__name__ == "NoteModule" and isinstance(module, MemoryModule)


def test_an_entry_point_that_clashes_with_a_built_in_raises(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _plugin_package(tmp_path, "[robomem.demo]\nbox = robomem_plugin_demo:NoteModule\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg: Registry[type] = Registry("demo", group="robomem.demo")
    reg.add("box", dict)
    with pytest.raises(ValueError, match=r"demo 'box' is already registered.*entry point 'box' "
                                         r"of robomem_plugin_demo adds it again"):
        reg.get("nope")


def test_env_entry_points_stay_strings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The env registry hands Gymnasium the target string, importing nothing itself."""
    _plugin_package(tmp_path, "[robomem.envs]\nacme/Grid-v0 = acme_not_installed:GridEnv\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg: Registry[str] = Registry("env", group="robomem.envs", resolve=False)
    assert reg.get("acme/Grid-v0") == "acme_not_installed:GridEnv"


def test_every_plugin_kind_has_an_entry_point_group() -> None:
    from robomem.envs.registry import ENVS
    from robomem.memory.base import MEMORY_MODULES
    from robomem.memory.encoders import ENCODERS
    from robomem.planners.base import PLANNERS
    from robomem.planners.lm import LANGUAGE_MODELS
    from robomem.policies.base import POLICIES
    from robomem.preprocess.detector import DETECTORS
    from robomem.worldmodel.backbone import BACKBONES

    groups = [r.group for r in (ENVS, MEMORY_MODULES, ENCODERS, PLANNERS, LANGUAGE_MODELS,
                                POLICIES, DETECTORS, BACKBONES)]
    assert all(g and g.startswith("robomem.") for g in groups) and len(set(groups)) == 8


# ------------------------------------------------------------- built-ins, one lazy line each

# (registry module, registry name, base class of its plugins, built-in names)
BUILT_INS = [
    ("robomem.memory.base", "MEMORY_MODULES", "robomem.memory.base:MemoryModule",
     {"spatial", "temporal", "episodic", "semantic", "working"}),
    ("robomem.memory.encoders", "ENCODERS", "robomem.memory.encoders:TextEncoder",
     {"hash", "minilm"}),
    ("robomem.planners.base", "PLANNERS", "robomem.planners.base:Planner", {"symbolic", "llm"}),
    ("robomem.planners.lm", "LANGUAGE_MODELS", "robomem.planners.lm:LanguageModel",
     {"scripted", "openai", "local"}),
    ("robomem.policies.base", "POLICIES", "robomem.policies.base:Policy",
     {"agent", "oracle", "random"}),
    ("robomem.preprocess.detector", "DETECTORS", "robomem.preprocess.detector:Detector",
     {"segmentation", "segmentation_nokeys"}),
    ("robomem.worldmodel.backbone", "BACKBONES", "robomem.worldmodel.backbone:Backbone",
     {"ssm", "transformer"}),
]


@pytest.mark.parametrize("module, attr, base, names", BUILT_INS,
                         ids=[b[1] for b in BUILT_INS])
def test_every_built_in_resolves(module: str, attr: str, base: str, names: set[str]) -> None:
    """Each built-in is listed by name and its lazy target imports to a plugin of the kind."""
    reg = getattr(importlib.import_module(module), attr)
    assert names <= set(reg.names())
    kind = import_target(base)
    for name in sorted(names):
        plugin = reg.get(name)
        assert isinstance(plugin, type) and issubclass(plugin, kind), (name, plugin)
        assert reg.get(name) is plugin  # resolved once


_LIST_NAMES = """
import importlib, json, sys
regs = [getattr(importlib.import_module(m), a) for m, a in json.loads(sys.argv[1])]
before = set(sys.modules)
names = [r.names() for r in regs]
print(json.dumps({"names": names, "new": sorted(set(sys.modules) - before),
                  "transformers": "transformers" in sys.modules}))
"""


def test_listing_names_imports_no_plugin() -> None:
    """``names()`` lists built-ins without importing their modules (or transformers)."""
    regs = json.dumps([[m, a] for m, a, _, _ in BUILT_INS])
    out = subprocess.run([sys.executable, "-c", _LIST_NAMES, regs], capture_output=True,
                         text=True, check=True, timeout=300)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert all(set(n) >= b[3] for n, b in zip(got["names"], BUILT_INS))
    assert [m for m in got["new"] if m.startswith("robomem")] == []
    heavy = ("transformers", "sentence_transformers", "httpx", "open3d", "pybullet")
    assert [m for m in got["new"] if m.split(".")[0] in heavy] == []
    assert not got["transformers"]


def test_no_built_in_registers_by_import() -> None:
    """One way to register a built-in: no import-to-register tricks are left in the core."""
    root = Path(__file__).resolve().parents[2]
    files = [root / p for p in ("planners/base.py", "planners/lm.py", "policies/base.py",
                                "robomem/memory/base.py", "robomem/memory/system.py",
                                "robomem/memory/builtin.py", "robomem/memory/encoders.py",
                                "robomem/preprocess/detector.py",
                                "robomem/worldmodel/backbone.py")]
    for f in files:
        text = f.read_text()
        assert "BUILT_IN" not in text and "(registers" not in text, f
