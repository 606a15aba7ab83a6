"""Soak test: many lifelong episodes in one process on one store; does memory use stay flat?

Runs ``--episodes`` episodes of the default ``robomem run`` (``launch/household.yaml``: the
memory agent with full memory, 300x300, SPL on) on one seed in ONE process, committing
every episode to ONE store (a temporary folder unless ``--store`` is given), through the
very code path of ``robomem run --store DIR`` (``robomem.runner.run`` with its
``on_episode_end`` hook). The task sequence is the seed's, so every run sees the same one.

At the end of every episode it records the process' resident memory (RSS, from
``/proc/self/statm``) and its peak within the episode (``VmHWM``, reset after each
reading), its open file descriptors (``/proc/self/fd``), its threads (``/proc/self/status``),
the store's size on disk and the memory modules' own data (a deep size of each module's
Python objects, numpy arrays and faiss vectors; the text encoder, its model weights and its
cache, is left out). The growth per episode is the least-squares slope after the warm-up (by
default the second half of the run). RSS growing much faster than the modules' data is a
leak. ``--malloc-trim`` hands free heap pages back to the OS (glibc ``malloc_trim``) before
each reading, which tells allocator fragmentation from live objects (the memory agent
itself now does so at every episode's end: ``robomem.agent.release_free_heap``).

    python benchmarks/soak.py --episodes 200
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/x.py` too

from benchmarks.common import OUT, write_json
from robomem.config import default_launch, load_config
from robomem.policies.base import Policy
from robomem.runner import EpisodeRecord, run

MB = 1024.0 * 1024.0
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """Resident set size of this process, in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def open_fds() -> int:
    """Open file descriptors of this process."""
    return len(os.listdir("/proc/self/fd"))


def threads() -> int:
    """OS threads of this process (native pools included, not only Python's)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def peak_rss_bytes(reset: bool = True) -> int | None:
    """Peak RSS since the last reset (``VmHWM``), then reset it; None where Linux cannot."""
    peak = None
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) * 1024
    if reset:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets the peak to the current RSS (Linux 4.0 and later)
        except OSError:
            return None
    return peak


def malloc_trim() -> bool:
    """Return free glibc heap memory to the OS; False where there is no glibc."""
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


def folder_bytes(path: Path) -> int:
    """Bytes of the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def deep_bytes(obj: Any, seen: set[Any] | None = None, skip: tuple[type, ...] = ()) -> int:
    """Bytes held by ``obj`` and what it references: Python objects, numpy data, faiss vectors.

    Modules, classes, functions, locks, thread pools and the ``skip`` types are not
    followed; numpy views count once, under the array that owns the data.
    """
    import faiss

    seen = set() if seen is None else seen  # ids, and ("faiss", pointer) pairs
    stack = [obj]
    total = 0
    opaque = (type, type(sys), type(deep_bytes), type(print), type(ctypes))
    while stack:
        o = stack.pop()
        if id(o) in seen or isinstance(o, opaque) or (skip and isinstance(o, skip)):
            continue
        seen.add(id(o))
        name = type(o).__module__ or ""
        if name.startswith(("threading", "concurrent", "_thread", "torch", "transformers")):
            continue
        if isinstance(o, np.ndarray):
            total += sys.getsizeof(o) if o.base is None else 96
            if o.base is not None:
                stack.append(o.base)
            continue
        if isinstance(o, faiss.Index):  # one C++ index may have several Python proxies
            idx = faiss.downcast_index(o)
            ptr = ("faiss", int(idx.this))
            if ptr in seen:
                continue
            seen.add(ptr)
            if isinstance(idx, faiss.IndexIDMap2):
                total += int(idx.ntotal) * 48  # the id vector and its reverse hash map
                stack.append(idx.index)
            else:  # the codes (d float32 per vector for flat; graph links not counted)
                total += int(idx.ntotal) * int(getattr(idx, "code_size", 4 * idx.d))
            continue
        try:
            total += sys.getsizeof(o)
        except TypeError:
            continue
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, (list, tuple, set, frozenset)):
            stack.extend(o)
        if hasattr(o, "__dict__") and not name.startswith("faiss"):
            stack.append(vars(o))
        for slot in getattr(type(o), "__slots__", ()):
            if isinstance(slot, str) and hasattr(o, slot):
                stack.append(getattr(o, slot))
    return total


