"""World-model backbones (selective SSM, causal transformer) behind one interface and a registry.

:class:`SSMBackbone` (Mamba-style) and :class:`CausalTransformer` are pure-torch sequence models
sharing the :class:`Backbone` interface; :func:`make_backbone` builds one by name.
:class:`WorldModel` puts observation/action embeddings and prediction heads around a backbone.
"""

from __future__ import annotations

from robomem.worldmodel.backbone import BACKBONES, Backbone, SSMBackboneAdapter, make_backbone
from robomem.worldmodel.model import (
    WorldModel,
    WorldModelBatch,
    WorldModelConfig,
    WorldModelOutput,
)
from robomem.worldmodel.ssm import (
    SelectiveSSM,
    SSMBackbone,
    SSMState,
    selective_scan_chunked,
    selective_scan_sequential,
)
from robomem.worldmodel.transformer import CausalTransformer, KVCache

__all__ = [
    "BACKBONES",
    "Backbone",
    "CausalTransformer",
    "KVCache",
    "SSMBackbone",
    "SSMBackboneAdapter",
    "SSMState",
    "SelectiveSSM",
    "WorldModel",
    "WorldModelBatch",
    "WorldModelConfig",
    "WorldModelOutput",
    "make_backbone",
    "selective_scan_chunked",
    "selective_scan_sequential",
]
