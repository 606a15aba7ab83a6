"""What the agent knows about object types in general, independent of any particular house.

Affordances (can it be picked up, opened, switched on; do things go on it or inside it), where
a type of object is usually kept, and the words people use for it. Each embodiment carries its
world's vocabulary as an ontology data file (YAML, format ``robomem.ontology``); the core reads
only :class:`Ontology`. Labels an ontology does not know (a real detector may report anything)
get a neutral :class:`TypeInfo` rather than an error.

Example:
    >>> from robomem.ontology import Ontology
    >>> onto = Ontology.from_dict({"types": {
    ...     "Fridge": {"receptacle": True, "openable": True, "container": True,
    ...                "synonyms": ["refrigerator"]},
    ...     "Apple": {"pickupable": True, "places": ["Fridge"]}}})
    >>> onto.info("Fridge").container, onto.info("Apple").pickupable
    (True, True)
    >>> onto.info("Giraffe") == onto.info("")
    True
    >>> onto.words()["refrigerator"], onto.words()["apples"]
    ('Fridge', 'Apple')
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robomem.untrusted import UntrustedInput, quote, yaml_file

__all__ = ["FORMAT", "NEUTRAL", "ROLES", "Ontology", "OntologyError", "Role", "RoomRule",
           "TypeInfo", "default_ontology", "words_of"]

FORMAT = "robomem.ontology"
VERSION = 1
_FLAGS = ("receptacle", "pickupable", "openable", "toggleable", "container", "structure",
          "appliance", "vessel", "cuts")
_KEYS = frozenset((*_FLAGS, "places", "synonyms", "description"))
_TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}$")
MAX_TYPES = 10_000


class OntologyError(ValueError):
    """An ontology file or mapping that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class TypeInfo:
    """Affordances of one object type.

    Attributes:
        receptacle: other objects can be put in or on it.
        pickupable: the agent can pick it up.
        openable: it has a door or drawer that opens.
        toggleable: it can be switched on and off.
        container: things go *inside* it (fridge, cabinet, drawer, microwave, sink basin);
            for other receptacles they go *on* it.
        structure: part of the building (floor, walls), not an object to remember.
        appliance: a device tasks use to change an object's state (fridge, microwave, sink); a
            planner does not search inside one for things kept elsewhere.
        vessel: something carried with other things in it (a bowl, a mug, a pan): a movable
            receptacle in ALFRED's sense, whether or not this world lets things be put in it.
        cuts: a tool that slices things (a knife): in "slice the apple with a knife" the
            knife is not what the task is about.
        usual_places: receptacle types where such objects are usually kept (pickupables).
        synonyms: other words people use for it (lower case, singular).
        description: a short phrase saying what it is ("a device that tells the time"), for
            matching words the ontology does not list by meaning.
    """

    receptacle: bool = False
    pickupable: bool = False
    openable: bool = False
    toggleable: bool = False
    container: bool = False
    structure: bool = False
    appliance: bool = False
    vessel: bool = False
    cuts: bool = False
    usual_places: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = field(default=(), compare=False)
    description: str = field(default="", compare=False)

    @property
    def furniture(self) -> bool:
        """True for known non-pickupable types that hold things or stand in rooms."""
        return not self.pickupable and (self.receptacle or self.toggleable)


NEUTRAL = TypeInfo()
"""The affordances assumed for an unknown label: none."""

ROLES = ("heat", "cool", "clean")
"""The state changes task families ask for (robomem.planners.instruction); each ontology
names the types that do them in its world."""


@dataclass(frozen=True)
class Role:
    """How a world does one state change.

    Put the object in ``put``, then (if set) switch ``switch`` on and off.
    """

    put: str
    switch: str | None = None


@dataclass(frozen=True)
class RoomRule:
    """A room is of type ``room`` when it holds any of ``any_of`` or all of ``all_of``."""

    room: str
    any_of: frozenset[str] = frozenset()
    all_of: frozenset[str] = frozenset()

    def matches(self, labels: set[str] | frozenset[str]) -> bool:
        """Whether a room holding ``labels`` is of this type."""
        return bool(labels & self.any_of) or (bool(self.all_of) and self.all_of <= labels)


def default_ontology() -> Ontology:
    """The default embodiment's ontology (:data:`robomem.embodiment.DEFAULT_EMBODIMENT`).

    What memory and planners built without a world's ontology assume.
    """
    from robomem.embodiment import default_embodiment

    return default_embodiment().ontology


def words_of(type_: str) -> str:
    """How people spell a type name.

    ``"CounterTop"`` -> ``"counter top"``, ``"TVStand"`` -> ``"tv stand"``.
    """
    out = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", type_)
    return out.lower()


