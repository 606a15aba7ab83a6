"""Fuse per-frame object point clouds into persistent 3D object tracks.

Each track holds an object's label, a capped, voxel-downsampled cloud of every point seen of
it, and the box around that cloud, so a box grows as more of an object comes into view.
Detections that carry a key (a simulator objectId) go to that key's track. Key-less ones are
matched, one to one and best overlap first, to tracks of the same label not yet matched this
frame: boxes overlapping (IoU of the boxes grown by 5 cm), one box lying mostly inside the
other (part of a large object, seen before or after more of it), centroids close together,
or, for a detection cut off by the image border, boxes touching; otherwise they start a new
track ``"<label>#<n>"``. A track whose newly seen points have their centroid well
outside its box, and do not even touch it (more of a large object coming into view does),
has moved: its cloud is replaced by the new points and an ``EVENT_MOVED`` is emitted.

Example:
    >>> import numpy as np
    >>> from robomem.preprocess.detector import Detection2D
    >>> from robomem.preprocess.fusion import ObjectFusion
    >>> fusion = ObjectFusion()
    >>> mask = np.ones((2, 2), bool)
    >>> pts = np.array([[1.0, 0.0, 1.0], [1.1, 0.1, 1.1]], np.float32)
    >>> dets, events = fusion.update([(Detection2D(mask, "Mug", None, 5), pts)], step=0,
    ...                              camera_position=np.zeros(3))
    >>> dets[0].key, dets[0].pixels, [e.kind for e in events]
    ('Mug#1', 4, ['appeared'])
    >>> dets, events = fusion.update([(Detection2D(mask, "Mug", None, 5), pts + 2.0)], step=1,
    ...                              camera_position=np.zeros(3))
    >>> dets[0].key, [e.kind for e in events]  # too far to be the same mug: a second one
    ('Mug#2', ['appeared'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from robomem.geometry import AABB
from robomem.percept import EVENT_APPEARED, EVENT_MOVED, Detection, ObjectEvent
from robomem.preprocess.detector import Detection2D
from robomem.preprocess.pointcloud import Points, bounds, centroid, voxel_downsample


@dataclass
class Track:
    """What fusion knows about one object.

    Attributes:
        key: identity.
        label: object type.
        points: (K, 3) fused world points, K <= the fusion's ``max_points``.
        box: box around ``points``.
        first_seen: step it was first seen.
        last_seen: step it was last seen.
        seen_count: frames it was seen in.
    """

    key: str
    label: str
    points: Points
    box: AABB
    first_seen: int
    last_seen: int
    seen_count: int = 1


@dataclass(frozen=True)
class FrameView:
    """The frame the detections come from, to check whether an object's old place is empty.

    Attributes:
        depth: (H, W) z-depth (0 = no hit).
        intrinsics: (3, 3) pinhole matrix.
        camera_pose: (4, 4) camera-to-world (OpenCV axes).
    """

    depth: NDArray[np.float32]
    intrinsics: NDArray[np.float64]
    camera_pose: NDArray[np.float64]


def _cap(points: Points, voxel: float, max_points: int) -> Points:
    """Voxel-downsample to at most ``max_points``, coarsening the voxel as needed.

    The points reaching the extremes along each axis are always kept, so capping never
    shrinks the box.
    """
    limit = max(max_points - 6, 1)
    v = voxel if voxel > 0 else 0.01
    out = voxel_downsample(points, v)
    while len(out) > limit:
        v *= max(1.2, float(np.sqrt(len(out) / limit)))
        out = voxel_downsample(out, v)
    if len(out) < len(points):
        ext = np.concatenate([points.argmin(axis=0), points.argmax(axis=0)])
        out = np.concatenate([out, points[ext]])
    return out


def _cut(mask: NDArray[np.bool_]) -> bool:
    """Whether a mask touches the image border (the object may extend out of view)."""
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def _box(points: Points) -> AABB:
    """The box around (N >= 1, 3) points (as ``AABB.from_points``, but fast for (N, 3))."""
    return AABB.from_points(points)


def _overlap(new: AABB, old: AABB, margin: float) -> tuple[float, float]:
    """IoU of the boxes grown by ``margin``, and the share of the smaller inside the other.

    The share is high for a part of an object seen before, or after, more of it.
    """
    a = AABB(new.lo - margin, new.hi + margin)
    b = AABB(old.lo - margin, old.hi + margin)
    inter = float(np.clip(np.minimum(a.hi, b.hi) - np.maximum(a.lo, b.lo), 0, None).prod())
    va, vb = float(a.size.prod()), float(b.size.prod())
    return inter / max(va + vb - inter, 1e-12), inter / max(min(va, vb), 1e-12)


class ObjectFusion:
    """Keeps one :class:`Track` per object across frames.

    Args:
        voxel: voxel size of the fused clouds (metres).
        max_points: most points kept per track.
        match_iou: key-less association: 3D IoU of the two boxes, each grown by
            ``match_margin``, above which a detection continues a track...
        match_margin: ...(metres)...
        match_inside: ...or share of the smaller (grown) box inside the other (a part of a
            large object, seen before or after more of it)...
        match_distance: ...or centroid distance below which it does.
        move_distance: a track has moved when its newly seen points' centroid lies farther
            than this outside its box...
        touch_margin: ...and their box does not come within this of the old box.
    """

    def __init__(self, voxel: float = 0.02, max_points: int = 2000, match_iou: float = 0.05,
                 match_margin: float = 0.05, match_inside: float = 0.5,
                 match_distance: float = 0.3, move_distance: float = 0.25,
                 touch_margin: float = 0.1) -> None:
        self.voxel, self.max_points = voxel, max_points
        self.match_iou, self.match_margin = match_iou, match_margin
        self.match_inside = match_inside
        self.match_distance, self.move_distance = match_distance, move_distance
        self.touch_margin = touch_margin
        self._tracks: dict[str, Track] = {}
        self._counters: dict[str, int] = {}

    @property
    def tracks(self) -> Mapping[str, Track]:
        """Every track by key (read-only view)."""
        return self._tracks

    def forget(self, key: str) -> None:
        """Drop a track (no error if unknown)."""
        self._tracks.pop(key, None)

    def reset(self) -> None:
        """Forget everything, key counters included."""
        self._tracks.clear()
        self._counters.clear()

    def _new_key(self, label: str) -> str:
        n = self._counters.get(label, 0) + 1
        while f"{label}#{n}" in self._tracks:
            n += 1
        self._counters[label] = n
        return f"{label}#{n}"

    def _associate(self, keyless: list[tuple[int, AABB, NDArray[np.float64], bool]],
                   labels: list[str], taken: set[str]) -> dict[int, str]:
        """Greedy one-to-one matching of key-less detections to free tracks of their label."""
        pairs: list[tuple[float, float, int, str]] = []
        for i, box, cen, cut in keyless:
            for key, tr in self._tracks.items():
                if key in taken or tr.label != labels[i]:
                    continue
                iou, inside = _overlap(box, tr.box, self.match_margin)
                dist = float(np.linalg.norm(cen - centroid(tr.points)))
                # A detection cut off by the image border shows part of an object: if it
                # touches a track's box it is likely more of that object (weakest evidence).
                touch = cut and _overlap(box, tr.box, self.touch_margin / 2)[0] > 0
                if iou > self.match_iou or inside > self.match_inside \
                        or dist < self.match_distance or touch:
                    pairs.append((-max(iou, inside), dist, i, key))
        pairs.sort()
        out: dict[int, str] = {}
        for _, _, i, key in pairs:
            if i not in out and key not in taken:
                out[i] = key
                taken.add(key)
        return out

    def update(self, observed: Sequence[tuple[Detection2D, NDArray[Any]]], step: int,
               camera_position: NDArray[Any] | Sequence[float],
               min_distances: Sequence[float] | None = None, view: FrameView | None = None,
               ) -> tuple[list[Detection], list[ObjectEvent]]:
        """Fuse one frame's detections.

        Args:
            observed: per detection, its (N, 3) world points this frame (cleaned).
            step: the frame's step index.
            camera_position: camera centre in the world, for ``min_distance``.
            min_distances: optional per-detection camera-to-nearest-pixel distances measured
                on the full masks (before any subsampling); otherwise they come from the
                points.
            view: optional depth and camera of the frame. With it, a track whose new
                points look displaced is only declared moved when the frame shows its old
                place empty, or shows none of it while the object is wholly in the image;
                when the frame cannot tell (the old place hidden, the object cut off by the
                image border, as a large object often is) nothing is committed and the
                detection reports the union of the old box and the new points.

        Returns:
            The fused detections seen in this frame (one per track) and the events
            (``appeared``, ``moved``) this frame caused.
        """
        cam = np.asarray(camera_position, np.float64).reshape(3)
        items: list[tuple[Detection2D, Points, float]] = []
        for j, (det, pts) in enumerate(observed):
            p = np.asarray(pts, np.float32).reshape(-1, 3)
            if len(p) == 0:
                continue
            if min_distances is not None:
                dmin = float(min_distances[j])
            else:
                sq = sum((p[:, c] - np.float32(cam[c])) ** 2 for c in range(3))
                dmin = float(np.sqrt(sq.min()))
            items.append((det, p, dmin))
        taken = {d.key for d, _, _ in items if d.key is not None}
        keyless = [(i, _box(p), centroid(p), _cut(d.mask))
                   for i, (d, p, _) in enumerate(items) if d.key is None]
        matched = self._associate(keyless, [d.label for d, _, _ in items], taken)
        events: list[ObjectEvent] = []
        seen: dict[str, Detection] = {}
        for i, (det, pts, dmin) in enumerate(items):
            key = det.key if det.key is not None else matched.get(i) or self._new_key(det.label)
            prev = seen.get(key)
            tr, box = self._fuse(key, det, pts, step, events, prev is not None, view)
            if prev is not None:  # a second instance with the same key: one detection
                prev.box, prev.points = prev.box.union(box), tr.points
                prev.pixels += det.pixels
                prev.min_distance = min(prev.min_distance, dmin)
                continue
            seen[key] = Detection(key=key, label=tr.label, box=box, visible=True,
                                  pixels=det.pixels, min_distance=dmin,
                                  instance=det.instance, points=tr.points)
        return list(seen.values()), events

    def _fuse(self, key: str, det: Detection2D, pts: Points, step: int,
              events: list[ObjectEvent], again: bool, view: FrameView | None,
              ) -> tuple[Track, AABB]:
        """Create or update one track with this frame's points; append events.

        Returns the track and the box to report for it this frame.
        """
        tr = self._tracks.get(key)
        if tr is None:
            p = _cap(pts, self.voxel, self.max_points)
            tr = Track(key, det.label, p, _box(p), step, step)
            self._tracks[key] = tr
            events.append(ObjectEvent(EVENT_APPEARED, key, det.label, step))
            return tr, tr.box
        if not again:
            tr.last_seen = step
            tr.seen_count += 1
        center = centroid(pts)
        verdict = "same"
        if not again and tr.box.distance_to(center) > self.move_distance \
                and not self._touches(tr.box, pts):
            verdict = "moved" if view is None else self._judge(tr, det, view)
        if verdict == "unsure":  # commit nothing until a frame can tell
            return tr, tr.box.union(_box(pts))
        if verdict == "moved":
            old = tr.box.center
            tr.points = _cap(pts, self.voxel, self.max_points)
            events.append(ObjectEvent(
                EVENT_MOVED, key, tr.label, step,
                f"{float(np.linalg.norm(center - old)):.2f} m from "
                f"({old[0]:.2f}, {old[1]:.2f}, {old[2]:.2f})"))
        elif self._adds_extent(tr, pts) or len(tr.points) < self.max_points // 2:
            tr.points = _cap(np.concatenate([tr.points, pts]), self.voxel, self.max_points)
        tr.box = _box(tr.points)
        return tr, tr.box

    def _judge(self, tr: Track, det: Detection2D, view: FrameView) -> str:
        """``"moved"``, ``"same"`` or ``"unsure"`` for a track whose new points look displaced.

        The track's old points are projected into the frame. One whose pixel shows this
        object (in its mask, not behind the point) says it is still there; one whose pixel
        shows nothing there (depth beyond the point, or something else at its depth) says
        the place is empty; one behind something else says nothing.
        """
        h, w = view.depth.shape
        inv = np.linalg.inv(np.asarray(view.camera_pose, np.float64))
        p = tr.points.astype(np.float64) @ inv[:3, :3].T + inv[:3, 3]
        z = p[:, 2]
        front = z > 1e-3
        k = view.intrinsics
        u = np.round(k[0][0] * p[front, 0] / z[front] + k[0][2]).astype(np.int64)
        v = np.round(k[1][1] * p[front, 1] / z[front] + k[1][2]).astype(np.int64)
        inside = (u >= 0) & (u < w) & (v >= 0) & (v < h)
        u, v, zf = u[inside], v[inside], z[front][inside]
        d = np.asarray(view.depth)[v, u]
        tol = np.maximum(0.05, 0.03 * zf)
        in_mask = det.mask[v, u]
        here = int((in_mask & (d <= zf + tol)).sum())
        empty = int(((d == 0) | (d > zf + tol) | (~in_mask & (np.abs(d - zf) <= tol))).sum())
        if here >= max(3, 0.1 * len(zf)):
            return "same"
        if empty >= max(3, 0.5 * len(zf)):
            return "moved"
        return "moved" if len(zf) == 0 and not _cut(det.mask) else "unsure"

    def _touches(self, box: AABB, pts: Points) -> bool:
        """Whether the new points' box comes within ``touch_margin`` of ``box``.

        A large object seen in two views that do not overlap (a bed at the edge of one
        frame, the rest of it after a turn) shows adjacent parts: that is more of the same
        object, not a move.
        """
        new = _box(pts)
        m = self.touch_margin
        return bool(np.all(new.lo - m <= box.hi) and np.all(box.lo <= new.hi + m))

    def _adds_extent(self, tr: Track, pts: Points) -> bool:
        """Whether any new point lies outside the track's box (beyond half a voxel)."""
        lo, hi = bounds(pts)
        tol = self.voxel / 2
        return bool((lo < tr.box.lo - tol).any() or (hi > tr.box.hi + tol).any())
