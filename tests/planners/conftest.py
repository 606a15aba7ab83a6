"""Planner tests run tiny torch models: one torch thread per test module.

More torch (OpenMP) threads than free cores make the small forward passes of tiny models
crawl; outside pytest-xdist (where ``tests/conftest.py`` already shares the cores) this keeps
them fast.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """One torch thread for the module, restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
