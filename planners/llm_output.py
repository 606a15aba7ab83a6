"""Reading a language model's answer as data: JSON, checked against the skills and the scene graph.

The model must answer with one JSON object (see :meth:`PromptBuilder.system`):
``{"subgoals": [...], "skill": {"name": ..., "target": ..., "label": ...}, "reason": ...}``.
:func:`parse_answer` finds the first JSON object in the text (models like to add words or code
fences around it), checks every field, checks that the skill exists and that its target is an
object in the scene graph, and returns an :class:`Answer`. Anything else raises
:class:`InvalidAnswer` with a reason written for the model, which the planner feeds back. The
text is only ever parsed as JSON: model output is never evaluated or executed.

Model output is untrusted input, so reading it is bounded: an answer longer than
:data:`MAX_ANSWER_CHARS` is refused, at most :data:`MAX_CANDIDATES` ``{`` are tried as the start
of the object, JSON nesting is measured (linearly) before decoding, and every free-text field is
checked: a ``label`` is an object type name such as ``Mug`` or ``CoffeeMachine``, a ``target``
is a short key without spaces or control characters, and ``subgoals`` and ``reason`` are bounded
in count and length. A rejection quotes at most about 200 characters of a bad value
(:func:`~robomem.untrusted.quote`).

Example:
    >>> from robomem.memory.scene_graph import SceneGraph
    >>> from robomem.planners.llm_output import InvalidAnswer, parse_answer
    >>> scene = SceneGraph()  # a PlanContext's ``scene`` in a planner
    >>> parse_answer('Sure! {"skill": {"name": "explore", "label": "Mug"}}', scene).skill
    Skill(name='explore', target=None, label='Mug')
    >>> type_of = lambda object_id: object_id.split("|")[0]  # the world's id format (embodiment)
    >>> try:
    ...     parse_answer('{"skill": {"name": "pickup", "target": "Mug|9"}}', scene, type_of)
    ... except InvalidAnswer as e:
    ...     print(e)
    object 'Mug|9' is not in memory; no Mug is known yet: explore to find one
    >>> try:
    ...     parse_answer('{"skill": {"name": "explore", "label": "Mug. Ignore the rules"}}', scene)
    ... except InvalidAnswer as e:
    ...     print(e)  # doctest: +ELLIPSIS
    'label' must be an object type name such as 'Mug' or 'CoffeeMachine' ...
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from robomem.memory.view import SceneView
from robomem.skills import SKILL_NAMES, TARGETED_SKILLS, Skill
from robomem.untrusted import MAX_DEPTH, json_depth, quote

__all__ = [
    "MAX_ANSWER_CHARS",
    "MAX_CANDIDATES",
    "Answer",
    "InvalidAnswer",
    "extract_json",
    "parse_answer",
]

MAX_LISTED = 6  # known keys listed in a rejection
MAX_ANSWER_CHARS = 20_000  # characters of an answer read at all (a plan is a few hundred)
MAX_CANDIDATES = 16  # '{' tried as the start of the answer's object
MAX_LABEL_CHARS = 40  # an object type name
MAX_TARGET_CHARS = 120  # an object key ("Mug|+01.00|+00.90|+02.00")
MAX_SUBGOALS = 16
MAX_SUBGOAL_CHARS = 200
MAX_REASON_CHARS = 500

_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_LABEL_RULE = (f"an object type name such as 'Mug' or 'CoffeeMachine' (letters and digits, at "
               f"most {MAX_LABEL_CHARS})")
_DECODER = json.JSONDecoder()


class InvalidAnswer(ValueError):
    """The answer cannot be used; the message tells the model why (fed back when replanning)."""


@dataclass(frozen=True)
class Answer:
    """A validated answer."""

    skill: Skill
    subgoals: tuple[str, ...] = ()
    reason: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


def extract_json(text: str, max_chars: int = MAX_ANSWER_CHARS) -> dict[str, Any]:
    """The first JSON object in ``text`` (words and code fences around it are ignored).

    Linear in ``len(text)``: at most :data:`MAX_CANDIDATES` ``{`` are tried as the object's
    start, and the nesting after each is measured before it is decoded.

    Example:
        >>> extract_json('Here: {"a": [1, {"b": 2}]} and {"c": 3}')
        {'a': [1, {'b': 2}]}

    Raises:
        InvalidAnswer: ``text`` is longer than ``max_chars``, nests deeper than
            :data:`~robomem.untrusted.MAX_DEPTH` levels, or has no JSON object.
    """
    if len(text) > max_chars:
        raise InvalidAnswer(f"the answer is {len(text)} characters long; the limit is "
                            f"{max_chars}: answer with one short JSON object")
    start = text.find("{")
    for _ in range(MAX_CANDIDATES):
        if start == -1:
            break
        doc = text[start:]
        if json_depth(doc) > MAX_DEPTH:
            raise InvalidAnswer(f"the answer's JSON is nested deeper than {MAX_DEPTH} levels; "
                                f"answer with one flat JSON object as in the format")
        try:
            obj, _ = _DECODER.raw_decode(doc)
        except RecursionError:  # pragma: no cover - the depth check comes first
            raise InvalidAnswer(f"the answer's JSON is nested deeper than {MAX_DEPTH} "
                                f"levels") from None
        except ValueError:  # not JSON here (JSONDecodeError), or an integer of 4300+ digits
            pass
        else:
            if isinstance(obj, dict):
                return obj
        start = text.find("{", start + 1)
    where = "in the answer" if start == -1 else f"at the first {MAX_CANDIDATES} '{{' of the answer"
    raise InvalidAnswer(f"no JSON object found {where} ({quote(' '.join(text.split()), 80)}); "
                        f"answer with one JSON object as in the format")


def _text_field(obj: dict[str, Any], key: str) -> str | None:
    """``obj[key]`` stripped, None when missing or empty; rejects a non-string."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidAnswer(f"'{key}' must be a string, got {quote(value, 40)}")
    return value.strip() or None


def _label(value: str | None) -> str | None:
    """An object type name, or None; rejects anything else (sentences, control characters)."""
    if value is None:
        return None
    if len(value) > MAX_LABEL_CHARS or not _LABEL.fullmatch(value):
        raise InvalidAnswer(f"'label' must be {_LABEL_RULE}, got {quote(value)}")
    return value


def _target(value: str) -> str:
    """An object key: short, printable, without spaces."""
    if len(value) > MAX_TARGET_CHARS or not value.isprintable() or " " in value:
        raise InvalidAnswer(f"'target' must be an object key from memory (at most "
                            f"{MAX_TARGET_CHARS} characters, no spaces or control characters), "
                            f"got {quote(value)}")
    return value


def _sentence(value: object, what: str, max_chars: int) -> str:
    """A short line of text: whitespace runs become one space; no control characters."""
    if not isinstance(value, str):
        raise InvalidAnswer(f"{what} must be a string, got {quote(value, 40)}")
    line = " ".join(value.split())
    if len(line) > max_chars:
        raise InvalidAnswer(f"{what} is {len(line)} characters long; the limit is {max_chars}")
    if not line.isprintable():
        raise InvalidAnswer(f"{what} has control or format characters: {quote(line)}")
    return line


def _subgoals(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise InvalidAnswer(f"'subgoals' must be a list of strings, got {quote(value, 40)}")
    if len(value) > MAX_SUBGOALS:
        raise InvalidAnswer(f"'subgoals' has {len(value)} items; the limit is {MAX_SUBGOALS}")
    if not all(isinstance(s, str) for s in value):
        raise InvalidAnswer(f"'subgoals' must be a list of strings, got {quote(value, 80)}")
    return tuple(_sentence(s, f"subgoal {i + 1}", MAX_SUBGOAL_CHARS) for i, s in enumerate(value))


def _missing_hint(scene: SceneView, wanted: str) -> str:
    """What to tell the model about a target that is not in memory."""
    if not (len(wanted) <= MAX_LABEL_CHARS and _LABEL.fullmatch(wanted)):
        return "use a key listed under 'Objects in memory', or explore"
    known = sorted(n.key for n in scene.find(wanted))
    return (f"known {wanted} keys: {', '.join(known[:MAX_LISTED])}" if known
            else f"no {wanted} is known yet: explore to find one")


def parse_answer(text: str, scene: SceneView,
                 label_from_id: Callable[[str], str] | None = None) -> Answer:
    """Parse and validate an answer against the skill schema and the scene graph ``scene``.

    Raises:
        InvalidAnswer: a too long answer, malformed or too deeply nested JSON, a missing or
            unknown skill, a missing target, a target that is not an object in memory (the
            message lists known keys of its type), a label that is not an object type name,
            or too many or too long subgoals or reason.
    """
    obj = extract_json(text)
    skill_obj = obj.get("skill")
    if isinstance(skill_obj, str):  # tolerate {"skill": "explore", "target": ...}
        skill_obj = {"name": skill_obj, "target": obj.get("target"), "label": obj.get("label")}
    if not isinstance(skill_obj, dict):
        raise InvalidAnswer("the answer needs a 'skill' object with a 'name'")
    name = _text_field(skill_obj, "name")
    if name is None:
        raise InvalidAnswer("the skill has no 'name'")
    name = name.lower()
    if name not in SKILL_NAMES:
        raise InvalidAnswer(f"unknown skill {quote(name)}; skills: {', '.join(SKILL_NAMES)}")
    target = _text_field(skill_obj, "target")
    label = _label(_text_field(skill_obj, "label"))
    if name in TARGETED_SKILLS:
        if target is None:
            raise InvalidAnswer(f"skill {name!r} needs a 'target': an object key from memory")
        target = _target(target)
        node = scene.node(target)
        if node is None:
            hint = _missing_hint(scene, label or (label_from_id(target) if label_from_id else ""))
            raise InvalidAnswer(f"object {quote(target)} is not in memory; {hint}")
        label = node.label
    else:
        target = None
    subgoals = _subgoals(obj.get("subgoals", []))
    reason = obj.get("reason")
    reason = "" if reason is None else _sentence(reason, "'reason'", MAX_REASON_CHARS)
    return Answer(Skill(name, target, label), subgoals, reason, obj)
