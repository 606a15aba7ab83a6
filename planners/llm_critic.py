"""A critic that asks the language model whether a proposed skill is suitable now.

:class:`LanguageModelCritic` uses the planner's own system part (so a local backend keeps one
KV-cached prefix for both) and ends the memory context with a check question; the model answers
``{"suitable": true|false, "reason": ...}``. An answer that cannot be read, or a backend error,
approves the skill (the critic must never stall the agent), is counted and is logged.

Example:
    >>> from robomem.planners.lm import ScriptedModel
    >>> from robomem.planners.llm_critic import LanguageModelCritic, read_verdict
    >>> read_verdict('{"suitable": false, "reason": "the fridge is closed"}')
    Verdict(ok=False, reason='the fridge is closed', fix=None)
    >>> read_verdict("I think so") is None
    True
"""

from __future__ import annotations

import logging

from robomem.planners.base import PlanContext
from robomem.planners.critic import Critic, Verdict
from robomem.planners.llm_output import MAX_REASON_CHARS, InvalidAnswer, extract_json
from robomem.planners.lm import GenerationRequest, LanguageModel, LanguageModelError
from robomem.planners.prompt import PromptBuilder
from robomem.skills import Skill

__all__ = ["LanguageModelCritic", "read_verdict"]

log = logging.getLogger(__name__)


def read_verdict(text: str) -> Verdict | None:
    """The verdict in a model's answer, or None when there is none to read."""
    try:
        obj = extract_json(text)
    except InvalidAnswer:
        return None
    ok = obj.get("suitable")
    if not isinstance(ok, bool):
        return None
    reason = obj.get("reason", "")
    reason = " ".join(reason[:4 * MAX_REASON_CHARS].split()) if isinstance(reason, str) else ""
    return Verdict(ok, reason[:MAX_REASON_CHARS])


class LanguageModelCritic(Critic):
    """Vetoes a skill when the language model answers that it is unsuitable.

    Args:
        model: the backend (usually the planner's).
        builder: the prompt builder (usually the planner's, for one shared system part).
        max_new_tokens: answer length limit.
    """

    def __init__(self, model: LanguageModel, builder: PromptBuilder | None = None,
                 max_new_tokens: int = 64) -> None:
        self.model = model
        self.builder = builder or PromptBuilder()
        self.max_new_tokens = max_new_tokens
        self.counters = {"llm_critic_reviews": 0.0, "llm_critic_vetoes": 0.0,
                         "llm_critic_unread": 0.0}

    def begin_episode(self) -> None:
        """Reset the counters."""
        self.counters = dict.fromkeys(self.counters, 0.0)

    def review(self, skill: Skill, ctx: PlanContext) -> Verdict:
        """Ask the model; veto when it says the skill is unsuitable."""
        self.counters["llm_critic_reviews"] += 1
        question = (f"Proposed skill: {skill.describe()}. Is it suitable now? Answer with "
                    f'{{"suitable": true or false, "reason": ...}}:')
        prompt = self.builder.context(ctx, f"check the proposed skill {skill.describe()}",
                                      question=question)
        try:
            out = self.model.generate(GenerationRequest(self.builder.system(), prompt.text,
                                                        max_new_tokens=self.max_new_tokens))
        except LanguageModelError as e:
            self.counters["llm_critic_unread"] += 1
            log.warning("the language-model critic could not ask the model (%s); %s is "
                        "approved unreviewed", e, skill.describe())
            return Verdict(True)
        verdict = read_verdict(out.text)
        if verdict is None:
            self.counters["llm_critic_unread"] += 1
            log.debug("the language-model critic found no verdict in the answer; %s is "
                      "approved", skill.describe())
            return Verdict(True)
        if not verdict.ok:
            self.counters["llm_critic_vetoes"] += 1
            return Verdict(False, f"the language model judged {skill.describe()} unsuitable: "
                                  f"{verdict.reason or 'no reason given'}")
        return verdict
