"""The executor (the cerebellum): turns skills into primitive actions from perception and memory.

It never reads ``obs.privileged``: targets come from the percept (what is seen now) and from
:class:`~robomem.memory.spatial.SpatialMemory` (boxes, the occupancy grid, lattice A* and
viewpoints). A path to a viewpoint is walked on the 0.25 m lattice without turning (strafing
and backing through mapped space; it turns to face only a step into unseen space), then the
agent turns and looks at the target and, once it is in view within reach, interacts. A failed
move marks the lattice edge blocked and the path is re-planned. ``explore`` walks to the
nearest reachable frontier of the occupancy grid and looks around there.

Example:
    >>> from robomem.policies.executor import Executor, ExecutorConfig, lattice_moves
    >>> from robomem.skills import NAVIGATE, Skill
    >>> lattice_moves([(0, 0), (0, 1), (1, 1)], yaw=0.0)
    ['move_ahead', 'move_left']
    >>> ex = Executor(ExecutorConfig(max_path_retries=3))
    >>> ex.start(Skill(NAVIGATE, "Fridge|1"))  # then ex.step(obs, percept, memory) per step
    >>> ex.stats()["skills"]
    1.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from robomem.geometry import AABB
from robomem.memory.navigation import astar, viewpoints
from robomem.percept import Detection, Percept
from robomem.policies.motion import (
    GRID,
    MOVES,
    Cell,
    Edge,
    Walker,
    bearing,
    cell_of,
    frontier_goals,
    horizon_towards,
    lattice_moves,
    look_actions,
    move_delta,
    ruled_out,
    same_side,
    turn_actions,
    yaw_towards,
)
from robomem.primitives import Primitive
from robomem.skills import (
    DONE,
    EXPLORE,
    FIND_MISSED,
    INTERACTION_ACTIONS,
    NAVIGATE,
    OPEN,
    PUT,
    Skill,
    SkillResult,
    SkillStatus,
)
from robomem.types import Action, AgentPose, Observation

if TYPE_CHECKING:
    from robomem.memory.spatial import SpatialMemory

__all__ = ["Executor", "ExecutorConfig", "horizon_towards", "lattice_moves", "look_actions",
           "move_delta", "turn_actions", "yaw_towards"]


FIND = Primitive.FIND.value


def _pose_cell(pose: AgentPose) -> Cell:
    return cell_of(pose.x, pose.z)


# ----------------------------------------------------------------------------- executor
@dataclass
class ExecutorConfig:
    """Executor settings.

    Attributes:
        max_path_retries: re-plans after failed moves before a skill fails ("path blocked").
        bump_radius: radius (m) of the disc marked occupied at a cell a move failed to reach;
            small, so that one bump next to a doorway does not seal it.
        max_viewpoints: viewpoints tried for one target before "cannot see <target>".
        reach: the farthest a target's nearest seen point may be for an interaction (m).
        face_unknown: turn to face a move whose cell is not yet known free, rather than
            stepping sideways or backwards into unseen space (False: never turn while walking).
        walk_horizon: camera pitch while walking (None: keep it); 30 shows the floor ahead.
        look_horizon: camera pitch of the exploration look-around.
        look_around_every: moves between look-arounds while exploring (0: only at frontiers).
        frontier_min_size: smallest frontier (occupancy cells) worth visiting.
        frontier_hole_area: enclosed unknown patches smaller than this (m²) are not
            frontiers (the floor right around the agent, which the camera never sees).
        frontier_tried_radius: frontiers this close (m) to one already chosen are skipped.
        frontiers_per_explore: frontiers a label-less ``explore`` visits before it succeeds.
        look_inside: after opening something, face it before succeeding (to see inside).
        put_retries: other viewpoints tried after a put finds no room in view.
        interact_distance: interactions prefer viewpoints this close (m, on the floor plane)
            to the target's footprint: small objects show more pixels, and free spots on a
            surface are in sight and in reach.
        max_steps: primitive actions one skill may take before it fails.
        find: first try the world's ``find`` primitive (EB-ALFRED's "find X": the world puts
            the agent at a reachable pose facing the target) before walking on the map; only
            for embodiments that offer ``find`` (the agent checks). A target still out of
            view after it is walked to as usual.
    """

    max_path_retries: int = 6
    bump_radius: float = 0.05
    max_viewpoints: int = 4
    reach: float = 1.45
    face_unknown: bool = True
    walk_horizon: float | None = 30.0
    look_horizon: float = 30.0
    look_around_every: int = 16
    frontier_min_size: int = 8
    frontier_hole_area: float = 1.0
    frontier_tried_radius: float = 0.75
    frontiers_per_explore: int = 1
    look_inside: bool = True
    put_retries: int = 2
    interact_distance: float = 0.6
    max_steps: int = 400
    find: bool = False


class Executor:
    """Runs one skill at a time: ``start(skill)``, then ``step(...)`` until a SkillResult."""

    def __init__(self, cfg: ExecutorConfig | None = None) -> None:
        self.cfg = cfg or ExecutorConfig()
        self.blocked: set[Edge] = set()  # lattice edges a move failed on (kept across skills)
        c = self.cfg
        self.walker = Walker(c.face_unknown, c.walk_horizon, c.look_horizon)
        self.skill: Skill | None = None
        self._last: Action | None = None  # sent last step (its feedback comes next step)
        self._last_pose: AgentPose | None = None
        self._counts = {"primitive_actions": 0, "collisions": 0, "path_replans": 0,
                        "viewpoints_tried": 0, "skills": 0, "finds": 0}
        self._reset_skill()

    def _reset_skill(self) -> None:
        self.walker.clear()
        self._goal: Cell | None = None
        self._awaiting = False  # an interaction was sent; its feedback ends the skill
        self._hold_off = False  # do not interact before reaching the next viewpoint
        self._steps = 0
        self._retries = 0  # failed moves in this skill
        self._put_retries = 0
        self._excluded: set[Cell] = set()  # viewpoints already tried for the target
        self._tried: list[tuple[float, float]] = []  # frontier centroids already chosen
        self._frontiers_done = 0
        self._finishing: SkillResult | None = None  # the result, once the last looks are done
        self._known: set[str] | None = None  # explore: instances of the label known at start
        self._bad_sides: list[float] = []  # put: bearings (from the target) where it failed
        self._found = False  # the skill already used its one ``find``

    # ------------------------------------------------------------------ public api
    def reset(self) -> None:
        """Forget the episode: blocked edges, the running skill and the counters."""
        self.blocked.clear()
        self.walker.looked.clear()
        self.walker.stale = 0
        self.skill, self._last, self._last_pose = None, None, None
        self._counts = dict.fromkeys(self._counts, 0)
        self._reset_skill()

    def start(self, skill: Skill) -> None:
        """Begin ``skill`` (abandoning any running one)."""
        self.skill = skill
        self._counts["skills"] += 1
        self._reset_skill()

    def stats(self) -> dict[str, float]:
        """Counters: primitive actions, collisions, path re-plans, viewpoints tried, skills."""
        out = {k: float(v) for k, v in self._counts.items()}
        out["path_replans"] += self.walker.stale
        return out

    def step(self, obs: Observation, percept: Percept,
             memory: SpatialMemory) -> Action | SkillResult:
        """The next primitive action of the running skill, or how the skill ended.

        Args:
            obs: the latest observation (its pose and action feedback; never ``privileged``).
            percept: the preprocessor's output for ``obs``.
            memory: spatial memory, already updated with ``percept``.
        """
        skill = self.skill
        if skill is None:
            raise RuntimeError("Executor.step called before start(skill)")
        out: Action | SkillResult | None = self._feedback(skill, obs, memory)
        if out is None:
            self._steps += 1
            if self._steps > self.cfg.max_steps:
                out = SkillResult(SkillStatus.FAILED, f"{skill.describe()} timed out")
            elif skill.name == DONE:
                out = Action("done")
            elif skill.name == EXPLORE:
                out = self._explore(skill, obs, percept, memory)
            else:
                out = self._targeted(skill, obs, percept, memory)
        if isinstance(out, Action):
            self._last, self._last_pose = out, obs.agent_pose
            self._counts["primitive_actions"] += 1
        else:
            self.skill = None
        return out

    # ------------------------------------------------------------------ internals
    def _feedback(self, skill: Skill, obs: Observation,
                  memory: SpatialMemory) -> SkillResult | None:
        """Digest the outcome of the action sent last step."""
        last, pose = self._last, self._last_pose
        self._last = None
        if last is None or pose is None:
            return None
        if last.name == "done":
            return SkillResult(SkillStatus.SUCCEEDED, "done")
        if self._awaiting:
            self._awaiting = False
            done = SkillResult(SkillStatus.SUCCEEDED, f"{last.name} {last.object_id}")
            if obs.action_success and last.name == OPEN and self.cfg.look_inside:
                self._finishing = done  # face it first, so that its contents get seen
                self.walker.clear()
                return None
            if obs.action_success:
                return done
            if skill.name == PUT and self._put_retries < self.cfg.put_retries:
                # Where the held object goes depends on what is in view: try another viewpoint.
                self._put_retries += 1
                here = _pose_cell(obs.agent_pose)
                self._excluded.add(here)
                node = memory.graph.node(skill.target or "")
                if node is not None:  # the open side may face elsewhere: try another side
                    self._bad_sides.append(bearing(here, node.box))
                self._goal, self._hold_off = None, True
                return None
            return SkillResult(SkillStatus.FAILED, obs.action_error or f"{last.name} failed")
        if last.name in MOVES and not obs.action_success:
            self._counts["collisions"] += 1
            self._counts["path_replans"] += 1
            a = _pose_cell(pose)
            d = move_delta(pose.yaw, last.name)
            b = (a[0] + d[0], a[1] + d[1])
            self.blocked |= {(a, b), (b, a)}
            memory.grid.mark_blocked(b[0] * GRID, b[1] * GRID, radius=self.cfg.bump_radius)
            self.walker.clear()
            self._retries += 1
            if self._retries > self.cfg.max_path_retries:
                return SkillResult(SkillStatus.FAILED, "path blocked")
        return None

    # ---------------------------------------------------------- targeted skills
    def _visible(self, percept: Percept, key: str) -> Detection | None:
        for d in percept.detections:
            if d.key == key and d.visible and d.min_distance <= self.cfg.reach:
                return d
        return None

    def _targeted(self, skill: Skill, obs: Observation, percept: Percept,
                  memory: SpatialMemory) -> Action | SkillResult:
        key = skill.target
        assert key is not None
        pose = obs.agent_pose
        here = _pose_cell(pose)
        walker = self.walker
        if self._finishing is not None:
            box = self._box(key, percept, memory)
            if box is not None and walker.aim is None and not walker.then:
                walker.aim = (float(box.center[0]), float(box.center[1]), float(box.center[2]))
            act = walker.next(pose, memory, self.blocked)
            return self._finishing if act is None else Action(act)
        settled = walker.advance(pose)
        if self._hold_off and settled and self._goal == here:
            self._hold_off = False
        # A put places only where the agent looks: finish aiming first (unless unplanned).
        ready = skill.name != PUT or settled or self._goal is None
        if ready and not self._hold_off and self._visible(percept, key) is not None:
            if skill.name == NAVIGATE:
                return SkillResult(SkillStatus.SUCCEEDED, f"{key} is in view")
            self._awaiting = True
            return Action(INTERACTION_ACTIONS[skill.name], key)
        if self.cfg.find and not self._found:
            return self._find(key)
        for _ in range(self.cfg.max_viewpoints + 2):
            act = walker.next(pose, memory, self.blocked)
            if act is not None:
                return Action(act)
            box = self._box(key, percept, memory)
            if box is None:
                return SkillResult(SkillStatus.FAILED, f"{key} is not in memory")
            if self._goal == here and not walker.path:
                self._excluded.add(here)  # arrived and looked, yet it is not in view
            if len(self._excluded) >= self.cfg.max_viewpoints:
                break
            near = None if skill.name == NAVIGATE else self.cfg.interact_distance
            node = memory.graph.node(key)
            host = memory.graph.node(node.parent) if node and node.parent else None
            bad = ruled_out(memory, box, self._excluded, near, [host.box] if host else [])
            if skill.name == PUT and self._bad_sides:
                bad = bad | same_side(viewpoints(memory.grid, box), box, self._bad_sides)
            got = memory.path_to_view(key, pose, self.blocked, exclude=bad)
            if got is None:  # the good viewpoints are out of reach: any will do
                got = memory.path_to_view(key, pose, self.blocked, exclude=self._excluded)
            if got is None:
                break
            path, goal = got
            if goal != self._goal:
                self._counts["viewpoints_tried"] += 1
            self._goal = (int(goal[0]), int(goal[1]))
            walker.follow(path, pose)
            c = box.center
            top = box.hi[1] if skill.name == PUT else c[1]  # put: aim at the surface
            walker.aim = (float(c[0]), float(top), float(c[2]))
        return SkillResult(SkillStatus.FAILED, f"cannot see {key}")

    def _find(self, target: str) -> Action:
        """The one ``find`` of this skill (an object key, or a type while exploring)."""
        self._found = True
        self._counts["finds"] += 1
        self.walker.clear()
        return Action(FIND, target)

    def _box(self, key: str, percept: Percept, memory: SpatialMemory) -> AABB | None:
        for d in percept.detections:
            if d.key == key:
                return d.box
        node = memory.graph.node(key)
        return None if node is None else node.box

    # ------------------------------------------------------------------- explore
    def _explore(self, skill: Skill, obs: Observation, percept: Percept,
                 memory: SpatialMemory) -> Action | SkillResult:
        if skill.label and self._known is None:
            # Known instances do not count: the planner explores for one it has not seen.
            self._known = {n.key for n in memory.where_is(skill.label)
                           if n.first_seen < percept.step}
        if skill.label and any(d.label == skill.label and d.visible and d.key not in
                               (self._known or set()) for d in percept.detections):
            return SkillResult(SkillStatus.SUCCEEDED, f"found {skill.label}")
        if self.cfg.find and skill.label:
            if not self._found:
                return self._find(skill.label)
            # The world showed where one is and it is not in view: it is hidden (in something
            # closed) or only known ones exist. Walking frontiers would not show it either;
            # the planner searches receptacles next.
            return SkillResult(SkillStatus.FAILED, f"{FIND_MISSED} ({skill.label})")
        pose, walker = obs.agent_pose, self.walker
        for _ in range(3):
            act = walker.next(pose, memory, self.blocked)
            if act is not None:
                n = self.cfg.look_around_every
                if n and walker.path and walker.moves_since_look >= n:
                    walker.path.clear()  # look around on the way, then re-plan
                    walker.look_pending = True
                return Action(act)
            if self._goal is not None:
                if _pose_cell(pose) == self._goal:
                    self._frontiers_done += 1
                    if not skill.label and \
                            self._frontiers_done >= self.cfg.frontiers_per_explore:
                        return SkillResult(SkillStatus.SUCCEEDED, "explored a frontier")
                elif self._tried:
                    self._tried.pop()  # interrupted on the way: that frontier may still be best
                self._goal = None
            path = self._plan_frontier(pose, memory)
            if path is None:
                if _pose_cell(pose) in walker.looked:
                    break
                walker.look_pending = True  # looking around here may reveal frontiers
                continue
            self._goal = path[-1]
            walker.follow(path, pose)
            walker.look_pending = True
        return SkillResult(SkillStatus.FAILED, "nothing left to explore")

    def _plan_frontier(self, pose: AgentPose, memory: SpatialMemory) -> list[Cell] | None:
        """A* to the nearest reachable frontier not tried yet (marks it tried)."""
        grid = memory.grid
        c = self.cfg
        owner = frontier_goals(grid, c.frontier_min_size, c.frontier_hole_area, self._tried,
                               c.frontier_tried_radius, self.walker.looked)
        if not owner:
            return None
        path = astar(grid, (pose.x, pose.z), set(owner), self.blocked)
        if path is None:
            self._tried.extend(set(owner.values()))
            return None
        self._tried.append(owner[path[-1]])
        return [(int(i), int(j)) for i, j in path]
