"""FACEGOOD's 116-shape rig: name lists, the authors' ARKit table, and name-based channel helpers.

All mapping here is by blendshape *name*, never by index (specs/audio2face.md §2, §9.7): the label
files use the Maya order (``shirley_1015_bs_name.npy``) while Unreal uses another (``bsname.txt``).
Values are per-frame blendshape weights, nominally in [0, 1]; arrays are (frames, channels).

The name lists and the ARKit table are literals taken once from the FACEGOOD sample
(``shirley_1015_bs_name.npy``, ``bsname.txt``, ``Voice2Face_blendshape2ARkit.xlsx``); nothing is
read at run time. No TensorFlow import.
"""
from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np

from zoo.core.animation import Animation
from zoo.datasets import ARKIT_52, canonical_name, map_channels

__all__ = [
    "FACEGOOD_TRAINED_37", "FACEGOOD_116_UE", "FACEGOOD_TO_ARKIT", "XLSX_SPELLING_FIXES",
    "to_arkit", "arkit_animation", "expand_to_rig", "varying_channels", "output_channels",
]

# The 37 shapes the original trains: var_bs_index (10, 13, 14, 15, 18, 33, 38, 40-45, 51-54, 57-60,
# 63, 64, 66-69, 74-82, 84) applied to the label (1015/Maya) order, in that order.
FACEGOOD_TRAINED_37: tuple[str, ...] = (
    "tongue_u_u", "mouth_stretch_u", "tongue_u_d", "tooth_d_d", "tooth_d_u", "jaw_sideways_l",
    "mouth_chinRaise_u", "mouth_dimple_l", "mouth_dimple_r", "mouth_funnel_dl", "mouth_funnel_dr",
    "mouth_funnel_ul", "mouth_funnel_ur", "mouth_lipCornerPullOpen_l", "mouth_lipCornerPullOpen_r",
    "mouth_lipCornerPull_l", "mouth_lipCornerPull_r", "mouth_lipStretch_l", "mouth_lipStretch_r",
    "mouth_lowerLipDepress_l", "mouth_lowerLipDepress_r", "mouth_oh_c", "mouth_oo_c", "mouth_press_l",
    "mouth_press_r", "mouth_pucker_l", "mouth_pucker_r", "mouth_stretch_c", "mouth_suck_dl", "mouth_suck_dr",
    "mouth_suck_ul", "mouth_suck_ur", "mouth_upperLipRaise_l", "mouth_upperLipRaise_r", "nose_wrinkle_l",
    "nose_wrinkle_r", "tooth_l",
)

