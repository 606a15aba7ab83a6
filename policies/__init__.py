"""Low-level executors and agents that act in an env (imports as robomem.policies)."""
