"""Embodiments: the one adapter between a kind of world and robomem's core.

An :class:`Embodiment` owns everything world-specific the core must not know:

* native observation -> :class:`~robomem.types.Observation` (:meth:`Embodiment.observe`);
* robomem's primitive actions -> the world's actions (:meth:`Embodiment.command`), and which
  skills and primitives the world supports at all (a tabletop arm has no ``navigate_to``);
* the world's failure messages -> :class:`~robomem.feedback.FeedbackCode`
  (:meth:`Embodiment.classify`);
* the world's object vocabulary (:attr:`Embodiment.ontology`, from a data file);
* its task measures (success; the reference path length SPL needs, where it can tell).

The core (``robomem/``, ``planners/``, the executor) sees only ``Skill``, ``Observation``,
``Action`` with robomem's primitive names and ``ActionFeedback``. A new world is an env plus an
embodiment: most are a :class:`TableEmbodiment` whose data file (YAML) maps action names,
failure wording and the ontology. An env names its embodiment in
``metadata["robomem.embodiment"]``; :func:`embodiment_for` builds it.

Embodiments register by ``module:Class`` string in :data:`EMBODIMENTS` (built-ins in
``robomem.envs.registry``; third-party packages through the ``robomem.embodiments``
entry-point group).

Example:
    >>> import gymnasium as gym
    >>> import robomem.envs  # registers robomem/Household-v0
    >>> from robomem.embodiment import embodiment_for
    >>> from robomem.types import Action
    >>> env = gym.make("robomem/Household-v0", width=64, height=64)
    >>> emb = embodiment_for(env)
    >>> emb.name, emb.command(Action("move_ahead"))["action"], "navigate_to" in emb.skills
    ('household', 'MoveAhead', True)
    >>> obs = emb.observe(*env.reset(seed=0))
    >>> list(obs.cameras), obs.feedback.success
    (['front'], True)
    >>> emb.classify("PickupObject", "Mug|1 is inside closed Fridge|2")
    (<FeedbackCode.IS_CLOSED: 'is_closed'>, 'Fridge|2')
    >>> env.close()
"""

from __future__ import annotations

import functools
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from robomem import keys
from robomem.body import EXECUTOR_BODY, MobileBase, body_from_dict
from robomem.feedback import ActionFeedback, FeedbackCode
from robomem.ontology import Ontology
from robomem.primitives import PRIMITIVES
from robomem.registry import Registry
from robomem.skills import SKILL_NAMES
from robomem.types import Action, AgentPose, CameraFrame, Observation
from robomem.untrusted import UntrustedInput, quote, yaml_file

__all__ = ["DEFAULT_EMBODIMENT", "EMBODIMENTS", "METADATA_KEY", "Embodiment", "EmbodimentError",
           "FeedbackRule", "TableEmbodiment", "default_embodiment", "embodiment_class",
           "embodiment_for", "standard_observation"]

logger = logging.getLogger(__name__)

METADATA_KEY = "robomem.embodiment"
"""The key of an env's ``metadata`` that names its embodiment."""
EMBODIMENTS: Registry[type[Embodiment]] = Registry("embodiment", group="robomem.embodiments")


class EmbodimentError(ValueError):
    """An embodiment data file or env that cannot be used; the message says which and why."""


class Embodiment(ABC):
    """The adapter between one kind of world and the core (see the module docstring)."""

    name: str = ""
    agent: str = "agent"
    """The registered policy (:data:`robomem.policies.base.POLICIES`) that acts as this world's
    memory agent: ``agent`` (robomem's mobile agent) unless the world needs another (a table
    arm's keyframe agent)."""

    @classmethod
    def from_env(cls, env: gym.Env[Any, Any]) -> Embodiment:
        """The embodiment of ``env`` (most need nothing from it)."""
        return cls()

    @property
    @abstractmethod
    def skills(self) -> frozenset[str]:
        """The skills (:data:`robomem.skills.SKILL_NAMES`) this world can carry out."""

    @property
    @abstractmethod
    def primitives(self) -> frozenset[str]:
        """The primitive actions (:data:`robomem.primitives.PRIMITIVES`) it accepts."""

    @property
    @abstractmethod
    def ontology(self) -> Ontology:
        """The world's object vocabulary."""

    @abstractmethod
    def observe(self, obs: Mapping[str, Any], info: Mapping[str, Any]) -> Observation:
        """The world's observation (and step info) as an :class:`Observation`."""

    @abstractmethod
    def command(self, action: Action) -> Any:
        """The world's action for a primitive (what its env's ``step`` takes).

        Raises:
            ValueError: a primitive this world does not support; the message lists those it
                does.
        """

    @abstractmethod
    def classify(self, world_action: str, message: str) -> tuple[FeedbackCode, str | None]:
        """A failed action's code, and the object the code is about if the message names one.

        That object is e.g. the closed receptacle around a pickup's target.
        """

    def label_from_id(self, object_id: str) -> str:
        """The object type a world object id names, if the world's ids say ("" otherwise)."""
        return ""

    @property
    def body(self) -> MobileBase | None:
        """The mobile base the executor drives (``None``: the world has none to drive)."""
        return EXECUTOR_BODY

    def success(self, info: Mapping[str, Any]) -> bool:
        """Whether the episode's task succeeded, from the final step's info."""
        return bool(info.get(keys.INFO_SUCCESS, False))

    def reference_steps(self, env: gym.Env[Any, Any]) -> int | None:
        """Steps a shortest solution of the current episode takes (SPL's reference).

        ``None`` when this world cannot tell.
        """
        return None


