"""The shared data layer (``import zoo.datasets``): Clips, audio IO, readers, windows, splits.

Importing this package does not import TensorFlow; the tf.data pipelines
(``FrameTable``, ``window_dataset``, ``pair_dataset``) load it on first use.
"""
from .arkit import ARKIT_52, ARKIT_INDEX, canonical_name, map_channels, select_channels
from .audio import load_audio, resample
from .cache import FeatureCache, atomic_write_bytes, config_hash
from .clip import EMOTIONS, INTENSITIES, TARGET_KINDS, Clip, expected_frames
from .errors import AudioError, ClipError, DataError, FrameCountError, LabelError, UnsafePickleError
from .facegood import read_facegood, read_facegood_clip, read_names
from .safe_pickle import RestrictedUnpickler, load_npy, load_pickle
from .splits import Split, split_by_clip, split_by_subject
from .windows import CENTRED_520MS, WindowSpec, frame_anchors, frame_windows

_TF_NAMES = ("FrameTable", "window_dataset", "pair_dataset")

__all__ = [
    "ARKIT_52", "ARKIT_INDEX", "canonical_name", "map_channels", "select_channels",
    "load_audio", "resample", "FeatureCache", "atomic_write_bytes", "config_hash",
    "EMOTIONS", "INTENSITIES", "TARGET_KINDS", "Clip", "expected_frames",
    "AudioError", "ClipError", "DataError", "FrameCountError", "LabelError", "UnsafePickleError",
    "read_facegood", "read_facegood_clip", "read_names",
    "RestrictedUnpickler", "load_npy", "load_pickle",
    "Split", "split_by_clip", "split_by_subject",
    "CENTRED_520MS", "WindowSpec", "frame_anchors", "frame_windows",
    *_TF_NAMES,
]


def __getattr__(name):
    if name in _TF_NAMES:
        from . import tfdata

        return getattr(tfdata, name)
    raise AttributeError(f"module 'zoo.datasets' has no attribute {name!r}")
