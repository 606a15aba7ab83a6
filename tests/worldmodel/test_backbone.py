"""Tests for robomem.worldmodel.backbone (the Backbone interface and the BACKBONES registry)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from robomem.worldmodel import (
    BACKBONES,
    Backbone,
    CausalTransformer,
    SSMBackbone,
    make_backbone,
)

KWARGS: dict[str, dict[str, Any]] = {"ssm": {"d_state": 4}, "transformer": {"n_heads": 2}}


def _build(name: str, seed: int = 0) -> Backbone[Any]:
    torch.manual_seed(seed)
    return make_backbone(name, d_model=8, n_layers=2, **KWARGS[name]).eval()


def test_registry_names_and_types() -> None:
    assert BACKBONES.names() == ["ssm", "transformer"]
    assert isinstance(make_backbone("ssm", 8, 1), SSMBackbone)
    assert isinstance(make_backbone("transformer", 8, 1, n_heads=2), CausalTransformer)
    assert isinstance(SSMBackbone(8, 1), Backbone)


def test_unknown_name_lists_known() -> None:
    with pytest.raises(KeyError, match="known: ssm, transformer"):
        make_backbone("lstm", 8, 1)


def test_backbone_is_abstract() -> None:
    with pytest.raises(TypeError):
        Backbone()  # type: ignore[abstract]


@pytest.mark.parametrize("name", ["ssm", "transformer"])
@pytest.mark.parametrize("seed", [0, 1])
def test_same_interface_step_equals_forward(name: str, seed: int) -> None:
    m = _build(name, seed)
    assert isinstance(m, Backbone)
    x = torch.randn(3, 7, 8)
    resets = torch.zeros(3, 7, dtype=torch.bool)
    resets[1, 3] = True
    y = m(x, resets)
    assert y.shape == (3, 7, 8)
    state = m.init_state(3)
    ys = []
    for t in range(7):
        y_t, state = m.step(x[:, t], state, resets[:, t])
        assert y_t.shape == (3, 8)
        ys.append(y_t)
    torch.testing.assert_close(torch.stack(ys, dim=1), y, atol=1e-5, rtol=0)
    # state=None starts fresh, like init_state.
    y0, _ = m.step(x[:, 0])
    torch.testing.assert_close(y0, y[:, 0], atol=1e-5, rtol=0)