class Ontology:
    """An object vocabulary: type name -> :class:`TypeInfo`, plus the words for each type."""

    def __init__(self, types: Mapping[str, TypeInfo], name: str = "",
                 roles: Mapping[str, Role] | None = None,
                 rooms: tuple[RoomRule, ...] = (),
                 categories: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self.name = name
        self._types = dict(types)
        self.categories = dict(categories or {})
        self._roles = dict(roles or {})
        self.room_rules = rooms
        self._words: dict[str, str] | None = None
        self._heads: dict[str, tuple[str, ...]] | None = None

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], name: str = "") -> Ontology:
        """Build from the file's mapping.

        The mapping is ``{"types": {Name: {flag: bool, places: [...], synonyms: [...]}}}``.

        Raises:
            OntologyError: a bad type name, key or value; the message names the type.
        """
        if data.get("format", FORMAT) != FORMAT:
            raise OntologyError(f"not a robomem ontology: format is {quote(data.get('format'))},"
                                f" expected {FORMAT!r}")
        raw = data.get("types")
        if not isinstance(raw, Mapping) or not raw:
            raise OntologyError("an ontology needs a non-empty 'types' mapping")
        if len(raw) > MAX_TYPES:
            raise OntologyError(f"an ontology lists {len(raw)} types; at most {MAX_TYPES}")
        types = {str(t): _type_info(t, spec) for t, spec in raw.items()}
        onto = cls(types, name, _roles(data.get("roles") or {}, types),
                   _rooms(data.get("rooms") or [], types),
                   _categories(data.get("categories") or {}, types))
        onto.words()  # synonym clashes are errors at load time
        return onto

    @classmethod
    def load(cls, path: str | Path) -> Ontology:
        """Read an ontology YAML file (bounded like any untrusted file).

        Raises:
            OntologyError: the file is missing, unreadable or not a valid ontology.
        """
        p = Path(path)
        try:
            data = yaml_file(p, what="ontology file")
        except (OSError, UntrustedInput) as e:
            raise OntologyError(f"cannot read ontology {str(p)!r}: {e}") from None
        if not isinstance(data, Mapping):
            raise OntologyError(f"ontology {str(p)!r} must be a mapping with 'types'")
        try:
            return cls.from_dict(data, name=p.stem)
        except OntologyError as e:
            raise OntologyError(f"ontology {str(p)!r}: {e}") from None

    # ------------------------------------------------------------------ queries
    def info(self, label: str) -> TypeInfo:
        """The affordances of type ``label`` (:data:`NEUTRAL` when unknown)."""
        return self._types.get(label, NEUTRAL)

    def __contains__(self, label: object) -> bool:
        return label in self._types

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._types))

    def __len__(self) -> int:
        return len(self._types)

    def types(self) -> tuple[str, ...]:
        """Every type name, sorted."""
        return tuple(sorted(self._types))

    def candidates(self, word: str) -> tuple[str, ...]:
        """The types an ambiguous word may mean (``"lamp"`` -> DeskLamp, FloorLamp).

        Empty when the word is not a category.
        """
        w = word.lower()
        for form in (w, w[:-1] if w.endswith("s") else w, w[:-2] if w.endswith("es") else w):
            if form in self.categories:
                return self.categories[form]
        return ()

    def kinds_of(self, type_: str) -> tuple[str, ...]:
        """Other types whose name ends in this type's name: kinds of it.

        People call them by it ("knife" for a ButterKnife, "bottle" for a SoapBottle).
        """
        if self._heads is None:
            heads: dict[str, list[str]] = {}
            for t in sorted(self._types):
                w = words_of(t)
                for u in self._types:
                    if u != t and words_of(u).endswith(" " + w):
                        heads.setdefault(t, []).append(u)
            self._heads = {t: tuple(v) for t, v in heads.items()}
        return self._heads.get(type_, ())

    def role(self, name: str) -> Role | None:
        """The types that do state change ``name`` (:data:`ROLES`) here, if the world can."""
        return self._roles.get(name)

    def room_type(self, labels: set[str]) -> str:
        """A room's type from the types seen in it (the first matching rule; ``"Unknown"``)."""
        return next((r.room for r in self.room_rules if r.matches(labels)), "Unknown")

    def appliances(self) -> frozenset[str]:
        """The appliance types."""
        return frozenset(t for t, i in self._types.items() if i.appliance)

    def structure(self) -> frozenset[str]:
        """The types that are part of the building (floor, walls, ceiling)."""
        return frozenset(t for t, i in self._types.items() if i.structure)

    def words(self) -> dict[str, str]:
        """Word or phrase (lower case; plurals with -s and -es too) -> type name.

        Raises:
            OntologyError: one synonym names two types.
        """
        if self._words is not None:
            return self._words
        vocab: dict[str, str] = {}
        for t in sorted(self._types):
            w = words_of(t)
            vocab.update({w: t, w + "s": t, w + "es": t})
        owner: dict[str, str] = {}
        for t in sorted(self._types):
            for syn in self._types[t].synonyms:
                if owner.setdefault(syn, t) != t:
                    raise OntologyError(f"synonym {syn!r} names both {owner[syn]} and {t}")
                vocab.update({syn: t, syn + "s": t, syn + "es": t})
        self._words = vocab
        return vocab

    def merged(self, other: Ontology) -> Ontology:
        """This ontology with ``other``'s types added (``other`` wins on a shared type)."""
        return Ontology({**self._types, **other._types}, self.name or other.name,
                        {**self._roles, **other._roles}, self.room_rules + other.room_rules,
                        {**self.categories, **other.categories})


