"""robomem/Tabletop-v0: embedded tabletop manipulation on pybullet (robomem.envs.tabletop)."""
