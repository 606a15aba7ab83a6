"""The real AI2-THOR's embodiment: its action names, its failure wording, its vocabulary.

Everything is in ``data/embodiment.yaml`` (each failure rule cites where AI2-THOR's wording
comes from); the object vocabulary is the AI2-THOR type list the Household world shares.

Example:
    >>> from robomem.envs.ai2thor.embodiment import AI2THOREmbodiment
    >>> emb = AI2THOREmbodiment()
    >>> emb.classify("PickupObject", "Agent hand has something in it already! Can't pick up")[0]
    <FeedbackCode.HAND_FULL: 'hand_full'>
"""

from __future__ import annotations

from pathlib import Path

from robomem.embodiment import TableEmbodiment

__all__ = ["AI2THOREmbodiment"]


class AI2THOREmbodiment(TableEmbodiment):
    """``ai2thor.controller.Controller`` as the core sees it."""

    name = "ai2thor"
    DATA = Path(__file__).parent / "data" / "embodiment.yaml"
