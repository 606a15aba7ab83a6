"""Words the ontology does not list, matched to a type by meaning.

:class:`MeaningGuesser` embeds every type of an ontology once, as its spaced name plus its
description and synonyms ("alarm clock: a clock that rings to wake you up"), with a text
encoder (the packaged MiniLM by default), and maps unknown words ("the thing you write with")
to the nearest type if the cosine similarity clears a floor; below it, it names the nearest
types instead of guessing. It is the ``guess`` argument of
:func:`robomem.planners.instruction.parse_instruction`.

Example:
    >>> from robomem.memory.encoders import make_encoder
    >>> from robomem.ontology import Ontology
    >>> from robomem.planners.vocabulary import MeaningGuesser
    >>> onto = Ontology.from_dict({"types": {
    ...     "Pencil": {"description": "a thin wooden stick you write or draw with"},
    ...     "Fridge": {"description": "a cold box that keeps food chilled"}}})
    >>> guess = MeaningGuesser(make_encoder("hash"), floor=0.2)
    >>> guess("wooden stick to write with", onto)[0]
    'Pencil'
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import NDArray

from robomem.memory.encoders import TextEncoder, make_encoder
from robomem.ontology import Ontology, words_of

__all__ = ["DEFAULT_FLOOR", "DEFAULT_MARGIN", "MeaningGuesser"]

log = logging.getLogger(__name__)

# On the Household ontology "cabbage" scores 0.64 against Lettuce and "a device that tells the
# time" 0.57 against AlarmClock, while "giraffe" scores 0.43 against TeddyBear and "unicorn"
# 0.30; "the thing you write with" is Pen (0.47) or Pencil (0.45).
DEFAULT_FLOOR = 0.5
"""Cosine similarity (MiniLM) below which a word is not taken to mean its nearest type."""
DEFAULT_MARGIN = 0.02
"""How far the best type must lead the second, or robomem asks rather than picks."""


class MeaningGuesser:
    """Nearest type by meaning (see the module docstring).

    Args:
        encoder: the text encoder (default: the packaged MiniLM, loaded on first use).
        floor: the least cosine similarity that counts as a match.
        nearest: how many nearest types a refusal names.
        margin: the least lead of the best type over the second.
    """

    def __init__(self, encoder: TextEncoder | None = None, floor: float = DEFAULT_FLOOR,
                 nearest: int = 3, margin: float = DEFAULT_MARGIN) -> None:
        self._encoder = encoder
        self.floor, self.nearest, self.margin = floor, nearest, margin
        self._index: tuple[int, tuple[str, ...], NDArray[np.float32]] | None = None

    @property
    def encoder(self) -> TextEncoder:
        """The text encoder (loaded on first use)."""
        if self._encoder is None:
            self._encoder = make_encoder("minilm")
        return self._encoder

    def _types(self, ontology: Ontology) -> tuple[tuple[str, ...], NDArray[np.float32]]:
        if self._index is None or self._index[0] != id(ontology):
            names = tuple(t for t in ontology.types() if not ontology.info(t).structure)
            texts = []
            for t in names:
                info = ontology.info(t)
                extra = "; ".join(x for x in (info.description, ", ".join(info.synonyms)) if x)
                texts.append(f"{words_of(t)}: {extra}" if extra else words_of(t))
            self._index = (id(ontology), names, self.encoder.encode(texts))
        return self._index[1], self._index[2]

    def __call__(self, words: str, ontology: Ontology) -> tuple[str, tuple[str, ...]]:
        """``(type, nearest)``: what ``words`` mean ("" below the floor), nearest types first."""
        names, vecs = self._types(ontology)
        if not names or not words.strip():
            return "", ()
        sims = vecs @ self.encoder.encode_one(words)
        order = np.argsort(-sims, kind="stable")
        nearest = tuple(names[i] for i in order[:self.nearest])
        best = float(sims[order[0]])
        second = float(sims[order[1]]) if len(order) > 1 else -1.0
        found = names[order[0]] if best >= self.floor and best - second >= self.margin else ""
        log.info("%r means %s (similarity %.2f, floor %.2f; nearest %s)", words,
                 found or "nothing known", best, self.floor, ", ".join(nearest))
        return found, nearest
