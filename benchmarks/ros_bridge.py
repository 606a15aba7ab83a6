"""robomem over a real ROS 2 graph on this host: the stream, and the agent through it.

Two parts, each measured in the same run (DDS stays on this host:
``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST``, and a domain of the benchmark's own):

- **stream**: a publisher process sends 300x300 ``rgb8`` images, 32FC1 depth and
  ``nav_msgs/Odometry`` at 30 Hz for ``--seconds`` to a subscriber process with 4 subscriber
  nodes (a robot's camera feeding robomem and three other consumers). Reported: the rate
  each subscriber achieved, the latency from the message stamp to its callback (p50, p99,
  max), and the publisher's resident memory sampled every 10 s (flat is good).
- **agent**: the memory agent on the same seeded tasks (``--agent-seeds``), on
  robomem/Household-v0 directly and through robomem/ROS2Robot-v0 against
  ``robomem ros serve``: success rates, steps and seconds per step of both.

The rosbridge path (roslibpy against a rosbridge server) is not measured: robomem has no
rosbridge client yet (issue 16).

Usage:
    python benchmarks/ros_bridge.py --seconds 300 --agent-seeds 10 --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"  # before anything starts rclpy

from benchmarks.common import OUT, write_json  # noqa: E402

SIZE = 300
RATE = 30.0
SUBSCRIBERS = 4


def rss_mb() -> float:
    """This process's resident memory (MB), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


# ---------------------------------------------------------------------------- roles
def publisher(seconds: float, domain: int, report: Path) -> None:
    """Publish RGB-D and odometry at 30 Hz; write the rate achieved and RSS samples."""
    import numpy as np

    from robomem.envs.ros2.convert import image_to_msg
    from robomem.envs.ros2.node import msgs, qos, start_node

    ros = start_node("bench_camera", domain)
    m = msgs()
    sensor = qos("sensor", 10)
    pubs = {"rgb": ros.node.create_publisher(m.Image, "/camera/color/image_raw", sensor),
            "depth": ros.node.create_publisher(m.Image, "/camera/depth/image_rect", sensor),
            "odom": ros.node.create_publisher(m.Odometry, "/odom", sensor)}
    deadline = time.monotonic() + 30
    while min(p.get_subscription_count() for p in pubs.values()) < SUBSCRIBERS:
        if time.monotonic() > deadline:
            raise SystemExit("the subscribers did not appear within 30 s")
        time.sleep(0.05)
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (SIZE, SIZE, 3), np.uint8)
    depth = rng.uniform(0.2, 6.0, (SIZE, SIZE)).astype(np.float32)
    rss: list[tuple[float, float]] = [(0.0, rss_mb())]
    sent, t0 = 0, time.monotonic()
    next_sample = 10.0
    while (elapsed := time.monotonic() - t0) < seconds:
        stamp = ros.now()
        for name, array, enc in (("rgb", rgb, "rgb8"), ("depth", depth, "32FC1")):
            msg = m.Image()
            msg.header.stamp, msg.header.frame_id = stamp, "camera_color_optical_frame"
            pubs[name].publish(image_to_msg(msg, array, enc))
        odom = m.Odometry()
        odom.header.stamp, odom.header.frame_id = stamp, "map"
        odom.pose.pose.position.x = float(sent) * 0.01
        odom.pose.pose.orientation.w = 1.0
        pubs["odom"].publish(odom)
        sent += 1
        if elapsed >= next_sample:
            rss.append((round(elapsed, 1), rss_mb()))
            next_sample += 10.0
        time.sleep(max(0.0, t0 + sent / RATE - time.monotonic()))
    duration = time.monotonic() - t0
    rss.append((round(duration, 1), rss_mb()))
    time.sleep(1.0)  # let the last messages arrive before the subscribers stop
    ros.close()
    report.write_text(json.dumps({"sent": sent, "seconds": duration, "rate_hz": sent / duration,
                                  "rss_mb": rss}))


