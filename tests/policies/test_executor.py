"""The executor: lattice helpers, then skills run in the real Household env.

The env tests use the real Preprocessor and SpatialMemory; obs.privileged is read only here,
to choose targets and to check outcomes, never by the executor.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from robomem.envs.household.placement import find_spot
from robomem.feedback import ActionFeedback, FeedbackCode
from robomem.geometry import AABB
from robomem.memory import FREE, OCCUPIED, SpatialMemory, viewpoints
from robomem.percept import Detection, Percept
from robomem.policies.executor import (
    Executor,
    ExecutorConfig,
    horizon_towards,
    lattice_moves,
    look_actions,
    move_delta,
    turn_actions,
    yaw_towards,
)
from robomem.policies.motion import Walker, ruled_out, voxel_sight_blocked
from robomem.preprocess import Preprocessor
from robomem.skills import (
    CLOSE,
    DONE,
    EXPLORE,
    NAVIGATE,
    OPEN,
    PICKUP,
    PUT,
    Skill,
    SkillResult,
    SkillStatus,
)
from robomem.types import Action, AgentPose, Observation
from tests.fixtures.household import blocked_move
from tests.fixtures.world import HOUSEHOLD

# yaw -> move -> lattice step (di along x, dj along z); yaw 0 faces +z, yaw 90 faces -x,
# forward = (-sin yaw, cos yaw), right = (-cos yaw, -sin yaw).
MOVES = {
    0: {"move_ahead": (0, 1), "move_back": (0, -1), "move_right": (-1, 0), "move_left": (1, 0)},
    90: {"move_ahead": (-1, 0), "move_back": (1, 0), "move_right": (0, -1), "move_left": (0, 1)},
    180: {"move_ahead": (0, -1), "move_back": (0, 1), "move_right": (1, 0), "move_left": (-1, 0)},
    270: {"move_ahead": (1, 0), "move_back": (-1, 0), "move_right": (0, 1), "move_left": (0, -1)},
}


# ------------------------------------------------------------------------------ helpers
@pytest.mark.parametrize("yaw", [0, 90, 180, 270])
def test_lattice_moves_every_direction_at_every_yaw(yaw: int) -> None:
    for move, (di, dj) in MOVES[yaw].items():
        assert move_delta(float(yaw), move) == (di, dj)
        assert lattice_moves([(3, -2), (3 + di, -2 + dj)], float(yaw)) == [move]
        assert lattice_moves([(3, -2), (3 + di, -2 + dj)], float(yaw) + 360.0) == [move]


def test_lattice_moves_walks_a_path_and_rejects_jumps() -> None:
    path = [(0, 0), (0, 1), (0, 2), (-1, 2), (-1, 1), (0, 1)]
    assert lattice_moves(path, 0.0) == ["move_ahead", "move_ahead", "move_right", "move_back",
                                        "move_left"]
    assert lattice_moves(path, 90.0) == ["move_left", "move_left", "move_ahead", "move_right",
                                         "move_back"]
    assert lattice_moves([(0, 0)], 0.0) == [] and lattice_moves([], 0.0) == []
    with pytest.raises(ValueError, match="not a lattice move"):
        lattice_moves([(0, 0), (1, 1)], 0.0)


def test_turn_actions_take_the_short_way_both_ways() -> None:
    assert turn_actions(0.0, 0.0) == []
    assert turn_actions(0.0, 90.0) == ["rotate_right"]
    assert turn_actions(0.0, 270.0) == ["rotate_left"]
    assert turn_actions(90.0, 0.0) == ["rotate_left"]
    assert turn_actions(270.0, 0.0) == ["rotate_right"]  # wraps through 360
    assert turn_actions(180.0, 0.0) == ["rotate_right", "rotate_right"]
    assert turn_actions(-90.0, 180.0) == ["rotate_left"]
    assert turn_actions(0.0, 100.0) == ["rotate_right"]  # snapped to the lattice yaw


def test_look_actions_snap_and_clamp() -> None:
    assert look_actions(0.0, 0.0) == []
    assert look_actions(0.0, 30.0) == ["look_down"]
    assert look_actions(0.0, 44.0) == ["look_down"]
    assert look_actions(-30.0, 60.0) == ["look_down"] * 3
    assert look_actions(0.0, 89.0) == ["look_down", "look_down"]  # clamped to 60
    assert look_actions(60.0, -80.0) == ["look_up"] * 3  # clamped to -30
    assert look_actions(30.0, 10.0) == ["look_up"]


def test_yaw_towards_follows_the_conventions() -> None:
    assert yaw_towards((0.0, 0.0), (0.0, 2.0)) == 0.0  # +z
    assert yaw_towards((0.0, 0.0), (-2.0, 0.1)) == 90.0  # -x
    assert yaw_towards((1.0, 1.0), (1.2, -3.0)) == 180.0  # -z
    assert yaw_towards((0.0, 0.0), (2.0, -0.5)) == 270.0  # +x
    assert yaw_towards((0.0, 0.0), (1.0, 1.2)) == 0.0  # nearer +z than +x


def test_horizon_towards_is_the_nearest_reachable_pitch() -> None:
    cam = (0.0, 1.5, 0.0)
    assert horizon_towards(cam, (0.0, 1.5, 2.0)) == 0.0
    assert horizon_towards(cam, (0.0, 0.9, 1.0)) == 30.0  # 31 deg down
    assert horizon_towards(cam, (0.0, 0.0, 0.3)) == 60.0  # 79 deg down, clamped
    assert horizon_towards(cam, (1.0, 2.5, 0.0)) == -30.0  # 45 deg up
    assert horizon_towards(cam, (0.0, 1.3, 2.0)) == 0.0  # 6 deg down


def test_skill_records() -> None:
    assert Skill(PICKUP, "Mug|1").describe() == "pickup Mug|1"
    assert Skill(EXPLORE, label="Apple").describe() == "explore for Apple"
    with pytest.raises(ValueError, match="needs a target"):
        Skill(PICKUP)
    with pytest.raises(ValueError, match="unknown skill"):
        Skill("juggle")
    assert SkillResult(SkillStatus.SUCCEEDED).ok
    assert not SkillResult(SkillStatus.RUNNING).done


# ------------------------------------------------------------------------ no simulator
def _percept(pose: AgentPose, points: Any = (), dets: Any = ()) -> Percept:
    return Percept(1, 0.1, pose, np.eye(4), np.eye(3), np.zeros((1, 1), np.float32),
                   np.asarray(points, np.float32).reshape(-1, 3), list(dets))


def _floor_memory(x_hi: float = 2.0, extra: Any = ()) -> tuple[SpatialMemory, AgentPose]:
    """Memory of an empty floor (x in [-2, x_hi), z in [-2, 2)), an Apple 1.5 m ahead."""
    xs, zs = np.meshgrid(np.arange(-2, x_hi, 0.05), np.arange(-2, 2, 0.05))
    floor = np.stack([xs.ravel(), np.zeros(xs.size), zs.ravel()], axis=1)
    apple = Detection("Apple|1", "Apple", AABB.from_center_size([0.0, 0.9, 1.5], [0.08] * 3),
                      visible=False)
    pose, mem = AgentPose(0.0, 0.9, 0.0, 0.0, 0.0), SpatialMemory()
    mem.write(_percept(pose, np.vstack([floor, np.reshape(extra, (-1, 3))]), [apple]))
    return mem, pose


def _blank_obs(pose: AgentPose, last: str = "", ok: bool = True) -> Observation:
    return Observation.single(rgb=np.zeros((2, 2, 3), np.uint8), depth=np.zeros((2, 2), np.float32),
                       intrinsics=np.eye(3), camera_pose=np.eye(4), agent_pose=pose,
                       feedback=ActionFeedback.ok(last) if ok else
                       ActionFeedback.failure(last, FeedbackCode.BLOCKED, "bump"))


def test_walker_strafes_in_mapped_space_faces_unseen_space_and_drops_stale_paths() -> None:
    mem, pose = _floor_memory()  # the floor is mapped for x, z in [-2, 2)
    w = Walker(face_unknown=True, walk_horizon=30.0)
    w.follow([(0, 0), (1, 0)], pose)
    assert w.next(pose, mem, set()) == "look_down"  # walk with the floor ahead in view
    pose = replace(pose, horizon=30.0)
    assert w.next(pose, mem, set()) == "move_left"  # +x is left at yaw 0, and mapped
    edge = replace(pose, x=1.75)
    w.follow([(7, 0), (8, 0)], edge)  # x = 2.0: the disc reaches unmapped floor
    assert w.next(edge, mem, set()) == "rotate_left"  # face +x (yaw 270) first
    assert w.next(replace(edge, yaw=270.0), mem, set()) == "move_ahead"
    w.follow([(0, 0), (1, 0)], pose)
    assert w.next(pose, mem, {((0, 0), (1, 0))}) is None and w.stale == 1 and not w.path
    w.follow([(0, 0)], pose)
    w.aim = (0.0, 0.9, -1.0)  # behind, 31 degrees down: turn about, keep the horizon
    assert [w.next(pose, mem, set()) for _ in range(3)] == ["rotate_right", "rotate_right", None]
    w.look_pending = True
    assert [w.next(pose, mem, set()) for _ in range(5)] == ["rotate_right"] * 4 + [None]
    assert w.looked == {(0, 0)}


def test_every_move_failing_ends_in_path_blocked() -> None:
    mem, pose = _floor_memory()
    percept = _percept(pose)
    ex = Executor(ExecutorConfig(max_path_retries=2, face_unknown=False, walk_horizon=None))
    ex.start(Skill(NAVIGATE, "Apple|1"))
    obs, moves = _blank_obs(pose), []
    for _ in range(20):
        out = ex.step(obs, percept, mem)
        if isinstance(out, SkillResult):
            break
        assert out.name in MOVES[0]
        moves.append(out.name)
        obs = _blank_obs(pose, out.name, ok=False)  # every move bumps into something
    assert out == SkillResult(SkillStatus.FAILED, "path blocked")
    assert len(moves) == 3 and ex.stats()["collisions"] == 3.0
    assert len(ex.blocked) == 6  # three edges, both directions
    for a, _ in ex.blocked:  # each bumped cell is now an obstacle on the map
        assert a == (0, 0) or mem.grid.state(a[0] * 0.25, a[1] * 0.25) == OCCUPIED


def test_unknown_target_and_done() -> None:
    mem, pose = _floor_memory()
    percept = _percept(pose)
    ex = Executor()
    ex.start(Skill(PICKUP, "Ghost|1"))
    assert ex.step(_blank_obs(pose), percept, mem) == SkillResult(
        SkillStatus.FAILED, "Ghost|1 is not in memory")
    ex.start(Skill(DONE))
    assert ex.step(_blank_obs(pose), percept, mem) == Action("done")
    assert ex.step(_blank_obs(pose, "done"), percept, mem).ok  # type: ignore[union-attr]
    with pytest.raises(RuntimeError, match="before start"):
        ex.step(_blank_obs(pose), percept, mem)


def test_voxels_block_sight_through_a_wall_and_far_viewpoints_are_ruled_out() -> None:
    wy, wz = np.meshgrid(np.arange(0, 2.5, 0.02), np.arange(-2, 2, 0.02))
    wall = np.stack([np.full(wy.size, 0.98), wy.ravel(), wz.ravel()], axis=1)  # x = 0.98
    mem, _ = _floor_memory(x_hi=4.0, extra=wall)
    box = AABB.from_center_size([1.6, 0.5, 0.0], [0.3, 0.3, 0.3])
    cams = np.array([[0.5, 1.5, 0.0], [2.0, 1.5, 0.0], [1.6, 1.5, 0.5]])
    assert voxel_sight_blocked(mem.voxels, cams, box).tolist() == [True, False, False]
    cells = set(viewpoints(mem.grid, box))
    assert {(8, 0), (9, 0), (10, 0)} <= cells and not any(i < 4 for i, _ in cells)
    out = ruled_out(mem, box, {(9, 0)}, near=0.3)
    assert (9, 0) in out and (10, 0) in out and (8, 0) not in out  # 0.75 m, 0.25 m away
    assert ruled_out(mem, box, set()) == set()  # nothing in the way, no nearness asked
    assert ruled_out(mem, box, cells, near=0.3) == cells  # all tried: nothing left to rule


# ----------------------------------------------------------------------- in the simulator
class Agent:
    """The real env, Preprocessor and SpatialMemory around an Executor.

    The executor sees observations with ``privileged`` emptied; the test reads ground truth
    from ``self.info`` only to choose targets and to check outcomes.
    """

    def __init__(self, seed: int, cfg: ExecutorConfig | None = None, **kw: Any) -> None:
        self.env = gym.make("robomem/Household-v0", width=96, height=96, step_limit=10_000, **kw)
        obs, self.info = self.env.reset(seed=seed)
        self.pre, self.memory, self.ex = Preprocessor(), SpatialMemory(), Executor(cfg)
        self.actions: list[Action] = []
        self._see(HOUSEHOLD.observe(obs, self.info), None)

    def _see(self, obs: Observation, action: Action | None) -> None:
        self.obs = replace(obs, privileged={})
        self.percept = self.pre.process(self.obs, action)
        self.memory.write(self.percept)

    def act(self, action: Action) -> None:
        obs, _, _, _, self.info = self.env.step(HOUSEHOLD.command(action))
        self.actions.append(action)
        self._see(HOUSEHOLD.observe(obs, self.info), action)

    def look_around(self) -> None:
        for _ in range(4):
            self.act(Action("rotate_right"))

    def run(self, skill: Skill, limit: int = 400) -> SkillResult:
        self.ex.start(skill)
        for _ in range(limit):
            out = self.ex.step(self.obs, self.percept, self.memory)
            if isinstance(out, SkillResult):
                return out
            self.act(out)
        raise AssertionError(f"{skill.describe()} still running after {limit} actions")

    @property
    def truth(self) -> dict[str, dict[str, Any]]:
        return {o["objectId"]: o for o in self.info["privileged"]["metadata"]["objects"]}

    def seen(self, pred: Any) -> list[str]:
        """Keys in memory whose ground truth satisfies ``pred``, farthest first."""
        truth = self.truth
        keys = [n.key for n in self.memory.graph.nodes() if n.key in truth and pred(truth[n.key])]
        return sorted(keys, key=lambda k: (-truth[k]["distance"], k))


def _free_area(memory: SpatialMemory) -> float:
    return float((memory.grid.grid == FREE).sum()) * memory.grid.resolution ** 2


def test_navigate_to_a_seen_receptacle_ends_in_reach() -> None:
    agent = Agent(seed=0, scene="FloorPlan1")
    agent.look_around()
    far = agent.seen(lambda o: o["receptacle"] and not o["pickupable"] and o["distance"] > 2.5)
    assert len(far) >= 2, "the look-around should show receptacles beyond reach"
    for key in far[:2]:
        res = agent.run(Skill(NAVIGATE, key))
        assert res.ok, res.reason
        assert agent.truth[key]["visible"]  # in view within 1.5 m, as the simulator sees it
    assert agent.ex.stats()["primitive_actions"] == len(agent.actions) - 4


def test_pickup_then_put_on_a_seen_receptacle() -> None:
    agent = Agent(seed=3, scene="FloorPlan1")
    agent.look_around()
    truth = agent.truth
    item = agent.seen(lambda o: o["pickupable"] and o["distance"] > 1.5)[0]
    res = agent.run(Skill(PICKUP, item))
    assert res.ok, res.reason
    assert agent.percept.held == item and agent.truth[item]["isPickedUp"]
    house = agent.env.unwrapped.house
    hosts = agent.seen(lambda o: o["receptacle"] and not o["openable"] and not o["pickupable"]
                       and find_spot(house, house.objects[o["objectId"]],
                                     truth[item]["objectType"], np.random.default_rng(0),
                                     ignore=item) is not None)
    assert hosts, "no seen receptacle has room for the item"
    res = agent.run(Skill(PUT, hosts[0]))
    assert res.ok, res.reason
    assert agent.percept.held is None and agent.truth[item]["parentReceptacles"] == [hosts[0]]


def test_open_and_close_the_fridge() -> None:
    agent = Agent(seed=0, scene="FloorPlan1")
    res = agent.run(Skill(EXPLORE, label="Fridge"))
    assert res.ok and res.reason == "found Fridge"
    fridge = agent.memory.where_is("Fridge")[0].key
    assert agent.run(Skill(OPEN, fridge)).ok and agent.truth[fridge]["isOpen"]
    assert agent.run(Skill(CLOSE, fridge)).ok and not agent.truth[fridge]["isOpen"]
    res = agent.run(Skill(CLOSE, fridge))  # the simulator's refusal comes back as the reason
    assert res.status == SkillStatus.FAILED and "already closed" in res.reason


def _rooms(agent: Agent) -> tuple[Any, Any]:
    """(the room the agent stands in, another room) from ground truth."""
    house = agent.env.unwrapped.house
    pose = agent.obs.agent_pose
    start = next(r for r in house.rooms if r.rect.contains_point(pose.x, pose.z))
    return start, next(r for r in house.rooms if r is not start)


def _known_in(agent: Agent, room: Any) -> set[str]:
    """Keys in memory of objects that stand in ``room`` (ground truth)."""
    where = {k: (o["position"]["x"], o["position"]["z"]) for k, o in agent.truth.items()}
    return {n.key for n in agent.memory.graph.nodes()
            if n.key in where and room.rect.contains_point(*where[n.key])}


def test_explore_maps_both_rooms() -> None:
    agent = Agent(seed=1, scene="FloorPlan1")  # a kitchen and a living room
    _, other = _rooms(agent)
    area0, known0 = _free_area(agent.memory), _known_in(agent, other)
    results = []
    for _ in range(30):
        results.append(agent.run(Skill(EXPLORE)))
        if not results[-1].ok:
            break
    assert results[-1] == SkillResult(SkillStatus.FAILED, "nothing left to explore")
    assert all(r.ok for r in results[:-1]) and len(results) >= 3
    assert _free_area(agent.memory) > 4 * area0 + 10.0
    assert len(_known_in(agent, other) - known0) >= 5
    assert agent.ex.stats()["collisions"] <= 3


def test_explore_for_a_label_stops_once_it_is_seen() -> None:
    agent = Agent(seed=2, n_rooms=2)  # starts in the living room
    _, other = _rooms(agent)
    house = agent.env.unwrapped.house
    known = {n.label for n in agent.memory.graph.nodes()}
    there = {o.type for o in house.objects.values() if o.parent is None
             and other.rect.contains_point(*o.box.center[::2])}
    label = sorted(there - known)[0]  # furniture of the other room, not seen yet
    res = agent.run(Skill(EXPLORE, label=label))
    assert res == SkillResult(SkillStatus.SUCCEEDED, f"found {label}")
    assert any(d.label == label and d.visible for d in agent.percept.detections)


def test_a_collision_marks_the_edge_and_the_executor_recovers() -> None:
    cfg = ExecutorConfig(face_unknown=False, walk_horizon=None)  # walk blind: bump for sure
    agent = Agent(seed=0, cfg=cfg, scene="FloorPlan1")
    sim = agent.env.unwrapped
    x, z, (dx, dz), _ = blocked_move(sim.world, "wall")
    yaw = {(0, 1): 180.0, (0, -1): 0.0, (1, 0): 90.0, (-1, 0): 270.0}[(dx, dz)]  # wall behind
    assert sim.world.teleport(x, z, yaw, 0.0)
    agent.pre.reset()
    agent.memory.reset()  # a fresh memory: it has seen only what is ahead, not the wall
    agent.act(Action("look_down"))
    here = (round(x / 0.25), round(z / 0.25))
    behind = (here[0] + dx, here[1] + dz)
    target = max((d for d in agent.percept.detections if d.min_distance > 1.6),
                 key=lambda d: (d.pixels, d.key))
    real = agent.memory.path_to_view
    calls = []

    def stale_first(key: str, pose: AgentPose, blocked: Any = None, **kw: Any) -> Any:
        calls.append(key)  # the first plan runs into the unseen wall behind the agent
        return ([here, behind], behind) if len(calls) == 1 else real(key, pose, blocked, **kw)

    agent.memory.path_to_view = stale_first  # type: ignore[method-assign]
    res = agent.run(Skill(NAVIGATE, target.key))
    assert res.ok, res.reason
    assert agent.actions[1] == Action("move_back")  # into the wall
    assert (here, behind) in agent.ex.blocked and (behind, here) in agent.ex.blocked
    assert agent.memory.grid.state(behind[0] * 0.25, behind[1] * 0.25) == OCCUPIED
    stats = agent.ex.stats()
    assert stats["collisions"] == 1.0 and stats["path_replans"] >= 1.0 and len(calls) >= 2
    assert agent.truth[target.key]["visible"]


def test_executor_is_deterministic() -> None:
    runs = []
    for _ in range(2):
        agent = Agent(seed=2, scene="FloorPlan1")
        agent.look_around()
        key = agent.seen(lambda o: o["receptacle"] and not o["pickupable"])[0]
        agent.run(Skill(NAVIGATE, key))
        runs.append([a.name for a in agent.actions])
    assert runs[0] == runs[1] and len(runs[0]) > 4


def test_with_find_the_executor_asks_the_world_once_then_walks_or_gives_the_search_up() -> None:
    from robomem.skills import FIND_MISSED
    from tests.fixtures.planning import MUG, percept

    obs = Observation.single(rgb=np.zeros((4, 4, 3), np.uint8), depth=np.ones((4, 4), np.float32),
                             intrinsics=np.eye(3), camera_pose=np.eye(4),
                             agent_pose=AgentPose(2.0, 0.9, 2.0, 0.0, 0.0),
                             feedback=ActionFeedback.ok())
    mem = SpatialMemory()
    ex = Executor(ExecutorConfig(find=True))
    ex.start(Skill(EXPLORE, label="Mug"))
    assert ex.step(obs, percept([]), mem) == Action("find", "Mug")
    out = ex.step(obs, percept([]), mem)  # the find showed no mug: hidden, search up close
    assert isinstance(out, SkillResult) and out.reason.startswith(FIND_MISSED)
    mem.write(percept([replace(MUG, visible=False)]))
    ex.start(Skill(PICKUP, "Mug|1", "Mug"))
    assert ex.step(obs, percept([]), mem) == Action("find", "Mug|1")
    walked = ex.step(obs, percept([]), mem)  # still out of view: walk there as usual
    assert isinstance(walked, Action) and walked.name != "find"
    assert ex.stats()["finds"] == 2.0
