"""Every docstring example in the package runs and prints what it says (doctest).

The examples are the first code a reader copies; a stale one is a bug. The packages mapped
from top-level folders (envs/, planners/, policies/) are walked through their import names.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("robomem", "robomem.envs", "robomem.planners", "robomem.policies")


def _modules() -> list[str]:
    names: list[str] = []
    for package in PACKAGES:
        pkg = importlib.import_module(package)
        names.append(package)
        names += [m.name for m in pkgutil.walk_packages(pkg.__path__, f"{package}.")]
    return sorted(set(names))


MODULES = _modules()


def test_the_walk_finds_every_package() -> None:
    assert {"robomem.envs.household.world", "robomem.planners.local_lm",
            "robomem.policies.executor", "robomem.memory.encoders"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
