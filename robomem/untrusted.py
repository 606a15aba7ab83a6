r"""Reading input robomem does not control: bounded quoting, YAML and JSON.

Scene specs, launch files, language-model answers, server responses and stored blobs come
from users, models and other machines. Everything here is linear in the input's size, refuses
input past explicit limits (size, nesting, alias expansion) with an :class:`UntrustedInput`
error that says which limit and what was found, and never echoes more than ``MAX_QUOTE``
characters of a value.

Example:
    >>> from robomem.untrusted import UntrustedInput, loads_json, quote, yaml_text
    >>> quote("x" * 1000)[:24], len(quote("x" * 1000)) < 260
    ("'xxxxxxxxxxxxxxxxxxxxxxx", True)
    >>> loads_json('{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> try:
    ...     loads_json("[" * 100 + "]" * 100, max_depth=32)
    ... except UntrustedInput as e:
    ...     print(e)
    JSON nested deeper than 32 levels
    >>> bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    ...     f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    ...     for p, c in zip("abcdefgh", "bcdefghi"))
    >>> try:
    ...     yaml_text(bomb)
    ... except UntrustedInput as e:
    ...     print(e)
    YAML aliases expand to more than 100000 values (anchors and '*' references repeat them)
"""

from __future__ import annotations

import json
import re
import reprlib
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "MAX_QUOTE",
    "UntrustedInput",
    "json_depth",
    "loads_json",
    "quote",
    "read_text",
    "yaml_file",
    "yaml_text",
]

MAX_QUOTE = 200  # characters of a bad value an error message quotes
MAX_YAML_BYTES = 1_000_000  # a launch file or scene spec
MAX_YAML_VALUES = 100_000  # scalars, lists and mappings after alias expansion
MAX_DEPTH = 32  # nesting of lists and mappings (YAML and JSON)
MAX_JSON_CHARS = 1_000_000

_repr = reprlib.Repr()
_repr.maxlevel = 3
_repr.maxstring = MAX_QUOTE
_repr.maxother = MAX_QUOTE
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 8


class UntrustedInput(ValueError):
    """Input past one of the limits above; the message names the limit."""


def quote(value: object, limit: int = MAX_QUOTE) -> str:
    """``repr(value)`` cut to about ``limit`` characters, saying how long the original was.

    Work is bounded too: containers are summarised (reprlib) rather than expanded.

    Example:
        >>> quote("abc")
        "'abc'"
        >>> quote("y" * 500, limit=10)
        "'yyyyyyyyy... (500 characters)"
        >>> quote(list(range(100)))
        '[0, 1, 2, 3, 4, 5, 6, 7, ...] (100 items)'
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{repr(value[:limit])[:limit]}... ({len(value)} characters)"
    text = _repr.repr(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    if isinstance(value, (list, tuple, dict, set)) and len(value) > _repr.maxlist:
        text += f" ({len(value)} items)"
    return text


def read_text(path: str | Path, max_bytes: int, what: str = "file") -> str:
    """A text file's contents, refused when larger than ``max_bytes``.

    Raises:
        UntrustedInput: the file is too large or not UTF-8.
        OSError: it cannot be read.
    """
    p = Path(path)
    if not p.is_file():
        raise UntrustedInput(f"{what} {str(p)!r} is not a regular file")
    size = p.stat().st_size
    if size > max_bytes:
        raise UntrustedInput(f"{what} {str(p)!r} is {size} bytes; the limit is {max_bytes}")
    with p.open("rb") as f:
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:  # it grew since stat(), or reports no size
        raise UntrustedInput(f"{what} {str(p)!r} is over {max_bytes} bytes, the limit")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UntrustedInput(f"{what} {str(p)!r} is not UTF-8 text (byte {e.start})") from None


# -- JSON -------------------------------------------------------------------------------------

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` in JSON text, ignoring brackets inside strings.

    Linear in ``len(text)``; unbalanced text is measured as written.

    Example:
        >>> json_depth('{"a": [1, {"b": "[[["}]}')
        3
    """
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    depth = deepest = 0
    for ch in brackets:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(depth - 1, 0)
    return deepest


def loads_json(text: str | bytes, *, max_chars: int = MAX_JSON_CHARS,
               max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` with a size and a nesting limit checked first (so no RecursionError).

    Raises:
        UntrustedInput: too long or too deeply nested.
        json.JSONDecodeError: not JSON (a ``ValueError``, like :class:`UntrustedInput`).
    """
    if isinstance(text, bytes):
        if len(text) > max_chars:
            raise UntrustedInput(f"JSON of {len(text)} bytes; the limit is {max_chars}")
        text = text.decode("utf-8", errors="replace")
    if len(text) > max_chars:
        raise UntrustedInput(f"JSON of {len(text)} characters; the limit is {max_chars}")
    if json_depth(text) > max_depth:
        raise UntrustedInput(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise UntrustedInput(f"JSON nested deeper than {max_depth} levels") from None


# -- YAML -------------------------------------------------------------------------------------


def _check_graph(root: yaml.Node, max_values: int, max_depth: int) -> None:
    """Expanded size and depth of a composed YAML node graph, memoised per node (linear)."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            if size[key] > max_values:
                raise UntrustedInput(f"YAML aliases expand to more than {max_values} values "
                                     "(anchors and '*' references repeat them)")
            if depth[key] > max_depth:
                raise UntrustedInput(f"YAML nested deeper than {max_depth} levels")
            continue
        if key in size:
            continue
        if key in on_path:
            raise UntrustedInput("YAML alias refers to a node that contains it (a cycle)")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def yaml_text(text: str, *, max_values: int = MAX_YAML_VALUES,
              max_depth: int = MAX_DEPTH) -> Any:
    """YAML (safe tags only) with alias expansion and nesting bounded before construction.

    Raises:
        UntrustedInput: past a limit.
        yaml.YAMLError: not YAML.
    """
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise UntrustedInput(f"YAML nested deeper than {max_depth} levels") from None
        if node is None:
            return None
        _check_graph(node, max_values, max_depth)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def yaml_file(path: str | Path, *, max_bytes: int = MAX_YAML_BYTES,
              max_values: int = MAX_YAML_VALUES, max_depth: int = MAX_DEPTH,
              what: str = "YAML file") -> Any:
    """:func:`yaml_text` of a file no larger than ``max_bytes``."""
    return yaml_text(read_text(path, max_bytes, what), max_values=max_values,
                     max_depth=max_depth)
