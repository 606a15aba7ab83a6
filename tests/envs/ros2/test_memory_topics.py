"""The agent's memory on ROS 2: MarkerArray, scene-graph JSON, questions and the Trigger."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from robomem.cli import main
from tests.fixtures.ros import Server, needs_ros

pytestmark = needs_ros


class Listener:
    """A node of the test's own that watches memory topics and asks questions."""

    def __init__(self, domain: int) -> None:
        from robomem.envs.ros2.node import marker_msgs, msgs, qos, start_node

        self.ros = start_node("memory_listener", domain)
        self.m, self.v = msgs(), marker_msgs()
        node = self.ros.node
        self.graphs: list[dict[str, Any]] = []
        self.markers: list[Any] = []
        self.answers: list[dict[str, Any]] = []
        node.create_subscription(self.m.String, "/robomem/scene_graph",
                                 lambda m: self.graphs.append(json.loads(m.data)),
                                 qos("latched"))
        node.create_subscription(self.v.MarkerArray, "/robomem/scene_graph/markers",
                                 self.markers.append, qos("latched"))
        node.create_subscription(self.m.String, "/robomem/answer",
                                 lambda m: self.answers.append(json.loads(m.data)),
                                 qos("command", 50))
        self.ask_pub = node.create_publisher(self.m.String, "/robomem/query", qos("command", 50))

    def spin(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.ros.spin_once(0.02)

    @contextmanager
    def asking(self, questions: list[str], delay: float = 0.0) -> Iterator[None]:
        """Spin in a thread; once the agent's side listens, wait ``delay`` s and ask."""
        stop = threading.Event()

        def ask_while_running() -> None:
            asked = False
            while not stop.is_set():
                if self.ask_pub.get_subscription_count() and not asked:
                    asked = True
                    time.sleep(delay)
                    for q in questions:
                        self.ask_pub.publish(self.m.String(data=q))
                self.ros.spin_once(0.02)

        t = threading.Thread(target=ask_while_running, daemon=True)
        t.start()
        try:
            yield
        finally:
            stop.set()
            t.join(5)
            self.spin(1.0)
            self.ros.close()


def test_memory_is_published_and_answers_questions(ros_server: Server, tmp_path: Path) -> None:
    listener = Listener(ros_server.domain)
    questions = [json.dumps({"id": 7, "question": "where is the fridge?"}),
                 "what is the meaning of life"]
    with listener.asking(questions):  # the env answers inside its steps
        rc = main(["run", "--config", "launch/ros2.yaml", "--episodes", "1", "--no-progress",
                   "--out", str(tmp_path), f"env.topics.domain_id={ros_server.domain}",
                   "env.topics.timeout=30", "save_scene_graphs=true"])
    assert rc == 0
    assert listener.graphs and listener.markers, "memory topics were published"
    last = listener.graphs[-1]
    assert last["frame"] == "map" and last["objects"]
    for o in last["objects"]:  # map frame (REP 103) = robomem's (z, x, y)
        x, y, z = o["center"]
        assert o["position"] == [round(z, 4), round(x, 4), round(y, 4)]
    # the markers draw the same graph: a clear, then a box and a label per object
    arr = listener.markers[-1]
    kinds = [(mk.ns, mk.type) for mk in arr.markers]
    assert arr.markers[0].action == 3  # DELETEALL
    assert kinds.count(("objects", 1)) == len(last["objects"])
    assert kinds.count(("labels", 9)) == len(last["objects"])
    boxes = {mk.id: mk for mk in arr.markers if mk.ns == "objects"}
    first = last["objects"][0]
    assert [boxes[0].pose.position.x, boxes[0].pose.position.y, boxes[0].pose.position.z] == \
        first["position"]
    # the questions were answered from memory, by id
    by_id = {a.get("id"): a for a in listener.answers}
    assert 7 in by_id, listener.answers
    fridge = by_id[7]
    assert fridge["kind"] == "where" and fridge["ok"] and fridge["types"] == ["Fridge"]
    assert all(o["label"] == "Fridge" for o in fridge["objects"])
    other = by_id[None]
    assert not other["ok"] and "where is the X?" in other["text"]
    # the run's own scene graph export agrees with what was published last
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    exported = json.loads(next((run / "scene_graphs").rglob("*.json")).read_text())
    keys = {n["key"] for n in exported["nodes"]}
    assert {o["key"] for o in last["objects"]} <= keys


def test_the_trigger_service_returns_the_scene_graph(ros_server: Server) -> None:
    import gymnasium as gym

    from robomem.agent import AgentConfig, MemoryAgent
    from robomem.embodiment import embodiment_for
    from robomem.envs.ros2.node import marker_msgs, start_node
    from tests.fixtures.ros import ros_kwargs

    env = gym.make("robomem/ROS2Robot-v0", **ros_kwargs(ros_server.domain))
    agent = MemoryAgent(AgentConfig(), embodiment_for(env))
    client_ros = start_node("trigger_client", ros_server.domain)
    try:
        env.unwrapped.attach_memory(agent.reader())  # type: ignore[attr-defined]
        emb = embodiment_for(env)
        raw, info = env.reset(seed=1)
        obs = emb.observe(raw, info)
        agent.reset(obs)
        for _ in range(3):
            raw, _, _, _, info = env.step(emb.command(agent.act(obs)))
            obs = emb.observe(raw, info)
        trigger = marker_msgs().Trigger
        client = client_ros.node.create_client(trigger, "/robomem/scene_graph/get")
        assert client.wait_for_service(timeout_sec=10.0), "the service is offered"
        future = client.call_async(trigger.Request())
        end = time.monotonic() + 15
        while not future.done() and time.monotonic() < end:
            client_ros.spin_once(0.02)
            env.unwrapped.ports.spin_once(0.02)  # type: ignore[attr-defined]
        assert future.done(), "the service answered"
        body = json.loads(future.result().message)
        assert {o["key"] for o in body["objects"]} == {n.key for n in agent.memory.graph.nodes()}
    finally:
        client_ros.close()
        agent.close()
        env.close()
