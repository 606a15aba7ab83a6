"""The language-model planner: a (vision-)language model chooses each skill from memory.

:class:`LLMPlanner` runs the same closed loop as the symbolic planner (plan -> critic -> act ->
verify -> replan) with a :class:`~robomem.planners.lm.LanguageModel` choosing the skills:

1. **Progress.** The goal's subgoals and their completion are tracked against memory by the
   symbolic planner's checks, so the agent's loop detector and memory baselines see the same
   subgoal index whichever backend plans.
2. **Prompt.** The static system part (skills, rules, answer format) and a memory context
   (task, feedback, scene graph, similar episodes, semantic facts, recent events) within a
   token budget (:class:`~robomem.planners.prompt.PromptBuilder`); with ``images`` the current
   RGB frame goes along.
3. **Answer as data.** The answer is parsed as JSON and validated against the skills and
   spatial memory (:func:`~robomem.planners.llm_output.parse_answer`); it is never executed.
   A rejected answer's reason is fed back and the model is asked again. A hostile answer
   (huge, deeply nested, injected text in a field) is rejected the same way, never raised.
4. **Critic.** An approved skill goes through the critic chain (preconditions from memory, and
   optionally the language model itself, :class:`~robomem.planners.llm_critic.LanguageModelCritic`,
   and the world-model critic). A veto is fed back and the model replans.
5. **Fallback.** After ``max_invalid`` unusable answers in a row (rejected, vetoed, or a
   backend error) the symbolic planner takes over the current subgoal; the fallback is counted
   and logged in :attr:`LLMPlanner.fallbacks`.

Feedback lines (rejections, vetoes, failures) are folded onto one line and cut to
:data:`MAX_FEEDBACK_CHARS` before they reach the prompt, since some quote model or server text.

The agent's loop detector and the env's step limit apply as with every planner.

Example:
    >>> from robomem.planners.instruction import parse_instruction
    >>> from robomem.planners.llm import LLMConfig, LLMPlanner
    >>> from robomem.planners.lm import ScriptedModel
    >>> planner = LLMPlanner(ScriptedModel(["not json"]), LLMConfig(max_invalid=2))
    >>> planner.reset(parse_instruction("Put a mug in the fridge."))
    >>> planner.subgoal_index
    0
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from robomem.planners.base import PlanContext, Planner
from robomem.planners.critic import Critic, CriticChain, PreconditionCritic
from robomem.planners.instruction import Goal
from robomem.planners.llm_critic import LanguageModelCritic
from robomem.planners.llm_output import InvalidAnswer, parse_answer
from robomem.planners.lm import (
    GenerationRequest,
    LanguageModel,
    LanguageModelError,
    make_language_model,
)
from robomem.planners.prompt import PromptBuilder
from robomem.planners.symbolic import Subgoal, SymbolicPlanner
from robomem.skills import DONE, EXPLORE, Skill, SkillStatus

__all__ = ["MAX_FEEDBACK_CHARS", "LLMConfig", "LLMPlanner"]

log = logging.getLogger(__name__)

MAX_FEEDBACK_CHARS = 400
"""The longest feedback line put in the prompt (longer ones are cut, marked with ``...``)."""

SUBGOAL_WORDS = {"pickup": "pick up a {}", "put": "put the object in or on a {}",
                 "close": "close the {}", "on": "switch on the {}", "off": "switch off the {}",
                 "look": "look at the object under a switched-on {}"}


@dataclass
class LLMConfig:
    """Settings of the language-model planner (``llm.*`` in a launch file).

    Attributes:
        backend: a registered backend: ``openai`` (HTTP), ``local`` (transformers), ``scripted``.
        options: the backend's options, e.g. ``{"base_url": "http://127.0.0.1:8000/v1",
            "model": "qwen2.5-7b-instruct"}`` or ``{"path": "/models/Qwen2.5-0.5B-Instruct"}``.
        max_invalid: unusable answers in a row before the symbolic planner takes the subgoal.
        token_budget: tokens of memory context per call.
        max_new_tokens: answer length limit.
        critic: also ask the language model whether each skill is suitable.
        images: send the current RGB frame (for vision-language models).
        feedback_lines: rejection and veto reasons kept in the prompt (newest).
    """

    backend: str = "openai"
    options: dict[str, Any] = field(default_factory=dict)
    max_invalid: int = 3
    token_budget: int = 1500
    max_new_tokens: int = 160
    critic: bool = False
    images: bool = False
    feedback_lines: int = 6

    def __post_init__(self) -> None:
        for name in ("max_invalid", "max_new_tokens", "feedback_lines"):
            if getattr(self, name) < 1:
                raise ValueError(f"llm.{name} must be at least 1, got {getattr(self, name)}")


def describe_subgoal(sg: Subgoal) -> str:
    """A subgoal in words (``pickup:Mug`` -> ``pick up a Mug``)."""
    return SUBGOAL_WORDS.get(sg.kind, sg.kind + " {}").format(sg.label)


class LLMPlanner(Planner):
    """Closed-loop planning with a language model; see the module docstring.

    Args:
        model: the backend; None builds ``config.backend`` with ``config.options``.
        config: the :class:`LLMConfig`.
        critic: the critic chain; None gives memory preconditions (plus the language-model
            critic when ``config.critic``).
    """

    def __init__(self, model: LanguageModel | None = None, config: LLMConfig | None = None,
                 critic: Critic | None = None) -> None:
        self.config = config or LLMConfig()
        self.model = model or make_language_model(self.config.backend, **self.config.options)
        self.builder = PromptBuilder(self.config.token_budget)
        if critic is None:
            chain: list[Critic] = [PreconditionCritic()]
            if self.config.critic:
                chain.append(LanguageModelCritic(self.model, self.builder))
            critic = CriticChain(chain)
        self.symbolic = SymbolicPlanner(critic)
        self.goal: Goal | None = None
        self.feedback: list[str] = []
        self.invalid_streak = 0
        self._backend_failed = False  # the last call raised LanguageModelError
        self.fallback_subgoals: set[int] = set()
        self.fallbacks: list[dict[str, Any]] = []
        self.last_answer = ""
        self.counters: dict[str, float] = {}

    @property
    def critic(self) -> Critic:
        """The critic chain (shared with the symbolic fallback)."""
        return self.symbolic.critic

    @critic.setter
    def critic(self, value: Critic) -> None:
        self.symbolic.critic = value

    # ------------------------------------------------------------ interface
    def reset(self, goal: Goal) -> None:
        """Plan ``goal`` into subgoals and forget the last episode's feedback."""
        self.goal = goal
        self.symbolic.reset(goal)
        self.feedback, self.invalid_streak = [], 0
        self._backend_failed = False
        self.fallback_subgoals, self.fallbacks = set(), []
        self.counters = {k: 0.0 for k in ("planner_calls", "llm_calls", "invalid_answers",
                                          "llm_vetoes", "llm_fixes", "llm_errors", "fallbacks",
                                          "fallback_calls", "prompt_tokens", "cached_tokens",
                                          "llm_seconds")}

    @property
    def subgoal_index(self) -> int:
        """Subgoals completed so far."""
        return self.symbolic.index

    def stats(self) -> dict[str, float]:
        """Language-model counters plus the replans and loop breaks of the plan."""
        out = dict(self.counters)
        sym = self.symbolic.stats()
        out.update({k: sym[k] for k in ("replans", "loop_breaks") if k in sym})
        return out

    def break_loop(self, reason: str) -> None:
        """Blacklist the current target and tell the model it made no progress."""
        last = self.symbolic.last_target
        self.symbolic.break_loop(reason)
        self._tell(f"no progress ({reason})" + (f" while working on {last}; choose another "
                                                 f"object or explore" if last else ""))

    def next_skill(self, ctx: PlanContext) -> Skill:
        """The next skill: asked of the model, validated, reviewed; see the module docstring."""
        self.counters["planner_calls"] += 1
        last, result = ctx.last_skill, ctx.last_result
        if last is not None and result is not None and result.status == SkillStatus.FAILED:
            self._tell(f"{last.describe()} failed: {result.reason or 'no reason given'}")
        sg = self.symbolic.progress(ctx)
        if sg is None:
            return Skill(DONE)
        if self.symbolic.index in self.fallback_subgoals:
            self.counters["fallback_calls"] += 1
            return self.symbolic.choose(ctx)
        while self.invalid_streak < self.config.max_invalid:
            problem = self._attempt(ctx, sg)
            if isinstance(problem, Skill):
                self.invalid_streak = 0
                self.symbolic.chose(problem)
                return problem
            self.invalid_streak += 1
            self._tell(problem)
            if self._backend_failed:  # it already retried within its own time bound: asking
                break                 # again would multiply the stall; fall back at once
        self.counters["fallbacks"] += 1
        self.fallbacks.append({"step": ctx.step, "subgoal": describe_subgoal(sg),
                               "index": self.symbolic.index, "reason": self.feedback[-1],
                               "answer": self.last_answer[:200]})
        log.info("step %d: no usable answer from the language model for subgoal %d (%s); the "
                 "symbolic planner takes over this subgoal; last problem: %s", ctx.step,
                 self.symbolic.index, describe_subgoal(sg), self.feedback[-1])
        self.fallback_subgoals.add(self.symbolic.index)
        self.invalid_streak = 0
        self.counters["fallback_calls"] += 1
        return self.symbolic.choose(ctx)

    # ------------------------------------------------------------ internals
    def _tell(self, line: str) -> None:
        """Add a feedback line for the prompt: one line, at most :data:`MAX_FEEDBACK_CHARS`."""
        line = " ".join(line[:4 * MAX_FEEDBACK_CHARS].split())
        if len(line) > MAX_FEEDBACK_CHARS:
            line = line[:MAX_FEEDBACK_CHARS - 3] + "..."
        self.feedback = [*self.feedback, line][-self.config.feedback_lines:]

    def _attempt(self, ctx: PlanContext, sg: Subgoal) -> Skill | str:
        """One question to the model: the usable skill, or why the answer was not usable."""
        labels = [x for x in (self.goal.object_type, self.goal.target_type) if x] \
            if self.goal else []
        prompt = self.builder.context(ctx, describe_subgoal(sg), labels, self.feedback)
        images = (ctx.image,) if self.config.images and ctx.image is not None else ()
        request = GenerationRequest(self.builder.system(), prompt.text, images,
                                    self.config.max_new_tokens)
        self.counters["llm_calls"] += 1
        self._backend_failed = False
        try:
            out = self.model.generate(request)
        except LanguageModelError as e:
            self.counters["llm_errors"] += 1
            self._backend_failed = True
            self.last_answer = ""
            log.warning("step %d: the language model backend %s could not answer: %s",
                        ctx.step, type(self.model).__name__, e)
            return f"the language model could not answer: {e}"
        self.counters["prompt_tokens"] += out.prompt_tokens
        self.counters["cached_tokens"] += out.cached_tokens
        self.counters["llm_seconds"] += out.seconds
        self.last_answer = out.text
        try:
            skill = parse_answer(out.text, ctx.scene, ctx.label_from_id).skill
        except InvalidAnswer as e:
            self.counters["invalid_answers"] += 1
            log.debug("step %d: answer rejected: %s", ctx.step, e)
            return f"your answer was rejected: {e}"
        if skill.name == DONE:
            self.counters["invalid_answers"] += 1
            return (f"'done' was rejected: the subgoal '{describe_subgoal(sg)}' is not complete "
                    f"yet")
        if skill.name != EXPLORE:
            verdict = self.critic.review(skill, ctx)
            if not verdict.ok and verdict.fix is not None and \
                    self.critic.review(verdict.fix, ctx).ok:
                self.counters["llm_fixes"] += 1  # "open it first": the critic's fix runs
                log.debug("step %d: %s vetoed (%s); running the fix %s", ctx.step,
                          skill.describe(), verdict.reason, verdict.fix.describe())
                return verdict.fix
            if not verdict.ok:
                self.counters["llm_vetoes"] += 1
                log.debug("step %d: %s vetoed: %s", ctx.step, skill.describe(), verdict.reason)
                return f"{skill.describe()} was vetoed: {verdict.reason}"
        return skill
