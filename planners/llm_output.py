"""Reading a language model's answer as data: JSON, checked against the skills and the scene graph.

The model must answer with one JSON object (see :meth:`PromptBuilder.system`):
``{"subgoals": [...], "skill": {"name": ..., "target": ..., "label": ...}, "reason": ...}``.
:func:`parse_answer` finds the first JSON object in the text (models like to add words or code
fences around it), checks every field, checks that the skill exists and that its target is an
object in spatial memory, and returns an :class:`Answer`. Anything else raises
:class:`InvalidAnswer` with a reason written for the model, which the planner feeds back. The
text is only ever parsed as JSON: model output is never evaluated or executed.

Example:
    >>> from robomem.memory.spatial import SpatialMemory
    >>> from robomem.planners.llm_output import InvalidAnswer, parse_answer
    >>> mem = SpatialMemory()
    >>> parse_answer('Sure! {"skill": {"name": "explore", "label": "Mug"}}', mem).skill
    Skill(name='explore', target=None, label='Mug')
    >>> try:
    ...     parse_answer('{"skill": {"name": "pickup", "target": "Mug|9"}}', mem)
    ... except InvalidAnswer as e:
    ...     print(e)
    object 'Mug|9' is not in memory; no Mug is known yet: explore to find one
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from robomem.memory.spatial import SpatialMemory
from robomem.policies.skills import SKILL_NAMES, TARGETED_SKILLS, Skill

__all__ = ["Answer", "InvalidAnswer", "extract_json", "parse_answer"]

MAX_LISTED = 6  # known keys listed in a rejection


class InvalidAnswer(ValueError):
    """The answer cannot be used; the message tells the model why (fed back when replanning)."""


@dataclass(frozen=True)
class Answer:
    """A validated answer."""

    skill: Skill
    subgoals: tuple[str, ...] = ()
    reason: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


def extract_json(text: str) -> dict[str, Any]:
    """The first JSON object in ``text`` (words and code fences around it are ignored).

    Raises:
        InvalidAnswer: no JSON object is found.
    """
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            obj, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        if isinstance(obj, dict):
            return obj
        start = text.find("{", start + 1)
    snippet = text.strip().replace("\n", " ")[:80]
    raise InvalidAnswer(f"no JSON object found in the answer ({snippet!r}); answer with one "
                        f"JSON object as in the format")


def _text_field(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidAnswer(f"'{key}' must be a string, got {json.dumps(value)[:40]}")
    return value.strip()


def parse_answer(text: str, memory: SpatialMemory) -> Answer:
    """Parse and validate an answer against the skill schema and spatial memory.

    Raises:
        InvalidAnswer: malformed JSON, a missing or unknown skill, a missing target, or a
            target that is not an object in memory (the message lists known keys of its type).
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
        raise InvalidAnswer(f"unknown skill {name!r}; skills: {', '.join(SKILL_NAMES)}")
    target = _text_field(skill_obj, "target")
    label = _text_field(skill_obj, "label")
    if name in TARGETED_SKILLS:
        if target is None:
            raise InvalidAnswer(f"skill {name!r} needs a 'target': an object key from memory")
        node = memory.graph.node(target)
        if node is None:
            wanted = label or target.split("|")[0]
            known = sorted(n.key for n in memory.graph.find(wanted))
            hint = (f"known {wanted} keys: {', '.join(known[:MAX_LISTED])}" if known
                    else f"no {wanted} is known yet: explore to find one")
            raise InvalidAnswer(f"object {target!r} is not in memory; {hint}")
        label = node.label
    else:
        target = None
    subgoals = obj.get("subgoals", [])
    if not isinstance(subgoals, list) or not all(isinstance(s, str) for s in subgoals):
        raise InvalidAnswer("'subgoals' must be a list of strings")
    reason = obj.get("reason", "")
    return Answer(Skill(name, target, label), tuple(subgoals),
                  reason if isinstance(reason, str) else "", obj)
