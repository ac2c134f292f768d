"""The shared data layer (``import zoo.datasets``): Clips, audio IO, readers, windows, splits.

Readers of the real layouts: FACEGOOD (``read_facegood``), EveNet takes (``read_evenet``), VOCASET
(``read_vocaset``), RAVDESS (``read_ravdess``), the RAVDESS-derived meshes of the VOCA emotion repo's EMOCA step
(``read_emoca``) and the gesture dataset (``read_gesture``: speech/audio{id}.wav + motion/gesture{id}.bvh, with
BVH reading, writing, forward and inverse kinematics in ``zoo.datasets.bvh``); the synthetic corpus writes all six
(``zoo.datasets.synthetic``).

Importing this package does not import TensorFlow; the tf.data pipelines
(``FrameTable``, ``window_dataset``, ``pair_dataset``, ``run_dataset``) load it on first use.
"""
from .arkit import ARKIT_52, ARKIT_INDEX, canonical_name, map_channels, select_channels
from .audio import load_audio, resample
from .bvh import Motion, Skeleton, forward_kinematics, gesture_skeleton, inverse_kinematics, read_bvh, to_fps, write_bvh
from .cache import FeatureCache, atomic_write_bytes, config_hash, npy_bytes
from .clip import EMOTIONS, INTENSITIES, TARGET_KINDS, Clip, expected_frames
from .emoca import read_emoca, read_emoca_templates, write_emoca
from .errors import AudioError, ClipError, DataError, FrameCountError, LabelError, UnsafePickleError
from .evenet import read_evenet, write_evenet_take
from .facegood import read_facegood, read_facegood_clip, read_names
from .gesture import read_gesture, read_gesture_clip, write_gesture_pair
from .ravdess import parse_ravdess_name, read_ravdess
from .safe_pickle import RestrictedUnpickler, load_flame_pickle, load_npy, load_pickle
from .splits import Split, split_by_clip, split_by_name, split_by_subject
from .vocaset import read_vocaset, read_vocaset_templates, write_vocaset
from .windows import WindowSpec, frame_anchors, frame_windows

_TF_NAMES = ("FrameTable", "window_dataset", "pair_dataset", "run_dataset")

__all__ = [
    "ARKIT_52", "ARKIT_INDEX", "canonical_name", "map_channels", "select_channels",
    "load_audio", "resample", "Motion", "Skeleton", "forward_kinematics", "gesture_skeleton", "inverse_kinematics",
    "read_bvh", "to_fps", "write_bvh", "read_gesture", "read_gesture_clip", "write_gesture_pair",
    "FeatureCache", "atomic_write_bytes", "config_hash", "npy_bytes",
    "EMOTIONS", "INTENSITIES", "TARGET_KINDS", "Clip", "expected_frames",
    "AudioError", "ClipError", "DataError", "FrameCountError", "LabelError", "UnsafePickleError",
    "read_facegood", "read_facegood_clip", "read_names", "read_evenet", "write_evenet_take",
    "read_vocaset", "read_vocaset_templates", "write_vocaset", "read_ravdess", "parse_ravdess_name",
    "read_emoca", "read_emoca_templates", "write_emoca",
    "RestrictedUnpickler", "load_flame_pickle", "load_npy", "load_pickle",
    "Split", "split_by_clip", "split_by_name", "split_by_subject",
    "WindowSpec", "frame_anchors", "frame_windows",
    *_TF_NAMES,
]


def __getattr__(name):
    if name in _TF_NAMES:
        from . import tfdata

        return getattr(tfdata, name)
    raise AttributeError(f"module 'zoo.datasets' has no attribute {name!r}")
