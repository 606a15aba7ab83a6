"""Start a rosbridge server from this venv's ROS 2 Jazzy wheels: ``rosbridge-server-rs``.

A robot with full ROS runs ``rosbridge_suite``'s ``rosbridge_server`` (ROS 1 or 2) itself. Here,
where ROS 2 is only the PyPI wheels, the Rust server ``rosbridge-server-rs`` (a binary in a
wheel) stands in, so the rosbridge client is tested against a real server. It links against
ROS 2's C libraries as a ROS install lays them out; the wheels lay them out differently, so
:func:`start_rosbridge_server` bridges three gaps (measured on Jazzy wheels, 2026):

- ``librmw_implementation.so`` is not among the wheels: a symlink of that name to the venv's
  ``librmw_fastrtps_cpp.so`` (Fast DDS, the RMW the wheels bring) in a private folder on
  ``LD_LIBRARY_PATH``, with the venv's ``lib`` and the wheels' ``ros_*.libs`` folders;
- the type-support libraries need the Python runtime: ``LD_PRELOAD`` of ``libpython``;
- ``rosapi_msgs`` is not on PyPI: ``--no-rosapi`` (topics and services work; rosapi's
  introspection services such as ``/rosapi/topics`` do not).

The server binds ``127.0.0.1`` by default and joins the ROS domain of the environment; with
``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` its DDS traffic stays on the host too.

Example (nothing starts when the server is not installed):
    >>> path = server_binary()
    >>> path is None or path.name == "rosbridge_server_rs_jazzy"
    True
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

__all__ = ["RosbridgeServer", "free_port", "server_binary", "start_rosbridge_server",
           "stop_process"]

log = logging.getLogger(__name__)


def server_binary() -> Path | None:
    """The Jazzy binary of the installed ``rosbridge-server-rs`` wheel, or None."""
    try:
        import rosbridge_server_rs
    except ImportError:
        return None
    path = Path(rosbridge_server_rs.__file__).with_name("rosbridge_server_rs_jazzy")
    return path if path.is_file() else None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Terminate ``process``; kill it if it has not ended after ``grace`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _executable(binary: Path, folder: Path) -> Path:
    """The binary with its execute bit (pip drops it from this wheel); a copy if need be."""
    if os.access(binary, os.X_OK):
        return binary
    try:
        binary.chmod(binary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return binary
    except OSError:
        copy = folder / binary.name
        shutil.copy2(binary, copy)
        copy.chmod(0o755)
        return copy


def _environment(folder: Path, domain: int | None) -> dict[str, str]:
    prefix = Path(sys.prefix)
    lib = prefix / "lib"
    rmw = lib / "librmw_fastrtps_cpp.so"
    if not rmw.is_file():
        raise FileNotFoundError(f"{rmw} is missing: pip install 'ros-jazzy-rclpy[fastrtps]'")
    link = folder / "librmw_implementation.so"
    if not link.exists():
        link.symlink_to(rmw)
    site = Path(sysconfig.get_paths()["purelib"])
    libs = sorted(str(p) for p in site.glob("ros_*.libs"))
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join([str(folder), str(lib), *libs,
                                              env.get("LD_LIBRARY_PATH", "")]).rstrip(":")
    libpython = Path(sysconfig.get_config_var("LIBDIR") or "") / str(
        sysconfig.get_config_var("INSTSONAME") or "")
    if libpython.is_file():
        env["LD_PRELOAD"] = str(libpython)
    env.setdefault("AMENT_PREFIX_PATH", str(prefix))
    env["ROS_DISTRO"] = "jazzy"
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    if domain is not None:
        env["ROS_DOMAIN_ID"] = str(domain)
    return env


class RosbridgeServer:
    """A running ``rosbridge-server-rs`` process; :meth:`stop` ends it."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log_path: Path,
                 folder: Path) -> None:
        self.process, self.url, self.log_path, self._folder = process, url, log_path, folder

    def output(self, chars: int = 3000) -> str:
        """The end of the server's log."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Terminate the server (kill it if it lingers) and remove its folder."""
        stop_process(self.process)
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> RosbridgeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_rosbridge_server(port: int | None = None, host: str = "127.0.0.1",
                           domain: int | None = None, timeout: float = 20.0
                           ) -> RosbridgeServer:
    """Start ``rosbridge-server-rs`` on ``ws://host:port`` and wait until it accepts.

    Args:
        port: the TCP port (None: a free one).
        host: the address to bind (loopback by default).
        domain: the ROS_DOMAIN_ID to join (None: the environment's).
        timeout: seconds to wait for the port to open.

    Raises:
        ImportError: the server wheel is not installed.
        RuntimeError: it exited or did not open the port in time (its log is quoted).
    """
    binary = server_binary()
    if binary is None:
        raise ImportError("the rosbridge server is not installed: pip install "
                          "rosbridge-server-rs (or run rosbridge_suite's rosbridge_server)")
    folder = Path(tempfile.mkdtemp(prefix="robomem-rosbridge-"))
    port = free_port(host) if port is None else port
    log_path = folder / "server.log"
    cmd = [str(_executable(binary, folder)), "--bind", f"{host}:{port}", "--no-rosapi",
           "--log-ansi", "false", "--node-name", f"rosbridge_{port}"]
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                env=_environment(folder, domain))
    server = RosbridgeServer(proc, f"ws://{host}:{port}", log_path, folder)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            text = server.output()
            server.stop()
            raise RuntimeError(f"rosbridge-server-rs exited with status {proc.returncode}: "
                               f"{text[-800:]}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                log.info("rosbridge server on %s", server.url)
                return server
        except OSError:
            time.sleep(0.1)
    text = server.output()
    server.stop()
    raise RuntimeError(f"rosbridge-server-rs did not open {host}:{port} within {timeout:g} s: "
                       f"{text[-800:]}")
