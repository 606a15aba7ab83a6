"""Instruction parsing: an ALFRED-style sentence into a structured goal.

The symbolic planner reads only the instruction text, never the privileged task record.
Object words are matched against the world's ontology (its types, their synonyms and
plurals), so "Chill a tomato and put it on the counter top." becomes
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
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from robomem.ontology import Ontology
from robomem.planners.mentions import Mention
from robomem.planners.phrasing import Reading, read

ARTICLE = r"(?:a|an|the|one|some)"
PREP = r"(?:in|on|into|onto|inside|in to|on to)"


FAMILY_ROLES: dict[str, str] = {"pick_heat_and_place": "heat", "pick_cool_and_place": "cool",
                                "pick_clean_and_place": "clean"}
"""Task families that change the object's state, and the ontology role (appliance) each needs."""


MAX_INSTRUCTION_CHARS = 2000
TypeGuesser = Callable[[str, Ontology], tuple[str, tuple[str, ...]]]
"""``guess(words, ontology) -> (type or "", nearest types)``: a type for unknown words."""


PLANNED_FAMILIES = ("pick_and_place", "pick_two_and_place", "place_in_closed",
                    "pick_heat_and_place", "pick_cool_and_place", "pick_clean_and_place",
                    "look_at_in_light", "put_back", "bring_back", "switch_off")
"""The families robomem's planners carry out (``pick_movable_and_place`` is read, not yet done)."""


class InstructionError(ValueError):
    """The planner cannot understand an instruction; the message quotes it."""


@dataclass(frozen=True)
class Goal:
    """What an instruction asks for (the same fields as a task, without privileged data)."""

    family: str
    object_type: str
    target_type: str
    count: int = 1
    appliance: str = field(default="", repr=False, compare=False)  # the world's, for the role
    switch: str = field(default="", repr=False, compare=False)  # what is switched on and off
    movable: str = field(default="", repr=False, compare=False)  # a container carried along
    sliced: bool = field(default=False, repr=False, compare=False)  # a slice of the object
    source: str = field(default="", repr=False, compare=False)  # where it starts ("from the X")
    object_candidates: tuple[str, ...] = field(default=(), repr=False, compare=False)
    target_candidates: tuple[str, ...] = field(default=(), repr=False, compare=False)
    """Types an ambiguous word may mean ("the lamp": either lamp type); memory decides."""

    @property
    def appliances(self) -> tuple[str, ...]:
        """The appliance types the goal needs besides its object and target."""
        return tuple(dict.fromkeys(t for t in (self.appliance, self.switch) if t))


def object_type(phrase: str, ontology: Ontology | None = None) -> str:
    """The object type a noun phrase names; raises :class:`InstructionError`.

    Words are ``ontology``'s (default: the default embodiment's).
    """
    p = re.sub(rf"^{ARTICLE}\s+", "", phrase.strip().lower())
    p = re.sub(r"\s+", " ", p)
    vocab = (ontology or _default_ontology()).words()
    if p in vocab:
        return vocab[p]
    # Longest known phrase at the end of the noun phrase ("a clean dirty mug" -> Mug).
    for k in sorted(vocab, key=len, reverse=True):
        if p.endswith(" " + k):
            return vocab[k]
    raise InstructionError(f"unknown object {phrase!r}")


def _exact_type(phrase: str, ontology: Ontology) -> str:
    """The type a bare noun phrase ("a mug", "the desk lamp") names exactly, else ""."""
    p = re.sub(rf"^{ARTICLE}\s+", "", phrase.strip().lower())
    return ontology.words().get(re.sub(r"\s+", " ", p), "")


def _default_ontology() -> Ontology:
    from robomem.embodiment import default_embodiment

    return default_embodiment().ontology


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


def make_goal(family: str, object_type: str, target_type: str, count: int = 1,
              ontology: Ontology | None = None) -> Goal:
    """A goal with the appliances its family needs in ``ontology``'s world (its roles).

    Raises:
        InstructionError: the family needs a state change the world has no appliance for.
    """
    role_name = FAMILY_ROLES.get(family)
    role = (ontology or _default_ontology()).role(role_name) if role_name else None
    if role_name and role is None:
        raise InstructionError(f"cannot {role_name} things in this world: its ontology names "
                               f"no appliance for {role_name!r}")
    return Goal(family, object_type, target_type, count, role.put if role else "",
                (role.switch or "") if role else "")