# All 116 shapes in the Unreal order (bsname.txt = shirley_1119_bs_name.npy): the slot order of
# the UDP frames the FaceGoodLiveLink receiver expects.
FACEGOOD_116_UE: tuple[str, ...] = (
    "brow_lower_l", "tongue_Scale__X", "tongue_Scale_Y", "tongue_Scale__Y", "tongue_Scale_Z", "tongue_Scale__Z",
    "nose_out_l", "nose_out_r", "tongue_u", "tongue_u_u", "brow_raise_d", "cheek_suck_r", "mouth_stretch_u",
    "tongue_u_d", "tooth_d_d", "tongue_d", "tooth_r", "tooth_d_u", "cheek_UP", "eye_blink1_l", "eye_blink1_r",
    "eye_blink2_l", "eye_blink2_r", "eye_lidTight_l", "eye_lidTight_r", "eye_shutTight_l", "eye_shutTight_r",
    "brow_lower_r", "eye_upperLidRaise_l", "eye_upperLidRaise_r", "eye_downLidRaise_l", "eye_downLidRaise_r",
    "jaw_sideways_l", "jaw_sideways_r", "jaw_thrust_c", "mouth_chew_c", "mouth_chinRaise_d",
    "mouth_chinRaise_u", "brow_raise_c", "mouth_dimple_l", "mouth_dimple_r", "mouth_funnel_dl",
    "mouth_funnel_dr", "mouth_funnel_ul", "mouth_funnel_ur", "mouth_lipCornerDepressFix_l",
    "mouth_lipCornerDepressFix_r", "mouth_lipCornerDepress_l", "mouth_lipCornerDepress_r", "brow_raise_l",
    "mouth_lipCornerPullOpen_l", "mouth_lipCornerPullOpen_r", "mouth_lipCornerPull_l", "mouth_lipCornerPull_r",
    "mouth_lipStretchOpen_l", "mouth_lipStretchOpen_r", "mouth_lipStretch_l", "mouth_lipStretch_r",
    "mouth_lowerLipDepress_l", "mouth_lowerLipDepress_r", "brow_raise_r", "mouth_lowerLipProtrude_c",
    "mouth_oh_c", "mouth_oo_c", "mouth_pressFix_c", "mouth_press_l", "mouth_press_r", "mouth_pucker_l",
    "mouth_pucker_r", "mouth_screamFix_c", "mouth_sideways_l", "cheek_puff_l", "mouth_sideways_r",
    "mouth_stretch_c", "mouth_suck_dl", "mouth_suck_dr", "mouth_suck_ul", "mouth_suck_ur",
    "mouth_upperLipRaise_l", "mouth_upperLipRaise_r", "nose_wrinkle_l", "nose_wrinkle_r", "cheek_puff_r",
    "tooth_l", "eye_lookDown1_l", "eye_lookDown2_l", "eye_lookLeft_l", "eye_lookRight_l", "eye_lookUp_l",
    "eye_lookDown1_r", "eye_lookDown2_r", "eye_lookLeft_r", "eye_lookRight_r", "cheek_raise_l", "eye_lookUp_r",
    "tongue_Rot_1X", "tongue_Rot__1X", "tongue_Rot_2X", "tongue_Rot__2X", "tongue_Rot_3X", "tongue_Rot__3X",
    "tongue_Rot_1Y", "tongue_Rot__1Y", "tongue_Rot_2Y", "cheek_raise_r", "tongue_Rot__2Y", "tongue_Rot_3Y",
    "tongue_Rot__3Y", "tongue_Rot_1Z", "tongue_Rot__1Z", "tongue_Rot_2Z", "tongue_Rot__2Z", "tongue_Rot_3Z",
    "tongue_Rot__3Z", "tongue_Scale_X", "cheek_suck_l",
)

# Source names the xlsx spells differently from the rig, and the rig name used here instead. The
# xlsx also spells the ARKit target "browDownleft"; FACEGOOD_TO_ARKIT uses ARKit's "browDownLeft".
XLSX_SPELLING_FIXES: dict[str, str] = {
    "eye_upLidRaise_l": "eye_upperLidRaise_l",
    "eye_upLidRaise_r": "eye_upperLidRaise_r",
    "cheek_up": "cheek_UP",
}

