"""A small typed registry used for every plugin kind (envs, memory modules, planners, policies).

Example:
    >>> from robomem.registry import Registry
    >>> shapes: Registry[type] = Registry("shape")
    >>> @shapes.register("box")
    ... class Box: ...
    >>> shapes.get("box").__name__
    'Box'
    >>> shapes.get("ball")
    Traceback (most recent call last):
    ...
    KeyError: "unknown shape 'ball'; known: box"
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to plugins of one kind.

    Registering a name twice raises; looking up an unknown name raises a ``KeyError`` that
    lists every known name, so a typo in a launch file is easy to fix.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> T:
        """Register ``item`` under ``name``; raises ``ValueError`` on a duplicate."""
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        return item

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`add`."""

        def deco(item: T) -> T:
            return self.add(name, item)

        return deco

    def get(self, name: str) -> T:
        """Return the plugin named ``name``; raises ``KeyError`` listing the known names."""
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "(none)"
            raise KeyError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)
