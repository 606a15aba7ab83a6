"""World-model backbones, S4WM-style: SSM versus Transformer on Household sequences.

After "Facing Off World Model Backbones" (Deng et al., 2023), three measurements of the
action-conditioned world model (:mod:`robomem.worldmodel`) with its two backbones:

* Long-horizon imagination error. On held-out episodes the model observes the real steps up
  to ``t0`` (16, then every 16 steps), then imagines ``H`` (up to 50) steps on its own
  predictions with the real actions. Reported: the MSE of the predicted observation features
  against the real ones at each horizon ``h`` (all 70 features, and the 5 pose features
  alone), with the "copy the last real observation" baseline; also for rollouts from ``t0``
  only (``imagination_first_start``), which stay inside the 64 positions the transformer's
  learned position embedding was trained on (training windows restart at position 0).
* Context-dependent recall (returning to a place seen long ago). A revisit is a step ``t``
  whose agent pose (x, z within 5 cm, yaw within 5 degrees) was last taken at ``s <= t - gap``
  (gap 20): the agent left the place and came back. At each revisit the model predicts the
  revisit observation ``obs[t]`` from step ``t - k`` (``k`` = 1 and 4, imagined with the real
  actions), once with the full context (state carried from the episode start) and once with
  the context cut to the last ``short`` (8) real steps (a fresh state re-run from
  ``t - k - short``). A model that uses the far past predicts better with the full context:
  ratio truncated / full > 1. Also reported: the error of the old view itself (``obs[s]``
  against ``obs[t]``; what perfect recall of that place would give) and of copying
  ``obs[t - k]``, and the same comparison at the revisits with ``t < 64`` (``k*_in_window``).
  Fewer than 10 revisits are flagged ``too_few`` rather than interpreted.
* Imagination throughput against horizon. Batch 1 (and 16), inference, one CPU thread,
  every step timed (``WorldModel.observe`` on the previous prediction: the loop inside
  ``WorldModel.imagine``), the backbones timed in turn, ``--reps`` rollouts each to the
  longest horizon. The cost of the step at horizon ``h`` is the median of the steps in
  ``[0.9 h, h)`` over all rollouts; ``mean_ms`` is the whole ``imagine`` call over ``h``
  steps divided by ``h``. The SSM carries a constant-size state; the transformer appends one
  entry to its KV cache per step and attends to all of them.

Data: Household episodes recorded with the agent policy (``robomem run trajectories=true``,
64x64 images, hash text encoder), 4 houses x 20 episodes; every third episode of each house
(``k % 3 == 2``) is held out for testing (the last episode when that leaves nothing to train
on). Both backbones are trained with :func:`~robomem.worldmodel.train.train_worldmodel` with
the same width (64), depth (2), steps (1,500), batch (16), window (64) and seed; the weights
with the best validation loss (10% of the training episodes) are evaluated. Everything runs
on one thread (``--threads``): on a shared 2-core machine more threads than free cores make
small ops crawl.

Targets (from the issue): the SSM's imagination step costs constant time in the horizon
(step at the longest horizon within 1.5x of the step at the shortest) and is at least 3x
cheaper than the transformer's at horizon 1k.

Measured 2026-11-22 (2 shared CPU cores, load about 2, 443 s, 288 of them training the SSM;
``benchmarks/results``; 80 episodes, 56 train / 24 test, 6,056 training steps of data).
Imagination MSE at h = 1 / 10 / 25 / 50: SSM 0.0025 / 0.014 / 0.028 / 0.086, transformer
0.0077 / 0.046 / 0.14 / 0.67, copy 0.0071 / 0.033 / 0.046 / 0.056: the SSM beats copying up
to about 40 steps, the transformer never does (its validation loss, 0.020 against the SSM's
0.0033, shows it overfits; rollouts from step 16 only, inside its trained positions, are no
better). Recall: 25 revisits (mean lag 46 steps); truncated / full error 1.00 (SSM) and
1.00-1.05 (transformer): neither model uses the far past, although the old view of the place
(MSE 0.0017) is better than the SSM's prediction (0.0035). Time per step: SSM 0.40 ms at every
horizon (constant-time target met); at h = 1k the transformer takes 0.57 ms at batch 1, 1.43x
(3x target missed), and 3.3 ms against 0.70 ms at batch 16, 4.8x. At batch 1 both steps are
dispatch-bound (tens of small ops) and attending to 1k cached entries of width 64 adds only
~0.15 ms.

    python benchmarks/worldmodel.py --out benchmarks/results   # 7-11 min on 2 busy cores
    python benchmarks/worldmodel.py --quick                    # 2 short episodes, < 1 min
    python benchmarks/worldmodel.py --data RUN_DIR             # reuse recorded trajectories
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import torch
from numpy.typing import NDArray

matplotlib.use("Agg")
import matplotlib.pyplot as plt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/x.py` too

from benchmarks.common import OUT, write_json
from robomem.worldmodel.data import Trajectory, load_trajectories
from robomem.worldmodel.features import FeatureConfig
from robomem.worldmodel.model import WorldModel
from robomem.worldmodel.train import TrainConfig, load_worldmodel, train_worldmodel

BACKBONES = ("ssm", "transformer")
REPORT_H = (1, 5, 10, 25, 50)
RECALL_K = (1, 4)
MIN_REVISITS = 10
POS_TOL, YAW_TOL = 0.05, 5.0
SPEEDUP_TARGET, CONSTANT_TOL = 3.0, 1.5


def record(runs: Path, seeds: int, episodes: int, step_limit: int | None) -> Path:
    """Record Household episodes with trajectories; returns the run folder."""
    from robomem.config import load_config
    from robomem.runner import run

    over = [f"episodes={episodes}", f"seeds=[{','.join(str(s) for s in range(seeds))}]",
            "trajectories=true", f"out={runs}", "spl=false", "save_scene_graphs=false",
            "agent.modules.options.episodic.encoder=hash", "env.width=64", "env.height=64",
            "name=worldmodel_data"]
    if step_limit:
        over.append(f"env.step_limit={step_limit}")
    return Path(run(load_config(None, over), progress=False).folder)


def split(trajs: list[Trajectory]) -> tuple[list[Trajectory], list[Trajectory]]:
    """(train, test): episode ``k`` of each house is a test episode when ``k % 3 == 2``."""
    test = [t for t in trajs if int(t.meta.get("episode", 0)) % 3 == 2]
    train = [t for t in trajs if int(t.meta.get("episode", 0)) % 3 != 2]
    if not test or not train:
        train, test = trajs[:-1], trajs[-1:]
    return train, test


def poses(traj: Trajectory, features: FeatureConfig) -> NDArray[np.float64]:
    """Agent ``(x, z, yaw)`` per observation (metres, degrees in [0, 360)), from the features."""
    i = 4 * features.grid * features.grid
    o = traj.obs.astype(np.float64)
    yaw = np.degrees(np.arctan2(o[:, i + 2], o[:, i + 3])) % 360.0
    return np.stack([o[:, i] * features.position_scale, o[:, i + 1] * features.position_scale,
                     yaw], axis=1)


def find_revisits(pose: NDArray[np.float64], gap: int, pos_tol: float = POS_TOL,
                  yaw_tol: float = YAW_TOL) -> list[tuple[int, int]]:
    """Steps that return to a pose last held at least ``gap`` steps earlier.

    Args:
        pose: ``(N, 3)`` agent ``x``, ``z`` (metres) and yaw (degrees) per step.
        gap: the least number of steps since the last time at that pose.
        pos_tol: position tolerance (metres, per axis).
        yaw_tol: yaw tolerance (degrees, wrapped).

    Returns:
        ``(t, s)`` pairs: at ``t`` the agent is back at the pose it last held at
        ``s <= t - gap`` (and not in between).
    """
    d_pos = np.abs(pose[:, None, :2] - pose[None, :, :2]).max(axis=-1)
    d_yaw = np.abs((pose[:, None, 2] - pose[None, :, 2] + 180.0) % 360.0 - 180.0)
    same = (d_pos <= pos_tol) & (d_yaw <= yaw_tol)
    out = []
    for t in range(1, len(pose)):
        prev = np.flatnonzero(same[t, :t])
        if len(prev) and t - int(prev[-1]) >= gap:
            out.append((t, int(prev[-1])))
    return out


def _t(x: NDArray[Any], dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(x), dtype=dtype)


@torch.no_grad()
def real_states(model: WorldModel, traj: Trajectory) -> list[Any]:
    """``states[i]``: the backbone state after observing the real steps ``0 .. i - 1``."""
    obs, act = _t(traj.obs), _t(traj.actions, torch.long)
    states: list[Any] = [None]
    for i in range(traj.length):
        _, st = model.observe(obs[i:i + 1], act[i:i + 1], states[-1])
        states.append(st)
    return states


@torch.no_grad()
def imagination_error(models: dict[str, WorldModel], test: list[Trajectory],
                      states: dict[str, list[list[Any]]], t0: int, horizon: int,
                      pose_slice: slice, first_only: bool = False) -> dict[str, Any]:
    """Per-horizon MSE of imagined against real features (and the copy baseline).

    Rollouts start at ``t0, 2 t0, ...`` in every episode, or at ``t0`` only (``first_only``).
    """
    names = [*models, "copy_last"]
    sums = {n: np.zeros((2, horizon)) for n in names}
    count = np.zeros(horizon)
    for e, traj in enumerate(test):
        for start in range(t0, min(traj.length, 2 * t0) if first_only else traj.length, t0):
            h = min(horizon, traj.length - start)
            real = traj.obs[start + 1:start + 1 + h]
            preds = {"copy_last": np.repeat(traj.obs[start:start + 1], h, axis=0)}
            for name, model in models.items():
                act = _t(traj.actions[None, start:start + h], torch.long)
                pred = model.imagine(_t(traj.obs[None, start]), states[name][e][start], act)[0]
                preds[name] = pred[0].numpy()
            for n, p in preds.items():
                sq = (p - real) ** 2
                sums[n][0, :h] += sq.mean(axis=1)
                sums[n][1, :h] += sq[:, pose_slice].mean(axis=1)
            count[:h] += 1
    ok = count > 0
    out: dict[str, Any] = {"count": count[ok].astype(int).tolist()}
    for n in names:
        out[n] = {"mse": (sums[n][0, ok] / count[ok]).tolist(),
                  "pose_mse": (sums[n][1, ok] / count[ok]).tolist()}
    return out


@torch.no_grad()
def _summary(pairs: list[list[float]]) -> dict[str, float | None]:
    """Mean errors with the full and the truncated context, their ratio, how often full wins."""
    e2 = np.asarray(pairs, dtype=np.float64).reshape(-1, 2)
    if not len(e2):
        return {"n": 0, "full": None, "truncated": None, "ratio_truncated_over_full": None,
                "full_better_share": None}
    m_full, m_cut = float(e2[:, 0].mean()), float(e2[:, 1].mean())
    return {"n": len(e2), "full": m_full, "truncated": m_cut,
            "ratio_truncated_over_full": m_cut / m_full if m_full else None,
            "full_better_share": float((e2[:, 0] < e2[:, 1]).mean())}


@torch.no_grad()
def recall(models: dict[str, WorldModel], test: list[Trajectory],
           states: dict[str, list[list[Any]]], features: FeatureConfig, gap: int,
           short: int, window: int) -> dict[str, Any]:
    """Revisit prediction errors with the full and a truncated context (module docstring).

    Also summarised over the revisits at ``t < window`` (the training window), where the
    full context stays within the positions the transformer was trained on.
    """
    errs: dict[str, dict[int, list[list[float]]]] = {
        n: {k: [] for k in RECALL_K} for n in models}
    base: dict[str, list[float]] = {"old_view": [], **{f"copy_k{k}": [] for k in RECALL_K}}
    found, lags, steps = 0, [], []
    for e, traj in enumerate(test):
        obs, act = _t(traj.obs), _t(traj.actions, torch.long)
        for t, s in find_revisits(poses(traj, features), gap):
            if t - max(RECALL_K) - short < 0:
                continue
            found += 1
            lags.append(t - s)
            steps.append(t)
            base["old_view"].append(float(((traj.obs[s] - traj.obs[t]) ** 2).mean()))
            for k in RECALL_K:
                a = t - k
                base[f"copy_k{k}"].append(float(((traj.obs[a] - traj.obs[t]) ** 2).mean()))
                for name, model in models.items():
                    full = model.imagine(obs[a:a + 1], states[name][e][a], act[None, a:t])[0]
                    st = None
                    for i in range(a - short, a):
                        _, st = model.observe(obs[i:i + 1], act[i:i + 1], st)
                    cut = model.imagine(obs[a:a + 1], st, act[None, a:t])[0]
                    errs[name][k].append([float(((p[0, -1] - obs[t]) ** 2).mean())
                                          for p in (full, cut)])
    out: dict[str, Any] = {"revisits": found, "too_few": found < MIN_REVISITS, "gap": gap,
                           "short_context": short, "pos_tol_m": POS_TOL, "yaw_tol_deg": YAW_TOL,
                           "mean_lag": float(np.mean(lags)) if lags else None,
                           "revisit_steps": steps, "window": window,
                           "revisits_in_window": sum(t < window for t in steps),
                           "baselines": {b: float(np.mean(v)) if v else None
                                         for b, v in base.items()}}
    for name in models:
        out[name] = {}
        for k in RECALL_K:
            out[name][f"k{k}"] = _summary(errs[name][k])
            out[name][f"k{k}_in_window"] = _summary(
                [e for e, t in zip(errs[name][k], steps, strict=True) if t < window])
    return out


@torch.no_grad()
def time_imagination(models: dict[str, WorldModel], horizons: list[int], batch: int,
                     reps: int, seed: int) -> dict[str, Any]:
    """Per-step imagination cost at each horizon (module docstring), one thread."""
    hmax = max(horizons)
    gen = torch.Generator().manual_seed(seed)
    dim = next(iter(models.values())).config.obs_dim
    n_act = next(iter(models.values())).config.n_actions
    obs0 = torch.rand(batch, dim, generator=gen)
    acts = torch.randint(0, n_act, (batch, hmax), generator=gen)
    steps: dict[str, list[list[float]]] = {n: [] for n in models}
    whole: dict[str, dict[int, list[float]]] = {n: {h: [] for h in horizons} for n in models}
    for model in models.values():  # warm-up
        model.imagine(obs0, None, acts[:, :8])
    for _ in range(reps):
        for name, model in models.items():
            obs, st, times = obs0, None, []
            for h in range(hmax):
                t = time.perf_counter()
                out, st = model.observe(obs, acts[:, h], st)
                obs = out.next_obs
                times.append(time.perf_counter() - t)
            steps[name].append(times)
            for h in horizons:
                t = time.perf_counter()
                model.imagine(obs0, None, acts[:, :h])
                whole[name][h].append((time.perf_counter() - t) / h)
    res: dict[str, Any] = {}
    for name in models:
        arr = 1e3 * np.asarray(steps[name])
        res[name] = {str(h): {"step_ms": float(np.median(arr[:, int(0.9 * h):h])),
                              "mean_ms": 1e3 * float(np.median(whole[name][h]))}
                     for h in horizons}
    return res


def plot(res: dict[str, Any], path: Path) -> None:
    """Imagination error, recall and time per step, one panel each."""
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(15, 4.2))
    im = res["imagination"]
    hs = np.arange(1, len(im["count"]) + 1)
    first = res["imagination_first_start"]
    t0 = res["config"]["t0"]
    for n, color in (("ssm", "C0"), ("transformer", "C1"), ("copy_last", "gray")):
        a.plot(hs, im[n]["mse"], "-", color=color, label=n)
        a.plot(np.arange(1, len(first["count"]) + 1), first[n]["mse"], ":", color=color,
               label=f"{n}, start {t0} only")
    a.set_xlabel("imagination horizon h (steps)")
    a.set_ylabel("feature MSE")
    a.set_yscale("log")
    a.set_title("Long-horizon imagination error (test)")
    a.legend(fontsize=7)
    rc = res["recall"]
    labels, full, cut = [], [], []
    for n in BACKBONES:
        for k in RECALL_K:
            labels.append(f"{n}\nk={k}")
            full.append(rc[n][f"k{k}"]["full"] or 0.0)
            cut.append(rc[n][f"k{k}"]["truncated"] or 0.0)
    x = np.arange(len(labels))
    b.bar(x - 0.2, full, 0.4, label="full context")
    b.bar(x + 0.2, cut, 0.4, label="last 8 steps only")
    if rc["baselines"]["old_view"] is not None:
        b.axhline(rc["baselines"]["old_view"], color="gray", ls=":", label="old view of the place")
    b.set_xticks(x, labels)
    b.set_ylabel("MSE predicting the revisit view")
    b.set_title(f"Recall at {rc['revisits']} revisits (gap >= {rc['gap']})")
    b.legend(fontsize=8)
    for n, color in zip(BACKBONES, ("C0", "C1"), strict=True):
        for batch, style in (("batch_1", "o-"), ("batch_16", "s--")):
            if batch in res["timing"]:
                t = res["timing"][batch][n]
                hs_t = [int(h) for h in t]
                c.plot(hs_t, [t[str(h)]["step_ms"] for h in hs_t], style, color=color,
                       label=f"{n} ({batch.replace('_', ' ')})")
    c.set_xscale("log")
    c.set_xlabel("horizon (steps)")
    c.set_ylabel("ms per imagined step")
    c.set_title("Imagination cost per step (1 thread)")
    c.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the command line (see the module docstring), run, restore the thread count."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2 short episodes, tiny models (<1 min)")
    ap.add_argument("--data", type=Path, default=None, help="reuse this recorded run folder")
    ap.add_argument("--seeds", type=int, default=4, help="houses to record")
    ap.add_argument("--episodes", type=int, default=20, help="episodes per house")
    ap.add_argument("--steps", type=int, default=None, help="training steps (1500)")
    ap.add_argument("--d-model", type=int, default=None)
    ap.add_argument("--layers", type=int, default=None)
    ap.add_argument("--horizons", type=int, nargs="+", default=None)
    ap.add_argument("--reps", type=int, default=None, help="timed rollouts per backbone")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", type=Path, default=OUT / "runs", help="where recordings go")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        return run_benchmark(args)
    finally:
        torch.set_num_threads(threads)


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Record (or load) the data, train both backbones, measure, write JSON and PNG."""
    q = args.quick
    t_start = time.perf_counter()
    torch.manual_seed(args.seed)
    data_dir = args.data or record(args.runs, 1 if q else args.seeds, 2 if q else args.episodes,
                                   40 if q else None)
    trajs, features = load_trajectories(data_dir)
    train, test = split(trajs)
    t_data = time.perf_counter() - t_start
    d_model, layers = args.d_model or (16 if q else 64), args.layers or (1 if q else 2)
    tcfg = {"d_model": d_model, "n_layers": layers, "steps": args.steps or (15 if q else 1500),
            "batch_size": 4 if q else 16, "seq_len": 16 if q else 64, "lr": 1e-3,
            "val_fraction": 0.1, "eval_every": 5 if q else 100, "checkpoint_every": 10_000,
            "seed": args.seed, "device": "cpu"}
    t0, horizon, gap, short = (8, 10, 20, 4) if q else (16, 50, 20, 8)
    horizons = args.horizons or ([16, 64] if q else [16, 64, 256, 1024])
    reps = args.reps or (1 if q else 5)
    models: dict[str, WorldModel] = {}
    res: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in BACKBONES:
            t = time.perf_counter()
            tr = train_worldmodel(train, Path(tmp) / name, TrainConfig(backbone=name, **tcfg),
                                  features, progress=False)
            secs = time.perf_counter() - t
            models[name] = load_worldmodel(tr.folder / "model.pt", device="cpu").model.eval()
            final = tr.history[-1] if tr.history else {}
            res[name] = {"parameters": sum(p.numel() for p in models[name].parameters()),
                         "train_seconds": secs, "best_val_loss": tr.best_val_loss,
                         "final_train_loss": final.get("loss"),
                         "final_val_loss": final.get("val_loss")}
            print(f"{name}: trained {tcfg['steps']} steps in {secs:.0f} s, loss "
                  f"{final.get('loss')}, best val {tr.best_val_loss}", flush=True)
    states = {n: [real_states(m, ep) for ep in test] for n, m in models.items()}
    i = 4 * features.grid * features.grid
    im = imagination_error(models, test, states, t0, horizon, slice(i, i + 5))
    im_first = imagination_error(models, test, states, t0, horizon, slice(i, i + 5), True)
    rc = recall(models, test, states, features, gap, short, tcfg["seq_len"])
    timing = {f"batch_{b}": time_imagination(models, horizons, b, reps, args.seed)
              for b in ([1] if q else [1, 16])}
    hmax, hmin = str(max(horizons)), str(min(horizons))
    t1 = timing["batch_1"]
    flat = t1["ssm"][hmax]["step_ms"] / t1["ssm"][hmin]["step_ms"]
    targets: dict[str, Any] = {
        "ssm_constant_step": {"ratio_longest_over_shortest": flat,
                              "target_at_most": CONSTANT_TOL, "met": flat <= CONSTANT_TOL}}
    for b, tb in timing.items():  # batch_1 is the target; batch_16 for reference
        ratio = tb["transformer"][hmax]["step_ms"] / tb["ssm"][hmax]["step_ms"]
        targets[f"speedup_vs_transformer_h{hmax}_{b}"] = {
            "ratio": ratio, "target": SPEEDUP_TARGET, "met": ratio >= SPEEDUP_TARGET}
    config = {**tcfg, "quick": q, "data": str(data_dir), "episodes": len(trajs),
              "train_episodes": len(train), "test_episodes": len(test),
              "train_steps_of_data": int(sum(t.length for t in train)),
              "test_steps_of_data": int(sum(t.length for t in test)),
              "features": features.to_dict(), "t0": t0, "max_horizon": horizon,
              "timing_horizons": horizons, "timing_reps": reps, "threads": args.threads,
              "torch": torch.__version__, "data_seconds": t_data}
    out = {"config": config, "results": res, "imagination": im,
           "imagination_first_start": im_first, "recall": rc, "timing": timing,
           "targets": targets, "load_average_after": os.getloadavg(),
           "seconds": time.perf_counter() - t_start}
    path = write_json("worldmodel", out, args.out)
    plot(out, args.out / "worldmodel.png")
    report(out)
    print(f"-> {path} ({out['seconds']:.0f} s)")
    return out


