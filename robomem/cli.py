"""The ``robomem`` command line.

robomem run [--config launch/household.yaml] [--store DIR] [--episodes N] [key=value ...]
robomem inspect STORE [--out DIR] [--moment TEXT [-k N]]
robomem train worldmodel --data RUN_DIR [--out DIR] [--resume] [key=value ...]
robomem doctor [--json]
robomem envs | scenes | policies | modules
robomem --version
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from robomem import __version__
from robomem.config import ConfigError, default_launch, load_config

RUN_HELP = """Run episodes and write a run folder (config.yaml, episodes.jsonl, metrics.json,
episodes.png, report.md).

Settings come from the launch file (default: the shipped launch/household.yaml), then from
the options below, then from KEY=VALUE overrides with dotted keys, for example:

  robomem run                                  # the memory agent on the default suite
  robomem run --memory none                    # baseline: forgets its map at every subgoal
  robomem run --memory oracle                  # the privileged upper bound
  robomem run --memory random --episodes 3     # the random baseline, 3 episodes per seed
  robomem run env.scene=FloorPlan3 seeds=[0,1,2] env.width=224
  robomem run --store ~/.robomem/home         # lifelong: resume from and save to a store
  robomem run agent.modules.modules=[spatial,episodic] agent.critic=false   # an ablation
  robomem run agent.preprocess.detector=segmentation agent.executor.max_steps=300 \\
      agent.key_frames=2                       # any agent setting, by its dotted key
  robomem run --planner llm agent.llm.backend=openai \\
      agent.llm.options.base_url=http://127.0.0.1:8000/v1 \\
      agent.llm.options.model=NAME             # a language-model planner (docs/planners.md)
  robomem run trajectories=true                # also record world-model training data

Keys: name, policy (agent | oracle | random), episodes, seeds, out, spl, save_scene_graphs,
store, trajectories;
env.type (household), env.id, env.step_limit, and the env type's own keys; household:
env.scene, env.width, env.height, env.fov, env.lifelong, env.relocation_prob, env.families,
env.n_rooms;
agent.* (robomem.agent.AgentConfig): agent.memory (full | none; random | oracle run those
policies), agent.planner (symbolic | llm), agent.critic, agent.key_frames,
agent.worldmodel_critic, agent.worldmodel_threshold, agent.repeat_limit, agent.patience,
agent.max_loop_breaks, agent.modules.modules (spatial, temporal, episodic, semantic,
working), agent.modules.parallel, agent.modules.deadline_ms, agent.modules.options (e.g.
agent.modules.options.episodic.encoder=hash), agent.llm.backend (openai | local | scripted),
agent.llm.options.<option>, agent.llm.max_invalid, agent.llm.token_budget,
agent.llm.max_new_tokens, agent.llm.critic, agent.llm.images, agent.preprocess.<key>,
agent.spatial.<key>, agent.executor.<key>.
The old top-level memory, planner, critic, llm.*, memory_system.*, worldmodel_critic and
worldmodel_threshold still work (memory_system is agent.modules), with a warning.
"""


TRAIN_HELP = """Train a world model on the trajectories of recorded runs.

  robomem run trajectories=true --episodes 50 --out runs     # record training data
  robomem train worldmodel --data runs/<run folder>           # train (SSM backbone)
  robomem train worldmodel --data RUN_DIR backbone=transformer steps=5000
  robomem train worldmodel --data RUN_DIR --resume            # continue after a stop

The output folder holds checkpoint.pt (written every checkpoint_every steps and on Ctrl-C),
model.pt (the best validation loss; what `agent.worldmodel_critic=PATH` loads), history.jsonl,
loss.png and metrics.json.

Settings (KEY=VALUE): backbone (ssm | transformer), d_model, n_layers, steps, batch_size,
seq_len, lr, grad_clip, val_fraction, eval_every, checkpoint_every, seed,
device (auto | cpu | cuda).
"""


DOCTOR_HELP = """Check what works on this machine, and why not: Python and platform (and, in a
source checkout, whether the installed versions match the lock), every required dependency
(installed, in range, importable; torch's CUDA, faiss, open3d's libusb, the packaged MiniLM),
each optional extra (thor, ros, rlbench, llm, dev) with the command that installs it, each
registered env (made and stepped once), and the default job (robomem run) in miniature.

