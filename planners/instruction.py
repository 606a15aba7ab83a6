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
from dataclasses import dataclass, field

from robomem.ontology import Ontology

ARTICLE = r"(?:a|an|the|one|some)"
PREP = r"(?:in|on|into|onto|inside|in to|on to)"


FAMILY_ROLES: dict[str, str] = {"pick_heat_and_place": "heat", "pick_cool_and_place": "cool",
                                "pick_clean_and_place": "clean"}
"""Task families that change the object's state, and the ontology role (appliance) each needs."""


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


def parse_instruction(text: str, ontology: Ontology | None = None) -> Goal:
    """Parse an instruction; raises :class:`InstructionError` naming what it could not read.

    Args:
        text: the instruction.
        ontology: the world's object vocabulary (default: the default embodiment's).
    """
    ontology = ontology or _default_ontology()
    s = re.sub(r"\s+", " ", text.strip().lower()).rstrip(".!")
    if not s:
        raise InstructionError("empty instruction")
    for family, pattern in _PATTERNS:
        m = re.match(pattern, s)
        if m is None:
            continue
        obj = object_type(m.group("o"), ontology)
        target_phrase = re.sub(r"\s+light$", " lamp", m.group("r"))
        target = object_type(target_phrase, ontology)
        return make_goal(family, obj, target, 2 if family == "pick_two_and_place" else 1,
                         ontology)
    raise InstructionError(f"cannot parse instruction {text!r}; expected e.g. 'Put a mug on the "
                           "shelf.', 'Heat an apple and put it on the table.' or 'Examine a "
                           "book under the desk lamp.'")
