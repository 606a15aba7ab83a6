"""Time ``SpatialMemory.write`` on real 300x300 percepts (not collected by pytest).

Run: ``.venv/bin/python -m tests.memory.bench_write [--steps 300] [--size 300]``.
Percepts come from the real preprocessor when it is importable, else from the test fixture's
back-projection. The agent wanders (moves, turns, looks) deterministically; only ``write`` is
timed, and p50 / p90 / p99 / max are printed in milliseconds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from robomem.memory import SpatialMemory
from robomem.types import Action
from tests.fixtures.household import make_sim
from tests.fixtures.memory import make_percept
from tests.fixtures.world import HOUSEHOLD

PATTERN = ["MoveAhead", "MoveAhead", "RotateRight", "MoveAhead", "LookDown", "RotateLeft",
           "MoveAhead", "MoveAhead", "LookUp", "RotateRight", "RotateRight", "MoveAhead"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--size", type=int, default=300)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    env = make_sim(seed=args.seed, width=args.size, height=args.size)
    try:
        from robomem.preprocess.preprocessor import Preprocessor
        pre: Preprocessor | None = Preprocessor()
    except ImportError:
        pre = None
    mem = SpatialMemory()
    rng = np.random.default_rng(0)
    obs, info = env._obs(), env._info(env._metadata("Initialize", True, ""), False)
    last: Action | None = None
    times, npts, seg = [], [], []
    for step in range(args.steps):
        if pre is not None:
            percept = pre.process(HOUSEHOLD.observe(obs, info), last)
        else:
            percept = make_percept(obs, step=step, stride=2)
        npts.append(len(percept.points))
        seg.append(mem.cfg.rooms_every > 0 and mem.writes % mem.cfg.rooms_every == 0)
        t = time.perf_counter()
        mem.write(percept)
        times.append(1000 * (time.perf_counter() - t))
        name = PATTERN[step % len(PATTERN)] if rng.random() > 0.2 else "RotateLeft"
        last = Action(name)
        obs, _, _, _, info = env.step(name)
    t_ms, rooms = np.array(times), np.array(seg)
    print(f"percepts from {'Preprocessor' if pre else 'fixture'}; {args.size}x{args.size}; "
          f"points/frame p50 {int(np.median(npts))} max {max(npts)}; "
          f"objects {len(mem.graph)}; voxels {len(mem.voxels)}; grid {mem.grid.shape}")
    for name, sel in (("all writes", np.ones_like(rooms)), ("without rooms", ~rooms),
                      ("with rooms", rooms)):
        if sel.any():
            t = t_ms[sel]
            print(f"write() ms, {name} ({sel.sum()}): " + ", ".join(
                f"p{q} {np.percentile(t, q):.2f}" for q in (50, 90, 99)) + f", max {t.max():.2f}")


if __name__ == "__main__":
    main()
