"""Memory-dependent tabletop tasks in the spirit of SAM2Act's MemoryBench.

Every task runs in two phases. In the first, the world shows a fact (where the block sits,
which drawer is open, which button is lit) and the instruction asks for something that hides
it (move the block to the plate, close the drawer, press the button, after which the lights
reset). In the second, the instruction asks to undo or repeat it ("put the block back where
it was"). When the second phase starts, the scene and the instruction are exactly the same
whatever the hidden fact was (every skill ends with the arm back home), so a policy that sees
only the present can do no better than chance on the decisive step: 1 in 3 per fact.

A wrong decisive action (the block put on another bowl, another drawer opened, another button
pressed) ends the episode as a failure, as does pressing an unlit button in the first phase.

Example:
    >>> import numpy as np
    >>> from robomem.envs.tabletop.tasks import TASKS, make_task
    >>> sorted(TASKS)
    ['press_again', 'put_block_back', 'reopen_drawer', 'restore_table']
    >>> t = make_task("put_block_back", np.random.default_rng(0))
    >>> t.instruction()
    'move the red block to the plate'
    >>> t.chance
    0.3333333333333333
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from robomem.untrusted import quote

__all__ = ["TASKS", "Facts", "TabletopTask", "TaskError", "TaskWorld", "make_task"]

BOWLS = ("Bowl|1", "Bowl|2", "Bowl|3")
DRAWERS = ("Drawer|1", "Drawer|2", "Drawer|3")
BUTTONS = ("Button|1", "Button|2", "Button|3")
BLOCK, PLATE = "Block|1", "Plate|1"

# task name -> the facts it hides (block: its bowl; drawer: the open one; button: the lit one)
TASKS: dict[str, tuple[str, ...]] = {
    "put_block_back": ("block",),
    "reopen_drawer": ("drawer",),
    "press_again": ("button",),
    "restore_table": ("block", "drawer", "button"),
}
_FIRST = {"block": "move the red block to the plate", "drawer": "close the open drawer",
          "button": "press the lit button"}
_SECOND = {"block": "put the red block back where it was",
           "drawer": "open the drawer that was open before",
           "button": "press the button you pressed before the lights went out"}


class TaskError(ValueError):
    """An unknown task name or a bad task dict; the message lists what is known."""


class TaskWorld(Protocol):
    """What a task reads of the scene."""

    held: str | None

    def support_of(self, key: str) -> str:
        """What ``key`` rests on."""
        ...

    def drawer_open(self, key: str) -> bool:
        """Whether drawer ``key`` is out."""
        ...


@dataclass(frozen=True)
class Facts:
    """The hidden facts of one episode (each an object key, "" when the task has none)."""

    block: str = ""
    drawer: str = ""
    button: str = ""


@dataclass
class TabletopTask:
    """One episode's task: its facts, its phase and how it is judged.

    Attributes:
        name: a key of :data:`TASKS`.
        facts: the hidden facts.
        phase: 1 (hide the facts) or 2 (use them).
        pressed: the buttons pressed in this phase.
        failed: why the episode failed ("" while it has not).
    """

    name: str
    facts: Facts
    phase: int = 1
    pressed: list[str] = field(default_factory=list)
    failed: str = ""

    @property
    def kinds(self) -> tuple[str, ...]:
        """The facts this task hides."""
        return TASKS[self.name]

    @property
    def chance(self) -> float:
        """The success rate of guessing every decisive step."""
        return float((1 / 3) ** len(self.kinds))

    def instruction(self) -> str:
        """The current phase's instruction."""
        parts = [(_FIRST if self.phase == 1 else _SECOND)[k] for k in self.kinds]
        if len(parts) == 1:
            return parts[0]
        return ", ".join(parts[:-1]) + " and " + parts[-1]

    def to_dict(self) -> dict[str, object]:
        """The task as plain data (``info["task"]``; ``family`` is the task name)."""
        return {"family": self.name, "phase": self.phase, "block": self.facts.block,
                "drawer": self.facts.drawer, "button": self.facts.button}

    # ----------------------------------------------------------------- judging
    def on_press(self, key: str, lit: bool) -> None:
        """A button was pressed (``lit``: it was lit at the time)."""
        self.pressed.append(key)
        if self.phase == 1 and not lit:
            self.failed = f"{key} was not lit"
        elif self.phase == 2 and key != self.facts.button:
            self.failed = f"{key} is not the button pressed before"

    def on_place(self, key: str, host: str) -> None:
        """The block was set down on ``host``."""
        if self.phase == 2 and "block" in self.kinds and host in BOWLS \
                and host != self.facts.block:
            self.failed = f"{key} was put on {host}, not where it was"

    def on_open(self, key: str) -> None:
        """A drawer was opened."""
        if self.phase == 2 and "drawer" in self.kinds and key != self.facts.drawer:
            self.failed = f"{key} is not the drawer that was open"

    def phase_done(self, world: TaskWorld) -> bool:
        """Whether the current phase's goals all hold."""
        want2 = self.phase == 2
        for kind in self.kinds:
            if kind == "block":
                on = world.support_of(BLOCK)
                if world.held is not None or on != (self.facts.block if want2 else PLATE):
                    return False
            elif kind == "drawer":
                opened = [d for d in DRAWERS if world.drawer_open(d)]
                if opened != ([self.facts.drawer] if want2 else []):
                    return False
            elif kind == "button" and self.facts.button not in self.pressed:
                return False
        return True

    def advance(self, world: TaskWorld) -> bool:
        """Move to phase 2 when phase 1 is done; True once phase 2 is done (success)."""
        if self.failed or not self.phase_done(world):
            return False
        if self.phase == 1:
            self.phase, self.pressed = 2, []
            return False
        return True


def make_task(name: str, rng: np.random.Generator) -> TabletopTask:
    """Task ``name`` with facts drawn from ``rng``.

    Raises:
        TaskError: an unknown name (the message lists the tasks).
    """
    if name not in TASKS:
        raise TaskError(f"unknown tabletop task {quote(name, 60)}; known: {', '.join(TASKS)}")
    kinds = TASKS[name]
    picks = {k: int(rng.integers(3)) for k in ("block", "drawer", "button")}
    return TabletopTask(name, Facts(
        block=BOWLS[picks["block"]] if "block" in kinds else "",
        drawer=DRAWERS[picks["drawer"]] if "drawer" in kinds else "",
        button=BUTTONS[picks["button"]] if "button" in kinds else ""))
