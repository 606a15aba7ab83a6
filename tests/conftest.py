"""Shared pytest setup: registers robomem's Gymnasium envs for every test."""

from __future__ import annotations

import robomem.envs  # noqa: F401  (registers robomem/Household-v0 with Gymnasium)
