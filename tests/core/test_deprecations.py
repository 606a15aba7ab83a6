"""The deprecation guard (tests/fixtures/deprecations.py) is active and aims at robomem's code."""

from __future__ import annotations

import warnings

import pytest

from tests.fixtures.deprecations import own_frame


def _warn_from(module: str, category: type[Warning]) -> None:
    """Warn from a frame whose module is ``module`` (as if that module's code warned)."""
    code = compile("warnings.warn('old call', category, stacklevel=1)", f"<{module}>", "exec")
    exec(code, {"__name__": module, "warnings": warnings, "category": category})


@pytest.mark.parametrize("category", [FutureWarning, DeprecationWarning])
def test_a_deprecation_robomem_triggers_fails_the_test(category: type[Warning]) -> None:
    with pytest.raises(category, match=r"triggered by robomem code at robomem\.fake:1"):
        _warn_from("robomem.fake", category)


def test_other_warnings_are_recorded_not_raised(recwarn: pytest.WarningsRecorder) -> None:
    _warn_from("thirdparty.module", FutureWarning)  # no robomem frame on the stack
    _warn_from("robomem.fake", UserWarning)  # not a deprecation
    assert [w.category for w in recwarn] == [FutureWarning, UserWarning]


def test_own_frame_finds_the_innermost_robomem_frame() -> None:
    import sys

    assert own_frame(sys._getframe()) is None  # tests are not robomem's code