def subscriber(seconds: float, domain: int, report: Path) -> None:
    """Four nodes take every stream; each records its count and latencies."""
    import threading

    import numpy as np
    from rclpy.executors import SingleThreadedExecutor

    from robomem.envs.ros2.node import msgs, qos, start_node

    m = msgs()
    sensor = qos("sensor", 10)
    nodes = [start_node(f"bench_consumer_{i}", domain) for i in range(SUBSCRIBERS)]
    lat: list[dict[str, list[float]]] = [{"rgb": [], "depth": [], "odom": []} for _ in nodes]

    def cb(i: int, stream: str):  # type: ignore[no-untyped-def]
        def take(msg) -> None:  # type: ignore[no-untyped-def]
            now = time.time()
            st = msg.header.stamp
            lat[i][stream].append(now - (st.sec + 1e-9 * st.nanosec))
        return take

    for i, ros in enumerate(nodes):
        ros.node.create_subscription(m.Image, "/camera/color/image_raw", cb(i, "rgb"), sensor)
        ros.node.create_subscription(m.Image, "/camera/depth/image_rect", cb(i, "depth"), sensor)
        ros.node.create_subscription(m.Odometry, "/odom", cb(i, "odom"), sensor)
    stop = threading.Event()

    def spin(ros: Any) -> None:
        ex: SingleThreadedExecutor = ros.executor
        while not stop.is_set():
            ex.spin_once(timeout_sec=0.05)

    threads = [threading.Thread(target=spin, args=(r,), daemon=True) for r in nodes]
    for t in threads:
        t.start()
    time.sleep(seconds + 15.0)  # the publisher waits for discovery, then runs `seconds`
    stop.set()
    for t in threads:
        t.join(5)
    out = []
    for per in lat:
        row: dict[str, Any] = {}
        for stream, xs in per.items():
            a = np.asarray(xs) * 1000.0
            row[stream] = {"received": len(xs),
                           "p50_ms": float(np.percentile(a, 50)) if len(a) else None,
                           "p99_ms": float(np.percentile(a, 99)) if len(a) else None,
                           "max_ms": float(a.max()) if len(a) else None}
        out.append(row)
    for ros in nodes:
        ros.close()
    report.write_text(json.dumps(out))


# ---------------------------------------------------------------------------- parts
def stream_part(seconds: float, domain: int, folder: Path) -> dict[str, Any]:
    """Run the publisher and subscriber processes; their merged figures."""
    env = {**os.environ, "ROS_DOMAIN_ID": str(domain), "PYTHONPATH": str(ROOT)}
    me = [sys.executable, str(Path(__file__).resolve())]
    pub_report, sub_report = folder / "ros_bridge_pub.json", folder / "ros_bridge_sub.json"
    sub = subprocess.Popen([*me, "--role", "subscriber", "--seconds", str(seconds),
                            "--domain", str(domain), "--report", str(sub_report)], env=env)
    pub = subprocess.Popen([*me, "--role", "publisher", "--seconds", str(seconds),
                            "--domain", str(domain), "--report", str(pub_report)], env=env)
    if pub.wait() != 0 or sub.wait() != 0:
        raise SystemExit("a stream process failed (see its output above)")
    p = json.loads(pub_report.read_text())
    subs = json.loads(sub_report.read_text())
    rates = [s["rgb"]["received"] / p["seconds"] for s in subs]
    rss = [r for _, r in p["rss_mb"]]
    return {"seconds": p["seconds"], "image": f"{SIZE}x{SIZE} rgb8 + 32FC1 depth + Odometry",
            "publisher_rate_hz": p["rate_hz"], "sent": p["sent"],
            "subscriber_rgb_rate_hz": rates, "subscribers": subs,
            "rgb_p50_ms": max(s["rgb"]["p50_ms"] for s in subs),
            "rgb_p99_ms": max(s["rgb"]["p99_ms"] for s in subs),
            "depth_p99_ms": max(s["depth"]["p99_ms"] for s in subs),
            "publisher_rss_mb": p["rss_mb"],
            "publisher_rss_growth_mb": rss[-1] - rss[1] if len(rss) > 2 else rss[-1] - rss[0]}


