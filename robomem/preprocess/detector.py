"""2D object detectors: what is in the image, as one mask per object instance.

A :class:`Detector` turns an :class:`~robomem.types.Observation` into
:class:`Detection2D` records. :class:`SegmentationDetector` reads the simulator's instance
segmentation (labels and object ids included); :class:`KeylessDetector` drops the ids, as a
real detector would give only labels and masks, so that fusion must tell objects apart by
geometry. Detectors are registered in :data:`DETECTORS`; :func:`make_detector` builds one
by name.

Example:
    >>> import numpy as np
    >>> from robomem.types import AgentPose, Observation
    >>> from robomem.preprocess.detector import make_detector
    >>> seg = np.zeros((4, 4), np.int32); seg[:2] = 2; seg[2:, :3] = 7  # a wall, then a mug
    >>> obs = Observation.single(
    ...     rgb=np.zeros((4, 4, 3), np.uint8), depth=np.ones((4, 4), np.float32),
    ...     intrinsics=np.eye(3), camera_pose=np.eye(4), agent_pose=AgentPose(0, 0.9, 0, 0, 0),
    ...     segmentation=seg, labels={7: "Mug"}, object_ids={7: "Mug|1"})
    >>> [(d.label, d.key, int(d.mask.sum())) for d in make_detector("segmentation").detect(obs)]
    [('Mug', 'Mug|1', 6)]
    >>> [d.key for d in make_detector("segmentation_nokeys").detect(obs)]
    [None]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from robomem.registry import Registry
from robomem.types import Observation


@dataclass
class Detection2D:
    """One object instance found in an image.

    Attributes:
        mask: (H, W) bool, the instance's pixels.
        label: object type (``"Mug"``).
        key: the object's identity when the detector knows it (the simulator's objectId),
            else ``None`` and fusion assigns one.
        instance: the instance id in this frame's segmentation (0 if there is none).
        indices: optional flat pixel indices ``v * W + u`` of the mask, ascending; a
            detector that has them at hand sets them so that nobody scans the mask again.
    """

    mask: NDArray[np.bool_]
    label: str
    key: str | None
    instance: int
    indices: NDArray[np.intp] | None = None

    def pixel_indices(self) -> NDArray[np.intp]:
        """Flat indices of the mask's pixels, ascending (from ``indices`` when set)."""
        if self.indices is not None:
            return self.indices
        return np.flatnonzero(self.mask)

    @property
    def pixels(self) -> int:
        """Number of mask pixels."""
        return len(self.indices) if self.indices is not None else int(self.mask.sum())


class Detector(ABC):
    """Finds object instances in an observation."""

    @abstractmethod
    def detect(self, obs: Observation) -> list[Detection2D]:
        """Return one :class:`Detection2D` per object instance seen in ``obs``."""


DETECTORS: Registry[type[Detector]] = Registry("detector", group="robomem.detectors")
# The built-in detectors (other packages add theirs by entry point).
DETECTORS.add_lazy("segmentation", "robomem.preprocess.detector:SegmentationDetector")
DETECTORS.add_lazy("segmentation_nokeys", "robomem.preprocess.detector:KeylessDetector")


def _label_of(instance: int, obs: Observation) -> str | None:
    return obs.labels.get(instance) or None


class SegmentationDetector(Detector):
    """Instances from ``obs.segmentation``, typed by ``obs.labels``, keyed by ``obs.object_ids``.

    Instances without a label are skipped (embodiments leave the building's structure, floors
    and walls, unlabelled), and so are instances smaller than ``min_pixels``. Detections come
    largest first. One pass splits the image: the object pixels are sorted by instance id
    once, and each instance is a slice of that order.

    Args:
        min_pixels: smallest instance kept.
    """

    def __init__(self, min_pixels: int = 6) -> None:
        if min_pixels < 1:
            raise ValueError(f"min_pixels must be >= 1, got {min_pixels}")
        self.min_pixels = min_pixels
        self._lut_key: tuple[tuple[int, str], ...] = ()
        self._lut = np.zeros(1, bool)

    def _object_lut(self, obs: Observation, max_id: int) -> NDArray[np.bool_]:
        """Boolean table over instance ids: which ones are objects (cached per label map)."""
        key = tuple(sorted(obs.labels.items()))
        if key != self._lut_key or len(self._lut) <= max_id:
            lut = np.zeros(max(max_id, *obs.labels, *obs.object_ids, 0) + 1, bool)
            for i in range(1, len(lut)):
                label = _label_of(i, obs)
                lut[i] = label is not None
            self._lut, self._lut_key = lut, key
        return self._lut

    def detect(self, obs: Observation) -> list[Detection2D]:
        """Split the segmentation image into object instances."""
        seg = obs.segmentation
        if seg is None:
            return []
        flat = np.asarray(seg).reshape(-1)
        if flat.size == 0:
            return []
        max_id = int(flat.max())
        if max_id <= 0:
            return []
        lut = self._object_lut(obs, max_id)
        pix = np.flatnonzero(np.take(lut, flat, mode="clip"))  # ids < 0 clip to 0: not objects
        if len(pix) == 0:
            return []
        ids = flat[pix]
        counts = np.bincount(ids, minlength=max_id + 1)
        order = pix[np.argsort(ids, kind="stable")]  # pixels grouped by id, ascending within
        ends = np.cumsum(counts)
        found = [int(i) for i in np.flatnonzero(counts >= self.min_pixels)]
        found.sort(key=lambda i: (-int(counts[i]), i))
        out = []
        for i in found:
            idx = order[ends[i] - counts[i]:ends[i]]
            mask = np.zeros(flat.size, bool)
            mask[idx] = True
            label = _label_of(i, obs)
            assert label is not None  # the lookup table only admits labelled ids
            out.append(Detection2D(mask.reshape(seg.shape), label, obs.object_ids.get(i), i,
                                   idx))
        return out


class KeylessDetector(Detector):
    """Like :class:`SegmentationDetector`, but without identities (labels and masks only).

    This is what a real detector gives; fusion then tells objects apart by geometry.

    Args:
        min_pixels: smallest instance kept.
    """

    def __init__(self, min_pixels: int = 6) -> None:
        self.inner = SegmentationDetector(min_pixels)

    def detect(self, obs: Observation) -> list[Detection2D]:
        """The segmentation detections with ``key`` set to ``None``."""
        return [replace(d, key=None) for d in self.inner.detect(obs)]


def make_detector(name: str, **kwargs: Any) -> Detector:
    """Build the detector registered as ``name``.

    Raises:
        KeyError: for an unknown name; the message lists the known ones.
    """
    return DETECTORS.get(name)(**kwargs)
