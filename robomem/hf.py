"""Quiet, offline use of the Hugging Face libraries (transformers, sentence-transformers).

robomem loads models only from local folders and packages, so nothing here downloads; and
a model load should not print a progress bar when the user asked for none (``--no-progress``)
or when the load is instant (the packaged MiniLM).

Example:
    >>> from robomem.hf import progress_bars_hidden
    >>> with progress_bars_hidden():
    ...     pass  # load a model here without transformers' "Loading weights" bar
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["hide_progress_bars", "progress_bars_hidden"]

_ENV = "HF_HUB_DISABLE_PROGRESS_BARS"  # read by huggingface_hub and transformers on import


def hide_progress_bars() -> None:
    """Hide the Hugging Face libraries' progress bars for the rest of this process."""
    os.environ[_ENV] = "1"
    if "transformers" in sys.modules:
        importlib.import_module("transformers.utils.logging").disable_progress_bar()
    if "huggingface_hub" in sys.modules:
        importlib.import_module("huggingface_hub.utils").disable_progress_bars()


@contextmanager
def progress_bars_hidden() -> Iterator[None]:
    """Hide transformers' progress bars inside the block; restore them afterwards."""
    try:
        logging_ = importlib.import_module("transformers.utils.logging")
    except ImportError:  # nothing to hide
        yield
        return
    was_on = bool(logging_.is_progress_bar_enabled())
    logging_.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            logging_.enable_progress_bar()
