"""Instruction parsing: an ALFRED-style sentence into a structured goal.

The symbolic planner reads only the instruction text, never the privileged task record.
Object words are matched against the known object types (and a few synonyms), so
"Chill a tomato and put it on the counter top." becomes
``Goal("pick_cool_and_place", "Tomato", "CounterTop")``.

Example:
    >>> from robomem.planners.instruction import parse_instruction
    >>> parse_instruction("Put two key chains in the drawer.")
    Goal(family='pick_two_and_place', object_type='KeyChain', target_type='Drawer', count=2)
    >>> parse_instruction("Examine a book under the desk lamp.").target_type
    'DeskLamp'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from robomem.ontology import known_types

ARTICLE = r"(?:a|an|the|one|some)"
PREP = r"(?:in|on|into|onto|inside|in to|on to)"


class InstructionError(ValueError):
    """The planner cannot understand an instruction; the message quotes it."""


@dataclass(frozen=True)
class Goal:
    """What an instruction asks for (the same fields as a task, without privileged data)."""

    family: str
    object_type: str
    target_type: str
    count: int = 1


_SYNONYMS = {"fridge": "Fridge", "refrigerator": "Fridge", "phone": "CellPhone",
             "cellphone": "CellPhone", "tv stand": "TVStand", "tv": "Television",
             "television": "Television", "remote": "RemoteControl", "sink": "SinkBasin",
             "counter": "CounterTop", "stove": "StoveBurner", "couch": "Sofa",
             "table": "DiningTable", "keys": "KeyChain", "key chain": "KeyChain",
             "lamp": "DeskLamp", "knives": "Knife", "potatoes": "Potato",
             "tomatoes": "Tomato"}


def words_of(type_: str) -> str:
    """``"CounterTop"`` -> ``"counter top"`` (how instructions spell types)."""
    out = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type_).lower()
    return "tv stand" if out == "t v stand" else out


@lru_cache(maxsize=1)
def _vocabulary() -> dict[str, str]:
    vocab: dict[str, str] = {}
    for t in known_types():
        w = words_of(t)
        vocab[w] = t
        vocab[w + "s"] = t
        vocab[w + "es"] = t
    for word, t in _SYNONYMS.items():
        vocab.update({word: t, word + "s": t, word + "es": t})
    return vocab


def object_type(phrase: str) -> str:
    """The object type a noun phrase names; raises :class:`InstructionError`."""
    p = re.sub(rf"^{ARTICLE}\s+", "", phrase.strip().lower())
    p = re.sub(r"\s+", " ", p)
    vocab = _vocabulary()
    if p in vocab:
        return vocab[p]
    # Longest known phrase at the end of the noun phrase ("a clean dirty mug" -> Mug).
    for k in sorted(vocab, key=len, reverse=True):
        if p.endswith(" " + k):
            return vocab[k]
    raise InstructionError(f"unknown object {phrase!r}")


_PATTERNS: list[tuple[str, str]] = [
    ("place_in_closed", rf"^(?:put|place)\s+(?P<o>.+?)\s+{PREP}\s+(?P<r>.+?)\s+and\s+close\s+it$"),
    ("pick_two_and_place", rf"^(?:put|place)\s+(?:two|2|both)\s+(?P<o>.+?)\s+{PREP}\s+(?P<r>.+)$"),
    ("pick_heat_and_place", rf"^(?:heat|warm|cook|microwave)\s+(?:up\s+)?(?P<o>.+?)\s+and\s+"
                            rf"(?:put|place)\s+it\s+{PREP}\s+(?P<r>.+)$"),
    ("pick_cool_and_place", rf"^(?:chill|cool)\s+(?:down\s+)?(?P<o>.+?)\s+and\s+(?:put|place)"
                            rf"\s+it\s+{PREP}\s+(?P<r>.+)$"),
    ("pick_clean_and_place", rf"^(?:clean|wash|rinse)\s+(?P<o>.+?)\s+and\s+(?:put|place)\s+it"
                             rf"\s+{PREP}\s+(?P<r>.+)$"),
    ("look_at_in_light", r"^(?:examine|inspect|look at)\s+(?P<o>.+?)\s+(?:under|by|with)\s+"
                         r"(?P<r>.+)$"),
    ("pick_and_place", rf"^(?:put|place|move|bring)\s+(?P<o>.+?)\s+{PREP}\s+(?P<r>.+)$"),
]


def parse_instruction(text: str) -> Goal:
    """Parse an instruction; raises :class:`InstructionError` naming what it could not read."""
    s = re.sub(r"\s+", " ", text.strip().lower()).rstrip(".!")
    if not s:
        raise InstructionError("empty instruction")
    for family, pattern in _PATTERNS:
        m = re.match(pattern, s)
        if m is None:
            continue
        obj = object_type(m.group("o"))
        target_phrase = re.sub(r"\s+light$", " lamp", m.group("r"))
        target = object_type(target_phrase)
        return Goal(family, obj, target, 2 if family == "pick_two_and_place" else 1)
    raise InstructionError(f"cannot parse instruction {text!r}; expected e.g. 'Put a mug on the "
                           "shelf.', 'Heat an apple and put it on the table.' or 'Examine a "
                           "book under the desk lamp.'")
