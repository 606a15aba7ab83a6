"""Questions people ask a robot's memory, answered from what it remembers (read only).

:class:`MemoryReader` is memory as seen from outside the agent: a ROS 2 node publishing the
scene graph, a query service, a notebook. It reads the scene graph through its read-only
view and episodic memory through ``recall_moments``, never a module's internals, and
understands three kinds of question:

- "where is the mug?", "where are the keys?", "find the lamp" -> ``where``: every remembered
  object of the types the words name (a category such as "lamp" names each of its kinds),
  with its place, room, position, when it was last seen and how sure memory is;
- "what is in the fridge?", "what's on the table?" -> ``contents``;
- "recall the moment when I opened the fridge" -> ``moment``: the best matching past steps
  (HCAM chunked recall).

Anything else, or a word the world's vocabulary lacks, gets an answer with ``ok`` False that
says what was not understood and what would be ("nearest known: ...").

Example:
    >>> from robomem.geometry import AABB
    >>> from robomem.memory.object_node import ObjectNode
    >>> from robomem.memory.scene_graph import SceneGraph
    >>> from robomem.ontology import default_ontology
    >>> g = SceneGraph()
    >>> g._nodes["Fridge|1"] = ObjectNode("Fridge|1", "Fridge", AABB.from_center_size(
    ...     [1.0, 0.9, 2.0], [0.8, 1.8, 0.8]), 0, 4, 0.9, receptacle=True, openable=True)
    >>> g._nodes["Apple|2"] = ObjectNode("Apple|2", "Apple", AABB.from_center_size(
    ...     [1.0, 0.8, 2.0], [0.1, 0.1, 0.1]), 2, 7, 0.8, pickupable=True, parent="Fridge|1",
    ...     relation="in")
    >>> reader = MemoryReader(g, default_ontology())
    >>> print(reader.ask("Where are the apples?").text)
    Apple|2 is in the Fridge (Fridge|1) at (1.00, 0.80, 2.00), last seen at step 7 (...).
    >>> reader.ask("what is in the fridge?").objects[0]["key"]
    'Apple|2'
    >>> print(reader.ask("where is the gizmo?").text)
    I don't know what 'gizmo' is. I can find: ...
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from robomem.memory.base import Fact
from robomem.memory.view import ObjectView, SceneView
from robomem.ontology import Ontology

__all__ = ["ASK_KINDS", "Answer", "MemoryReader"]

log = logging.getLogger(__name__)

WHERE, CONTENTS, MOMENT, UNKNOWN = "where", "contents", "moment", "unknown"
ASK_KINDS = (WHERE, CONTENTS, MOMENT)
MAX_QUESTION_CHARS = 500
_ARTICLE = r"(?:(?:the|a|an|my|your|any|some)\s+)?"
_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (MOMENT, re.compile(r"^(?:recall|remember|when was)\s+(?:the\s+)?(?:moment|time|step)?\s*"
                        r"(?:when|where|that)?\s*(?P<x>.+)$")),
    (CONTENTS, re.compile(rf"^what(?:'s|\s+is|\s+are|\s+did you put)?\s+(?:in|on|inside|"
                          rf"in\s+side)\s+{_ARTICLE}(?P<x>.+)$")),
    (WHERE, re.compile(rf"^(?:where(?:'s|\s+is|\s+are|\s+did\s+you\s+(?:see|leave|put))?|find|"
                       rf"locate|have\s+you\s+seen)\s+{_ARTICLE}(?P<x>.+?)(?:\s+(?:go|be))?$")),
)
ASK_HELP = ("ask 'where is the X?', 'what is in the X?' or 'recall the moment when ...'")


@dataclass(frozen=True)
class Answer:
    """What memory says to one question.

    Attributes:
        question: the question as asked (trimmed).
        kind: ``where``, ``contents``, ``moment`` or ``unknown``.
        ok: the question was understood (an honest "not seen yet" is ok).
        text: the answer in a sentence or a few.
        types: the object types the question named.
        objects: per object: key, label, center and size (robomem's world frame, m), parent
            key and label, relation, room and room type, last_seen, confidence, held.
        moments: per recalled step: episode, step, scene, text, score.
    """

    question: str
    kind: str
    ok: bool
    text: str
    types: tuple[str, ...] = ()
    objects: tuple[dict[str, Any], ...] = ()
    moments: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"question": self.question, "kind": self.kind, "ok": self.ok, "text": self.text,
                "types": list(self.types), "objects": [dict(o) for o in self.objects],
                "moments": [dict(m) for m in self.moments]}


class MemoryReader:
    """Answers questions from memory (module docstring).

    Args:
        scene: the scene graph, read only, or a callable giving the current one (an agent
            that moves between houses keeps a graph per house).
        ontology: the world's types and words.
        moments: "recall the moment when ..." (``MemorySystem.recall_moments``), or None
            when episodic memory is off.
        room_types: room id -> room type (e.g. from ``RoomMap.room_types``), or a callable
            giving it (worked out when a question needs it).
    """

    def __init__(self, scene: SceneView | Callable[[], SceneView], ontology: Ontology,
                 moments: Callable[[str, int], list[Fact]] | None = None,
                 room_types: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None
                 ) -> None:
        self._scene, self.ontology, self._moments = scene, ontology, moments
        self._room_types = room_types

    @property
    def scene(self) -> SceneView:
        """The scene graph now."""
        s = self._scene
        return s() if callable(s) else s

    # ------------------------------------------------------------------ reading
    def rooms(self) -> Mapping[str, str]:
        """Room id -> room type, as far as memory can tell."""
        r = self._room_types
        return (r() if callable(r) else r) or {}

    def objects(self) -> list[dict[str, Any]]:
        """Every remembered object as a dict (see :class:`Answer`'s ``objects``), by key."""
        rooms = self.rooms()
        return [self._describe(n, rooms) for n in self.scene.nodes()]

    def types_of(self, phrase: str) -> tuple[str, ...]:
        """The types a noun phrase names ("the lamp": each kind of lamp); () if unknown."""
        p = re.sub(rf"^{_ARTICLE}", "", phrase.strip().lower()).strip()
        p = re.sub(r"\s+", " ", p)
        if not p:
            return ()
        words = self.ontology.words()
        found = self.ontology.candidates(p)
        if found:
            return found
        hit = words.get(p) or next((words[k] for k in sorted(words, key=len, reverse=True)
                                    if p.endswith(" " + k)), "")
        if not hit:
            return ()
        return (hit, *self.ontology.kinds_of(hit))

    # ------------------------------------------------------------------ asking
    def ask(self, question: str) -> Answer:
        """Answer one question (never raises for what a person may type)."""
        q = " ".join(str(question).split())[:MAX_QUESTION_CHARS]
        text = q.lower().rstrip("?.! ")
        for kind, form in _FORMS:
            m = form.match(text)
            if m is None:
                continue
            subject = m.group("x").strip()
            if kind == MOMENT:
                return self._moment(q, subject)
            types = self.types_of(subject)
            if not types:
                return Answer(q, kind, False, self._unknown_word(subject))
            return self._where(q, types) if kind == WHERE else self._contents(q, types, subject)
        return Answer(q, UNKNOWN, False, f"I did not understand {q[:80]!r}; {ASK_HELP}.")

    def _where(self, q: str, types: tuple[str, ...]) -> Answer:
        rooms = self.rooms()
        found = [n for t in types for n in self.scene.find(t)]
        objs = tuple(self._describe(n, rooms) for n in found)
        if not objs:
            return Answer(q, WHERE, True, f"I have not seen {_a(types)} yet.", types)
        return Answer(q, WHERE, True, " ".join(_sentence(o) for o in objs), types, objs)

    def _contents(self, q: str, types: tuple[str, ...], subject: str) -> Answer:
        rooms = self.rooms()
        holders = [n for t in types for n in self.scene.find(t)]
        if not holders:
            return Answer(q, CONTENTS, True, f"I have not seen {_a(types)} yet.", types)
        keys = {n.key for n in holders}
        inside = tuple(self._describe(n, rooms) for n in self.scene.nodes() if n.parent in keys)
        if not inside:
            return Answer(q, CONTENTS, True, f"I remember nothing in or on the {subject}.",
                          types)
        by_holder: dict[str, list[str]] = {}
        for o in inside:
            by_holder.setdefault(str(o["parent"]), []).append(f"{o['label']} ({o['key']})")
        text = " ".join(f"{o.relation or 'in'} {o.label} ({o.key}): "
                        f"{', '.join(by_holder[o.key])}." for o in holders if o.key in by_holder)
        return Answer(q, CONTENTS, True, text[0].upper() + text[1:], types, inside)

    def _moment(self, q: str, subject: str) -> Answer:
        if self._moments is None:
            return Answer(q, MOMENT, False, "I keep no episodic memory (it is not enabled), so "
                                            "I cannot recall moments.")
        facts = self._moments(subject, 3)
        moments = tuple({"episode": int(f.data.get("episode", -1)),
                         "step": int(f.data.get("step", -1)),
                         "scene": str(f.data.get("scene", "")), "text": f.value,
                         "score": round(float(f.score), 4)} for f in facts)
        if not moments:
            return Answer(q, MOMENT, True, "I remember no such moment.")
        text = " ".join(f"Episode {m['episode']}, step {m['step']}: {m['text']}."
                        for m in moments)
        return Answer(q, MOMENT, True, text, (), (), moments)

    # ------------------------------------------------------------------ helpers
    def _describe(self, n: ObjectView, rooms: Mapping[str, str]) -> dict[str, Any]:
        parent = self.scene.node(n.parent) if n.parent else None
        return {"key": n.key, "label": n.label,
                "center": [round(float(v), 4) for v in n.center],
                "size": [round(float(h) - float(lo), 4) for lo, h in zip(n.box.lo, n.box.hi,
                                                                          strict=True)],
                "parent": n.parent, "parent_label": parent.label if parent else None,
                "relation": n.relation, "room": n.room,
                "room_type": rooms.get(n.room) if n.room else None,
                "last_seen": n.last_seen, "confidence": round(float(n.confidence), 4),
                "held": n.held}

    def _unknown_word(self, subject: str) -> str:
        near = difflib.get_close_matches(subject, list(self.ontology.words()), n=3, cutoff=0.6)
        shown = ", ".join(sorted({self.ontology.words()[w] for w in near}))
        if shown:
            return f"I don't know what {subject[:60]!r} is; nearest known: {shown}."
        some = ", ".join(self.ontology.types()[:8])
        return f"I don't know what {subject[:60]!r} is. I can find: {some}, ..."


def _a(types: Sequence[str]) -> str:
    return " or ".join(f"a {t}" for t in types[:4]) + (" ..." if len(types) > 4 else "")


def _sentence(o: Mapping[str, Any]) -> str:
    if o["held"]:
        where = "in my hand"
    elif o["parent"]:
        where = f"{o['relation'] or 'in'} the {o['parent_label']} ({o['parent']})"
    else:
        where = "seen"
    room = f" in the {o['room_type']}" if o.get("room_type") and o["room_type"] != "Unknown" \
        else ""
    x, y, z = o["center"]
    return (f"{o['key']} is {where}{room} at ({x:.2f}, {y:.2f}, {z:.2f}), last seen at step "
            f"{o['last_seen']} (confidence {o['confidence']:.2f}).")
