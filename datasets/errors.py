"""Errors raised by the data layer.

Every error names the file it is about and the cause, in one message:
``"<path>: <cause>"``. They subclass ``ValueError`` so callers that only know
"bad input" can catch that.
"""
from __future__ import annotations

import os


class DataError(ValueError):
    """Bad input data. ``path`` is the offending file (or None), ``cause`` the reason."""

    def __init__(self, path: str | os.PathLike | None, cause: str):
        self.path = None if path is None else os.fspath(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}" if self.path else cause)


class AudioError(DataError):
    """An audio file that cannot be used: missing, empty, truncated, not audio, non-finite."""


class LabelError(DataError):
    """An animation/label file that cannot be used: missing, malformed, names ≠ columns."""


class FrameCountError(LabelError):
    """Label rows disagree with the frame count the audio length implies."""

    def __init__(self, path, *, label_frames: int, expected_frames: int, rule: str):
        self.label_frames = label_frames
        self.expected_frames = expected_frames
        super().__init__(
            path,
            f"label file has {label_frames} frames but the audio implies {expected_frames} "
            f"({rule}); pass an explicit trim policy to accept the mismatch",
        )


class UnsafePickleError(DataError):
    """A pickle that references something outside the restricted loader's allow-list."""


class ClipError(DataError):
    """A Clip whose fields are inconsistent (shapes, names, non-finite values, frame counts)."""
