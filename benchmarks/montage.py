"""Render a montage of the Household simulator's observations: RGB, depth and segmentation.

Each column is one house (a shipped scene spec or a procedural house); the rows are the RGB
image, the z-depth (colour-mapped) and the instance segmentation (a random colour per id).
The camera stands on a reachable cell at the agent's eye height and looks the way that
shows the most objects, so the picture is one an agent could actually see.

Usage:
    python benchmarks/montage.py --out docs/images/montage.png
    python benchmarks/montage.py --scenes FloorPlan2@Bathroom procedural:5 --size 400x300
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps
from numpy.typing import NDArray
from PIL import Image

from robomem.envs.household.catalog import ROOM_TYPES
from robomem.envs.household.generator import FIRST_OBJECT_SEG, generate_house, reachable_cells
from robomem.envs.household.house import CAMERA_HEIGHT, GRID, House
from robomem.envs.household.renderer import Frame, Renderer
from robomem.envs.household.spec import load_scene

DEFAULT_SCENES = ("FloorPlan1@Kitchen", "procedural:3@LivingRoom", "FloorPlan10@Bedroom",
                  "procedural:21@Kitchen")
YAWS = tuple(float(y) for y in range(0, 360, 30))
HORIZONS = (15.0, 30.0)
DEPTH_CMAP = "turbo"


@dataclass(frozen=True)
class Pose:
    """A camera pose on the floor grid, and how many objects it shows."""

    x: float
    z: float
    yaw: float
    horizon: float
    score: float


def parse_token(token: str) -> tuple[str, str | None]:
    """Split ``SCENE[@RoomType]`` into the scene and the room type to look into."""
    scene, _, room = token.partition("@")
    if room and room not in ROOM_TYPES:
        raise SystemExit(f"unknown room type {room!r} in {token!r}; known: {', '.join(ROOM_TYPES)}")
    return scene, room or None


def load_house(scene: str) -> House:
    """A shipped scene by name (``FloorPlan3``), a YAML path, or ``procedural:SEED``."""
    if scene.startswith("procedural:"):
        return generate_house(int(scene.split(":", 1)[1]))
    return load_scene(scene)


def house_title(scene: str, house: House, room_type: str | None) -> str:
    """A short column title."""
    kind = "procedural" if scene.startswith("procedural:") else "scene spec"
    where = f", {room_type}" if room_type else ""
    return f"{house.name}{where}  ({len(house.rooms)} rooms, {kind})"


def score_view(seg: NDArray[np.int32], depth: NDArray[np.float32], items: set[int]) -> float:
    """How good a view is: distinct objects seen (items count double), no close-ups."""
    n = seg.size
    ids, counts = np.unique(seg, return_counts=True)
    seen = [int(i) for i, c in zip(ids, counts) if i >= FIRST_OBJECT_SEG and c >= 0.002 * n]
    hit = depth[depth > 0]
    if hit.size < 0.9 * n or float(np.median(hit)) < 2.0 or (hit < 1.2).mean() > 0.12:
        return -1.0  # staring at a wall, or something fills the foreground
    return len(seen) + sum(1.0 for i in seen if i in items)


def best_pose(house: House, fov: float, room_type: str | None = None,
              cell_stride: int = 2) -> Pose:
    """Search reachable cells, yaws and horizons for the view that shows most objects.

    With ``room_type`` only cells in rooms of that type are tried (all cells if none).
    """
    small = Renderer(64, 48, fov)
    small.set_scene(house)
    items = {o.seg_id for o in house.objects.values() if o.kind.pickupable}
    cells = sorted(reachable_cells(house))
    rooms = [r.rect for r in house.rooms if r.type == room_type]
    inside = [c for c in cells
              if any(q.grow(-0.2).contains_point(c[0] * GRID, c[1] * GRID) for q in rooms)]
    cells = inside or cells
    best = Pose(cells[0][0] * GRID, cells[0][1] * GRID, 0.0, HORIZONS[0], -math.inf)
    for i, j in cells:
        if (i + j) % cell_stride:
            continue
        x, z = i * GRID, j * GRID
        for yaw in YAWS:
            for hor in HORIZONS:
                f = small.render((x, CAMERA_HEIGHT, z), yaw, hor)
                s = score_view(f.segmentation, f.depth, items)
                if s > best.score:
                    best = Pose(x, z, yaw, hor, s)
    return best


def seg_colors(n: int, n_structure: int = FIRST_OBJECT_SEG - 1, seed: int = 0) -> NDArray[np.uint8]:
    """A colour per instance id: black for no hit, greys for structure, random hues else."""
    rng = np.random.default_rng(seed)
    hsv = np.stack([rng.random(n), rng.uniform(0.55, 0.95, n), rng.uniform(0.65, 1.0, n)], 1)
    rgb = matplotlib.colors.hsv_to_rgb(hsv)
    rgb[0] = 0.0
    rgb[1 : n_structure + 1] = np.linspace(0.25, 0.45, n_structure)[:, None]
    return np.asarray(np.round(rgb * 255), np.uint8)


def depth_image(depth: NDArray[np.float32], max_depth: float) -> NDArray[np.uint8]:
    """Colour-mapped depth; pixels with no hit are black."""
    rgba = colormaps[DEPTH_CMAP](np.clip(depth / max_depth, 0.0, 1.0))
    rgb = np.asarray(np.round(rgba[..., :3] * 255), np.uint8)
    rgb[depth <= 0] = 0
    return rgb


def shrink(img: NDArray[np.uint8], size: tuple[int, int]) -> NDArray[np.uint8]:
    """Downsample a supersampled image with a box filter (anti-aliasing)."""
    return np.asarray(Image.fromarray(img).resize(size, Image.Resampling.BOX))


def render_house(house: House, width: int, height: int, fov: float, supersample: int,
                 room_type: str | None = None) -> tuple[Frame, Pose]:
    """Render ``house`` from its best pose at ``supersample`` times the output size."""
    pose = best_pose(house, fov, room_type)
    r = Renderer(width * supersample, height * supersample, fov)
    r.set_scene(house)
    return r.render((pose.x, CAMERA_HEIGHT, pose.z), pose.yaw, pose.horizon), pose


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, render every house and write the montage PNG."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("docs/images/montage.png"),
                   help="PNG file to write")
    p.add_argument("--scenes", nargs="+", default=list(DEFAULT_SCENES),
                   help="one column each: a scene name, a YAML path or procedural:SEED, "
                   "optionally with @RoomType to look into a room of that type")
    p.add_argument("--size", default="320x240", help="size of each panel, WIDTHxHEIGHT")
    p.add_argument("--fov", type=float, default=90.0, help="vertical field of view (degrees)")
    p.add_argument("--max-depth", type=float, default=7.0,
                   help="depth at the top of the colour map (metres)")
    p.add_argument("--supersample", type=int, default=2, help="render at this many times the size")
    args = p.parse_args(argv)
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        p.error(f"--size must look like 320x240, got {args.size!r}")
    if args.supersample < 1:
        p.error("--supersample must be at least 1")

    rows: list[list[NDArray[np.uint8]]] = [[], [], []]
    titles = []
    for token in args.scenes:
        scene, room_type = parse_token(token)
        house = load_house(scene)
        frame, pose = render_house(house, width, height, args.fov, args.supersample, room_type)
        n_seg = int(frame.segmentation.max()) + 1
        seg = seg_colors(max(n_seg, FIRST_OBJECT_SEG))[frame.segmentation]
        rows[0].append(shrink(frame.rgb, (width, height)))
        rows[1].append(shrink(depth_image(frame.depth, args.max_depth), (width, height)))
        rows[2].append(shrink(seg, (width, height)))
        titles.append(house_title(scene, house, room_type))
        print(f"{token}: camera at ({pose.x:.2f}, {pose.z:.2f}) yaw {pose.yaw:g} horizon "
              f"{pose.horizon:g}, {int(pose.score)} objects (items count double)")

    n = len(args.scenes)
    dpi = 100
    left, top, gap = 0.32, 0.3, 0.04  # inches
    fig_w = n * width / dpi + (n - 1) * gap + left + 0.05
    fig_h = 3 * height / dpi + 2 * gap + top + 0.05
    fig = plt.figure(figsize=(fig_w, fig_h), dpi=dpi, facecolor="white")
    labels = ("RGB", f"depth (0-{args.max_depth:g} m)", "instance segmentation")
    for r, (row, label) in enumerate(zip(rows, labels)):
        for c, img in enumerate(row):
            x0 = (left + c * (width / dpi + gap)) / fig_w
            y0 = 1 - (top + (r + 1) * height / dpi + r * gap) / fig_h
            ax = fig.add_axes((x0, y0, width / dpi / fig_w, height / dpi / fig_h))
            ax.imshow(img, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
            if r == 0:
                ax.set_title(titles[c], fontsize=9, pad=4)
            if c == 0:
                ax.set_ylabel(label, fontsize=9)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=dpi)
    plt.close(fig)
    png = Image.open(args.out).convert("RGB")  # drop the alpha channel: a smaller file
    png.save(args.out, optimize=True)
    print(f"wrote {args.out} ({png.width}x{png.height}, {args.out.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