def module_bytes(policy: Policy) -> dict[str, int]:
    """Deep size of each memory module's data (the episodic text encoder left out)."""
    from robomem.memory.encoders import TextEncoder

    system = getattr(policy, "system", None)
    if system is None:
        return {}
    return {m.name: deep_bytes(m, skip=(TextEncoder,)) for m in system.modules}


def slope(y: list[float], start: int) -> float:
    """Least-squares growth per episode of ``y[start:]`` (NaN with fewer than 2 points)."""
    ys = np.asarray(y[start:], np.float64)
    if len(ys) < 2:
        return float("nan")
    return float(np.polyfit(np.arange(start, start + len(ys)), ys, 1)[0])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the soak test; returns the summary (also written as JSON)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--episodes", type=int, default=200, help="episodes, all in one process")
    ap.add_argument("--seed", type=int, default=0, help="the house (and task sequence) seed")
    ap.add_argument("--width", type=int, default=300, help="image width (robomem run's default)")
    ap.add_argument("--height", type=int, default=300, help="image height")
    ap.add_argument("--store", type=Path, default=None,
                    help="the store (default: a new temporary folder, removed afterwards)")
    ap.add_argument("--warmup", type=int, default=None,
                    help="episodes left out of the fitted slope (default: the first half)")
    ap.add_argument("--malloc-trim", action="store_true",
                    help="call glibc malloc_trim(0) before each reading (fragmentation check)")
    ap.add_argument("--no-module-sizes", action="store_true",
                    help="skip the deep size of the memory modules (it costs time late on)")
    ap.add_argument("--out", type=Path, default=OUT, help="folder for soak.json and soak.png")
    ap.add_argument("--name", default="soak", help="file name stem of the JSON and the plot")
    ap.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                    help="extra robomem run overrides, e.g. spl=false")
    args = ap.parse_args(argv)
    if args.episodes < 2:
        ap.error("--episodes must be at least 2")
    warmup = min(args.episodes // 2, args.episodes - 2) if args.warmup is None else args.warmup
    if not 0 <= warmup <= args.episodes - 2:
        ap.error(f"--warmup must be between 0 and {args.episodes - 2}")
    warnings.filterwarnings("ignore", module="gymnasium")
    tmp = None if args.store is not None else tempfile.TemporaryDirectory(prefix="soak-")
    store = args.store if args.store is not None else Path(tmp.name) / "store"  # type: ignore[union-attr]
    runs = Path(tmp.name) / "runs" if tmp is not None else args.out / "soak_runs"
    over = [f"episodes={args.episodes}", f"seeds=[{args.seed}]", f"env.width={args.width}",
            f"env.height={args.height}", f"store={store}", f"out={runs}",
            f"name={args.name}", *args.overrides]
    cfg = load_config(default_launch(), over)
    rows: list[dict[str, Any]] = []
    t_start = [time.perf_counter()]

    def on_episode_end(rec: EpisodeRecord, policy: Policy) -> None:
        peak = peak_rss_bytes()  # the episode's own peak, before anything is trimmed
        if args.malloc_trim:
            malloc_trim()
        row: dict[str, Any] = {
            "episode": len(rows), "rss_mb": rss_bytes() / MB,
            "peak_rss_mb": peak / MB if peak is not None else None, "fds": open_fds(),
            "threads": threads(), "seconds": time.perf_counter() - t_start[0],
            "steps": rec.steps, "success": rec.success,
            "store_mb": folder_bytes(store) / MB if store.exists() else 0.0}
        if not args.no_module_sizes:
            row["modules_mb"] = {k: v / MB for k, v in module_bytes(policy).items()}
        rows.append(row)
        t_start[0] = time.perf_counter()

    t0 = time.perf_counter()
    peak_rss_bytes()  # from here on, each episode's peak
    run(cfg, progress=True, on_episode_end=on_episode_end)
    wall = time.perf_counter() - t0
    if tmp is not None:
        tmp.cleanup()
    rss = [r["rss_mb"] for r in rows]
    data = [sum(r.get("modules_mb", {}).values()) for r in rows]
    secs = [r["seconds"] for r in rows]
    summary = {
        "episodes": len(rows), "seed": args.seed, "size": [args.width, args.height],
        "warmup": warmup, "malloc_trim": args.malloc_trim, "overrides": args.overrides,
        "rss_mb_first": rss[0], "rss_mb_at_warmup_end": rss[warmup], "rss_mb_end": rss[-1],
        "rss_mb_peak": (max(r["peak_rss_mb"] for r in rows) if rows[0]["peak_rss_mb"] is not None
                        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0),
        "episode_peak_rss_mb_at_warmup_end": rows[warmup]["peak_rss_mb"],
        "episode_peak_rss_mb_end": rows[-1]["peak_rss_mb"],
        "episode_peak_rss_slope_mb_per_episode": (
            slope([r["peak_rss_mb"] for r in rows], warmup)
            if all(r["peak_rss_mb"] is not None for r in rows) else None),
        "rss_slope_mb_per_episode": slope(rss, warmup),
        "module_data_slope_mb_per_episode": (slope(data, warmup)
                                             if not args.no_module_sizes else None),
        "store_slope_mb_per_episode": slope([r["store_mb"] for r in rows], warmup),
        "fds_first": rows[0]["fds"], "fds_end": rows[-1]["fds"],
        "fds_slope_per_episode": slope([float(r["fds"]) for r in rows], warmup),
        "threads_first": rows[0]["threads"], "threads_end": rows[-1]["threads"],
        "threads_slope_per_episode": slope([float(r["threads"]) for r in rows], warmup),
        "seconds_per_episode": float(np.mean(secs)),
        "seconds_per_episode_last_10": float(np.mean(secs[-10:])),
        "mean_steps": float(np.mean([r["steps"] for r in rows])),
        "success_rate": float(np.mean([r["success"] for r in rows])),
        "wall_seconds": wall, "per_episode": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    path = write_json(args.name, summary, args.out)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.8))
    x = np.arange(len(rows))
    a.plot(x, rss, color="#4c72b0", label="RSS at episode end")
    if all(r["peak_rss_mb"] is not None for r in rows):
        a.plot(x, [r["peak_rss_mb"] for r in rows], color="#4c72b0", alpha=0.35, lw=0.8,
               label="peak RSS within the episode")
    if warmup < len(rows) - 1:
        fit = np.polyfit(x[warmup:], np.asarray(rss[warmup:]), 1)
        a.plot(x[warmup:], np.polyval(fit, x[warmup:]), "--", color="#c44e52",
               label=f"fit after warm-up: {fit[0]:+.2f} MB/episode")
    a.axvline(warmup, color="grey", lw=0.8, ls=":")
    a.set_xlabel("episode")
    a.set_ylabel("RSS (MB)")
    a.set_title("Resident memory")
    a.legend()
    if not args.no_module_sizes:
        b.plot(x, data, color="#55a868", label="memory modules' data")
    b.plot(x, [r["store_mb"] for r in rows], color="#8172b2", label="store on disk")
    b.set_xlabel("episode")
    b.set_ylabel("MB")
    b.set_title("What memory legitimately keeps")
    b.legend()
    fig.suptitle(f"Soak: {len(rows)} episodes, one process, one store, "
                 f"{args.width}x{args.height}")
    fig.tight_layout()
    fig.savefig(args.out / f"{args.name}.png", dpi=120)
    plt.close(fig)
    brief = {k: v for k, v in summary.items() if k != "per_episode"}
    print(json.dumps(brief, indent=1))
    print(f"RSS {summary['rss_mb_at_warmup_end']:.0f} MB after warm-up (episode {warmup}) -> "
          f"{summary['rss_mb_end']:.0f} MB at the end, {summary['rss_slope_mb_per_episode']:+.2f} "
          f"MB/episode; fds {summary['fds_first']} -> {summary['fds_end']}, threads "
          f"{summary['threads_first']} -> {summary['threads_end']}; "
          f"{summary['seconds_per_episode']:.1f} s/episode -> {path}")
    return summary


if __name__ == "__main__":
    main()
