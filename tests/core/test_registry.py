from __future__ import annotations

import pytest

from robomem.registry import Registry


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
