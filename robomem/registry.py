"""A small typed registry used for every plugin kind (envs, memory modules, planners, policies).

A plugin is registered by object (``add`` or the ``register`` decorator) or lazily by a
``"module:attribute"`` string (``add_lazy``), imported on first use. Third-party packages add
plugins through a Python entry-point group, one per kind (``robomem.memory_modules``, ...):
every entry point of the group is registered lazily, under its name, the first time the
registry is asked for a name it does not know or for its list of names. Registering a name
twice raises, naming both; looking up an unknown name raises a ``KeyError`` that lists every
known name, so a typo in a launch file is easy to fix.

Example:
    >>> from robomem.registry import Registry
    >>> shapes: Registry[type] = Registry("shape")
    >>> @shapes.register("box")
    ... class Box: ...
    >>> shapes.get("box").__name__
    'Box'
    >>> _ = shapes.add_lazy("fraction", "fractions:Fraction")  # imported on first use
    >>> shapes.get("fraction").__name__
    'Fraction'
    >>> shapes.get("ball")
    Traceback (most recent call last):
    ...
    KeyError: "unknown shape 'ball'; known: box, fraction"
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator
from importlib import metadata
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")

log = logging.getLogger(__name__)


def import_target(target: str) -> Any:
    """The object a ``"package.module:attribute.path"`` string names.

    Raises:
        ValueError: the string is not of that form.
        ImportError: the module cannot be imported (the message names the target).
        AttributeError: the module has no such attribute.
    """
    module, sep, attr = target.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"plugin target {target!r} must look like 'package.module:Name'")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class Registry(Generic[T]):
    """Maps names to plugins of one kind.

    Args:
        kind: what the plugins are, for messages ("memory module").
        group: the entry-point group third-party packages register under, or None.
        resolve: import lazy targets on lookup (True), or hand out the target strings
            themselves (False; the env registry gives them to Gymnasium as entry points).
    """

    def __init__(self, kind: str, group: str | None = None, resolve: bool = True) -> None:
        self.kind = kind
        self.group = group
        self.resolve = resolve
        self._items: dict[str, T] = {}
        self._lazy: dict[str, str] = {}  # name -> "module:attribute", not imported yet
        self._origin: dict[str, str] = {}  # name -> where it came from, for duplicate errors
        self._entry_points_loaded = group is None

    def add(self, name: str, item: T) -> T:
        """Register ``item`` under ``name``; raises ``ValueError`` on a duplicate.

        Importing a lazily registered target usually runs its module's own ``register``
        decorator: that is the same plugin, not a duplicate.
        """
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered "
                             f"({self._origin.get(name, 'in code')})")
        if name in self._lazy:
            target = self._lazy[name]
            here = f"{getattr(item, '__module__', '')}:{getattr(item, '__qualname__', '')}"
            if here != target:
                raise ValueError(f"{self.kind} {name!r} is already registered as {target!r}")
            del self._lazy[name]
        self._items[name] = item
        return item

    def add_lazy(self, name: str, target: str, origin: str = "in code") -> str:
        """Register ``"module:attribute"`` under ``name``, imported on first :meth:`get`."""
        if ":" not in target:
            raise ValueError(f"{self.kind} {name!r}: target {target!r} must look like "
                             "'package.module:Name'")
        if name in self._items or name in self._lazy:
            raise ValueError(f"{self.kind} {name!r} is already registered "
                             f"({self._origin.get(name, 'in code')}); {origin} adds it again")
        if self.resolve:
            self._lazy[name] = target
        else:
            self._items[name] = cast(T, target)
        self._origin[name] = origin
        return target

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`add`."""

        def deco(item: T) -> T:
            return self.add(name, item)

        return deco

    def load_entry_points(self) -> None:
        """Register every entry point of :attr:`group` lazily (once)."""
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        assert self.group is not None
        for ep in metadata.entry_points(group=self.group):
            dist = getattr(ep.dist, "name", None) or "an installed package"
            self.add_lazy(ep.name, ep.value, origin=f"entry point {ep.name!r} of {dist}")
            log.debug("%s %r from %s (%s)", self.kind, ep.name, dist, ep.value)

    def get(self, name: str) -> T:
        """Return the plugin named ``name``; raises ``KeyError`` listing the known names."""
        if name not in self._items and name not in self._lazy:
            self.load_entry_points()
        if name in self._lazy:
            target = self._lazy[name]
            try:
                obj = import_target(target)
            except (ImportError, AttributeError) as e:
                raise ImportError(f"{self.kind} {name!r} ({target}, "
                                  f"{self._origin.get(name, 'in code')}) cannot be imported: "
                                  f"{e}") from e
            if name in self._lazy:  # its module did not register it itself
                del self._lazy[name]
                self._items[name] = cast(T, obj)
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self.names()) or "(none)"
            raise KeyError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        """All registered names (entry points included), sorted."""
        self.load_entry_points()
        return sorted({*self._items, *self._lazy})

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if name not in self._items and name not in self._lazy:
            self.load_entry_points()
        return name in self._items or name in self._lazy

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())
