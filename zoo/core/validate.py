"""Checks of command-line arguments before any work: no TensorFlow, nothing written.

Every ``zoo <model> <action>`` checks its arguments with these functions first, so a bad argument
costs well under a second and leaves the disk as it was. Each failure is a ``UsageError``: one line
that names the argument (or file) and the cause; the CLI prints it and exits with status 2.

* paths: ``input_file``, ``input_folder``, ``output_file`` (suffix, not a folder, the first existing
  ancestor a writable folder), ``output_folder``;
* numbers: ``positive_int``, ``non_negative_int``, ``odd_positive_int``, ``positive_float`` (argparse
  ``type=`` functions);
* network: ``udp_target`` (``HOST:PORT``; beyond loopback only with ``allow_remote``, resolved and
  connected without sending a packet);
* audio: ``audio_input`` (decoded once, silence refused) and ``band_limit_hz`` (the measured bandwidth,
  for the warning about audio poorer than the model's rate).
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import os
import socket
from collections.abc import Sequence
from pathlib import Path

import numpy as np


class UsageError(ValueError):
    """A bad argument: ``"<argument> <value>: <cause>"``, printed as one line, exit status 2."""

    def __init__(self, argument: str, value, cause: str):
        self.argument = argument
        super().__init__(f"{argument} {value}: {cause}" if value is not None else f"{argument}: {cause}")


# -- argparse types -----------------------------------------------------------------------------------
def positive_int(text: str) -> int:
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text: str) -> int:
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer ≥ 0, got {text}")
    return value


def odd_positive_int(text: str) -> int:
    value = positive_int(text)
    if value % 2 == 0:
        raise argparse.ArgumentTypeError(f"must be odd (a centred window), got {text}")
    return value


def positive_float(text: str) -> float:
    value = _number(text, float)
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _number(text: str, kind):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid {kind.__name__} value: {text!r}") from None


# -- paths --------------------------------------------------------------------------------------------
def input_file(path, argument: str, suffixes: Sequence[str] | None = None) -> Path:
    """An existing, readable regular file (with one of ``suffixes``, when given)."""
    path = Path(path)
    if not path.exists():
        raise UsageError(argument, path, "no such file")
    if not path.is_file():
        raise UsageError(argument, path, "not a file" + (" (a folder)" if path.is_dir() else ""))
    if not os.access(path, os.R_OK):
        raise UsageError(argument, path, "not readable (permission denied)")
    if suffixes and path.suffix.lower() not in suffixes:
        raise UsageError(argument, path, f"expected a {' or '.join(suffixes)} file")
    return path


def input_folder(path, argument: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise UsageError(argument, path, "no such folder")
    if not path.is_dir():
        raise UsageError(argument, path, "not a folder")
    return path


def _writable_ancestor(path: Path, argument: str, shown: Path) -> None:
    """The first existing ancestor of ``path`` must be a folder we may write into (missing ones are created)."""
    parent = path.parent if str(path.parent) else Path(".")
    while not parent.exists():
        if parent == parent.parent:
            break
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(argument, shown, f"{parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(argument, shown, f"folder {parent} is not writable")


def output_file(path, argument: str, suffixes: Sequence[str]) -> Path:
    """A file the command may create or replace: one of ``suffixes``, not a folder, in a writable folder."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(argument, path, "is a folder; give a file name")
    if path.suffix.lower() not in suffixes:
        raise UsageError(argument, path, f"unknown output format {path.suffix or '(no suffix)'!r}; use "
                                         f"{', '.join(suffixes)}")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(argument, path, "exists and is not writable")
    _writable_ancestor(path, argument, path)
    return path