def _type_info(name: object, spec: object) -> TypeInfo:
    if not isinstance(name, str) or not _TYPE_NAME.match(name):
        raise OntologyError(f"type name {quote(name)} must be a CamelCase word of letters and "
                            f"digits (at most 64)")
    if spec is None:
        spec = {}
    if not isinstance(spec, Mapping):
        raise OntologyError(f"type {name}: expected a mapping of properties, got {quote(spec)}")
    unknown = sorted(str(k) for k in spec if k not in _KEYS)
    if unknown:
        raise OntologyError(f"type {name}: unknown key {quote(unknown[0])}; known: "
                            f"{', '.join(sorted(_KEYS))}")
    flags: dict[str, bool] = {}
    for f in _FLAGS:
        v = spec.get(f, False)
        if not isinstance(v, bool):
            raise OntologyError(f"type {name}: {f} must be true or false, got {quote(v)}")
        flags[f] = v
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("places", "synonyms"):
        v = spec.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, str) and 0 < len(x) <= 64
                                              for x in v):
            raise OntologyError(f"type {name}: {key} must be a list of short strings, got "
                                f"{quote(v)}")
        lists[key] = tuple(v)
    desc = spec.get("description", "")
    if not isinstance(desc, str) or len(desc) > 300:
        raise OntologyError(f"type {name}: description must be a short string, got {quote(desc)}")
    return TypeInfo(**flags, usual_places=lists["places"], description=desc,
                    synonyms=tuple(s.lower() for s in lists["synonyms"]))


def _known(t: object, types: Mapping[str, TypeInfo], where: str) -> str:
    if not isinstance(t, str) or t not in types:
        raise OntologyError(f"{where}: {quote(t)} is not a type of this ontology")
    return t


def _roles(raw: object, types: Mapping[str, TypeInfo]) -> dict[str, Role]:
    if not isinstance(raw, Mapping):
        raise OntologyError(f"roles must map {', '.join(ROLES)} to {{put: Type, switch: Type}}")
    out = {}
    for name, spec in raw.items():
        if name not in ROLES:
            raise OntologyError(f"unknown role {quote(name)}; known: {', '.join(ROLES)}")
        if not isinstance(spec, Mapping) or "put" not in spec:
            raise OntologyError(f"role {name} needs 'put' (and optionally 'switch')")
        sw = spec.get("switch")
        out[str(name)] = Role(_known(spec["put"], types, f"role {name}"),
                              None if sw is None else _known(sw, types, f"role {name}"))
    return out


def _rooms(raw: object, types: Mapping[str, TypeInfo]) -> tuple[RoomRule, ...]:
    if not isinstance(raw, list):
        raise OntologyError("rooms must be a list of {room: Name, any: [...], all: [...]}")
    out = []
    for i, r in enumerate(raw):
        if not isinstance(r, Mapping) or not isinstance(r.get("room"), str) or \
                not (r.get("any") or r.get("all")):
            raise OntologyError(f"room rule {i} needs 'room' and 'any' or 'all' (type lists)")
        where = f"room rule {i}"
        out.append(RoomRule(r["room"],
                            frozenset(_known(t, types, where) for t in r.get("any") or []),
                            frozenset(_known(t, types, where) for t in r.get("all") or [])))
    return tuple(out)


def _categories(raw: object, types: Mapping[str, TypeInfo]) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        raise OntologyError("categories must map a word to the types it may mean")
    out = {}
    for word, members in raw.items():
        if not isinstance(word, str) or not word or not isinstance(members, list) or \
                len(members) < 2:
            raise OntologyError(f"category {quote(word)} must list at least two types")
        out[word.lower()] = tuple(_known(t, types, f"category {word}") for t in members)
    return out
