"""Train/validation/test splits by clip or by subject, never by frame.

Frames of one clip are strongly correlated, so a frame-level split leaks: FACEGOOD's own
validation set (the last 1000 frames, also trained on) is the cautionary example.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

from .clip import Clip


class Split(NamedTuple):
    train: list[Clip]
    val: list[Clip]
    test: list[Clip]


def split_by_clip(clips: Sequence[Clip], *, val: float = 0.1, test: float = 0.1, seed: int = 0) -> Split:
    """Shuffle whole clips with ``seed`` and deal ``round(n·val)`` / ``round(n·test)`` of them out.

    A non-zero fraction always gets at least one clip; the training set must keep at least one.
    """
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise ValueError(f"val and test fractions must be in [0, 1) with val + test < 1, got {val}, {test}")
    n = len(clips)
    n_val = max(int(round(n * val)), 1 if val > 0 else 0)
    n_test = max(int(round(n * test)), 1 if test > 0 else 0)
    if n - n_val - n_test < 1:
        raise ValueError(f"{n} clips cannot give {n_val} validation and {n_test} test clips and still train")
    order = np.random.default_rng(seed).permutation(n)
    pick = lambda idx: [clips[i] for i in sorted(idx)]  # noqa: E731 - keep the input order inside each part
    return Split(pick(order[n_val + n_test:]), pick(order[:n_val]), pick(order[n_val:n_val + n_test]))


def split_by_subject(clips: Sequence[Clip], *, val_subjects: Iterable[str] = (),
                     test_subjects: Iterable[str] = ()) -> Split:
    """Hold out every clip of the named subjects; all other subjects train."""
    val_subjects, test_subjects = set(val_subjects), set(test_subjects)
    if val_subjects & test_subjects:
        raise ValueError(f"subjects in both validation and test: {sorted(val_subjects & test_subjects)}")
    present = {c.subject for c in clips}
    unknown = (val_subjects | test_subjects) - present
    if unknown:
        raise ValueError(f"unknown subjects {sorted(unknown)}; present: {sorted(present)}")
    split = Split(
        [c for c in clips if c.subject not in val_subjects | test_subjects],
        [c for c in clips if c.subject in val_subjects],
        [c for c in clips if c.subject in test_subjects],
    )
    if not split.train:
        raise ValueError("no subject is left for training")
    return split


def split_by_name(clips: Sequence[Clip], *, val_names: Iterable[str] = (), test_names: Iterable[str] = ()) -> Split:
    """Hold out the clips named ``val_names`` / ``test_names`` (``Clip.name``); all others train."""
    val_names, test_names = set(val_names), set(test_names)
    if val_names & test_names:
        raise ValueError(f"clips in both validation and test: {sorted(val_names & test_names)}")
    for kind, names in (("validation", val_names), ("test", test_names)):
        unknown = sorted(names - {c.name for c in clips})
        if unknown:
            raise ValueError(f"{kind} clips {unknown} are not in the data ({len(clips)} clips)")
    split = Split([c for c in clips if c.name not in val_names | test_names],
                  [c for c in clips if c.name in val_names], [c for c in clips if c.name in test_names])
    if not split.train:
        raise ValueError("no clip is left for training")
    return split
