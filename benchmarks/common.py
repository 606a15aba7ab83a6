"""Shared helpers for benchmark scripts: output folder, JSON writing, machine description."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"


def machine() -> dict[str, Any]:
    """A short description of where the figures were measured."""
    return {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d")}


def write_json(name: str, data: dict[str, Any], out: Path | None = None) -> Path:
    """Write ``data`` (plus the machine description) to ``<out>/<name>.json``."""
    folder = out or OUT
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2))
    return path