# ----------------------------------------------------------------- data-driven embodiments
@dataclass(frozen=True)
class FeedbackRule:
    """One line of an embodiment's failure table.

    The first rule whose ``pattern`` searches the world's message (and whose ``actions``, if
    given, include the world action) wins.
    """

    pattern: re.Pattern[str]
    code: FeedbackCode
    subject: str | None = None  # the regex group naming the object the code is about
    actions: frozenset[str] = frozenset()


class TableEmbodiment(Embodiment):
    """An embodiment described by a YAML data file.

    For worlds behind robomem's standard gym layout (:func:`standard_observation`).

    The file (format ``robomem.embodiment``) holds ``name``, ``agent`` (optional: the policy
    that acts as its memory agent), ``skills`` (supported skill names), ``actions``
    (primitive -> the world's action name), ``feedback`` (a list of
    ``{match: regex, code: FeedbackCode value, subject: group name, actions: [...]}``, first
    match wins, anything else is ``unknown``) and ``ontology`` (a path relative to the file).
    Subclasses set :attr:`DATA` and may override any hook.
    """

    DATA: ClassVar[Path | None] = None

    def __init__(self, data: str | Path | None = None) -> None:
        path = Path(data) if data is not None else self.DATA
        if path is None:
            raise EmbodimentError(f"{type(self).__name__} has no data file (set DATA)")
        spec = _read_spec(path)
        self.name = str(spec.get("name") or self.name or path.stem)
        self._actions: dict[str, str] = _actions(spec, path)
        self._world_to_primitive = {w: p for p, w in self._actions.items()}
        self._skills = _skills(spec, path)
        self._rules = [_rule(r, i, path) for i, r in enumerate(spec.get("feedback") or [])]
        onto = spec.get("ontology")
        if not isinstance(onto, str) or not onto:
            raise EmbodimentError(f"{path}: 'ontology' must name an ontology file")
        self._ontology = Ontology.load(path.parent / onto)
        raw_body = spec.get("body", {})
        try:
            self._body = None if raw_body is None else body_from_dict(raw_body or {})
        except (ValueError, AttributeError) as e:
            raise EmbodimentError(f"{path}: {e}") from None
        self._structure = self._ontology.structure()
        self.agent = str(spec.get("agent") or type(self).agent)
        pat = spec.get("object_id")
        try:
            self._id_pattern = re.compile(pat) if isinstance(pat, str) else None
        except re.error as e:
            raise EmbodimentError(f"{path}: bad object_id pattern: {e}") from None
        if self._id_pattern is not None and "type" not in self._id_pattern.groupindex:
            raise EmbodimentError(f"{path}: the object_id pattern needs a group named 'type'")

    @property
    def skills(self) -> frozenset[str]:
        """The data file's ``skills``."""
        return self._skills

    @property
    def primitives(self) -> frozenset[str]:
        """The primitives the data file's ``actions`` map."""
        return frozenset(self._actions)

    @property
    def ontology(self) -> Ontology:
        """The ontology file the data file names."""
        return self._ontology

    @property
    def body(self) -> MobileBase | None:
        """The data file's ``body`` (``body: null``: no mobile base)."""
        return self._body

    def world_action(self, primitive: str) -> str:
        """The world's name for ``primitive``; raises ``ValueError`` listing the supported."""
        try:
            return self._actions[primitive]
        except KeyError:
            raise ValueError(f"{self.name} has no primitive {quote(primitive)}; it supports: "
                             f"{', '.join(sorted(self._actions))}") from None

    def primitive_of(self, world_action: str) -> str:
        """Robomem's name for the world's action ``world_action`` ("" if it has none)."""
        return self._world_to_primitive.get(world_action, "")

    def command(self, action: Action) -> Any:
        """``{"action": world action, "object": object id or 0}`` (robomem's layout)."""
        return {keys.ACT_ACTION: self.world_action(action.name),
                keys.ACT_OBJECT: action.object_id or 0}

    def classify(self, world_action: str, message: str) -> tuple[FeedbackCode, str | None]:
        """The first matching ``feedback`` rule's code (``unknown`` when none matches)."""
        for rule in self._rules:
            if rule.actions and world_action not in rule.actions:
                continue
            m = rule.pattern.search(message)
            if m is not None:
                return rule.code, (m.group(rule.subject) if rule.subject else None)
        if message:
            logger.debug("%s: no feedback rule matches %s after %s", self.name,
                         quote(message, 120), world_action)
        return FeedbackCode.UNKNOWN, None

    def feedback(self, info: Mapping[str, Any]) -> ActionFeedback:
        """The last action's :class:`ActionFeedback` from robomem's standard info keys."""
        world = str(info.get(keys.INFO_ACTION_NAME, ""))
        action = self.primitive_of(world)
        if bool(info.get(keys.INFO_ACTION_SUCCESS, True)):
            return ActionFeedback.ok(action, world)
        message = str(info.get(keys.INFO_ACTION_ERROR, ""))
        code, subject = self.classify(world, message)
        return ActionFeedback.failure(action, code, message, subject, world)

    def observe(self, obs: Mapping[str, Any], info: Mapping[str, Any]) -> Observation:
        """The standard layout's Observation, structure left unlabelled."""
        out = standard_observation(obs, info, self.feedback(info))
        structure = self._structure
        if structure:  # the building is not an object: its instances stay unlabelled
            for cam in out.cameras.values():
                drop = {i for i, lab in cam.labels.items() if lab in structure}
                cam.labels = {i: v for i, v in cam.labels.items() if i not in drop}
                cam.object_ids = {i: v for i, v in cam.object_ids.items() if i not in drop}
        return out

    def label_from_id(self, object_id: str) -> str:
        """The object type a world object id spells out ("" when it does not).

        The data file's ``object_id`` pattern (a regex whose group ``type`` is the type) says
        how.
        """
        if self._id_pattern is None:
            return ""
        m = self._id_pattern.match(object_id)
        return m.group("type") if m else ""