Exit status 0 when the default job can run here (a missing optional extra does not count),
1 when it cannot. Takes about half a minute (it loads torch, open3d and MiniLM).
"""


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="robomem",
        description="robomem: brain-inspired memory for embodied agents.",
        epilog="Something does not work? Run `robomem doctor` first: it says what can run "
               "here and what to install.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version=f"robomem {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    r = sub.add_parser("run", help="run episodes and write metrics, plots and a report",
                       description=RUN_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("--config", default=None,
                   help=f"launch YAML (default: {default_launch()})")
    r.add_argument("--memory", default=None,
                   help="full (default) | none: the agent forgets its map at every subgoal "
                        "and episode | random | oracle: those baseline agents instead; "
                        "same as agent.memory=...")
    r.add_argument("--policy", default=None, help="agent | oracle | random (default: agent)")
    r.add_argument("--planner", default=None,
                   help="symbolic (default, offline) | llm (a language model; set "
                        "agent.llm.*); same as agent.planner=...")
    r.add_argument("--episodes", type=int, default=None, help="episodes per seed")
    r.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds, one house each")
    r.add_argument("--out", default=None, help="parent folder of run folders (default: runs)")
    r.add_argument("--store", default=None,
                   help="lifelong memory store (a directory, created when missing): memory is "
                        "loaded from it and every finished episode is committed to it")
    r.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    r.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="dotted config overrides")
    i = sub.add_parser("inspect", help="summarise a lifelong memory store",
                       description="Summarise a store read-only (safe while a run writes to "
                                   "it): counts, each scene's map and scene graph as a picture,"
                                   " a timeline of events and episodes, the episodes and the "
                                   "semantic facts, in OUT/report.md.")
    i.add_argument("store", metavar="STORE", help="the store directory (robomem run --store)")
    i.add_argument("--out", default=None,
                   help="output folder (default: STORE-inspect beside the store, or "
                        "./NAME-inspect when that place cannot be written; never inside the "
                        "store, which is opened read-only)")
    i.add_argument("--moment", default=None, metavar="TEXT",
                   help="instead, recall the moment when TEXT: the best matching stored steps "
                        "with their context (HCAM chunked recall over episodic memory)")
    i.add_argument("-k", type=int, default=3, help="moments to recall (with --moment)")
    tr = sub.add_parser("train", help="train a learned component from recorded runs",
                        description="Train a learned component from recorded runs.")
    what = tr.add_subparsers(dest="what", metavar="WHAT", required=True)
    t = what.add_parser("worldmodel", help="a world model (SSM or transformer backbone)",
                        description=TRAIN_HELP,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("--data", action="append", required=True, metavar="RUN_DIR",
                   help="a run folder recorded with `robomem run trajectories=true` "
                        "(repeat --data to train on several)")
    t.add_argument("--out", default=None,
                   help="output folder (default: the first RUN_DIR/worldmodel-<backbone>)")
    t.add_argument("--resume", action="store_true",
                   help="continue from OUT/checkpoint.pt up to `steps`")
    t.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    t.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="training settings, e.g. backbone=transformer steps=5000")
    d = sub.add_parser("doctor", help="check what works on this machine, and why not",
                       description=DOCTOR_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("--json", action="store_true", help="print the checks as JSON")
    ros = sub.add_parser("ros", help="robomem on ROS 2 (the 'ros' extra)",
                         description="robomem on ROS 2 (pip install 'robomem[ros]').")
    rw = ros.add_subparsers(dest="what", metavar="WHAT", required=True)
    sv = rw.add_parser(
        "serve", help="serve a robomem env as a ROS 2 robot",
        description="Serve a robomem env (Household by default) as a ROS 2 robot on the topics "
                    "of a launch file: camera, depth, instance ids, CameraInfo, camera and base "
                    "poses per step; actions, Twist commands and episode resets in; outcomes "
                    "as JSON out. The agent side is `robomem run --config launch/ros2.yaml`. "
                    "Set ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST to keep DDS on this host.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sv.add_argument("--topics", default=None,
                    help="launch YAML whose env.topics names the topics (default: "
                         "launch/ros2.yaml's defaults)")
    sv.add_argument("--config", default=None,
                    help="launch YAML of the env to serve (default: the Household default)")
    sv.add_argument("--seconds", type=float, default=None,
                    help="stop after this many seconds (default: until Ctrl-C)")
    sv.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                    help="overrides of the served env's config, e.g. env.scene=FloorPlan5")
    sub.add_parser("envs", help="list the registered environments")
    sub.add_parser("scenes", help="list the shipped Household scene specs")
    sub.add_parser("policies", help="list the registered policies")
    sub.add_parser("modules", help="list the registered memory modules")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``robomem`` console script; returns the exit status."""
    ap = _parser()
    # KEY=VALUE overrides may come before, between or after options: argparse takes the first
    # run of them as the positional and leaves the rest, which are collected here.
    args, rest = ap.parse_known_args(argv)
    if rest and hasattr(args, "overrides") and all(
            "=" in r and not r.startswith("-") for r in rest):
        args.overrides = [*args.overrides, *rest]
    elif rest:
        ap.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command is None:
        ap.print_help()
        return 0
    if args.command == "doctor":
        from robomem.doctor import doctor_main

        return doctor_main(as_json=args.json)
    if args.command == "envs":
        from robomem.envs import ENVS

        print("\n".join(ENVS.names()))
        return 0
    if args.command == "scenes":
        from robomem.envs.household.spec import list_scenes

        print("\n".join(list_scenes()))
        return 0
    if args.command == "policies":
        from robomem.policies.base import POLICIES

        print("\n".join(POLICIES.names()))
        return 0
    if args.command == "modules":
        from robomem.memory.base import MEMORY_MODULES

        print("\n".join(MEMORY_MODULES.names()))
        return 0
    if args.command == "inspect":
        return _inspect(args)
    if args.command == "train":
        return _train(args)
    if args.command == "ros":
        from robomem.envs.ros2.serve import serve_main

        return serve_main(args.topics, args.config, list(args.overrides), args.seconds)
    return _run(args)


