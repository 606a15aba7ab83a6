"""Does the world-model critic help? The lifelong Household suite with and without it.

The critic (``planners/worldmodel_critic.py``) imagines each interaction skill's action with a
trained world model and vetoes it when the predicted "action succeeded" feature is below a
threshold. This runs the same houses and task sequences three ways: without it (the default
agent), and with it at two thresholds. The houses should be ones the model was not trained on
(``--first-seed`` past the recorded seeds).

Get a model first, e.g. from the world-model benchmark's recording (seeds 0-3):

    python benchmarks/worldmodel.py                      # records benchmarks/out/runs/...
    robomem train worldmodel --data benchmarks/out/runs/<...worldmodel_data...> --out WM
    python benchmarks/worldmodel_critic.py --model WM --data benchmarks/out/runs/<...> \
        --first-seed 10 --seeds 3 --tasks 10 --size 64

With ``--data`` (the recorded run the model was trained on) it first reports how often object
actions failed there and how well the model's predicted "action succeeded" feature separates
them (ROC AUC, in sample, teacher-forced). Reports success rate (95% Wilson interval), steps
per success (95% bootstrap interval), and the critic's reviews and vetoes per episode; writes
``worldmodel_critic.json`` and ``.png``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/x.py` too

import numpy as np

from benchmarks.common import (
    condition_result,
    plot_conditions,
    suite_arguments,
    suite_overrides,
    write_json,
)
from robomem.config import load_config
from robomem.primitives import INTERACTIONS as OBJECT_ACTIONS
from robomem.runner import run


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve (the Mann-Whitney statistic, ties counted half)."""
    pos, neg = scores[positive], scores[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def failure_prediction(model_path: str, data: str) -> dict[str, float]:
    """Object-action failure share in ``data`` and the model's in-sample ROC AUC on it."""
    import torch

    from robomem.worldmodel.data import load_trajectories
    from robomem.worldmodel.features import action_id
    from robomem.worldmodel.train import load_worldmodel

    loaded = load_worldmodel(model_path, "cpu")
    ok = loaded.features.action_ok_index
    ids = np.array([action_id(a) for a in OBJECT_ACTIONS])
    scores, succeeded = [], []
    for t in load_trajectories(data)[0]:
        with torch.no_grad():
            out = loaded.model(torch.from_numpy(t.obs[None, :-1]),
                               torch.from_numpy(t.actions[None]))
        pick = np.isin(t.actions, ids)
        scores.append(out.next_obs[0, :, ok].numpy()[pick])
        succeeded.append(t.obs[1:, ok][pick] > 0.5)
    s, y = np.concatenate(scores), np.concatenate(succeeded)
    return {"object_actions": len(y), "failed_share": float(1.0 - y.mean()),
            "auc_in_sample": roc_auc(s, y)}


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Run the conditions and write the JSON and the plot; returns the summary."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    suite_arguments(ap, tasks=10, seeds=3)
    ap.add_argument("--model", required=True, help="model.pt or folder from robomem train")
    ap.add_argument("--thresholds", type=float, nargs="+", default=[0.2, 0.5])
    ap.add_argument("--encoder", default="hash", help="episodic text encoder: minilm | hash")
    ap.add_argument("--data", default=None, help="the run folder the model was trained on")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", module="gymnasium")
    fit = failure_prediction(args.model, args.data) if args.data else None
    if fit is not None:
        print(f"training data: {fit['object_actions']} object actions, "
              f"{fit['failed_share']:.0%} failed; in-sample AUC {fit['auc_in_sample']:.3f}")
    conditions = {"no_wm_critic": []} | {
        f"wm_critic_{t:g}": [f"agent.worldmodel_critic={args.model}",
                             f"agent.worldmodel_threshold={t}"]
        for t in args.thresholds}
    results = {}
    t0 = time.perf_counter()
    for name, extra in conditions.items():
        over = [*extra, *suite_overrides(args, f"wm_critic_{name}"), "spl=false",
                f"agent.modules.options.episodic.encoder={args.encoder}"]
        res = run(load_config(None, over), progress=True)
        results[name] = condition_result(res)
        tot = results[name]["totals"]
        print(f"{name:16s} success {results[name]['success_rate']:.1%}  steps/success "
              f"{results[name]['steps_per_success']}  reviews/ep "
              f"{tot.get('worldmodel_reviews', 0.0):.2f}  vetoes/ep "
              f"{tot.get('worldmodel_vetoes', 0.0):.2f}", flush=True)
    summary = {"model": str(args.model), "seeds": args.seeds, "first_seed": args.first_seed,
               "tasks_per_seed": args.tasks, "size": args.size, "encoder": args.encoder,
               "training_data": args.data, "failure_prediction": fit,
               "conditions": results, "seconds": time.perf_counter() - t0}
    write_json("worldmodel_critic", summary, args.out)
    plot_conditions(results, f"World-model critic, lifelong Household: {args.seeds} houses x "
                             f"{args.tasks} tasks", args.out / "worldmodel_critic.png")
    return summary


if __name__ == "__main__":
    main()
