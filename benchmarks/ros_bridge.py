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

- **rosbridge stream**: the same publisher, with a rosbridge server (``rosbridge-server-rs``)
  on its graph and 4 rosbridge client processes (robomem's own client, ``RosbridgePorts``:
  roslibpy, JSON, PNG with ``--bridge-compression png``) taking every stream for
  ``--bridge-seconds``. Reported: each client's rate, latency (stamp to the env's callback,
  JSON decoding and message conversion included), queue drops, and the server's resident
  memory every 10 s.
- the **agent** part runs a third condition, through rosbridge against the same served robot.

Usage:
    python benchmarks/ros_bridge.py --seconds 300 --bridge-seconds 300 --agent-seeds 10 \
        --out benchmarks/results
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
def rss_of(pid: int) -> float:
    """Another process's resident memory (MB), from /proc (nan once it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def latency_row(xs: list[float]) -> dict[str, Any]:
    """Count and latency percentiles (ms) of latencies in seconds."""
    import numpy as np

    a = np.asarray(xs) * 1000.0
    return {"received": len(xs),
            "p50_ms": float(np.percentile(a, 50)) if len(a) else None,
            "p99_ms": float(np.percentile(a, 99)) if len(a) else None,
            "max_ms": float(a.max()) if len(a) else None}


def publisher(seconds: float, domain: int, report: Path, subscribers: int = SUBSCRIBERS
              ) -> None:
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
    while min(p.get_subscription_count() for p in pubs.values()) < subscribers:
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
    out = [{stream: latency_row(xs) for stream, xs in per.items()} for per in lat]
    for ros in nodes:
        ros.close()
    report.write_text(json.dumps(out))


def bridge_subscriber(seconds: float, url: str, compression: str, report: Path) -> None:
    """One rosbridge client (robomem's RosbridgePorts) taking every stream."""
    from robomem.envs.ros2.node import msgs, qos
    from robomem.envs.ros2.rosbridge import RosbridgePorts

    m = msgs()
    ports = RosbridgePorts(url, compression)
    lat: dict[str, list[float]] = {"rgb": [], "depth": [], "odom": []}

    def cb(stream: str):  # type: ignore[no-untyped-def]
        def take(msg) -> None:  # type: ignore[no-untyped-def]
            st = msg.header.stamp
            lat[stream].append(time.time() - (st.sec + 1e-9 * st.nanosec))
        return take

    sensor = qos("sensor", 10)
    ports.subscribe(m.Image, "/camera/color/image_raw", cb("rgb"), sensor)
    ports.subscribe(m.Image, "/camera/depth/image_rect", cb("depth"), sensor)
    ports.subscribe(m.Odometry, "/odom", cb("odom"), sensor)
    end = time.monotonic() + seconds + 20.0
    while time.monotonic() < end:
        ports.spin_once(0.05)
    stats = ports.stats()
    ports.close()
    report.write_text(json.dumps({**{k: latency_row(v) for k, v in lat.items()},
                                  "stats": stats}))


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


def bridge_part(seconds: float, domain: int, folder: Path, compression: str) -> dict[str, Any]:
    """The publisher, a rosbridge server on its graph, and 4 rosbridge client processes."""
    from robomem.envs.ros2.rosbridge_server import start_rosbridge_server

    env = {**os.environ, "ROS_DOMAIN_ID": str(domain), "PYTHONPATH": str(ROOT)}
    me = [sys.executable, str(Path(__file__).resolve())]
    server = start_rosbridge_server(domain=domain)
    try:
        reports = [folder / f"ros_bridge_ws{i}.json" for i in range(SUBSCRIBERS)]
        clients = [subprocess.Popen([*me, "--role", "bridge-subscriber", "--seconds",
                                     str(seconds), "--url", server.url, "--bridge-compression",
                                     compression, "--report", str(r)], env=env)
                   for r in reports]
        time.sleep(8.0)  # the clients connect and subscribe (the server subscribes once)
        pub_report = folder / "ros_bridge_ws_pub.json"
        pub = subprocess.Popen([*me, "--role", "publisher", "--seconds", str(seconds),
                                "--domain", str(domain), "--subscribers", "1",
                                "--report", str(pub_report)], env=env)
        t0, rss = time.monotonic(), [(0.0, rss_of(server.process.pid))]
        while pub.poll() is None:
            time.sleep(1.0)
            if time.monotonic() - t0 >= 10.0 * len(rss):
                rss.append((round(time.monotonic() - t0, 1), rss_of(server.process.pid)))
        rss.append((round(time.monotonic() - t0, 1), rss_of(server.process.pid)))
        if pub.returncode != 0 or any(c.wait() != 0 for c in clients):
            raise SystemExit(f"a rosbridge stream process failed; server log: "
                             f"{server.output(1500)}")
    finally:
        server.stop()
    p = json.loads(pub_report.read_text())
    subs = [json.loads(r.read_text()) for r in reports]
    growth = rss[-1][1] - rss[1][1] if len(rss) > 2 else rss[-1][1] - rss[0][1]
    return {"seconds": p["seconds"], "compression": compression,
            "publisher_rate_hz": p["rate_hz"], "sent": p["sent"],
            "client_rgb_rate_hz": [s["rgb"]["received"] / p["seconds"] for s in subs],
            "client_depth_rate_hz": [s["depth"]["received"] / p["seconds"] for s in subs],
            "clients": subs,
            "rgb_p50_ms": max(s["rgb"]["p50_ms"] or 0.0 for s in subs),
            "rgb_p99_ms": max(s["rgb"]["p99_ms"] or 0.0 for s in subs),
            "dropped": sum(s["stats"].get("rosbridge_dropped", 0.0) for s in subs),
            "server_rss_mb": rss, "server_rss_growth_mb": growth}


def agent_part(seeds: list[int], domain: int, folder: Path) -> dict[str, Any]:
    """The memory agent on the same seeds, directly and through a served robot."""
    import gymnasium as gym

    import robomem.envs  # noqa: F401  (registers the envs)
    from robomem.agent import AgentConfig, MemoryAgent
    from robomem.embodiment import embodiment_for
    from robomem.envs.ros2.rosbridge_server import start_rosbridge_server
    from robomem.reservoir import Reservoir
    from robomem.runner import _episode
    from tests.fixtures.ros import start_server

    server = start_server(domain, folder)
    bridge = start_rosbridge_server(domain=domain)
    out: dict[str, Any] = {}
    try:
        for name, make in (("direct", lambda: gym.make("robomem/Household-v0", width=64,
                                                       height=64)),
                           ("ros2", lambda: gym.make("robomem/ROS2Robot-v0", width=64,
                                                     height=64, topics={"domain_id": domain,
                                                                        "timeout": 60.0})),
                           ("rosbridge", lambda: gym.make("robomem/ROS2Robot-v0", width=64,
                                                          height=64, rosbridge=bridge.url,
                                                          compression="png",
                                                          topics={"timeout": 60.0}))):
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
        bridge.stop()
        server.stop()
    d, r, w = out["direct"], out["ros2"], out["rosbridge"]

    def outcomes(part: dict[str, Any]) -> list[tuple[bool, int]]:
        return [(e["success"], e["steps"]) for e in part["episodes"]]

    out["same_outcomes"] = outcomes(d) == outcomes(r)
    out["same_outcomes_rosbridge"] = outcomes(d) == outcomes(w)
    out["success_gap_points"] = 100.0 * (r["success_rate"] - d["success_rate"])
    out["success_gap_points_rosbridge"] = 100.0 * (w["success_rate"] - d["success_rate"])
    return out


def plot(summary: dict[str, Any], path: Path) -> None:
    """Publisher RSS over time, and per-subscriber rate and latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = summary["stream"]
    w = summary.get("rosbridge")
    fig, axes = plt.subplots(1, 3 if w else 2, figsize=(16 if w else 11, 3.8))
    a, b = axes[0], axes[1]
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
    b.set_ylim(0, max(p99) * 1.45)
    b.legend(loc="upper left", fontsize=8, ncols=2)
    if w:
        c = axes[2]
        t, rss = zip(*w["server_rss_mb"], strict=True)
        c.plot(t, rss, marker="o", color="tab:green", label="server RSS (MB)")
        c.set_xlabel("time (s)")
        c.set_ylabel("rosbridge server RSS (MB)")
        c.set_ylim(0, max(rss) * 1.3)
        rates = ", ".join(f"{r:.1f}" for r in w["client_rgb_rate_hz"])
        c.set_title(f"rosbridge ({w['compression']}): clients {rates} Hz\n"
                    f"rgb p50 {w['rgb_p50_ms']:.0f} ms, p99 {w['rgb_p99_ms']:.0f} ms",
                    fontsize=9)
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
    ap.add_argument("--bridge-seconds", type=float, default=300.0,
                    help="how long the rosbridge stream runs (0 skips it)")
    ap.add_argument("--bridge-compression", choices=("none", "png"), default="none",
                    help="how the rosbridge server sends the images")
    ap.add_argument("--role", choices=("publisher", "subscriber", "bridge-subscriber"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--subscribers", type=int, default=SUBSCRIBERS, help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.role == "publisher":
        publisher(args.seconds, args.domain, args.report, args.subscribers)
        return {}
    if args.role == "bridge-subscriber":
        bridge_subscriber(args.seconds, args.url, args.bridge_compression, args.report)
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
    if args.bridge_seconds:
        summary["rosbridge"] = bridge_part(args.bridge_seconds, args.domain + 2, scratch,
                                           args.bridge_compression)
        w = summary["rosbridge"]
        print(f"rosbridge ({w['compression']}): {w['publisher_rate_hz']:.2f} Hz sent; clients "
              f"{', '.join(f'{r:.2f}' for r in w['client_rgb_rate_hz'])} Hz rgb; rgb p50 "
              f"{w['rgb_p50_ms']:.1f} ms, p99 {w['rgb_p99_ms']:.1f} ms; dropped "
              f"{w['dropped']:.0f}; server RSS {w['server_rss_mb'][0][1]:.0f} -> "
              f"{w['server_rss_mb'][-1][1]:.0f} MB")
    if args.agent_seeds:
        summary["agent"] = agent_part(list(range(args.agent_seeds)), args.domain + 1,
                                      scratch)
        g = summary["agent"]
        print(f"agent: direct {g['direct']['success_rate']:.0%}, through ROS 2 "
              f"{g['ros2']['success_rate']:.0%}, through rosbridge "
              f"{g['rosbridge']['success_rate']:.0%} (same outcomes: {g['same_outcomes']}, "
              f"{g['same_outcomes_rosbridge']}); env step {g['direct']['env_step_ms']:.1f} vs "
              f"{g['ros2']['env_step_ms']:.1f} vs {g['rosbridge']['env_step_ms']:.1f} ms")
    path = write_json("ros_bridge", summary, args.out)
    plot(summary, args.out / "ros_bridge.png")
    print(path)
    return summary


if __name__ == "__main__":
    main()
