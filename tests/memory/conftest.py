"""Shared, expensive fixtures of the spatial-memory tests (built once per session)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from robomem.envs.household.env import HouseholdEnv
from robomem.memory import SpatialMemory, SpatialMemoryConfig
from tests.fixtures.household import make_sim
from tests.fixtures.memory import explore, lattice

TWO_ROOM_SEED = 0  # a Kitchen and a LivingRoom side by side, one doorway


@dataclass
class Explored:
    """A two-room house whose every room the agent toured (ground-truth detections)."""

    env: HouseholdEnv
    memory: SpatialMemory
    steps: int


@pytest.fixture(scope="session")
def explored() -> Explored:
    env = make_sim(seed=TWO_ROOM_SEED, n_rooms=2, width=80, height=80)
    assert env.house is not None and len(env.house.rooms) == 2
    mem = SpatialMemory(SpatialMemoryConfig(rooms_every=25))
    steps = explore(env, mem, lattice(env, every=2), with_detections=True)
    mem.update_rooms()
    return Explored(env, mem, steps)