def _read_spec(path: Path) -> dict[str, Any]:
    try:
        spec = yaml_file(path, what="embodiment file")
    except (OSError, UntrustedInput) as e:
        raise EmbodimentError(f"cannot read embodiment file {str(path)!r}: {e}") from None
    if not isinstance(spec, dict) or spec.get("format") != "robomem.embodiment":
        raise EmbodimentError(f"{path}: not a robomem embodiment file (format: "
                              f"robomem.embodiment)")
    return spec


def _actions(spec: Mapping[str, Any], path: Path) -> dict[str, str]:
    raw = spec.get("actions")
    if not isinstance(raw, Mapping) or not raw:
        raise EmbodimentError(f"{path}: 'actions' must map primitives to the world's actions")
    bad = sorted(str(p) for p in raw if p not in PRIMITIVES)
    if bad:
        raise EmbodimentError(f"{path}: unknown primitive {quote(bad[0])}; known: "
                              f"{', '.join(PRIMITIVES)}")
    return {str(p): str(w) for p, w in raw.items()}


def _skills(spec: Mapping[str, Any], path: Path) -> frozenset[str]:
    raw = spec.get("skills")
    if not isinstance(raw, list) or not raw:
        raise EmbodimentError(f"{path}: 'skills' must list the supported skills")
    bad = [s for s in raw if s not in SKILL_NAMES]
    if bad:
        raise EmbodimentError(f"{path}: unknown skill {quote(bad[0])}; known: "
                              f"{', '.join(SKILL_NAMES)}")
    return frozenset(raw)


def _rule(raw: object, i: int, path: Path) -> FeedbackRule:
    where = f"{path}: feedback rule {i}"
    if not isinstance(raw, Mapping) or not isinstance(raw.get("match"), str):
        raise EmbodimentError(f"{where} needs 'match' (a regular expression) and 'code'")
    try:
        code = FeedbackCode(raw.get("code"))
    except ValueError:
        raise EmbodimentError(f"{where}: unknown code {quote(raw.get('code'))}; known: "
                              f"{', '.join(c.value for c in FeedbackCode)}") from None
    try:
        pattern = re.compile(raw["match"], re.IGNORECASE)
    except re.error as e:
        raise EmbodimentError(f"{where}: bad regular expression: {e}") from None
    subject = raw.get("subject")
    if subject is not None and subject not in pattern.groupindex:
        raise EmbodimentError(f"{where}: subject {quote(subject)} is not a named group of "
                              f"{quote(raw['match'])}")
    return FeedbackRule(pattern, code, subject, frozenset(raw.get("actions") or ()))


