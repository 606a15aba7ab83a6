"""Closed-loop planners, critics and language-model backends (imports as robomem.planners)."""
