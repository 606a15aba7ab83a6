"""The preprocessor (the agent's thalamus): observations in, fused 3D percepts out.

Example:
    >>> from robomem.preprocess import DETECTORS, Preprocessor, PreprocessorConfig
    >>> DETECTORS.names()
    ['segmentation', 'segmentation_nokeys']
    >>> Preprocessor(PreprocessorConfig(detector="segmentation_nokeys")).held is None
    True
"""

from __future__ import annotations

from robomem.preprocess.detector import (
    DETECTORS,
    Detection2D,
    Detector,
    KeylessDetector,
    SegmentationDetector,
    make_detector,
)
from robomem.preprocess.fusion import FrameView, ObjectFusion, Track
from robomem.preprocess.pointcloud import backproject, clean_points, voxel_downsample
from robomem.preprocess.preprocessor import Preprocessor, PreprocessorConfig

__all__ = [
    "DETECTORS",
    "Detection2D",
    "Detector",
    "FrameView",
    "KeylessDetector",
    "ObjectFusion",
    "Preprocessor",
    "PreprocessorConfig",
    "SegmentationDetector",
    "Track",
    "backproject",
    "clean_points",
    "make_detector",
    "voxel_downsample",
]
