"""Where an instruction names things: the world's object words, found in a sentence.

A sentence is split into lower-case word tokens; :func:`find_mentions` marks every run of
tokens that the ontology knows (a type's own words, a synonym, a plural, or an ambiguous
category word such as "lamp"), longest first, left to right.

Example:
    >>> from robomem.ontology import Ontology
    >>> from robomem.planners.mentions import find_mentions, tokens
    >>> onto = Ontology.from_dict({"types": {"DeskLamp": {}, "FloorLamp": {}, "AlarmClock": {
    ...     "synonyms": ["clock"]}}, "categories": {"lamp": ["DeskLamp", "FloorLamp"]}})
    >>> toks = tokens("Look at the clock under the lamp.")
    >>> [(m.text, m.types) for m in find_mentions(toks, onto)]
    [('clock', ('AlarmClock',)), ('lamp', ('DeskLamp', 'FloorLamp'))]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from robomem.ontology import Ontology

__all__ = ["MAX_PHRASE", "Mention", "find_mentions", "tokens"]

MAX_PHRASE = 4
"""The most words one object phrase spans ("chest of drawers", "tv remote control")."""
_SPLIT = re.compile(r"[^a-z0-9]+")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens, possessives folded ("toilet's" -> toilet, "cd's" -> cd)."""
    t = text.lower().replace("’", "'")
    t = re.sub(r"'s\b", "", t)
    return [w for w in _SPLIT.split(t) if w]


@dataclass(frozen=True)
class Mention:
    """A run of tokens naming an object.

    Attributes:
        start: index of the first token.
        end: index after the last token.
        text: the words.
        types: the type it names, or the types an ambiguous word may mean (first: the usual).
    """

    start: int
    end: int
    text: str
    types: tuple[str, ...]

    @property
    def ambiguous(self) -> bool:
        """Whether the words may mean several types."""
        return len(self.types) > 1


def find_mentions(toks: list[str], ontology: Ontology) -> list[Mention]:
    """Every object phrase in ``toks``, longest match first, in sentence order."""
    words = ontology.words()
    out: list[Mention] = []
    i = 0
    while i < len(toks):
        found = None
        for j in range(min(len(toks), i + MAX_PHRASE), i, -1):
            phrase = " ".join(toks[i:j])
            cands = ontology.candidates(phrase)
            if cands:
                found = Mention(i, j, phrase, cands)
            elif phrase in words:
                t = words[phrase]
                found = Mention(i, j, phrase, (t, *ontology.kinds_of(t)))
            if found is not None:
                break
        if found is None:
            i += 1
            continue
        out.append(found)
        i = found.end
    return out
