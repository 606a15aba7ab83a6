"""Table-arm instructions as goals: what to move where, what to close, open or press.

Some of those depend on what happened before.

An instruction is a list of clauses joined by commas and "and". Each clause is one of six
forms (the words for objects are the world's ontology's, with its synonyms):

=====================================================  ============================
clause                                                 goal
=====================================================  ============================
move / put the X to / on / onto / into the Y           :data:`PUT` X on a Y
put / move the X back (where it was)                   :data:`RESTORE` X
close the open X                                       :data:`CLOSE_OPEN` X
(re)open the X that was open (before)                  :data:`REOPEN` X
press the lit X                                        :data:`PRESS_LIT` X
press (again) the X (you / that was) pressed before... :data:`PRESS_AGAIN` X
=====================================================  ============================

RESTORE, REOPEN and PRESS_AGAIN need memory: the present does not say which.

Example:
    >>> from robomem.ontology import Ontology
    >>> from robomem.policies.table_goals import read_goals
    >>> onto = Ontology.from_dict({"types": {"Block": {"pickupable": True,
    ...     "synonyms": ["red block"]}, "Plate": {"receptacle": True},
    ...     "Drawer": {"openable": True}}})
    >>> [g.describe() for g in read_goals("move the red block to the plate and close the open "
    ...                                   "drawer", onto)]
    ['put Block on Plate', 'close_open Drawer']
    >>> read_goals("juggle the plate", onto)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    robomem.policies.table_goals.GoalError: cannot read 'juggle the plate': a clause is one of ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from robomem.ontology import Ontology
from robomem.untrusted import quote

__all__ = ["CLOSE_OPEN", "MEMORY_GOALS", "PRESS_AGAIN", "PRESS_LIT", "PUT", "REOPEN", "RESTORE",
           "GoalError", "TableGoal", "read_goals"]

PUT, RESTORE = "put", "restore"
CLOSE_OPEN, REOPEN = "close_open", "reopen"
PRESS_LIT, PRESS_AGAIN = "press_lit", "press_again"
MEMORY_GOALS = frozenset({RESTORE, REOPEN, PRESS_AGAIN})
"""The goals whose target only memory can tell."""

_THE = r"(?:the |a |an )?"
_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (RESTORE, re.compile(rf"^(?:put|move|place|return) {_THE}(?P<x>.+?) back"
                         rf"(?: (?:to )?where it (?:was|started|came from))?$")),
    (PUT, re.compile(rf"^(?:move|put|place) {_THE}(?P<x>.+?) (?:to|on|onto|in|into) "
                     rf"{_THE}(?P<y>.+)$")),
    (CLOSE_OPEN, re.compile(rf"^close {_THE}open (?P<x>.+)$")),
    (REOPEN, re.compile(rf"^re-?open {_THE}(?P<x>.+?)(?: (?:that|which) was open(?: before)?)?$")),
    (REOPEN, re.compile(rf"^open (?:again )?{_THE}(?P<x>.+?) (?:that|which) was open"
                        rf"(?: before)?$")),
    (PRESS_LIT, re.compile(rf"^press {_THE}lit (?P<x>.+)$")),
    (PRESS_AGAIN, re.compile(rf"^press (?:again )?{_THE}(?P<x>.+?) (?:that )?(?:you |i |was )?"
                             rf"pressed before\b.*$")),
)
_SPLIT = re.compile(r"\s*(?:,\s*(?:and\s+)?|\band\b|;|\bthen\b)\s*")
_HELP = ("move the X to the Y, put the X back, close the open X, open the X that was open, "
         "press the lit X, press the X you pressed before")


class GoalError(ValueError):
    """An instruction the table reader cannot read; the message quotes the clause."""


@dataclass(frozen=True)
class TableGoal:
    """One clause as a goal.

    Attributes:
        kind: one of the six goal kinds (module docstring).
        type: the object type it is about.
        place: for :data:`PUT`, the type to put it on.
    """

    kind: str
    type: str
    place: str = ""

    @property
    def needs_memory(self) -> bool:
        """Whether only memory can tell its target."""
        return self.kind in MEMORY_GOALS

    def describe(self) -> str:
        """``"put Block on Plate"``, ``"reopen Drawer"``, ..."""
        return f"{self.kind} {self.type}" + (f" on {self.place}" if self.place else "")


def read_goals(text: str, onto: Ontology) -> list[TableGoal]:
    """The goals of ``text``, in order.

    Raises:
        GoalError: a clause of none of the forms, or one that names no known object.
    """
    clean = " ".join(text.lower().replace(".", " ").split())
    clauses = [c for c in _SPLIT.split(clean) if c]
    if not clauses:
        raise GoalError("the instruction is empty")
    goals: list[TableGoal] = []
    for clause in clauses:
        for kind, pat in _FORMS:
            m = pat.match(clause)
            if m is None:
                continue
            x = _type_of(m.group("x"), onto, clause)
            y = _type_of(m.group("y"), onto, clause) if "y" in pat.groupindex else ""
            goals.append(TableGoal(kind, x, y))
            break
        else:
            raise GoalError(f"cannot read {quote(clause, 80)}: a clause is one of {_HELP}")
    return goals


def _type_of(phrase: str, onto: Ontology, clause: str) -> str:
    """The type a noun phrase names: its longest tail the ontology knows ("the red block")."""
    words = onto.words()
    toks = phrase.split()
    for i in range(len(toks)):
        tail = " ".join(toks[i:])
        if tail in words:
            return words[tail]
    raise GoalError(f"cannot read {quote(clause, 80)}: {quote(phrase, 40)} names no object "
                    f"this world knows ({', '.join(onto.types())})")
