"""The AI2-THOR bridge (work in progress): frame conversions and its embodiment's data.

The Gymnasium env around ``ai2thor.controller.Controller`` is not written yet; see
``docs/ai2thor-protocol.md`` for the protocol notes it will build on.
"""
