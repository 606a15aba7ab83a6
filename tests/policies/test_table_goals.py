"""Reading table-arm instructions as goals."""

from __future__ import annotations

import pytest

from robomem.envs.tabletop.embodiment import TabletopEmbodiment
from robomem.envs.tabletop.tasks import TASKS, make_task
from robomem.policies.table_goals import (
    CLOSE_OPEN,
    PRESS_AGAIN,
    PRESS_LIT,
    PUT,
    REOPEN,
    RESTORE,
    GoalError,
    read_goals,
)

ONTO = TabletopEmbodiment().ontology


def test_every_task_instruction_reads() -> None:
    import numpy as np

    for name in TASKS:
        task = make_task(name, np.random.default_rng(0))
        first = read_goals(task.instruction(), ONTO)
        task.phase = 2
        second = read_goals(task.instruction(), ONTO)
        assert len(first) == len(second) == len(TASKS[name])
        assert not any(g.needs_memory for g in first)
        assert all(g.needs_memory for g in second)


@pytest.mark.parametrize("text, kind, typ, place", [
    ("Move the cube onto the white plate.", PUT, "Block", "Plate"),
    ("put the brick back", RESTORE, "Block", ""),
    ("return the red block back to where it started", RESTORE, "Block", ""),
    ("close the open drawer", CLOSE_OPEN, "Drawer", ""),
    ("reopen the drawer", REOPEN, "Drawer", ""),
    ("open again the drawer which was open", REOPEN, "Drawer", ""),
    ("press the lit switch", PRESS_LIT, "Button", ""),
    ("press again the button that was pressed before", PRESS_AGAIN, "Button", ""),
])
def test_paraphrases(text: str, kind: str, typ: str, place: str) -> None:
    (g,) = read_goals(text, ONTO)
    assert (g.kind, g.type, g.place) == (kind, typ, place)


def test_clauses_split_on_commas_and_and_then() -> None:
    goals = read_goals("close the open drawer; then press the lit button, and put the block "
                       "on the plate", ONTO)
    assert [g.kind for g in goals] == [CLOSE_OPEN, PRESS_LIT, PUT]


@pytest.mark.parametrize("text, match", [
    ("", "empty"),
    ("open the drawer", "cannot read 'open the drawer'"),
    ("put the banana on the plate", "'banana' names no object this world knows"),
])
def test_errors_quote_the_clause(text: str, match: str) -> None:
    with pytest.raises(GoalError, match=match):
        read_goals(text, ONTO)


def test_a_long_instruction_is_not_echoed_whole() -> None:
    with pytest.raises(GoalError) as e:
        read_goals("dance " * 10_000, ONTO)
    assert len(str(e.value)) < 400