def agent_part(seeds: list[int], domain: int, folder: Path) -> dict[str, Any]:
    """The memory agent on the same seeds, directly and through a served robot."""
    import gymnasium as gym

    import robomem.envs  # noqa: F401  (registers the envs)
    from robomem.agent import AgentConfig, MemoryAgent
    from robomem.embodiment import embodiment_for
    from robomem.reservoir import Reservoir
    from robomem.runner import _episode
    from tests.fixtures.ros import start_server

    server = start_server(domain, folder)
    out: dict[str, Any] = {}
    try:
        for name, make in (("direct", lambda: gym.make("robomem/Household-v0", width=64,
                                                       height=64)),
                           ("ros2", lambda: gym.make("robomem/ROS2Robot-v0", width=64,
                                                     height=64, topics={"domain_id": domain,
                                                                        "timeout": 60.0}))):
            rows = []
            t0 = time.perf_counter()
            for seed in seeds:
                env = make()
                agent = MemoryAgent(AgentConfig(), embodiment_for(env))
                try:
                    latency = {"env_step": Reservoir(), "policy_act": Reservoir()}
                    rec = _episode(env, agent, seed, 0, latency, False)
                    rows.append({"seed": seed, "success": rec.success, "steps": rec.steps,
                                 "step_ms": float(sum(latency["env_step"])
                                                  / max(1, rec.steps) * 1000.0)})
                finally:
                    agent.close()
                    env.close()
                print(f"  {name} seed {seed}: success={rec.success} steps={rec.steps}")
            out[name] = {"episodes": rows, "seconds": time.perf_counter() - t0,
                         "success_rate": sum(r["success"] for r in rows) / len(rows),
                         "mean_steps": sum(r["steps"] for r in rows) / len(rows),
                         "env_step_ms": sum(r["step_ms"] for r in rows) / len(rows)}
    finally:
        server.stop()
    d, r = out["direct"], out["ros2"]
    out["same_outcomes"] = [(a["success"], a["steps"]) for a in d["episodes"]] == \
        [(b["success"], b["steps"]) for b in r["episodes"]]
    out["success_gap_points"] = 100.0 * (r["success_rate"] - d["success_rate"])
    return out


def plot(summary: dict[str, Any], path: Path) -> None:
    """Publisher RSS over time, and per-subscriber rate and latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = summary["stream"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.8))
    t, rss = zip(*s["publisher_rss_mb"], strict=True)
    a.plot(t, rss, marker="o")
    a.set_xlabel("time (s)")
    a.set_ylabel("publisher RSS (MB)")
    a.set_ylim(0, max(rss) * 1.2)
    a.set_title(f"{s['image']} at {s['publisher_rate_hz']:.1f} Hz")
    names = [f"sub {i}" for i in range(len(s["subscribers"]))]
    p50 = [x["rgb"]["p50_ms"] for x in s["subscribers"]]
    p99 = [x["rgb"]["p99_ms"] for x in s["subscribers"]]
    xs = range(len(names))
    b.bar([x - 0.2 for x in xs], p50, 0.4, label="rgb p50")
    b.bar([x + 0.2 for x in xs], p99, 0.4, label="rgb p99")
    for x, rate in zip(xs, s["subscriber_rgb_rate_hz"], strict=True):
        b.annotate(f"{rate:.1f} Hz", (x, max(p99) * 1.02), ha="center", fontsize=8)
    b.set_xticks(list(xs), names)
    b.set_ylabel("stamp to callback (ms)")
    b.set_ylim(0, max(p99) * 1.2)
    b.legend(loc="lower center")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=float, default=300.0, help="how long the stream runs")
    ap.add_argument("--agent-seeds", type=int, default=10,
                    help="seeds of the agent part (0 skips it)")
    ap.add_argument("--domain", type=int, default=77, help="the ROS_DOMAIN_ID to use")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--role", choices=("publisher", "subscriber"), help=argparse.SUPPRESS)
    ap.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.role == "publisher":
        publisher(args.seconds, args.domain, args.report)
        return {}
    if args.role == "subscriber":
        subscriber(args.seconds, args.domain, args.report)
        return {}
    args.out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="ros_bridge-"))  # the processes' reports and logs
    summary: dict[str, Any] = {"stream": stream_part(args.seconds, args.domain, scratch)}
    s = summary["stream"]
    print(f"stream: {s['publisher_rate_hz']:.2f} Hz sent; subscribers "
          f"{', '.join(f'{r:.2f}' for r in s['subscriber_rgb_rate_hz'])} Hz; rgb p50 "
          f"{s['rgb_p50_ms']:.2f} ms, p99 {s['rgb_p99_ms']:.2f} ms; publisher RSS "
          f"{s['publisher_rss_mb'][0][1]:.0f} -> {s['publisher_rss_mb'][-1][1]:.0f} MB")
    if args.agent_seeds:
        summary["agent"] = agent_part(list(range(args.agent_seeds)), args.domain + 1,
                                      scratch)
        g = summary["agent"]
        print(f"agent: direct {g['direct']['success_rate']:.0%}, through ROS 2 "
              f"{g['ros2']['success_rate']:.0%} (gap {g['success_gap_points']:+.1f} points; "
              f"same outcomes: {g['same_outcomes']}); env step "
              f"{g['direct']['env_step_ms']:.1f} vs {g['ros2']['env_step_ms']:.1f} ms")
    path = write_json("ros_bridge", summary, args.out)
    plot(summary, args.out / "ros_bridge.png")
    print(path)
    return summary


if __name__ == "__main__":
    main()
