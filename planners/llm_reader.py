"""A language model's reading of an instruction the rule-based reader could not parse.

With ``agent.planner=llm``, an instruction that
:func:`~robomem.planners.instruction.parse_instruction` refuses is put to the planner's
language model, which must answer in a small validated JSON form: ``{"family": ...,
"object": ..., "target": ..., "count": 1 or 2}``. The family must be one robomem plans, the
object and target types of the world's ontology. Anything else is refused with the reason,
exactly like the parser's own refusals; the model's answer is never executed.

Example:
    >>> from robomem.envs.household.embodiment import HouseholdEmbodiment
    >>> from robomem.planners.lm import ScriptedModel
    >>> from robomem.planners.llm_reader import read_with_model
    >>> onto = HouseholdEmbodiment().ontology
    >>> model = ScriptedModel(['{"family": "pick_and_place", "object": "Mug", '
    ...                        '"target": "CoffeeMachine"}'])
    >>> read_with_model(model, "Make the mug meet the coffee maker.", onto)
    Goal(family='pick_and_place', object_type='Mug', target_type='CoffeeMachine', count=1)
"""

from __future__ import annotations

from robomem.ontology import Ontology
from robomem.planners.instruction import (
    PLANNED_FAMILIES,
    Goal,
    InstructionError,
    make_goal,
)
from robomem.planners.llm_output import InvalidAnswer, extract_json
from robomem.planners.lm import GenerationRequest, LanguageModel
from robomem.untrusted import quote

__all__ = ["read_with_model", "reader_prompt"]


def reader_prompt(ontology: Ontology) -> str:
    """The static instructions: the answer's form, the families and the world's types."""
    types = ", ".join(t for t in ontology.types() if not ontology.info(t).structure)
    return (
        "You turn a household instruction into a goal. Answer with one JSON object and "
        'nothing else: {"family": F, "object": O, "target": T, "count": N}.\n'
        f"F is one of: {', '.join(PLANNED_FAMILIES)}. For look_at_in_light, T is the lamp. "
        "N is 2 for pick_two_and_place, else 1.\n"
        f"O and T are object types from this list, spelled exactly: {types}.")


def read_with_model(model: LanguageModel, text: str, ontology: Ontology,
                    max_new_tokens: int = 80) -> Goal:
    """The model's reading of ``text``, validated against the families and the ontology.

    Raises:
        InstructionError: the model's answer is not a valid goal (the message says why) or the
            model failed.
    """
    req = GenerationRequest(reader_prompt(ontology), f"Instruction: {text.strip()}\nJSON:",
                            max_new_tokens=max_new_tokens)
    try:
        answer = model.generate(req).text
    except Exception as e:  # a backend failure is a refusal, not a crash
        raise InstructionError(f"the language model could not read it: {type(e).__name__}") \
            from None
    try:
        obj = extract_json(answer)
    except InvalidAnswer as e:
        raise InstructionError(f"the language model's reading is not a goal: {e}") from None
    family, o, t = obj.get("family"), obj.get("object"), obj.get("target")
    if family not in PLANNED_FAMILIES:
        raise InstructionError(f"the language model's family {quote(family, 60)} is not one of "
                               f"{', '.join(PLANNED_FAMILIES)}")
    for what, v in (("object", o), ("target", t)):
        if not isinstance(v, str) or v not in ontology:
            raise InstructionError(f"the language model's {what} {quote(v, 60)} is not a type "
                                   f"of this world")
    assert isinstance(o, str) and isinstance(t, str)
    count = obj.get("count", 1)
    count = 2 if family == "pick_two_and_place" else 1 if not isinstance(count, int) else \
        max(1, min(2, count))
    return make_goal(family, o, t, count, ontology)
