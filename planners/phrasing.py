"""Reading instructions as people phrase them: family cues, object slots, destinations.

:func:`read` takes a sentence that the strict templates of :mod:`robomem.planners.instruction`
did not match ("Put a chilled apple on a kitchen counter.", "turn on the lamp while holding a
bowl", "Move a vase from the dresser to the safe.", "put a bowl with a watch in it on the
shelf") and returns what it asks for as a :class:`Reading`:

* the family from cue words (verbs and participles: "microwaved", "chilled", "rinsed"; "two";
  a lamp with looking or switching on; a container "with X in it");
* the object: the first thing that can be picked up (a cutting tool, the ontology's ``cuts``,
  is a tool when the sentence slices something);
* the destination: the first receptacle after a placing preposition that follows the last
  placing verb; places after "from", "off" or "out of" are where things start, and places after
  "next to", "near", ... are landmarks;
* sliced objects, the movable container, and a count of two.

Everything world-specific comes from the ontology (types, words, categories, roles).

Example:
    >>> from robomem.envs.household.embodiment import HouseholdEmbodiment
    >>> from robomem.planners.phrasing import read
    >>> onto = HouseholdEmbodiment().ontology
    >>> r = read("Put a chilled apple on a kitchen counter.", onto)
    >>> r.family, r.object.types[0], r.target.types[0]
    ('pick_cool_and_place', 'Apple', 'CounterTop')
    >>> r = read("Move a vase from the dresser to the safe.", onto)
    >>> r.family, r.object.types[0], r.target.types[0]
    ('pick_and_place', 'Vase', 'Safe')
"""

from __future__ import annotations

from dataclasses import dataclass

from robomem.ontology import Ontology
from robomem.planners.mentions import Mention, find_mentions, tokens

__all__ = ["Reading", "read"]

HEAT = frozenset({"heat", "heated", "heating", "heats", "warm", "warmed", "warming", "hot",
                  "microwaved", "microwaving", "cook", "cooked", "cooking", "bake", "baked",
                  "toast", "toasted", "nuke", "nuked"})
COOL = frozenset({"cold", "chill", "chilled", "chilling", "cool", "cooled", "cooling",
                  "refrigerate", "refrigerated", "refrigerating", "frozen", "freeze", "iced",
                  "chills", "colder", "freezer", "icy", "chiled", "refridgerated"})
CLEAN = frozenset({"clean", "cleaned", "cleaning", "wash", "washed", "washing", "rinse",
                   "rinsed", "rinsing", "scrub", "scrubbed", "cleans", "washes", "rinses",
                   "wet", "water", "soak", "soaked", "damp", "soapy", "sanitize", "sanitized",
                   "disinfect", "disinfected", "moistened", "dampened"})
LOOK = frozenset({"examine", "examining", "examines", "look", "looking", "inspect",
                  "inspecting", "view", "viewing", "study", "observe", "read", "check", "see",
                  "illuminate", "illuminated", "light", "lit", "turn", "turning", "switch",
                  "hold", "holding", "lamp", "lamplight", "examined"})
CLOSE = frozenset({"close", "shut", "closing", "shutting"})
TWO = frozenset({"two", "2", "both", "pair", "couple"})
SLICE = frozenset({"slice", "sliced", "slices", "slicing", "cut", "cuts", "piece", "pieces",
                   "wedge", "chunk", "half", "halves"})
PLACE_VERBS = frozenset({"put", "place", "placing", "putting", "set", "move", "moving", "bring",
                         "take", "taking", "leave", "drop", "transfer", "carry", "return",
                         "throw", "toss", "deposit", "store", "stick", "lay", "sit", "insert",
                         "puts", "places", "moves", "dispose", "discard", "stash"})
TO_PREPS = frozenset({"in", "on", "into", "onto", "inside", "to", "at", "atop", "within",
                      "under", "underneath", "beneath", "top", "upon"})
FROM_PREPS = frozenset({"from", "off", "out"})
LANDMARK_PREPS = frozenset({"next", "near", "beside", "by", "behind", "left", "right", "front",
                            "below", "above", "besides", "nearby", "between", "across",
                            "opposite", "around", "against", "along"})
WITH = frozenset({"with", "containing", "holding", "carrying"})


@dataclass(frozen=True)
class Reading:
    """What a free-form sentence asks for (types as mentions; the caller builds the goal).

    Attributes:
        family: the task family.
        object: the thing to move or look at (``None``: no known word for it).
        target: where it goes, or the lamp (``None``: no known word for it).
        movable: a container carried with the object in it (``pick_movable_and_place``).
        count: objects asked for.
        sliced: the sentence asks for a slice of the object.
        object_words: the words in the object's place when ``object`` is ``None`` (for a
            nearest-by-meaning guess or the reason why not).
        target_words: likewise for the target.
    """

    family: str
    object: Mention | None
    target: Mention | None
    movable: Mention | None = None
    count: int = 1
    sliced: bool = False
    object_words: str = ""
    target_words: str = ""
    unfit_target: Mention | None = None  # a known thing named as the place, that holds nothing
    source: Mention | None = None  # where the object starts ("from the dresser")


