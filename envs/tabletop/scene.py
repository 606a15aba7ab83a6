"""The tabletop's pybullet world: a Franka Panda at a table, with things to remember.

On the table: a block, bowls, a plate, a cabinet of drawers and buttons that light up.

Everything is kinematic. pybullet (in DIRECT mode, no display) places the bodies, solves the
arm's inverse kinematics and renders the cameras (:mod:`.cameras`); the simulation is never
stepped, so an episode is exactly reproducible and a skill costs a few IK solves. A held block
follows the gripper; a released one is set down on whatever is under it.

Coordinates here are pybullet's (z up, metres, the table top at z = 0, the robot's base at
x = -0.45 facing +x); the env hands robomem its y-up world (:func:`robomem.geometry.zup_to_yup`).

Example:
    >>> from robomem.envs.tabletop.scene import TabletopScene
    >>> scene = TabletopScene()
    >>> sorted(scene.objects)[:3], scene.support_of("Block|1")
    (['Block|1', 'Bowl|1', 'Bowl|2'], 'Bowl|1')
    >>> scene.set_drawer("Drawer|2", True); scene.drawer_open("Drawer|2")
    True
    >>> scene.close()
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["HOME_JOINTS", "ObjectInfo", "ReachError", "TabletopScene", "import_pybullet"]

log = logging.getLogger(__name__)

BASE = (-0.45, 0.0, 0.0)
HOME_JOINTS = (0.0, -0.3, 0.0, -2.2, 0.0, 1.9, 0.785)
ARM = tuple(range(7))
FINGERS = (9, 10)
HAND, EE = 8, 11  # panda_hand and panda_grasptarget links of pybullet_data's panda.urdf
FINGER_OPEN = 0.04
DOWN = (math.pi, 0.0, 0.0)  # gripper pointing down (roll, pitch, yaw)
BLOCK = 0.04  # block edge (m)
BOWL_XY = ((0.12, -0.17), (0.12, 0.0), (0.12, 0.17))
PLATE_XY = (0.36, 0.0)
DRAWER_X = (-0.16, 0.02, 0.20)
CABINET_Y = 0.46  # the cabinet's centre; drawers slide out toward -y
DRAWER_TRAVEL = 0.12
BUTTON_XY = ((-0.10, -0.36), (0.06, -0.36), (0.22, -0.36))
REACH_TOL = 0.015  # the largest IK position error a skill accepts (m)
LIT = (1.0, 0.85, 0.1, 1.0)
UNLIT = (0.35, 0.08, 0.08, 1.0)


class ReachError(RuntimeError):
    """The arm cannot reach a pose; the message says which and how far it got."""


def import_pybullet() -> tuple[Any, Any]:
    """``(pybullet, pybullet_data)``, or an ImportError naming the extra to install."""
    try:
        import pybullet
        import pybullet_data
    except ImportError as e:
        raise ImportError("robomem/Tabletop-v0 needs pybullet: pip install "
                          "'robomem[tabletop]' (or pip install pybullet)") from e
    return pybullet, pybullet_data


@dataclass(frozen=True)
class ObjectInfo:
    """One object of the scene.

    Attributes:
        key: its object id (``"Drawer|2"``).
        label: its type in the tabletop ontology.
        body: the pybullet body id.
        link: the link index (-1: the base).
    """

    key: str
    label: str
    body: int
    link: int = -1


class TabletopScene:
    """The pybullet world of one env (its own DIRECT client); see the module docstring."""

    def __init__(self) -> None:
        p, data = import_pybullet()
        self.p = p
        self.cid: int = p.connect(p.DIRECT)
        p.setAdditionalSearchPath(data.getDataPath(), physicsClientId=self.cid)
        self.objects: dict[str, ObjectInfo] = {}
        self.robot: int = p.loadURDF("franka_panda/panda.urdf", BASE, useFixedBase=True,
                                     physicsClientId=self.cid)
        self.table = self._box((0.1, 0.0, -0.025), (0.75, 0.65, 0.025), (0.62, 0.5, 0.34, 1))
        self.objects["Table|1"] = ObjectInfo("Table|1", "Table", self.table)
        self.objects["Robot|1"] = ObjectInfo("Robot|1", "Robot", self.robot)
        for i, (x, y) in enumerate(BOWL_XY, 1):
            b = self._cylinder((x, y, 0.01), 0.05, 0.02, (0.2, 0.45, 0.85, 1))
            self.objects[f"Bowl|{i}"] = ObjectInfo(f"Bowl|{i}", "Bowl", b)
        plate = self._cylinder((*PLATE_XY, 0.005), 0.065, 0.01, (0.92, 0.92, 0.88, 1))
        self.objects["Plate|1"] = ObjectInfo("Plate|1", "Plate", plate)
        self._build_cabinet()
        for i, (x, y) in enumerate(BUTTON_XY, 1):
            b = self._cylinder((x, y, 0.01), 0.03, 0.02, UNLIT)
            self.objects[f"Button|{i}"] = ObjectInfo(f"Button|{i}", "Button", b)
        block = self._box((0.0, 0.0, BLOCK / 2), (BLOCK / 2,) * 3, (0.85, 0.1, 0.1, 1))
        self.objects["Block|1"] = ObjectInfo("Block|1", "Block", block)
        self.lit: dict[str, bool] = {k: False for k in self.objects if k.startswith("Button")}
        self.held: str | None = None
        self._grasp = np.eye(4)  # the held block in the gripper's frame
        self.gripper_open = True
        self.reset()

    # ------------------------------------------------------------------ building
    def _box(self, pos: tuple[float, float, float], half: tuple[float, float, float],
             rgba: tuple[float, ...]) -> int:
        p = self.p
        col = p.createCollisionShape(p.GEOM_BOX, halfExtents=half, physicsClientId=self.cid)
        vis = p.createVisualShape(p.GEOM_BOX, halfExtents=half, rgbaColor=rgba,
                                  physicsClientId=self.cid)
        return int(p.createMultiBody(0, col, vis, pos, physicsClientId=self.cid))

    def _cylinder(self, pos: tuple[float, float, float], radius: float, height: float,
                  rgba: tuple[float, ...]) -> int:
        p = self.p
        col = p.createCollisionShape(p.GEOM_CYLINDER, radius=radius, height=height,
                                     physicsClientId=self.cid)
        vis = p.createVisualShape(p.GEOM_CYLINDER, radius=radius, length=height, rgbaColor=rgba,
                                  physicsClientId=self.cid)
        return int(p.createMultiBody(0, col, vis, pos, physicsClientId=self.cid))

    def _build_cabinet(self) -> None:
        """A low cabinet with three drawers side by side, sliding out toward the table."""
        p, cid = self.p, self.cid
        half = (0.28, 0.09, 0.08)
        col = p.createCollisionShape(p.GEOM_BOX, halfExtents=half, physicsClientId=cid)
        vis = p.createVisualShape(p.GEOM_BOX, halfExtents=half, rgbaColor=(0.95, 0.95, 0.95, 1),
                                  physicsClientId=cid)
        dh = (0.075, 0.085, 0.055)
        dcol = p.createCollisionShape(p.GEOM_BOX, halfExtents=dh, physicsClientId=cid)
        dvis = p.createVisualShape(p.GEOM_BOX, halfExtents=dh, rgbaColor=(0.55, 0.35, 0.2, 1),
                                   physicsClientId=cid)
        n = len(DRAWER_X)
        self.cabinet = int(p.createMultiBody(
            0, col, vis, (0.02, CABINET_Y, 0.08),
            linkMasses=[0.0] * n, linkCollisionShapeIndices=[dcol] * n,
            linkVisualShapeIndices=[dvis] * n,
            linkPositions=[(x - 0.02, -0.015, 0.0) for x in DRAWER_X],
            linkOrientations=[(0, 0, 0, 1)] * n, linkInertialFramePositions=[(0, 0, 0)] * n,
            linkInertialFrameOrientations=[(0, 0, 0, 1)] * n, linkParentIndices=[0] * n,
            linkJointTypes=[p.JOINT_PRISMATIC] * n, linkJointAxis=[(0, -1, 0)] * n,
            physicsClientId=cid))
        self.objects["Cabinet|1"] = ObjectInfo("Cabinet|1", "Cabinet", self.cabinet)
        for i in range(n):
            self.objects[f"Drawer|{i + 1}"] = ObjectInfo(f"Drawer|{i + 1}", "Drawer",
                                                          self.cabinet, i)

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """The start layout: arm home, drawers closed, lights off, block on Bowl|1."""
        self.set_joints(HOME_JOINTS)
        self.set_gripper(True)
        self.held = None
        for k in self.objects:
            if k.startswith("Drawer"):
                self.set_drawer(k, False)
        for k in self.lit:
            self.set_lit(k, False)
        self.place_on("Block|1", "Bowl|1")

    def set_joints(self, q: tuple[float, ...] | NDArray[np.float64]) -> None:
        """Put the arm's seven joints at ``q`` (and carry a held block along)."""
        for j, v in zip(ARM, q, strict=True):
            self.p.resetJointState(self.robot, j, float(v), physicsClientId=self.cid)
        self._carry()

    def set_gripper(self, open_: bool) -> None:
        """Open or close the fingers (closed around a held block's width)."""
        w = FINGER_OPEN if open_ else (BLOCK / 2 if self.held else 0.0)
        for j in FINGERS:
            self.p.resetJointState(self.robot, j, w, physicsClientId=self.cid)
        self.gripper_open = open_

    def set_drawer(self, key: str, open_: bool) -> None:
        """Slide drawer ``key`` fully out or in."""
        info = self.objects[key]
        self.p.resetJointState(info.body, info.link, DRAWER_TRAVEL if open_ else 0.0,
                               physicsClientId=self.cid)

    def drawer_open(self, key: str) -> bool:
        """Whether drawer ``key`` is out."""
        info = self.objects[key]
        return bool(self.p.getJointState(info.body, info.link,
                                         physicsClientId=self.cid)[0] > DRAWER_TRAVEL / 2)

    def set_lit(self, key: str, lit: bool) -> None:
        """Light button ``key`` up, or put it out."""
        self.lit[key] = lit
        self.p.changeVisualShape(self.objects[key].body, -1, rgbaColor=LIT if lit else UNLIT,
                                 physicsClientId=self.cid)

    def joints(self) -> NDArray[np.float64]:
        """The seven arm joints and the two finger joints."""
        js = self.p.getJointStates(self.robot, [*ARM, *FINGERS], physicsClientId=self.cid)
        return np.array([s[0] for s in js], np.float64)

    def ee_pose(self) -> NDArray[np.float64]:
        """The grasp point's 4x4 world pose (pybullet's frame)."""
        st = self.p.getLinkState(self.robot, EE, computeForwardKinematics=True,
                                 physicsClientId=self.cid)
        return _matrix(st[4], st[5], self.p)

    def hand_pose(self) -> NDArray[np.float64]:
        """The hand link's 4x4 world pose (the wrist camera hangs on it)."""
        st = self.p.getLinkState(self.robot, HAND, computeForwardKinematics=True,
                                 physicsClientId=self.cid)
        return _matrix(st[4], st[5], self.p)

    def aabb(self, key: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The object's world box ``(lo, hi)`` in pybullet's frame."""
        info = self.objects[key]
        lo, hi = self.p.getAABB(info.body, info.link, physicsClientId=self.cid)
        return np.array(lo, np.float64), np.array(hi, np.float64)

    def position(self, key: str) -> NDArray[np.float64]:
        """The centre of the object's box."""
        lo, hi = self.aabb(key)
        return (lo + hi) / 2

    # ------------------------------------------------------------------ the block
    def place_on(self, key: str, host: str) -> None:
        """Set a loose object down on the centre of ``host`` (upright, no rotation)."""
        lo, hi = self.aabb(host)
        c = (lo + hi) / 2
        self._set_block(key, (c[0], c[1], hi[2] + BLOCK / 2))

    def _set_block(self, key: str, pos: tuple[float, float, float] | NDArray[np.float64],
                   orn: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)) -> None:
        self.p.resetBasePositionAndOrientation(self.objects[key].body, tuple(pos), orn,
                                               physicsClientId=self.cid)

    def support_of(self, key: str) -> str:
        """The object ``key`` rests on (a bowl, the plate or the table; "" while held)."""
        if key == self.held:
            return ""
        c = self.position(key)
        for host in self.objects:
            if host.split("|")[0] in ("Bowl", "Plate"):
                hc = self.position(host)
                if math.hypot(c[0] - hc[0], c[1] - hc[1]) < 0.045:
                    return host
        return "Table|1"

    def grasp(self, key: str) -> None:
        """Hold ``key``: it follows the gripper from now on."""
        self.held = key
        obj = np.eye(4)
        obj[:3, 3] = self.position(key)
        self._grasp = np.linalg.inv(self.ee_pose()) @ obj
        self.set_gripper(False)

    def release(self) -> str:
        """Let go of the held block; it lands on what is under it. Returns that host."""
        key, self.held = self.held, None
        self.set_gripper(True)
        if key is None:
            return ""
        c = self.position(key)
        host = "Table|1"
        for cand in self.objects:
            if cand.split("|")[0] in ("Bowl", "Plate"):
                hc = self.position(cand)
                if math.hypot(c[0] - hc[0], c[1] - hc[1]) < 0.06:
                    host = cand
        if host == "Table|1":
            self._set_block(key, (c[0], c[1], BLOCK / 2))
        else:
            self.place_on(key, host)
        return host

    def _carry(self) -> None:
        if self.held is not None:
            m = self.ee_pose() @ self._grasp
            self._set_block(self.held, m[:3, 3])

    # ------------------------------------------------------------------ the arm
    def solve(self, pos: tuple[float, float, float] | NDArray[np.float64],
              orn: tuple[float, float, float, float] | None = None) -> NDArray[np.float64]:
        """Joint angles that put the grasp point at ``pos`` (gripper down unless ``orn``).

        Raises:
            ReachError: the best solution stays farther than 1.5 cm from ``pos``.
        """
        p = self.p
        target = np.asarray(pos, np.float64)
        quat = orn if orn is not None else p.getQuaternionFromEuler(DOWN)
        start = self.joints()[:7]
        q = start
        for _ in range(4):  # pybullet's IK linearises at the current joints: iterate
            sol = p.calculateInverseKinematics(self.robot, EE, target.tolist(), quat,
                                               maxNumIterations=200, residualThreshold=1e-5,
                                               physicsClientId=self.cid)
            q = np.asarray(sol[:7], np.float64)
            self._raw_joints(q)
        err = float(np.linalg.norm(self.ee_pose()[:3, 3] - target))
        self._raw_joints(start)
        if not np.isfinite(q).all() or err > REACH_TOL:
            raise ReachError(f"the arm cannot reach ({target[0]:.2f}, {target[1]:.2f}, "
                             f"{target[2]:.2f}): {err * 100:.1f} cm short")
        return q

    def _raw_joints(self, q: NDArray[np.float64]) -> None:
        for j, v in zip(ARM, q, strict=True):
            self.p.resetJointState(self.robot, j, float(v), physicsClientId=self.cid)

    def move_through(self, waypoints: list[tuple[float, float, float]]) -> None:
        """Move the grasp point through ``waypoints`` (gripper down), then home.

        Every waypoint is solved before anything moves, so an unreachable one changes nothing.
        """
        start, plan = self.joints()[:7], []
        try:
            for w in waypoints:
                q = self.solve(w)
                plan.append(q)
                self._raw_joints(q)
        finally:
            self._raw_joints(start)
        for q in plan:  # replay it, carrying a held block
            self.set_joints(q)

    def home(self) -> None:
        """Back to the home pose."""
        self.set_joints(HOME_JOINTS)

    def close(self) -> None:
        """Disconnect the pybullet client."""
        if self.cid >= 0:
            try:
                self.p.disconnect(physicsClientId=self.cid)
            except Exception:
                log.debug("pybullet client %s was already disconnected", self.cid)
            self.cid = -1


def _matrix(pos: Any, quat: Any, p: Any) -> NDArray[np.float64]:
    m = np.eye(4)
    m[:3, :3] = np.asarray(p.getMatrixFromQuaternion(quat), np.float64).reshape(3, 3)
    m[:3, 3] = pos
    return m