def parse_instruction(text: str, ontology: Ontology | None = None,
                      guess: TypeGuesser | None = None) -> Goal:
    """Parse an instruction; raises :class:`InstructionError` saying what it could not read.

    Instructions about the past ("put the mug back where it was") are read by
    :func:`robomem.planners.past.read_past`; then the strict templates (the forms robomem's
    own tasks use) are tried; any other phrasing is read by
    :func:`robomem.planners.phrasing.read`.

    Args:
        text: the instruction.
        ontology: the world's object vocabulary (default: the default embodiment's).
        guess: maps words the ontology does not know to a type by meaning, or ``None`` (see
            :mod:`robomem.planners.vocabulary`); without it an unknown word is an error.
    """
    ontology = ontology or _default_ontology()
    s = re.sub(r"\s+", " ", text.strip().lower()).rstrip(".!")
    if not s:
        raise InstructionError("empty instruction")
    if len(s) > MAX_INSTRUCTION_CHARS:
        raise InstructionError(f"instruction of {len(s)} characters; at most "
                               f"{MAX_INSTRUCTION_CHARS}")
    from robomem.planners.past import read_past  # it builds on this module's Goal

    past = read_past(s, ontology)
    if past is not None:
        return past
    for family, pattern in _PATTERNS:
        m = re.match(pattern, s)
        if m is None:
            continue
        obj = _exact_type(m.group("o"), ontology)
        target = _exact_type(re.sub(r"\s+light$", " lamp", m.group("r")), ontology)
        if not (obj and target):
            break  # more than a bare type name: read it freely
        goal = make_goal(family, obj, target, 2 if family == "pick_two_and_place" else 1,
                         ontology)
        kinds_o, kinds_t = ontology.kinds_of(obj), ontology.kinds_of(target)
        return replace(goal, object_candidates=(obj, *kinds_o) if kinds_o else (),
                       target_candidates=(target, *kinds_t) if kinds_t else ())
    return _from_reading(read(text, ontology), text, ontology, guess)


def _resolve(m: Mention | None, words: str, missing: str, text: str, ontology: Ontology,
             guess: TypeGuesser | None) -> tuple[str, tuple[str, ...]]:
    if m is not None:
        return m.types[0], (m.types if m.ambiguous else ())
    if not words:
        raise InstructionError(f"{text.strip()!r} {missing}")
    if guess is not None:
        found, nearest = guess(words, ontology)
        if found:
            return found, ()
        raise InstructionError(f"I don't know what {words!r} is; nearest known: "
                               f"{', '.join(nearest) or 'none'}")
    raise InstructionError(f"I don't know what {words!r} is (in {text.strip()!r})")


def _from_reading(r: Reading, text: str, ontology: Ontology,
                  guess: TypeGuesser | None) -> Goal:
    if not r.family:
        raise InstructionError(f"cannot tell what to do in {text.strip()!r}: I can put, move, "
                               f"heat, cool, clean or slice things, and look at them under a "
                               f"lamp")
    look = r.family == "look_at_in_light"
    obj, obj_alts = _resolve(r.object, r.object_words, "does not say what to look at" if look
                             else "does not say what to move", text, ontology, guess)
    if r.target is None and r.unfit_target is not None:
        raise InstructionError(f"{text.strip()!r}: a {r.unfit_target.types[0]} cannot hold "
                               f"things in this world")
    target, target_alts = _resolve(r.target, r.target_words, "does not say which lamp" if look
                                   else f"does not say where to put the {obj}", text, ontology,
                                   guess)
    goal = make_goal(r.family, obj, target, r.count, ontology)
    return replace(goal, movable=r.movable.types[0] if r.movable else "", sliced=r.sliced,
                   object_candidates=obj_alts, target_candidates=target_alts,
                   source=r.source.types[0] if r.source else "")