def _kinds(m: Mention, onto: Ontology) -> tuple[bool, bool, bool]:
    infos = [onto.info(t) for t in m.types]
    pick = any(i.pickupable for i in infos)
    rec = any(i.receptacle for i in infos)
    lamp = all(i.toggleable and not i.receptacle and not i.pickupable for i in infos) and \
        any("lamp" in t.lower() for t in m.types)
    return pick, rec, lamp


def _vessel(m: Mention, onto: Ontology) -> bool:
    return any(onto.info(t).vessel for t in m.types)


def _before(toks: list[str], m: Mention, n: int = 3) -> list[str]:
    return toks[max(0, m.start - n):m.start]


def _is_source(toks: list[str], m: Mention) -> bool:
    prev = [w for w in _before(toks, m, 3) if w not in ("the", "a", "an", "of", "top")]
    return bool(prev) and prev[-1] in FROM_PREPS


def _is_landmark(toks: list[str], m: Mention) -> bool:
    prev = [w for w in _before(toks, m, 4) if w not in ("the", "a", "an", "to", "of", "side")]
    return bool(prev) and prev[-1] in LANDMARK_PREPS


def _follows_to_prep(toks: list[str], m: Mention) -> bool:
    prev = [w for w in _before(toks, m, 3) if w not in ("the", "a", "an", "of", "kitchen",
                                                         "bathroom", "white", "black", "small",
                                                         "large", "wooden", "glass")]
    return bool(prev) and prev[-1] in TO_PREPS


_SKIP = frozenset({"a", "an", "the", "some", "one", "two", "of", "and", "it", "up", "all",
                   "both", "pick", "picking", "grab", "get", "then", "while", "go", "turn",
                   "turning", "switch", "examine", "look", "hold", "holding", "take", "use",
                   "using", "place", "put", "move", "bring", "carry", "please", "you", "your",
                   "away", "back", "them", "this", "that", "these", "those", "its", "i",
                   *HEAT, *COOL, *CLEAN, *SLICE, *TWO})


def _gap_words(toks: list[str], start: int, stop: int) -> str:
    """The words between ``start`` and ``stop`` up to the first preposition, for a reason."""
    out: list[str] = []
    for w in toks[start:stop]:
        if w in TO_PREPS or w in FROM_PREPS or w in LANDMARK_PREPS or w in ("to", "with"):
            if out:
                break
            continue
        if w not in _SKIP:
            out.append(w)
    return " ".join(out[-3:])


def _plural(m: Mention, onto: Ontology) -> bool:
    """Whether the mention is a plural form ("apples", "knives", "boxes")."""
    words = onto.words()
    t = m.text
    for cut in (1, 2):
        if t.endswith("es"[-cut:] if cut == 1 else "es") and words.get(t[:-cut]) == m.types[0]:
            return True
    return t.endswith("ves") and words.get(t[:-3] + "fe") == m.types[0]


