"""What a Household house can contain: room types, furniture and pickupable object kinds.

Sizes are in metres as ``(width, height, depth)``: width along the wall a piece stands
against, depth away from it. Object type names follow AI2-THOR's.

Example:
    >>> from robomem.envs.household.catalog import KINDS, PICKUPABLE_TYPES
    >>> KINDS["Fridge"].openable, KINDS["Apple"].pickupable
    (True, True)
    >>> len(PICKUPABLE_TYPES) >= 20
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Shape = Literal["box", "sphere", "cylinder"]
# How a piece of furniture is built and where its contents go:
#   solid      a box; things stand on top
#   table      a top slab on four legs; things stand on top
#   container  a box whose front opens; things go inside, on an inner floor
#   basin      a box with an open-top cavity (a sink); things go inside the cavity
#   fixture    a box that holds nothing (faucet, lamp, television)
Style = Literal["solid", "table", "container", "basin", "fixture"]

ROOM_TYPES = ("Kitchen", "LivingRoom", "Bedroom", "Bathroom")


@dataclass(frozen=True)
class Kind:
    """One object type: its geometry, appearance and affordances."""

    name: str
    size: tuple[float, float, float]
    color: tuple[float, float, float]
    shape: Shape = "box"
    style: Style = "solid"
    pickupable: bool = False
    receptacle: bool = False
    openable: bool = False
    toggleable: bool = False
    heat_source: bool = False
    cold_source: bool = False
    water_source: bool = False
    dirtyable: bool = False
    cookable: bool = False
    mass: float = 0.0
    materials: tuple[str, ...] = ()
    # Containers and basins: height of the inner floor above the piece's base.
    inner_floor: float = 0.0
    # Containers: which side opens ("front" door, or "top" like a pulled-out drawer).
    opens: Literal["front", "top"] = "front"
    # Furniture that stands on another piece (Microwave on CounterTop), else empty.
    stands_on: tuple[str, ...] = ()
    # Pickupables: receptacle types where a house usually keeps them (generation prior).
    usual_places: tuple[str, ...] = ()
    # Fixture kinds attached to this furniture (a SinkBasin gets a Faucet).
    attachments: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_furniture(self) -> bool:
        """True for anything that is not pickupable."""
        return not self.pickupable


def _f(name: str, size: tuple[float, float, float], color: tuple[float, float, float],
       style: Style = "solid", **kw: object) -> Kind:
    return Kind(name=name, size=size, color=color, style=style, receptacle=style != "fixture",
                **kw)  # type: ignore[arg-type]


def _p(name: str, size: tuple[float, float, float], color: tuple[float, float, float],
       shape: Shape, places: tuple[str, ...], **kw: object) -> Kind:
    return Kind(name=name, size=size, color=color, shape=shape, pickupable=True,
                usual_places=places, **kw)  # type: ignore[arg-type]


_WOOD = ("Wood",)
_FURNITURE = [
    _f("CounterTop", (1.6, 0.9, 0.6), (0.78, 0.74, 0.68), materials=("Stone",)),
    _f("Fridge", (0.8, 1.8, 0.7), (0.86, 0.88, 0.9), "container", openable=True,
       cold_source=True, inner_floor=0.75, materials=("Metal",)),
    _f("Cabinet", (0.8, 0.9, 0.5), (0.55, 0.38, 0.24), "container", openable=True,
       inner_floor=0.3, materials=_WOOD),
    _f("Drawer", (0.7, 0.8, 0.5), (0.62, 0.45, 0.3), "container", openable=True,
       inner_floor=0.5, opens="top", materials=_WOOD),
    _f("SinkBasin", (0.8, 0.9, 0.6), (0.9, 0.9, 0.92), "basin", inner_floor=0.72,
       attachments=("Faucet",), materials=("Ceramic",)),
    _f("Microwave", (0.5, 0.3, 0.4), (0.2, 0.2, 0.22), "container", openable=True,
       toggleable=True, heat_source=True, inner_floor=0.03, stands_on=("CounterTop",),
       materials=("Metal",)),
    _f("StoveBurner", (0.6, 0.9, 0.6), (0.25, 0.25, 0.27), toggleable=True, heat_source=True,
       materials=("Metal",)),
    _f("DiningTable", (1.4, 0.75, 0.9), (0.6, 0.42, 0.26), "table", materials=_WOOD),
    _f("Sofa", (2.0, 0.8, 0.9), (0.35, 0.45, 0.65), materials=("Fabric",)),
    _f("ArmChair", (0.8, 0.8, 0.8), (0.6, 0.3, 0.3), materials=("Fabric",)),
    _f("CoffeeTable", (1.0, 0.45, 0.6), (0.5, 0.33, 0.2), "table", materials=_WOOD),
    _f("TVStand", (1.2, 0.5, 0.45), (0.3, 0.25, 0.22), materials=_WOOD),
    _f("Shelf", (1.0, 0.9, 0.35), (0.7, 0.55, 0.38), materials=_WOOD),
    _f("SideTable", (0.5, 0.6, 0.5), (0.58, 0.4, 0.28), "table", materials=_WOOD),
    _f("Desk", (1.2, 0.75, 0.6), (0.66, 0.5, 0.34), "table", materials=_WOOD),
    _f("Dresser", (1.0, 0.85, 0.5), (0.5, 0.35, 0.3), materials=_WOOD),
    _f("Bed", (1.6, 0.6, 2.0), (0.85, 0.82, 0.95), materials=("Fabric",)),
    _f("Toilet", (0.45, 0.8, 0.7), (0.95, 0.95, 0.95), materials=("Ceramic",)),
    # Fixtures: toggleable, hold nothing, stand on furniture.
    _f("Faucet", (0.12, 0.3, 0.12), (0.75, 0.75, 0.8), "fixture", toggleable=True,
       water_source=True, materials=("Metal",)),
    _f("DeskLamp", (0.2, 0.45, 0.2), (0.95, 0.85, 0.35), "fixture", toggleable=True,
       stands_on=("Desk", "SideTable", "Dresser"), materials=("Metal",)),
    _f("FloorLamp", (0.4, 1.5, 0.4), (0.9, 0.8, 0.4), "fixture", toggleable=True,
       materials=("Metal",)),
    _f("Television", (1.0, 0.6, 0.1), (0.08, 0.08, 0.1), "fixture", toggleable=True,
       stands_on=("TVStand",), materials=("Plastic",)),
]

_KITCHEN = ("CounterTop", "DiningTable", "Cabinet", "Shelf")
_COLD = ("Fridge", "CounterTop")
_ITEMS = [
    _p("Apple", (0.08, 0.08, 0.08), (0.8, 0.1, 0.1), "sphere", _COLD + ("DiningTable",),
       mass=0.2, materials=("Food",)),
    _p("Tomato", (0.08, 0.07, 0.08), (0.9, 0.2, 0.1), "sphere", _COLD + ("DiningTable",),
       mass=0.12, materials=("Food",)),
    _p("Potato", (0.1, 0.07, 0.07), (0.6, 0.45, 0.25), "sphere", ("CounterTop", "Fridge",
       "Cabinet"), cookable=True, mass=0.2, materials=("Food",)),
    _p("Egg", (0.05, 0.06, 0.05), (0.95, 0.92, 0.8), "sphere", ("Fridge", "CounterTop"),
       cookable=True, mass=0.06, materials=("Food",)),
    _p("Lettuce", (0.18, 0.15, 0.18), (0.35, 0.75, 0.25), "sphere", ("Fridge", "CounterTop"),
       mass=0.4, materials=("Food",)),
    _p("Bread", (0.26, 0.12, 0.12), (0.8, 0.6, 0.3), "box", ("CounterTop", "DiningTable"),
       cookable=True, mass=0.5, materials=("Food",)),
    _p("Mug", (0.09, 0.1, 0.09), (0.2, 0.5, 0.8), "cylinder", _KITCHEN + ("Desk",),
       dirtyable=True, mass=0.3, materials=("Ceramic",)),
    _p("Cup", (0.08, 0.12, 0.08), (0.7, 0.85, 0.9), "cylinder", _KITCHEN,
       dirtyable=True, mass=0.2, materials=("Glass",)),
    _p("Bowl", (0.16, 0.07, 0.16), (0.9, 0.6, 0.2), "cylinder", _KITCHEN + ("Fridge",),
       dirtyable=True, mass=0.3, materials=("Ceramic",)),
    _p("Plate", (0.24, 0.03, 0.24), (0.95, 0.95, 0.9), "cylinder", _KITCHEN,
       dirtyable=True, mass=0.4, materials=("Ceramic",)),
    _p("Pan", (0.28, 0.06, 0.28), (0.15, 0.15, 0.15), "cylinder", ("StoveBurner", "CounterTop",
       "Cabinet"), dirtyable=True, mass=1.0, materials=("Metal",)),
    _p("Pot", (0.24, 0.16, 0.24), (0.45, 0.45, 0.48), "cylinder", ("StoveBurner", "CounterTop",
       "Cabinet"), dirtyable=True, mass=1.5, materials=("Metal",)),
    _p("Knife", (0.25, 0.02, 0.04), (0.8, 0.8, 0.85), "box", ("CounterTop", "Drawer",
       "DiningTable"), dirtyable=True, mass=0.1, materials=("Metal",)),
    _p("Fork", (0.19, 0.02, 0.03), (0.75, 0.75, 0.8), "box", ("Drawer", "DiningTable",
       "CounterTop"), dirtyable=True, mass=0.05, materials=("Metal",)),
    _p("Spoon", (0.18, 0.02, 0.04), (0.7, 0.7, 0.75), "box", ("Drawer", "DiningTable",
       "CounterTop"), dirtyable=True, mass=0.05, materials=("Metal",)),
    _p("Bottle", (0.07, 0.25, 0.07), (0.2, 0.6, 0.3), "cylinder", ("Fridge", "CounterTop",
       "Shelf"), mass=0.5, materials=("Glass",)),
    _p("SoapBottle", (0.07, 0.18, 0.07), (0.9, 0.4, 0.7), "cylinder", ("SinkBasin", "Shelf",
       "Toilet", "CounterTop", "Cabinet"), mass=0.3, materials=("Plastic",)),
    _p("Book", (0.16, 0.04, 0.23), (0.6, 0.15, 0.2), "box", ("Shelf", "Desk", "Bed",
       "CoffeeTable", "SideTable", "Sofa"), mass=0.6, materials=("Paper",)),
    _p("RemoteControl", (0.05, 0.02, 0.18), (0.1, 0.1, 0.12), "box", ("Sofa", "CoffeeTable",
       "TVStand", "ArmChair", "SideTable"), mass=0.15, materials=("Plastic",)),
    _p("CellPhone", (0.07, 0.01, 0.15), (0.05, 0.05, 0.05), "box", ("Desk", "Bed", "SideTable",
       "Sofa", "Dresser"), mass=0.18, materials=("Metal",)),
    _p("Laptop", (0.33, 0.03, 0.23), (0.55, 0.55, 0.6), "box", ("Desk", "Bed", "CoffeeTable",
       "DiningTable"), mass=1.5, materials=("Metal",)),
    _p("Pillow", (0.5, 0.12, 0.35), (0.95, 0.9, 0.75), "box", ("Bed", "Sofa", "ArmChair"),
       mass=0.4, materials=("Fabric",)),
    _p("KeyChain", (0.06, 0.02, 0.06), (0.85, 0.75, 0.2), "box", ("SideTable", "Dresser",
       "CoffeeTable", "Shelf", "Drawer"), mass=0.05, materials=("Metal",)),
    _p("CreditCard", (0.085, 0.01, 0.055), (0.2, 0.35, 0.75), "box", ("Desk", "Dresser",
       "SideTable", "Drawer"), mass=0.01, materials=("Plastic",)),
    _p("AlarmClock", (0.12, 0.1, 0.06), (0.85, 0.3, 0.3), "box", ("SideTable", "Desk",
       "Dresser", "Shelf"), mass=0.3, materials=("Plastic",)),
    _p("Vase", (0.12, 0.25, 0.12), (0.3, 0.6, 0.7), "cylinder", ("Shelf", "CoffeeTable",
       "SideTable", "DiningTable", "TVStand"), mass=0.8, materials=("Ceramic",)),
    _p("Candle", (0.07, 0.12, 0.07), (0.95, 0.95, 0.85), "cylinder", ("Shelf", "DiningTable",
       "Toilet", "CoffeeTable"), mass=0.2, materials=("Wax",)),
    _p("TissueBox", (0.22, 0.1, 0.12), (0.4, 0.7, 0.9), "box", ("Toilet", "Shelf", "SideTable",
       "Dresser"), mass=0.1, materials=("Paper",)),
    _p("ToiletPaper", (0.11, 0.11, 0.11), (0.97, 0.97, 0.97), "cylinder", ("Toilet", "Shelf",
       "Cabinet"), mass=0.1, materials=("Paper",)),
    _p("SprayBottle", (0.08, 0.22, 0.08), (0.3, 0.8, 0.8), "cylinder", ("Cabinet", "Shelf",
       "Toilet", "CounterTop"), mass=0.4, materials=("Plastic",)),
    _p("Newspaper", (0.3, 0.02, 0.2), (0.85, 0.85, 0.8), "box", ("Sofa", "CoffeeTable",
       "DiningTable", "SideTable"), mass=0.2, materials=("Paper",)),
    _p("Watch", (0.05, 0.02, 0.05), (0.75, 0.6, 0.2), "box", ("Dresser", "SideTable", "Desk"),
       mass=0.05, materials=("Metal",)),
]

KINDS: dict[str, Kind] = {k.name: k for k in _FURNITURE + _ITEMS}
PICKUPABLE_TYPES: tuple[str, ...] = tuple(k.name for k in _ITEMS)
FURNITURE_TYPES: tuple[str, ...] = tuple(k.name for k in _FURNITURE)
RECEPTACLE_TYPES: tuple[str, ...] = tuple(k.name for k in _FURNITURE if k.receptacle)
HEATABLE_TYPES = ("Apple", "Potato", "Egg", "Tomato", "Bread", "Mug", "Cup", "Plate", "Bowl")
COOLABLE_TYPES = ("Apple", "Tomato", "Lettuce", "Potato", "Bread", "Mug", "Cup", "Bottle",
                  "Pan", "Pot", "Bowl", "Egg")
CLEANABLE_TYPES = tuple(k.name for k in _ITEMS if k.dirtyable)

# Furniture each room type gets: (type, required). Order matters: big pieces first.
ROOM_FURNITURE: dict[str, tuple[tuple[str, bool], ...]] = {
    "Kitchen": (("Fridge", True), ("CounterTop", True), ("SinkBasin", True),
                ("StoveBurner", True), ("Cabinet", True), ("Microwave", True),
                ("DiningTable", False), ("Drawer", False), ("CounterTop", False),
                ("Shelf", False), ("Cabinet", False)),
    "LivingRoom": (("Sofa", True), ("CoffeeTable", True), ("TVStand", True),
                   ("Television", True), ("Shelf", False), ("ArmChair", False),
                   ("SideTable", False), ("DeskLamp", False), ("FloorLamp", False),
                   ("DiningTable", False)),
    "Bedroom": (("Bed", True), ("SideTable", True), ("DeskLamp", True), ("Dresser", False),
                ("Desk", False), ("Shelf", False), ("Drawer", False), ("ArmChair", False),
                ("FloorLamp", False)),
    "Bathroom": (("Toilet", True), ("SinkBasin", True), ("Cabinet", False), ("Shelf", False),
                 ("Drawer", False)),
}

# RGB of walls and floors per room type (walls, floor).
ROOM_COLORS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "Kitchen": ((0.93, 0.9, 0.78), (0.72, 0.72, 0.7)),
    "LivingRoom": ((0.85, 0.88, 0.8), (0.62, 0.48, 0.34)),
    "Bedroom": ((0.82, 0.84, 0.93), (0.7, 0.58, 0.45)),
    "Bathroom": ((0.85, 0.93, 0.95), (0.82, 0.84, 0.86)),
}


def kind(name: str) -> Kind:
    """Look up an object kind; raises ``KeyError`` listing the known types on a miss."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(
            f"unknown object type {name!r}; known: {', '.join(sorted(KINDS))}"
        ) from None
