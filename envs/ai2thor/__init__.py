"""The AI2-THOR bridge: ``robomem/AI2THOR-v0`` around ``ai2thor.controller.Controller``.

Frame conversions (``frames``), events to robomem's layout (``events``), the env (``env``), its
run config (``config``) and its embodiment (``embodiment`` and ``data/embodiment.yaml``).
Tasks are not posed yet (docs/environments.md).
"""
