"""Top-level package marker for the scene specs shipped with robomem (data only)."""
