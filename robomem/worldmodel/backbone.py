"""The common interface of world-model sequence backbones, and a registry to build them by name.

A :class:`Backbone` maps ``(B, L, d_model)`` to ``(B, L, d_model)`` with :meth:`Backbone.forward`
and advances one step at a time with :meth:`Backbone.step`, carrying a backbone-specific state
(``list[SSMState]`` for ``"ssm"``, a ``KVCache`` for ``"transformer"``). Both paths honour
episode resets and agree to float precision.

Example:
    >>> import torch
    >>> from robomem.worldmodel.backbone import BACKBONES, Backbone, make_backbone
    >>> BACKBONES.names()
    ['ssm', 'transformer']
    >>> _ = torch.manual_seed(0)
    >>> model = make_backbone("transformer", d_model=8, n_layers=1, n_heads=2)
    >>> isinstance(model, Backbone), tuple(model(torch.randn(2, 3, 8)).shape)
    (True, (2, 3, 8))
    >>> make_backbone("lstm", d_model=8, n_layers=1)
    Traceback (most recent call last):
    ...
    KeyError: "unknown backbone 'lstm'; known: ssm, transformer"
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import torch
from torch import Tensor, nn

from robomem.registry import Registry
from robomem.worldmodel.ssm import SSMBackbone, SSMState

__all__ = ["BACKBONES", "Backbone", "SSMBackboneAdapter", "make_backbone"]

StateT = TypeVar("StateT")


class Backbone(nn.Module, ABC, Generic[StateT]):
    """Abstract sequence backbone with a whole-sequence and a one-step path.

    Subclasses must make ``step`` over a sequence equal ``forward`` (in eval mode). The type
    parameter ``StateT`` is the recurrent state carried between steps.
    """

    d_model: int

    @abstractmethod
    def forward(self, x: Tensor, resets: Tensor | None = None) -> Tensor:
        """Run a whole sequence.

        Args:
            x: inputs, shape ``(B, L, d_model)``.
            resets: optional bool ``(B, L)``; True at ``t`` starts a new episode in that row.

        Returns:
            Outputs, shape ``(B, L, d_model)``.
        """

    @abstractmethod
    def step(
        self, x_t: Tensor, state: StateT | None = None, resets: Tensor | None = None
    ) -> tuple[Tensor, StateT]:
        """Advance one step.

        Args:
            x_t: input, shape ``(B, d_model)``.
            state: the state from the previous step, or None to start fresh.
            resets: optional bool ``(B,)``; True starts a new episode in that row here.

        Returns:
            The output ``(B, d_model)`` and the new state.
        """

    @abstractmethod
    def init_state(
        self, batch: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> StateT:
        """The fresh state for ``batch`` rows."""


BACKBONES: Registry[Callable[..., Backbone[Any]]] = Registry(
    "backbone", group="robomem.worldmodel_backbones")
# The built-in backbones, imported on first use (other packages add theirs by entry point).
BACKBONES.add_lazy("ssm", "robomem.worldmodel.backbone:SSMBackboneAdapter")
BACKBONES.add_lazy("transformer", "robomem.worldmodel.transformer:CausalTransformer")


class SSMBackboneAdapter(SSMBackbone, Backbone[list[SSMState]]):
    """:class:`~robomem.worldmodel.ssm.SSMBackbone` as a :class:`Backbone` (unchanged behaviour).

    Args:
        d_model: model width, >= 1.
        n_layers: number of blocks, >= 1.
        **block_kwargs: passed to every ``SelectiveSSM`` (``d_state``, ``expand``, ...).
    """


# Plain SSMBackbone instances (not built through the registry) also count as backbones.
Backbone.register(SSMBackbone)


def make_backbone(name: str, d_model: int, n_layers: int, **kwargs: Any) -> Backbone[Any]:
    """Build the backbone registered as ``name``.

    Args:
        name: a registered name (``"ssm"``, ``"transformer"``).
        d_model: model width.
        n_layers: number of layers.
        **kwargs: backbone-specific arguments (e.g. ``n_heads`` for ``"transformer"``).

    Returns:
        The new backbone module.

    Raises:
        KeyError: if ``name`` is unknown; the message lists the known names.
    """
    factory = BACKBONES.get(name)
    return factory(d_model, n_layers, **kwargs)
