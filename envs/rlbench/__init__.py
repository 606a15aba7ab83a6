"""The RLBench bridge: ``robomem/RLBench-v0`` around RLBench's ``TaskEnvironment``.

Observation conversion (``convert``: RLBench's ``Observation`` in plain numpy, checked), run
settings (``config``), the env (``env``) and the embodiment (``embodiment``,
``data/embodiment.yaml``, ``data/ontology.yaml``). RLBench, PyRep and CoppeliaSim are
imported only inside the function that starts them (docs/rlbench.md says how to install
them).
"""
