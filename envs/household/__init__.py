"""The embedded Household simulator: procedural houses rendered by open3d ray casting."""
