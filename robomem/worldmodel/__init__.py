"""World-model backbones: selective state-space (Mamba-style) sequence models in pure torch."""

from __future__ import annotations

from robomem.worldmodel.ssm import (
    SelectiveSSM,
    SSMBackbone,
    SSMState,
    selective_scan_chunked,
    selective_scan_sequential,
)

__all__ = [
    "SSMBackbone",
    "SSMState",
    "SelectiveSSM",
    "selective_scan_chunked",
    "selective_scan_sequential",
]
