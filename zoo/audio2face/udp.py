"""FACEGOOD's Unreal link (specs/audio2face.md §6): weight frames out over UDP, control messages in.

Weights (Python -> UE, default 127.0.0.1:43014): one datagram per frame, ``FRAME_BYTES`` = 468 bytes
= 116 little-endian float32 blendshape weights in the rig's slot order (default ``FACEGOOD_116_UE``,
i.e. ``bsname.txt``) followed by 4 zero bytes. It is FACEGOOD's own protocol, not Apple LiveLink.

Control (UE -> Python, FACEGOOD binds 127.0.0.1:43015): ``[uint32 LE length][payload][0x00]`` with
payload ``b"1"`` (start recording) or ``b"2"`` (stop). Fixes of the original's runtime bugs (§9.12):

- the original parses the length as if it always counted the trailing NUL; ``parse_control``
  accepts both conventions (length = len(payload) + 1 or len(payload)) and rejects anything else;
- the original stopped playback with ``Thread.terminate``, which does not exist; ``UdpSender.play``
  instead checks an optional ``threading.Event`` before every frame and returns early when it is set.

No command line and no TensorFlow import; the zoo CLI drives ``UdpSender``.
"""
from __future__ import annotations

import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from zoo.datasets import read_names

from .rig import FACEGOOD_116_UE