def report(out: dict[str, Any]) -> None:
    """Print the result tables."""
    im, rc = out["imagination"], out["recall"]
    hs = [h for h in REPORT_H if h <= len(im["count"])]
    print("| model | rollouts | " + " | ".join(f"MSE h={h}" for h in hs)
          + " | pose MSE h=1 | pose MSE h=max |")
    print("| --- | --- |" + " --- |" * (len(hs) + 2))
    t0 = out["config"]["t0"]
    for label, res in (("every t0", im), (f"start {t0}", out["imagination_first_start"])):
        for n in (*BACKBONES, "copy_last"):
            cells = " | ".join(f"{res[n]['mse'][h - 1]:.5f}" if h <= len(res["count"]) else "-"
                               for h in hs)
            pose = res[n]["pose_mse"]
            print(f"| {n} | {label} | {cells} | {pose[0]:.5f} | {pose[-1]:.5f} |")
    print(f"recall: {rc['revisits']} revisits (too few: {rc['too_few']}), mean lag "
          f"{rc['mean_lag']}, baselines {rc['baselines']}")
    print("| model | k | revisits | full | truncated | truncated/full | full better |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for n in BACKBONES:
        for key in (f"k{k}{w}" for w in ("", "_in_window") for k in RECALL_K):
            r = rc[n][key]
            if r["full"] is None:
                print(f"| {n} | {key} | 0 | - | - | - | - |")
                continue
            print(f"| {n} | {key} | {r['n']} | {r['full']:.5f} | {r['truncated']:.5f} | "
                  f"{r['ratio_truncated_over_full']:.3f} | {r['full_better_share']:.2f} |")
    print("| batch | model | " + " | ".join(f"ms/step h={h}" for h in
                                          out["config"]["timing_horizons"]) + " |")
    print("| --- | --- |" + " --- |" * len(out["config"]["timing_horizons"]))
    for b, t in out["timing"].items():
        for n in BACKBONES:
            cells = " | ".join(f"{v['step_ms']:.3f} ({v['mean_ms']:.3f})" for v in t[n].values())
            print(f"| {b} | {n} | {cells} |")
    for n in BACKBONES:
        r = out["results"][n]
        print(f"{n}: {r['parameters']} parameters, trained in {r['train_seconds']:.0f} s")
    for name, c in out["targets"].items():
        print(f"{name}: {c}")


if __name__ == "__main__":
    main()
