"""Top-level package marker for the launch configs shipped with robomem (data only)."""
