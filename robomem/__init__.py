"""robomem: brain-inspired memory for embodied agents.

Importing :mod:`robomem.envs` registers the Gymnasium environments (``robomem/Household-v0``).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