# The authors' table (Voice2Face_blendshape2ARkit.xlsx), all 52 rows in ARKIT_52 order:
# ARKit name -> (FACEGOOD source names, valid). Several sources mean "max(a, b, ...)". valid=False
# ("Invalid" in the xlsx) marks eye/brow/cheek/nose/tongue shapes the model was never trained on.
FACEGOOD_TO_ARKIT: dict[str, tuple[tuple[str, ...], bool]] = {
    "eyeBlinkLeft": (("eye_blink2_l",), False),
    "eyeLookDownLeft": (("eye_lookDown2_l",), False),
    "eyeLookInLeft": (("eye_lookRight_l",), False),
    "eyeLookOutLeft": (("eye_lookLeft_l",), False),
    "eyeLookUpLeft": (("eye_lookUp_l",), False),
    "eyeSquintLeft": (("eye_shutTight_l",), False),
    "eyeWideLeft": (("eye_downLidRaise_l", "eye_upperLidRaise_l"), False),
    "eyeBlinkRight": (("eye_blink2_r",), False),
    "eyeLookDownRight": (("eye_lookDown2_r",), False),
    "eyeLookInRight": (("eye_lookRight_r",), False),
    "eyeLookOutRight": (("eye_lookLeft_r",), False),
    "eyeLookUpRight": (("eye_lookUp_r",), False),
    "eyeSquintRight": (("eye_shutTight_r",), False),
    "eyeWideRight": (("eye_downLidRaise_r", "eye_upperLidRaise_r"), False),
    "jawForward": (("jaw_thrust_c",), True),
    "jawLeft": (("jaw_sideways_l",), True),
    "jawRight": (("jaw_sideways_r",), True),
    "jawOpen": (("mouth_stretch_c",), True),
    "mouthClose": (("mouth_chew_c",), True),
    "mouthFunnel": (("mouth_funnel_dl", "mouth_funnel_dr", "mouth_funnel_ul", "mouth_funnel_ur"), True),
    "mouthPucker": (("mouth_pucker_l", "mouth_pucker_r"), True),
    "mouthLeft": (("mouth_sideways_l",), True),
    "mouthRight": (("mouth_sideways_r",), True),
    "mouthSmileLeft": (("mouth_lipCornerPull_l",), True),
    "mouthSmileRight": (("mouth_lipCornerPull_r",), True),
    "mouthFrownLeft": (("mouth_lipCornerDepress_l", "mouth_lipCornerDepressFix_l"), True),
    "mouthFrownRight": (("mouth_lipCornerDepress_r", "mouth_lipCornerDepressFix_r"), True),
    "mouthDimpleLeft": (("mouth_dimple_l",), True),
    "mouthDimpleRight": (("mouth_dimple_r",), True),
    "mouthStretchLeft": (("mouth_lipStretch_l",), True),
    "mouthStretchRight": (("mouth_lipStretch_r",), True),
    "mouthRollLower": (("mouth_suck_dl", "mouth_suck_dr"), True),
    "mouthRollUpper": (("mouth_suck_ul", "mouth_suck_ur"), True),
    "mouthShrugLower": (("mouth_chinRaise_d",), True),
    "mouthShrugUpper": (("mouth_chinRaise_u",), True),
    "mouthPressLeft": (("mouth_press_l",), True),
    "mouthPressRight": (("mouth_press_r",), True),
    "mouthLowerDownLeft": (("mouth_lowerLipDepress_l",), True),
    "mouthLowerDownRight": (("mouth_lowerLipDepress_r",), True),
    "mouthUpperUpLeft": (("mouth_upperLipRaise_l",), True),
    "mouthUpperUpRight": (("mouth_upperLipRaise_r",), True),
    "browDownLeft": (("brow_lower_l",), False),  # xlsx: "browDownleft"
    "browDownRight": (("brow_lower_r",), False),
    "browInnerUp": (("brow_raise_c",), False),
    "browOuterUpLeft": (("brow_raise_l",), False),
    "browOuterUpRight": (("brow_raise_r",), False),
    "cheekPuff": (("cheek_puff_l", "cheek_puff_r"), False),
    "cheekSquintLeft": (("cheek_UP",), False),
    "cheekSquintRight": (("cheek_UP",), False),
    "noseSneerLeft": (("nose_out_l",), False),
    "noseSneerRight": (("nose_out_r",), False),
    "tongueOut": ((), False),
}

_FACEGOOD_SOURCES = frozenset(s for sources, _ in FACEGOOD_TO_ARKIT.values() for s in sources)


def _as_channels(values, names: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """``values`` as a float array (…, K) and ``names`` as K unique strings; ValueError otherwise."""
    values = np.asarray(values)
    names = tuple(str(n) for n in names)
    if values.ndim < 1:
        raise ValueError("values must have a channel axis (…, K), got a scalar")
    if not (np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.integer)):
        raise ValueError(f"values must be numeric, got dtype {values.dtype}")
    if values.shape[-1] != len(names):
        raise ValueError(f"values have {values.shape[-1]} channels but {len(names)} names were given")
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"duplicate channel names: {dup[:5]}")
    return values, names


def _arkit_names(names: Sequence[str]) -> dict[str, str]:
    """name -> canonical ARKit name, for the names that are ARKit-52 spellings."""
    found = {}
    for n in names:
        with contextlib.suppress(KeyError):  # not an ARKit spelling
            found[n] = canonical_name(n)
    return found