__all__ = [
    "DEFAULT_HOST", "DEFAULT_PORT", "CONTROL_PORT", "N_SLOTS", "FRAME_BYTES",
    "encode_frame", "decode_frame", "parse_control", "encode_control", "PlayStats", "UdpSender",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 43014  # UE receives weights here
CONTROL_PORT = 43015  # Python listens for UE's start/stop here
N_SLOTS = 116
_TRAILER = b"\x00\x00\x00\x00"
FRAME_BYTES = 4 * N_SLOTS + len(_TRAILER)  # 468
_FLOATS = np.dtype("<f4")
_COMMANDS = {b"1": "start", b"2": "stop"}


def encode_frame(values_116) -> bytes:
    """116 weights (in slot order) -> one 468-byte datagram: little-endian float32 values + 4 zero bytes.

    Raises ValueError on a wrong count or non-finite values.
    """
    values = np.asarray(values_116, dtype=np.float64)
    if values.shape != (N_SLOTS,):
        raise ValueError(f"a frame holds {N_SLOTS} values, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("frame holds NaN or Inf; refusing to send it")
    return values.astype(_FLOATS).tobytes() + _TRAILER


def decode_frame(data: bytes) -> np.ndarray:
    """One 468-byte datagram -> (116,) float32 weights in slot order.

    Raises ValueError unless the length is 468 and the last 4 bytes are zero.
    """
    data = bytes(data)
    if len(data) != FRAME_BYTES:
        raise ValueError(f"a frame datagram is {FRAME_BYTES} bytes, got {len(data)}")
    if data[-len(_TRAILER):] != _TRAILER:
        raise ValueError(f"frame trailer must be 4 zero bytes, got {data[-len(_TRAILER):].hex()}")
    return np.frombuffer(data[: 4 * N_SLOTS], dtype=_FLOATS).astype(np.float32)


def parse_control(data: bytes) -> str:
    """A UE control message ``[uint32 LE length][payload][0x00]`` -> "start" (payload "1") or "stop" ("2").

    The length may count the trailing NUL or not; both are accepted. Raises ValueError on a short
    message, a length that fits neither convention, a missing NUL, or an unknown payload.
    """
    data = bytes(data)
    if len(data) < 5:
        raise ValueError(f"control message too short ({len(data)} bytes; need length, payload and NUL)")
    (length,) = struct.unpack_from("<I", data)
    body = data[4:]
    if body[-1:] != b"\x00":
        raise ValueError(f"control message lacks its trailing NUL: {data.hex()}")
    if length == len(body):  # length counts the NUL
        payload = body[:-1]
    elif length == len(body) - 1:  # length is the payload alone
        payload = body[:length]
    else:
        raise ValueError(
            f"control length field {length} fits neither {len(body)} (with NUL) nor {len(body) - 1} "
            f"(without) for a {len(data)}-byte message"
        )
    if payload not in _COMMANDS:
        raise ValueError(f"unknown control payload {payload!r} (expected b'1' start or b'2' stop)")
    return _COMMANDS[payload]


def encode_control(command: str, *, length_counts_nul: bool = True) -> bytes:
    """The control message UE would send for "start" or "stop" (for tests and simulators)."""
    payloads = {v: k for k, v in _COMMANDS.items()}
    if command not in payloads:
        raise ValueError(f"command must be 'start' or 'stop', got {command!r}")
    payload = payloads[command]
    return struct.pack("<I", len(payload) + int(length_counts_nul)) + payload + b"\x00"


@dataclass(frozen=True)
class PlayStats:
    """What ``UdpSender.play`` did: frames sent and the worst lateness (seconds past a frame's due time)."""

    frames_sent: int
    max_lateness_s: float
    stopped: bool = False


class UdpSender:
    """Sends blendshape frames to FACEGOOD's UE receiver, one 468-byte datagram per frame.

    Args:
        host, port: destination (default 127.0.0.1:43014).
        names: the 116 slot names in wire order, or a name file (``bsname.txt`` / ``*.npy``) read
            with ``zoo.datasets.read_names``. Default ``FACEGOOD_116_UE``.
        fps: frame rate for ``play`` (FACEGOOD: 30).
        clip: clip weights to [0, 1] before sending (the original sent raw outputs, §9.10).

    Use as a context manager, or call ``close()``.
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        names: Sequence[str] | str | os.PathLike = FACEGOOD_116_UE,
        fps: float = 30.0,
        clip: bool = True,
    ):
        if isinstance(names, str | os.PathLike):
            names = read_names(names)
        names = tuple(str(n) for n in names)
        if len(names) != N_SLOTS:
            raise ValueError(f"the UE receiver takes {N_SLOTS} slots, but {len(names)} names were given")
        if len(set(names)) != len(names):
            raise ValueError("slot names hold duplicates")
        if not (np.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be positive, got {fps}")
        self.names = names
        self.fps = float(fps)
        self.clip = bool(clip)
        self._slot = {n: i for i, n in enumerate(names)}
        self._cache: dict[tuple[str, ...], np.ndarray] = {}
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        self.address = address
        self._sock: socket.socket | None = socket.socket(family, socket.SOCK_DGRAM)

    def slots(self, value_names: Sequence[str]) -> np.ndarray:
        """Slot index of each name in ``value_names``; ValueError on names not in the rig or duplicated."""
        key = tuple(str(n) for n in value_names)
        if key not in self._cache:
            unknown = [n for n in key if n not in self._slot]
            if unknown:
                raise ValueError(f"{len(unknown)} name(s) not in the UDP rig: {unknown[:10]}")
            if len(set(key)) != len(key):
                dup = sorted({n for n in key if key.count(n) > 1})
                raise ValueError(f"duplicate value names: {dup[:5]}")
            self._cache[key] = np.array([self._slot[n] for n in key], dtype=np.intp)
        return self._cache[key]

    def frame(self, values, value_names: Sequence[str]) -> bytes:
        """The datagram for one frame of K named weights (K,): others 0, clipped if ``clip``."""
        idx = self.slots(value_names)
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (len(idx),):
            raise ValueError(f"expected ({len(idx)},) values for {len(idx)} names, got shape {values.shape}")
        full = np.zeros(N_SLOTS, dtype=np.float64)
        full[idx] = values
        if self.clip:
            full = np.clip(full, 0.0, 1.0)  # NaN passes through and encode_frame rejects it
        return encode_frame(full)

    def send(self, values, value_names: Sequence[str]) -> int:
        """Send one frame of K weights (K,) named ``value_names``; returns bytes sent (468)."""
        data = self.frame(values, value_names)
        return self._socket().sendto(data, self.address)

    def play(
        self,
        frames,
        value_names: Sequence[str],
        *,
        start_time: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        stop: threading.Event | None = None,
    ) -> PlayStats:
        """Send frames (T, K) paced at ``fps``: frame f goes out at ``start_time + f / fps`` seconds.

        ``start_time`` is on ``clock``'s time base (default: ``clock()`` at the call, e.g. when audio
        playback starts). Before each frame the sender sleeps until its due time; a late frame goes
        out at once without sleeping (no frames are dropped). ``stop``, when set, ends playback
        before the next frame is sent (it is checked after each wait). Names and values are checked
        before anything is sent. Returns ``PlayStats`` (frames sent, max lateness in seconds, stopped).
        """
        idx = self.slots(value_names)
        frames = np.asarray(frames, dtype=np.float64)
        if frames.ndim != 2 or frames.shape[1] != len(idx):
            raise ValueError(f"frames must be (T, {len(idx)}) for {len(idx)} names, got shape {frames.shape}")
        if not np.all(np.isfinite(frames)):
            raise ValueError("frames hold NaN or Inf")
        self._socket()
        start = clock() if start_time is None else float(start_time)
        sent, worst = 0, 0.0
        for f in range(frames.shape[0]):
            due = start + f / self.fps
            now = clock()
            if due > now:
                sleep(due - now)
                now = clock()
            if stop is not None and stop.is_set():  # checked after the wait, right before sending
                return PlayStats(sent, worst, stopped=True)
            worst = max(worst, now - due)
            self.send(frames[f], value_names)
            sent += 1
        return PlayStats(sent, worst)

    def _socket(self) -> socket.socket:
        if self._sock is None:
            raise RuntimeError("UdpSender is closed")
        return self._sock

    def close(self) -> None:
        """Close the socket (idempotent)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    @property
    def closed(self) -> bool:
        return self._sock is None

    def __enter__(self) -> UdpSender:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        sock = getattr(self, "_sock", None)
        if sock is not None:
            sock.close()
