from __future__ import annotations

from robomem.planners.loop_detector import BREAK, GIVE_UP, OK, LoopDetector


def test_repeated_signature_breaks_then_gives_up() -> None:
    d = LoopDetector(repeat_limit=2, patience=1000, max_breaks=2)
    assert [d.observe("s", False) for _ in range(3)] == [OK, OK, BREAK]
    assert [d.observe("s", False) for _ in range(3)] == [OK, OK, GIVE_UP]


def test_no_progress_breaks_and_progress_resets() -> None:
    d = LoopDetector(repeat_limit=100, patience=5, max_breaks=3)
    out = [d.observe(i, False) for i in range(6)]
    assert out[-1] == BREAK and out[:-1] == [OK] * 5
    for i in range(20):
        assert d.observe(("x", i), progress=(i % 3 == 0)) == OK
    d.reset()
    assert d.breaks == 0 and d.idle == 0
