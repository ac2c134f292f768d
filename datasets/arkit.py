"""The ARKit-52 blendshape names in index order, and mapping between rigs by name.

Order (specs/anchors.md §D3): Unreal's ``ARFaceBlendShape`` / NVIDIA A2F order,
``eyeBlinkLeft`` = 0, ``jawOpen`` = 17, ``browDownLeft`` = 41, ``tongueOut`` = 51.
Names are camelCase; ``canonical_name`` folds PascalCase/snake_case/case variants onto them.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

ARKIT_52: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
    "eyeSquintLeft", "eyeWideLeft",
    "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "eyeSquintRight", "eyeWideRight",
    "jawForward", "jawLeft", "jawRight", "jawOpen",
    "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight",
    "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthUpperUpLeft", "mouthUpperUpRight",
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
    "noseSneerLeft", "noseSneerRight",
    "tongueOut",
)
ARKIT_INDEX: dict[str, int] = {name: i for i, name in enumerate(ARKIT_52)}
_FOLDED = {name.lower(): name for name in ARKIT_52}


def canonical_name(name: str) -> str:
    """The ARKit camelCase spelling of ``name`` (``JawOpen``, ``jaw_open``, ``JAWOPEN`` → ``jawOpen``).

    Raises KeyError for a name that is not one of the 52.
    """
    key = str(name).replace("_", "").replace("-", "").lower()
    if key not in _FOLDED:
        raise KeyError(f"{name!r} is not an ARKit-52 blendshape name")
    return _FOLDED[key]


def name_index(names: Sequence[str]) -> dict[str, int]:
    """Column index of each name; raises ValueError on duplicates."""
    index = {str(n): i for i, n in enumerate(names)}
    if len(index) != len(names):
        dup = sorted({str(n) for n in names if list(names).count(n) > 1})
        raise ValueError(f"duplicate channel names: {dup[:5]}")
    return index


def select_channels(values: np.ndarray, names: Sequence[str], wanted: Sequence[str]) -> np.ndarray:
    """Columns of ``values`` (…, len(names)) picked by name, in the order of ``wanted``.

    Raises KeyError naming every wanted channel that ``names`` lacks.
    """
    index = name_index(names)
    missing = [w for w in wanted if w not in index]
    if missing:
        raise KeyError(f"channels not present: {missing[:10]}")
    return np.asarray(values)[..., [index[w] for w in wanted]]


def map_channels(
    values: np.ndarray,
    from_names: Sequence[str],
    to_names: Sequence[str],
    mapping: Mapping[str, str | Sequence[str]] | None = None,
    fill: float = 0.0,
    reduce: str = "max",
) -> np.ndarray:
    """Re-express per-channel values (…, len(from_names)) on another rig's names.

    Each target name takes the source channel(s) that ``mapping[target]`` names (default:
    the source channel of the same name). Several sources are combined with ``reduce``
    ("max" or "sum"), as FACEGOOD's ARKit table does (mouthFunnel = max of four funnels).
    Targets with no source take ``fill``. Mapping is by name only, never by position.
    """
    values = np.asarray(values)
    index = name_index(from_names)
    if values.shape[-1] != len(index):
        raise ValueError(f"values have {values.shape[-1]} channels but {len(index)} names were given")
    if reduce not in ("max", "sum"):
        raise ValueError(f"reduce must be 'max' or 'sum', got {reduce!r}")
    out = np.full(values.shape[:-1] + (len(to_names),), fill, dtype=values.dtype)
    for j, target in enumerate(to_names):
        sources = mapping.get(target, ()) if mapping is not None else target
        sources = [sources] if isinstance(sources, str) else list(sources)
        unknown = [s for s in sources if s not in index]
        if mapping is not None and unknown:
            raise KeyError(f"mapping for {target!r} names unknown source channels {unknown}")
        cols = [index[s] for s in sources if s in index]
        if not cols:
            continue
        picked = values[..., cols]
        out[..., j] = picked.max(axis=-1) if reduce == "max" else picked.sum(axis=-1)
    return out
