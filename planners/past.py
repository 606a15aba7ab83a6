"""Instructions about the past: reading them, and what memory answers about them.

"Put the mug back where it was before", "bring what you put in the fridge last time to the
table", "turn off the lamp you turned on last time" name their object by what the agent did
in an earlier episode. :func:`read_past` reads such a sentence into a :class:`Goal` of a
family in :data:`PAST_FAMILIES`, leaving what only memory knows blank; :func:`question` is
what the agent asks memory for it (a :data:`robomem.memory.temporal.PAST_QUESTIONS` entry)
and :func:`recall_past` reads temporal memory's answer. A memoryless agent gets no answer and
the planner has to guess.

Example:
    >>> from robomem.planners.past import read_past
    >>> read_past("Put the key chain back where it was before.")
    Goal(family='put_back', object_type='KeyChain', target_type='', count=1)
    >>> g = read_past("Bring what you put in the fridge yesterday to the dining table.")
    >>> g.family, g.object_type, g.source, g.target_type
    ('bring_back', '', 'Fridge', 'DiningTable')
    >>> read_past("Switch off the light you switched on last time.").object_candidates
    ('FloorLamp', 'DeskLamp')
    >>> read_past("Put the mug in the sink.") is None
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from robomem.memory.base import MemoryContext
from robomem.memory.builtin import FACT_LAST_MOVED, FACT_LAST_PUT_IN, FACT_LAST_SWITCHED_ON
from robomem.memory.temporal import PAST_MOVED, PAST_PUT_IN, PAST_SWITCHED_ON
from robomem.ontology import Ontology, default_ontology
from robomem.planners.instruction import Goal, InstructionError
from robomem.planners.mentions import find_mentions, tokens

QUESTIONS = {"put_back": PAST_MOVED, "bring_back": PAST_PUT_IN, "switch_off": PAST_SWITCHED_ON}
PAST_FAMILIES = tuple(QUESTIONS)
_ANSWERS = {PAST_MOVED: FACT_LAST_MOVED, PAST_PUT_IN: FACT_LAST_PUT_IN,
            PAST_SWITCHED_ON: FACT_LAST_SWITCHED_ON}

TIME = (r"(?:last time|yesterday|earlier(?: today)?|before|this morning|last night|"
        r"the other day|previously|last week)")
_PREP = r"(?:in|on|into|onto|inside|in to|on to)"
_THING = r"(?:what|whatever|the thing|the object|the item|the stuff|the one)"
_PATTERNS: list[tuple[str, str]] = [
    ("put_back", r"^(?:put|place|return|move|take|bring|set)\s+(?P<o>.+?)\s+back\s+"
                 r"(?:to\s+|in\s+|on\s+)?(?:where|the place|its place)\b.*$"),
    ("put_back", r"^(?:put|place|move|set)\s+back\s+(?P<o>.+?)\s+(?:to\s+)?where\b.*$"),
    ("put_back", r"^return\s+(?P<o>.+?)\s+to\s+(?:where|its place|the place)\b.*$"),
    ("bring_back", rf"^(?:bring|take|move|put|carry|place)\s+{_THING}\s+(?:that\s+)?you\s+"
                   rf"(?:put|placed|left|stored|set)\s+{_PREP}\s+(?P<r>.+?)(?:\s+{TIME})?\s+"
                   r"(?:to|on|in|into|onto|over to|back to)\s+(?P<t>.+)$"),
    ("switch_off", rf"^(?:turn|switch|shut)\s+off\s+(?P<o>.+?)\s+(?:that\s+|which\s+)?you\s+"
                   rf"(?:turned|switched|put)\s+on(?:\s+{TIME})?$"),
    ("switch_off", rf"^(?:turn|switch|shut)\s+(?P<o>.+?)\s+(?:that\s+|which\s+)?you\s+"
                   rf"(?:turned|switched)\s+on(?:\s+{TIME})?\s+(?:back\s+)?off$"),
]


@dataclass(frozen=True)
class PastAnswer:
    """What memory says a task about the past is about.

    Attributes:
        key: the object's key (the one moved, put in, or switched on).
        label: its type.
        place_key: for ``put_back``, the receptacle it was taken from ("" if unknown).
        place_label: that receptacle's type.
    """

    key: str
    label: str
    place_key: str = ""
    place_label: str = ""


def _types(phrase: str, ontology: Ontology, what: str, text: str) -> tuple[str, ...]:
    """The types the last object words of ``phrase`` name; raises if none."""
    found = find_mentions(tokens(phrase), ontology)
    if not found:
        raise InstructionError(f"I don't know what {phrase.strip()!r} is ({what} in "
                               f"{text.strip()!r})")
    return found[-1].types


def read_past(text: str, ontology: Ontology | None = None) -> Goal | None:
    """A goal about the past when ``text`` is one of the forms above, else None.

    Raises:
        InstructionError: the form matched but an object word is unknown.
    """
    onto = ontology or default_ontology()
    s = re.sub(r"\s+", " ", text.strip().lower()).rstrip(".!?")
    for family, pattern in _PATTERNS:
        m = re.match(pattern, s)
        if m is None:
            continue
        if family == "bring_back":
            source = _types(m.group("r"), onto, "where it was put", text)
            target = _types(m.group("t"), onto, "where to bring it", text)
            return Goal(family, "", target[0], source=source[0],
                        target_candidates=target if len(target) > 1 else ())
        obj = _types(m.group("o"), onto, "what it is about", text)
        return Goal(family, obj[0], "", object_candidates=obj if len(obj) > 1 else ())
    return None


def question(goal: Goal | None) -> str:
    """What to ask memory for ``goal`` ("" when it is not about the past)."""
    return QUESTIONS.get(goal.family, "") if goal is not None else ""


def past_labels(goal: Goal) -> tuple[str, ...]:
    """The types the question is asked for.

    The object's (every type its word may mean), or for ``bring_back`` the receptacle's.
    """
    if goal.family == "bring_back":
        return (goal.source,) if goal.source else ()
    return tuple(dict.fromkeys(t for t in (goal.object_type, *goal.object_candidates) if t))


def recall_past(goal: Goal, recall: MemoryContext) -> PastAnswer | None:
    """Temporal memory's answer for ``goal``: the latest matching fact, or None."""
    kind = _ANSWERS.get(question(goal))
    if kind is None:
        return None
    labels = past_labels(goal)
    facts = [f for f in recall.of("temporal", kind) if f.subject in labels]
    if not facts:
        return None
    f = max(facts, key=lambda f: tuple(f.data.get("time", (0, 0))))
    if kind == FACT_LAST_MOVED:
        return PastAnswer(f.value, f.subject, str(f.data.get("from", "")),
                          str(f.data.get("from_label", "")))
    return PastAnswer(f.value, str(f.data.get("label", f.subject)))
