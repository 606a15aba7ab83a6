"""Shared pytest setup: registers robomem's Gymnasium envs for every test, and shares the cores.

Under pytest-xdist every worker would start one torch (OpenMP) thread per core; with more
threads than free cores, OpenMP threads spin while they wait for each other and small torch
ops run ~100x slower. Each worker gets its share of the cores instead.
"""

from __future__ import annotations

import os

# ROS 2 tests run a real DDS graph: discovery stays on this host (loopback and shared memory),
# set before anything can call rclpy.init(); each test then joins a domain of its own
# (tests/fixtures/ros.py).
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.pop("ROS_STATIC_PEERS", None)

import robomem.envs  # noqa: F401  (registers robomem/Household-v0 with Gymnasium)

if os.environ.get("PYTEST_XDIST_WORKER"):
    import torch

    _workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // _workers))

# FutureWarning / DeprecationWarning triggered by robomem's own code fail the test.
pytest_plugins = ["tests.fixtures.deprecations", "tests.fixtures.ros"]
