"""Prompts for language-model planners: a static system part and a memory context in a budget.

:meth:`PromptBuilder.system` renders what never changes within a run: the role, every skill with
its arguments, the rules and the JSON answer format. Backends keep its KV cache
(:mod:`robomem.planners.local_lm`), so it is byte-identical between calls.

:meth:`PromptBuilder.context` renders what memory knows right now, most relevant first, and
stops adding lines when the token budget is spent:

1. the task: instruction, current subgoal, what is held (always kept);
2. feedback: why the last answers were rejected or vetoed, and failed skills (always kept);
3. the scene graph: the task's objects first, then the nearest objects, with their keys,
   receptacles, open/on states and distance;
4. retrieved episodes: similar past instructions, their outcome and plan;
5. semantic facts: usual places, skill success rates, learned preconditions;
6. recent events and other recalled facts.

Example:
    >>> from robomem.planners.prompt import PromptBuilder, approx_tokens
    >>> builder = PromptBuilder(token_budget=400)
    >>> "pickup" in builder.system() and '"skill"' in builder.system()
    True
    >>> approx_tokens("put the mug in the fridge")
    7
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from robomem.memory.base import Fact
from robomem.memory.view import ObjectView
from robomem.planners.base import PlanContext
from robomem.skills import (
    CLOSE,
    DONE,
    EXPLORE,
    NAVIGATE,
    OPEN,
    PICKUP,
    PUT,
    TOGGLE_OFF,
    TOGGLE_ON,
)

__all__ = ["PLAN_QUESTION", "SKILL_HELP", "Prompt", "PromptBuilder", "approx_tokens"]

SKILL_HELP: dict[str, str] = {
    NAVIGATE: "walk to an object; target = its key",
    PICKUP: "pick up an object (hand empty, object reachable); target = its key",
    PUT: "put the held object in or on a receptacle; target = the receptacle's key",
    OPEN: "open an openable object; target = its key",
    CLOSE: "close an open object; target = its key",
    TOGGLE_ON: "switch an object on (lamp, microwave, stove, faucet); target = its key",
    TOGGLE_OFF: "switch an object off; target = its key",
    EXPLORE: "walk to unexplored space to find things; optional label = the type sought",
    DONE: "the task is complete (or cannot be done)",
}

ANSWER_EXAMPLE = ('{"subgoals": ["pick up the mug", "put it in the fridge"], '
                  '"skill": {"name": "pickup", "target": "Mug|+01.00|+00.90|+02.00"}, '
                  '"reason": "the mug is on the counter next to me"}')


PLAN_QUESTION = "Your answer (one JSON object with the next skill):"


def approx_tokens(text: str) -> int:
    """A tokenizer-free token estimate: about 4 characters per token (at least 1 per word)."""
    return max(len(text.split()), math.ceil(len(text) / 4))


@dataclass
class Prompt:
    """A rendered memory context and what was left out for the budget."""

    text: str
    tokens: int
    dropped: dict[str, int] = field(default_factory=dict)


class PromptBuilder:
    """Renders the system part and budgeted memory contexts.

    Args:
        token_budget: tokens the context may use at most (the always-kept task and feedback
            sections are counted too).
        count_tokens: the token counter (a backend's tokenizer; default :func:`approx_tokens`).
        max_objects: scene-graph lines at most, before the budget applies.
    """

    def __init__(self, token_budget: int = 1500,
                 count_tokens: Callable[[str], int] = approx_tokens,
                 max_objects: int = 40) -> None:
        if token_budget < 64:
            raise ValueError(f"token_budget must be at least 64, got {token_budget}")
        self.token_budget = token_budget
        self.count_tokens = count_tokens
        self.max_objects = max_objects

    # ------------------------------------------------------------------ system part
    def system(self) -> str:
        """The static instructions: role, skills, rules and the answer format."""
        skills = "\n".join(f"- {name}: {help_}" for name, help_ in SKILL_HELP.items())
        return (
            "You are the planner of a household robot. You choose the robot's next skill from "
            "what its memory tells you.\n\n"
            f"Skills:\n{skills}\n\n"
            "Rules:\n"
            "- Answer with one JSON object and nothing else; never write code.\n"
            "- Choose exactly one skill, for the current subgoal.\n"
            "- A target must be an object key exactly as listed under 'Objects in memory'.\n"
            "- If the object you need is not in memory, explore (with its type as label).\n"
            "- Open a closed receptacle before putting into it or taking from it.\n"
            "- Read the feedback: do not repeat a rejected or vetoed choice.\n\n"
            "Answer format:\n"
            '{"subgoals": [<the remaining subgoals, short phrases>], '
            '"skill": {"name": <skill>, "target": <object key, if the skill takes one>, '
            '"label": <object type, optional>}, "reason": <one sentence>}\n'
            f"Example: {ANSWER_EXAMPLE}\n\n"
            "When you are instead asked to check a proposed skill, answer "
            '{"suitable": true or false, "reason": <one sentence>}.'
        )

    # ------------------------------------------------------------------ context part
    def context(self, ctx: PlanContext, subgoal: str, goal_labels: Sequence[str] = (),
                feedback: Sequence[str] = (), question: str = PLAN_QUESTION) -> Prompt:
        """The memory context for one planner call, most relevant first, within the budget.

        Args:
            ctx: the planner's view (percept, scene graph, recalled facts, instruction).
            subgoal: the current subgoal in words.
            goal_labels: object types the task is about (their objects are listed first).
            feedback: rejections, vetoes and failures to tell the model, oldest first.
            question: the closing line (the planner's question, or a critic's).
        """
        held = ctx.percept.held or "nothing"
        task = [f"Task: {ctx.instruction or '(no instruction)'}",
                f"Current subgoal: {subgoal}", f"Holding: {held}", f"Step: {ctx.step}"]
        sections: list[tuple[str, list[str]]] = [
            ("Objects in memory (key: type, where, state, distance)",
             self._objects(ctx, goal_labels)),
            ("Similar past episodes", self._facts(ctx.recall.of("episodic"))),
            ("Known regularities", self._facts(ctx.recall.of("semantic"))),
            ("Recent events and other memories",
             self._facts([f for m in sorted(ctx.recall.facts) if m not in ("episodic", "semantic")
                          for f in ctx.recall.facts[m]])),
        ]
        lines = ["\n".join(task)]
        if feedback:
            lines.append("Feedback on your last answers:\n" + "\n".join(f"- {f}"
                                                                        for f in feedback))
        used = self.count_tokens("\n\n".join(lines)) + self.count_tokens(question) + 2
        dropped: dict[str, int] = {}
        for title, items in sections:
            kept: list[str] = []
            cost = self.count_tokens(title) + 2
            for i, item in enumerate(items):
                c = self.count_tokens(item) + 1
                if used + cost + c > self.token_budget:
                    dropped[title] = len(items) - i
                    break
                kept.append(item)
                cost += c
            if kept:
                more = f"\n({dropped[title]} more left out)" if title in dropped else ""
                lines.append(f"{title}:\n" + "\n".join(kept) + more)
                used += cost
        lines.append(question)
        text = "\n\n".join(lines)
        return Prompt(text, self.count_tokens(text), dropped)

    def _objects(self, ctx: PlanContext, goal_labels: Sequence[str]) -> list[str]:
        pose = ctx.percept.agent_pose
        wanted = set(goal_labels)

        def distance(n: ObjectView) -> float:
            c = n.box.center
            return math.hypot(float(c[0]) - pose.x, float(c[2]) - pose.z)

        nodes = sorted(ctx.scene.nodes(),
                       key=lambda n: (n.label not in wanted, distance(n), n.key))
        out = []
        for n in nodes[:self.max_objects]:
            where = f"{n.relation or 'in'} {n.parent}" if n.parent else (n.room or "")
            state = []
            if n.openable:
                state.append({True: "open", False: "closed", None: "open?"}[n.is_open])
            if n.is_toggled is not None:
                state.append("on" if n.is_toggled else "off")
            if n.held:
                state.append("held")
            parts = [p for p in (where, ", ".join(state)) if p]
            out.append(f"- {n.key}: {n.label}" + (f", {'; '.join(parts)}" if parts else "")
                       + f", {distance(n):.1f} m")
        return out

    @staticmethod
    def _facts(facts: Sequence[Fact]) -> list[str]:
        ranked = sorted(facts, key=lambda f: -f.score)
        out = []
        for f in ranked:
            if f.kind == "similar_episode":
                plan = "; ".join(f"{p.get('skill', '')} {p.get('label', '')}".strip()
                                 for p in f.data.get("plan", [])[:8])
                out.append(f"- \"{f.subject}\" {f.value}" + (f" (plan: {plan})" if plan else ""))
            else:
                out.append(f"- {f.kind}: {f.subject} -> {f.value} ({f.score:.2f})")
        return out