def read(text: str, ontology: Ontology) -> Reading:
    """Read a free-form instruction (see the module docstring)."""
    toks = tokens(text)
    words = set(toks)
    mentions = find_mentions(toks, ontology)
    kinds = {id(m): _kinds(m, ontology) for m in mentions}
    sliced = bool(words & SLICE)
    lamps = [m for m in mentions if kinds[id(m)][2]]
    things = [m for m in mentions if not kinds[id(m)][2]]

    # the object: the first pickupable thing (a knife is a tool when something is sliced)
    pickables = [m for m in things if kinds[id(m)][0]]
    def cuts(m: Mention) -> bool:
        return all(ontology.info(t).cuts for t in m.types)

    if sliced and any(not cuts(m) for m in pickables):
        pickables = [m for m in pickables if not cuts(m)]
    obj = pickables[0] if pickables else None
    if obj is not None:  # "a bottle of wine", "a box of tissues": the kind named after "of"
        of = next((m for m in pickables if m.start > obj.end and m.start - obj.end <= 2
                   and "of" in toks[obj.end:m.start]), None)
        if of is not None:
            kinds_a = set(ontology.kinds_of(obj.types[0]))
            if kinds_a & set(of.types):
                obj = Mention(obj.start, of.end, f"{obj.text} of {of.text}",
                              tuple(t for t in of.types if t in kinds_a))
            elif not set(obj.types) & set(of.types):
                obj = of
    if obj is None and len(things) >= 2:  # the world may not let it be picked up: its call
        obj = things[0]

    # the family (none when the sentence asks for nothing robomem knows how to do)
    if not (words & (PLACE_VERBS | HEAT | COOL | CLEAN | SLICE) or (lamps and words & LOOK)
            or (obj is not None and len(things) >= 2)):  # "a mug to the shelf", a typo'd verb
        return Reading("", obj, None)
    if lamps and (words & LOOK) and not (words & (HEAT | COOL | CLEAN)):
        family = "look_at_in_light"
    elif words & HEAT or (toks and toks[0] in ("microwave",) and len(mentions) > 0):
        family = "pick_heat_and_place"
    elif words & COOL:
        family = "pick_cool_and_place"
    elif words & CLEAN:
        family = "pick_clean_and_place"
    elif words & CLOSE and any(w in PLACE_VERBS for w in toks[:min(
            (i for i, w in enumerate(toks) if w in CLOSE), default=0)]):
        family = "place_in_closed"
    elif words & TWO or (obj is not None and _plural(obj, ontology)):
        family = "pick_two_and_place"
    else:
        family = "pick_and_place"

    if family == "look_at_in_light":
        lamp = lamps[-1]
        if obj is None:
            return Reading(family, None, lamp, object_words=_gap_words(toks, 0, lamp.start))
        return Reading(family, obj, lamp)

    # a container carried along: "a bowl with a watch in it", "a pan containing a spatula",
    # "put a fork in a glass, and put the glass in the sink"
    movable = None
    if obj is not None:
        after = [m for m in pickables if m.start > obj.start and m.types != obj.types]
        nxt = after[0] if after else None
        between = set(toks[obj.end:nxt.start]) if nxt is not None else set()
        if nxt is not None and _vessel(obj, ontology) and between & (WITH | {"and"}) and \
                not _vessel(nxt, ontology):
            movable, obj = obj, nxt  # "a bowl with a watch in it", "a pan and a ladle"
        elif nxt is not None and _vessel(nxt, ontology) and "and" in between and \
                nxt.end - obj.end <= 4:
            movable = nxt  # "a knife and a glass"
        elif nxt is not None and _vessel(nxt, ontology) and _follows_to_prep(toks, nxt) and \
                any(kinds[id(m)][1] and m.start > nxt.end and _follows_to_prep(toks, m)
                    for m in things if not _vessel(m, ontology)):
            movable = nxt  # "a spoon in a pan on the counter"
        elif nxt is not None and _vessel(nxt, ontology) and \
                _follows_to_prep(toks, nxt) and \
                any(m.types == nxt.types and m.start > nxt.end for m in mentions):
            movable = nxt
    if movable is not None:
        family = "pick_movable_and_place"

    # the destination: after the last placing verb, the first receptacle after a placing
    # preposition that is neither where things start nor a landmark
    last_verb = max((i for i, w in enumerate(toks) if w in PLACE_VERBS), default=-1)
    placed = [m for m in things if kinds[id(m)][1] and m is not obj and m is not movable
              and (movable is None or m.types != movable.types)
              and not _is_source(toks, m)]
    after_verb = [m for m in placed if m.start > last_verb]
    target = next((m for m in after_verb if _follows_to_prep(toks, m)
                   and not _is_landmark(toks, m)), None)
    if target is None:
        target = next((m for m in placed if _follows_to_prep(toks, m)
                       and not _is_landmark(toks, m)), None)
    if target is None:
        rest = [m for m in placed if not _is_landmark(toks, m)] or placed
        target = rest[-1] if rest else None
    if target is not None and family in ("pick_and_place", "pick_two_and_place"):
        # "put it in the fridge and then in the sink": an appliance on the way is the change
        for role_name, fam in (("heat", "pick_heat_and_place"), ("cool", "pick_cool_and_place"),
                               ("clean", "pick_clean_and_place")):
            role = ontology.role(role_name)
            if role is not None and any(role.put in m.types and m.start < target.start and
                                        _follows_to_prep(toks, m) for m in placed):
                family = fam
                break
    role_words = {"pick_heat_and_place": "heat", "pick_cool_and_place": "cool",
                  "pick_clean_and_place": "clean"}.get(family)
    if target is not None and role_words:
        role = ontology.role(role_words)
        later = [m for m in placed if m.start > target.start and not _is_landmark(toks, m)]
        if role is not None and role.put in target.types and later:
            target = later[-1]  # "cook it in the microwave, then put it in the fridge"
    count = 2 if family == "pick_two_and_place" else 1
    unfit = None
    if target is None:
        unfit = next((m for m in things if m is not obj and m is not movable and
                      m.start > (obj.end if obj else 0) and _follows_to_prep(toks, m)), None)
    source = next((m for m in things if m is not obj and m is not target and m is not movable
                   and kinds[id(m)][1] and _is_source(toks, m)), None)
    obj_words = "" if obj is not None else _gap_words(
        toks, (last_verb + 1) if last_verb >= 0 else 0,
        target.start if target is not None else len(toks))
    return Reading(family, obj, target, movable, count, sliced, obj_words,
                   "" if target is not None or unfit is not None else _gap_words(
                       toks, obj.end if obj is not None else 0, len(toks)), unfit, source)