MAX_ERROR_CHARS = 1000  # an error message longer than this is cut (its sources quote ~200)


def _error(command: str, e: BaseException) -> int:
    """Print ``robomem COMMAND: error: MESSAGE`` (one bounded line) and return exit status 2."""
    msg = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
    if isinstance(e, OSError) and e.strerror and e.filename:
        msg = f"{e.strerror}: {e.filename}"
    msg = msg or type(e).__name__
    if len(msg) > MAX_ERROR_CHARS:
        msg = f"{msg[:MAX_ERROR_CHARS]}... ({len(msg)} characters)"
    print(f"robomem {command}: error: {msg}", file=sys.stderr)
    return 2


def _inspect(args: argparse.Namespace) -> int:
    from robomem.inspection import inspect_store, moments_text, recall_moments
    from robomem.store import StoreError

    try:
        if args.moment is not None:
            print(moments_text(recall_moments(args.store, args.moment, args.k)))
            return 0
        report = inspect_store(args.store, args.out)
    except (StoreError, ValueError, OSError) as e:
        return _error("inspect", e)
    print(report.text())
    return 0


def _train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from robomem.worldmodel.data import load_trajectories
    from robomem.worldmodel.train import TrainConfig, train_worldmodel

    try:
        bad = [o for o in args.overrides if "=" not in o]
        if bad:
            raise ValueError(f"settings must look like key=value, got {bad}")
        cfg = TrainConfig.from_overrides(dict(o.split("=", 1) for o in args.overrides))
        trajs, features = load_trajectories(args.data[0])
        for extra in args.data[1:]:
            more, other = load_trajectories(extra)
            if other != features:
                raise ValueError(f"{extra} was recorded with {other}, {args.data[0]} with "
                                 f"{features}")
            trajs += more
        out = Path(args.out) if args.out else Path(args.data[0]) / f"worldmodel-{cfg.backbone}"
        result = train_worldmodel(trajs, out, cfg, features, resume=args.resume,
                                  progress=not args.no_progress)
    except (ValueError, OSError) as e:
        return _error("train", e)
    best = "n/a" if result.best_val_loss is None else f"{result.best_val_loss:.4f}"
    print(f"trained {result.step} steps on {len(trajs)} episodes, best validation loss {best}"
          f" -> {result.folder}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from gymnasium import error as gym_error

    from robomem.envs.household.spec import SpecError
    from robomem.envs.household.tasks import TaskError
    from robomem.runner import run
    from robomem.store import StoreError

    over = list(args.overrides)
    keys = {"memory": "agent.memory", "policy": "policy", "planner": "agent.planner",
            "episodes": "episodes", "out": "out", "store": "store"}
    for option, key in keys.items():
        if getattr(args, option) is not None:
            over.append(f"{key}={getattr(args, option)}")
    if args.seeds is not None:
        over.append(f"seeds=[{','.join(str(s) for s in args.seeds)}]")
    try:
        cfg = load_config(args.config or default_launch(), over)
        result = run(cfg, progress=not args.no_progress)
    except (ConfigError, SpecError, TaskError, StoreError, KeyError, ValueError, TypeError,
            OSError, gym_error.Error) as e:
        return _error("run", e)
    m = result.metrics
    print(f"success {m['success_rate']:.1%} over {m['episodes']} episodes, "
          f"mean steps {m['mean_steps']:.1f} -> {result.folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