# ----------------------------------------------------------- the standard gym layout
def _frame(d: Mapping[str, Any], labels: Mapping[int, str], object_ids: Mapping[int, str],
           stamp: float, frame_id: str) -> CameraFrame:
    seg, depth = d.get(keys.OBS_SEGMENTATION), d.get(keys.OBS_DEPTH)
    return CameraFrame(
        rgb=np.asarray(d[keys.OBS_RGB]),
        intrinsics=np.asarray(d[keys.OBS_INTRINSICS], dtype=np.float64),
        pose=np.asarray(d[keys.OBS_CAMERA_POSE], dtype=np.float64),
        depth=None if depth is None else np.asarray(depth),
        segmentation=None if seg is None else np.asarray(seg),
        labels=dict(labels), object_ids=dict(object_ids), stamp=stamp, frame_id=frame_id)


def standard_observation(obs: Mapping[str, Any], info: Mapping[str, Any],
                         feedback: ActionFeedback | None = None,
                         camera: str = "front") -> Observation:
    """An Observation from robomem's standard gym layout (:mod:`robomem.keys`).

    One camera: its keys (``rgb``, ``depth``, ``intrinsics``, ``camera_pose``,
    ``segmentation``) at the top of ``obs``, named ``camera``. Several: ``obs["cameras"]`` maps
    each name to such a dict (the first is primary), with ``info["cameras"][name]`` holding
    that camera's ``labels``, ``object_ids`` and ``frame_id``.
    """
    stamp = float(obs.get(keys.OBS_TIMESTAMP, 0.0))
    if keys.OBS_CAMERAS in obs:
        extra = info.get(keys.OBS_CAMERAS, {})
        cams = {str(n): _frame(d, extra.get(n, {}).get(keys.INFO_LABELS, {}),
                               extra.get(n, {}).get(keys.INFO_OBJECT_IDS, {}), stamp,
                               str(extra.get(n, {}).get(keys.INFO_FRAME_ID, n)))
                for n, d in obs[keys.OBS_CAMERAS].items()}
    else:
        cams = {camera: _frame(obs, info.get(keys.INFO_LABELS, {}),
                               info.get(keys.INFO_OBJECT_IDS, {}), stamp,
                               str(info.get(keys.INFO_FRAME_ID, camera)))}
    return Observation(
        cameras=cams,
        agent_pose=AgentPose.from_array(np.asarray(obs[keys.OBS_AGENT_POSE])),
        primary=next(iter(cams)),
        instruction=str(obs.get(keys.OBS_INSTRUCTION, "")),
        step=int(obs.get(keys.OBS_STEP, 0)),
        timestamp=stamp,
        privileged=dict(info.get(keys.INFO_PRIVILEGED, {})),
        feedback=feedback or ActionFeedback(),
        scene=str(info.get(keys.INFO_SCENE, "")),
    )


# ---------------------------------------------------------------------- lookup
DEFAULT_EMBODIMENT = "household"
"""The embodiment an agent built without one assumes: the default world's (as the default env
of ``robomem run``); a name, resolved through :data:`EMBODIMENTS`."""


@functools.cache
def default_embodiment() -> Embodiment:
    """The (shared) instance of :data:`DEFAULT_EMBODIMENT`."""
    return embodiment_class(DEFAULT_EMBODIMENT)()


def embodiment_class(name: str) -> type[Embodiment]:
    """The registered embodiment ``name``; raises ``KeyError`` listing the known names."""
    import robomem.envs.registry  # noqa: F401  (the built-in embodiments' entries)

    return EMBODIMENTS.get(name)


def embodiment_for(env: gym.Env[Any, Any]) -> Embodiment:
    """The embodiment ``env`` names in ``metadata["robomem.embodiment"]``.

    Raises:
        EmbodimentError: the env names none.
        KeyError: it names one that is not registered (the message lists the known ones).
    """
    name = env.unwrapped.metadata.get(METADATA_KEY)
    if not name:
        raise EmbodimentError(
            f"{type(env.unwrapped).__name__} names no embodiment: set "
            f"metadata[{METADATA_KEY!r}] to a registered embodiment "
            f"({', '.join(EMBODIMENTS.names()) or 'none registered'})")
    return embodiment_class(str(name)).from_env(env)