def output_folder(path, argument: str) -> Path:
    """A folder the command may create or write into."""
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            raise UsageError(argument, path, "is a file, not a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise UsageError(argument, path, "folder is not writable")
        return path
    _writable_ancestor(path, argument, path)
    return path


# -- network ------------------------------------------------------------------------------------------
LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names a loopback address: ``localhost``, 127.0.0.0/8 or ``::1`` (``[::1]`` too)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: only --allow-remote resolves it


def udp_target(text: str, argument: str = "--udp", allow_remote: bool = False) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) → (address, port), checked without sending a packet.

    A loopback target (127.0.0.0/8, ::1, localhost) is always allowed; any other host needs
    ``allow_remote`` and is then resolved and ``connect``-ed (a UDP connect sends nothing), so an
    unknown host or an unreachable network fails here, before anything is written.
    """
    host, sep, port_text = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host:
        raise UsageError(argument, text, "expected HOST:PORT, e.g. 127.0.0.1:43014")
    try:
        port = int(port_text)
    except ValueError:
        raise UsageError(argument, text, f"port {port_text!r} is not a number") from None
    if not 1 <= port <= 65535:
        raise UsageError(argument, text, f"port {port} is outside 1-65535")
    if not is_loopback(host) and not allow_remote:
        raise UsageError(argument, text, "not a loopback address; add --allow-remote to send beyond this machine")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(argument, text, f"cannot resolve host {host!r} ({exc})") from None
    family, _, _, _, address = infos[0]
    if not allow_remote and not ipaddress.ip_address(address[0]).is_loopback:
        raise UsageError(argument, text, f"{host} resolves to {address[0]}, not a loopback address; add "
                                         "--allow-remote")
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect(address)
    except OSError as exc:
        raise UsageError(argument, text, f"cannot reach {address[0]} ({exc.strerror or exc})") from None
    return address[0], port


# -- audio --------------------------------------------------------------------------------------------
UNSUPPORTED_AUDIO = {".m4a": "AAC", ".aac": "AAC", ".mp4": "AAC", ".wma": "WMA", ".opus": "Opus in an Ogg file "
                     "named .opus"}


def audio_input(path, argument: str = "--audio") -> tuple[np.ndarray, int]:
    """(float32 mono audio, rate) of an audio file, read once: silent, empty, corrupt or undecodable files
    are a ``UsageError`` naming the file (the cause from ``zoo.datasets.load_audio``)."""
    from zoo.datasets import DataError, load_audio

    path = input_file(path, argument)
    if path.suffix.lower() in UNSUPPORTED_AUDIO:
        raise UsageError(argument, path, f"{UNSUPPORTED_AUDIO[path.suffix.lower()]} is not readable here "
                                         "(libsndfile: wav, flac, ogg, mp3); convert it, e.g. "
                                         f"ffmpeg -i {path.name} {path.stem}.wav")
    try:
        return load_audio(path)
    except DataError as exc:
        raise UsageError(argument, None, str(exc)) from None


def band_limit_hz(audio: np.ndarray, rate: int, floor_db: float = 60.0) -> float:
    """The measured bandwidth of ``audio`` in Hz: the highest frequency whose mean power spectrum (Welch, 1024-
    sample Hann frames, half overlap, smoothed over 5 bins) is within ``floor_db`` dB of its peak. Speech
    recorded at 16 kHz reaches ~8 kHz; 8 kHz speech upsampled to 16 kHz stops near 4 kHz."""
    audio = np.asarray(audio, np.float64)
    size = 1024 if len(audio) >= 1024 else 1 << max(int(np.log2(max(len(audio), 2))), 1)
    hop = size // 2
    starts = np.arange(0, len(audio) - size + 1, hop)
    frames = audio[starts[:, None] + np.arange(size)] * np.hanning(size)
    power = (np.abs(np.fft.rfft(frames, axis=1)) ** 2).mean(axis=0)
    power = np.convolve(power, np.ones(5) / 5, mode="same")
    if not power.max() > 0:
        return 0.0
    above = np.nonzero(power >= power.max() * 10 ** (-floor_db / 10))[0]
    return float(above[-1] * rate / size)


__all__ = ["UsageError", "name_map", "is_loopback", "positive_int", "non_negative_int", "odd_positive_int",
           "positive_float", "input_file", "input_folder", "output_file", "output_folder", "udp_target",
           "audio_input", "band_limit_hz", "LOOPBACK_NAMES"]


def name_map(path, argument: str) -> dict[str, str]:
    """{name: label} from a JSON object or a two-column ``name,label`` CSV (a header row starting ``clip``, ``take``
    or ``name`` is skipped); every label a non-empty string. A UsageError names ``argument`` and the cause."""
    path = input_file(path, argument, (".json", ".csv"))
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            labels = json.loads(text)
            if not isinstance(labels, dict):
                raise ValueError("a JSON object {name: label} was expected")
        else:
            rows = [line.split(",") for line in text.splitlines() if line.strip()]
            if rows and rows[0][:1] in (["clip"], ["take"], ["name"]):
                rows = rows[1:]
            if any(len(r) != 2 for r in rows):
                raise ValueError("every row must be name,label")
            labels = {c.strip(): e.strip() for c, e in rows}
    except ValueError as exc:
        raise UsageError(argument, path, str(exc)) from None
    if not all(isinstance(v, str) and v for v in labels.values()):
        raise UsageError(argument, path, "every label must be a non-empty string")
    return labels