def to_arkit(values, names: Sequence[str], *, valid_only: bool = True) -> np.ndarray:
    """Blendshape weights (T, K) named ``names`` -> (T, 52) float32 in ``zoo.datasets.ARKIT_52`` order.

    Names that are ARKit spellings (``jawOpen``, ``JawOpen``, ``jaw_open``; the synthetic corpus) are
    placed by name; ``valid_only`` does not apply to them. Otherwise the FACEGOOD table
    ``FACEGOOD_TO_ARKIT`` is applied: each ARKit channel is the max over its sources present in
    ``names`` and, with ``valid_only``, only the 27 rows the authors mark valid are filled. Channels
    with no source present are 0; names that feed no ARKit channel are ignored. Any leading shape
    (…, K) works. Raises ValueError when ARKit and FACEGOOD names are mixed or nothing maps.
    """
    values, names = _as_channels(values, names)
    values = values.astype(np.float32, copy=False)
    arkit = _arkit_names(names)
    facegood = [n for n in names if n in _FACEGOOD_SOURCES]
    if arkit and facegood:
        raise ValueError(
            f"names mix ARKit ({sorted(arkit)[:3]}) and FACEGOOD ({facegood[:3]}) blendshapes; "
            "pass one rig at a time"
        )
    if arkit:
        canon = list(arkit.values())
        if len(set(canon)) != len(canon):
            dup = sorted({c for c in canon if canon.count(c) > 1})
            raise ValueError(f"several names spell the same ARKit channel: {dup[:5]}")
        keep = [i for i, n in enumerate(names) if n in arkit]
        return map_channels(values[..., keep], [arkit[names[i]] for i in keep], ARKIT_52)
    present = set(names)
    mapping = {}
    for target, (sources, valid) in FACEGOOD_TO_ARKIT.items():
        if valid_only and not valid:
            continue
        have = [s for s in sources if s in present]
        if have:
            mapping[target] = have
    if not mapping:
        why = " among the rows marked valid (try valid_only=False)" if facegood and valid_only else ""
        raise ValueError(
            f"no channel maps to ARKit{why}: names {list(names[:5])}{'…' if len(names) > 5 else ''} are neither "
            "ARKit-52 names nor FACEGOOD sources in FACEGOOD_TO_ARKIT"
        )
    return map_channels(values, names, ARKIT_52, mapping=mapping, reduce="max")


def expand_to_rig(values, names: Sequence[str], rig_names: Sequence[str]) -> np.ndarray:
    """Place K named channels (…, K) into a full rig (…, len(rig_names)) by name; other slots are 0.

    Floating inputs keep their dtype, integer inputs become float32. Raises ValueError on names
    that are not in ``rig_names`` (or duplicated).
    """
    values, names = _as_channels(values, names)
    rig = tuple(str(n) for n in rig_names)
    slot = {n: i for i, n in enumerate(rig)}
    if len(slot) != len(rig):
        raise ValueError("rig_names holds duplicate names")
    unknown = [n for n in names if n not in slot]
    if unknown:
        raise ValueError(f"{len(unknown)} channel name(s) not in the rig: {unknown[:10]}")
    dtype = values.dtype if np.issubdtype(values.dtype, np.floating) else np.float32
    out = np.zeros(values.shape[:-1] + (len(rig),), dtype=dtype)
    out[..., [slot[n] for n in names]] = values
    return out


def varying_channels(values, names: Sequence[str], tol: float = 0.0) -> tuple[str, ...]:
    """Names of the channels of ``values`` (T, K) whose range max − min over frames exceeds ``tol``.

    This is the data-derived trained subset (spec §9.7) replacing the hard-coded 37 indices; names
    come back in the order of ``names``. Raises ValueError on empty or non-finite input.
    """
    values, names = _as_channels(values, names)
    if values.ndim != 2:
        raise ValueError(f"values must be (frames, channels), got shape {values.shape}")
    if values.shape[0] == 0:
        raise ValueError("values hold no frames")
    if not np.all(np.isfinite(values)):
        raise ValueError("values hold NaN or Inf")
    spread = values.max(axis=0) - values.min(axis=0)
    return tuple(n for n, s in zip(names, spread) if s > tol)


def arkit_animation(anim, valid_only: bool = True):
    """``anim`` (a ``zoo.core.Animation``) on the ARKit-52 names, by ``to_arkit``."""
    return Animation(to_arkit(anim.values, anim.names, valid_only=valid_only), ARKIT_52, anim.fps)


def output_channels(wanted: Sequence[str], clips, preset: str) -> tuple[str, ...]:
    """The channels a model predicts: ``wanted`` (a preset's, checked against the clips' names), or, when
    ``wanted`` is empty, every channel that varies in ``clips`` (``zoo.datasets.Clip``s of one rig)."""
    names = clips[0].channel_names
    if wanted:
        missing = [n for n in wanted if n not in names]
        if missing:
            raise ValueError(f"{clips[0].source}: the data has no channels {missing[:5]} (of {len(missing)}) that "
                             f"preset {preset!r} predicts; pass output_names=() (train --channels data) to use the "
                             "data's varying channels")
        return tuple(wanted)
    chosen = varying_channels(np.concatenate([c.targets for c in clips]), names)
    if not chosen:
        raise ValueError(f"{clips[0].source}: no target channel varies in the training clips")
    return tuple(chosen)
