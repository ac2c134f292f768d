"""Live control of EveNet generation: change the emotion and phoneme while frames are generated.

The original ``generate.py`` listened on 127.0.0.1:9999 for the text commands ``EMO <label>`` and
``PHO <label>``. This module keeps that protocol without the original's bugs (the Python-2 ``thread``
module; ``eval()`` of network data in its data-collection sibling): nothing received is ever
evaluated. A line is split into a command word and a label, and the label must be one of the
model's categories.

Protocol (TCP, one command per line, UTF-8, ``\\n`` or ``\\r\\n``, at most ``MAX_LINE_BYTES`` = 256
bytes per line including the line end; one reply line per command):

- ``EMO <label>`` sets the emotion. Reply ``OK EMO <label>`` with the canonical label, or
  ``ERR unknown emotion '<label>'`` / ``ERR ambiguous emotion ...`` / ``ERR EMO needs a label``.
- ``PHO <label>`` sets the phoneme, with the same replies (``OK PHO AA``, ``ERR unknown phoneme 'XX'``).
- ``GET`` (an extension) queries the state. Reply ``OK <emotion> <phoneme>``.
- Anything else gets ``ERR unknown command '<word>' (expected EMO, PHO or GET)``, and a line that is not
  valid UTF-8 gets ``ERR line is not valid UTF-8``. Blank lines are ignored and get no reply.
- A longer line gets ``ERR line too long ...``, and then the server closes the connection.

Command words are case-insensitive. A label matches exactly first, then case-insensitively if
exactly one category matches that way. Several clients may be connected at once; the latest
accepted command wins. After an ``ERR`` the state is unchanged and the connection stays open.

By default the server binds loopback only. Binding any other address needs ``allow_remote=True``,
because the protocol has no authentication.

Example::

    with LiveController(WRITTEN_EMOTION_CATEGORIES, emotion="Neutral") as live:
        run = run_live(model_step, live, frames=480)   # `printf 'EMO Happy\\n' | nc 127.0.0.1 9999`
"""
from __future__ import annotations

import logging
import math
import numbers
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from zoo.core.validate import is_loopback
from zoo.datasets.evenet import PHONEME_CATEGORIES

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9999
MAX_LINE_BYTES = 256  # per line, line end included
_DRAIN_BYTES = 64 * 1024  # after an overlong line: read (and drop) at most this much, so the ERR reply is not reset
_DRAIN_SECONDS = 1.0
_POLL_SECONDS = 0.05  # serve_forever's poll interval: how long close() may wait for the accept loop
_JOIN_SECONDS = 2.0

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "MAX_LINE_BYTES", "LiveController", "LiveRun", "is_loopback", "run_live"]


def _short(text: str, limit: int = 48) -> str:
    """``repr`` of ``text``, cut to ``limit`` characters, for error replies."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _categories(labels: Sequence[str], what: str) -> tuple[str, ...]:
    """Validate a category list: non-empty, unique, each label one non-empty word."""
    if isinstance(labels, str):
        raise TypeError(f"{what} must be a sequence of labels, not a string")
    labels = tuple(labels)
    if not labels:
        raise ValueError(f"{what} is empty")
    for label in labels:
        if not isinstance(label, str) or not label or len(label.split()) != 1 or label.strip() != label:
            raise ValueError(f"{what}: label {label!r} must be a non-empty string without whitespace")
    if len(set(labels)) != len(labels):
        repeated = sorted({x for x in labels if labels.count(x) > 1})
        raise ValueError(f"{what}: repeated labels {repeated}")
    return labels


def _match(label: str, choices: tuple[str, ...], kind: str) -> int:
    """Index of ``label`` in ``choices``: the exact match, else the unique case-insensitive one."""
    if label in choices:
        return choices.index(label)
    folded = label.casefold()
    hits = [i for i, choice in enumerate(choices) if choice.casefold() == folded]
    if len(hits) == 1:
        return hits[0]
    if hits:
        names = ", ".join(repr(choices[i]) for i in hits)
        raise ValueError(f"ambiguous {kind} {_short(label)} (matches {names})")
    raise ValueError(f"unknown {kind} {_short(label)}")


class LiveController:
    """The current (emotion, phoneme) of a live run, settable over a loopback TCP text protocol.

    Constructing validates only; ``start()`` (or ``with``) binds and serves from a daemon thread,
    ``close()`` (idempotent) stops it, closes client connections and releases the port. ``port=0``
    picks a free port (see ``address``). The state is thread-safe and may also be set in-process
    (``set_emotion``/``set_phoneme``).
    """

    def __init__(
        self,
        emotions: Sequence[str],
        phonemes: Sequence[str] = PHONEME_CATEGORIES,
        *,
        emotion: str,
        phoneme: str = "SIL",
        host: str = "127.0.0.1",
        port: int = 9999,
        allow_remote: bool = False,
    ):
        self.emotions = _categories(emotions, "emotions")
        self.phonemes = _categories(phonemes, "phonemes")
        host = str(host)
        if not allow_remote and not is_loopback(host):
            where = f"{host!r} (all interfaces)" if host in ("", "0.0.0.0", "::") else repr(host)
            raise ValueError(
                f"refusing to bind {where}: not a loopback address. The live control protocol has no "
                "authentication; pass allow_remote=True to expose it beyond this machine")
        if isinstance(port, bool) or not isinstance(port, numbers.Integral) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an integer in 0..65535 (0: any free port), got {port!r}")
        self.host, self.port, self.allow_remote = host, int(port), bool(allow_remote)
        self._emotion_id = _match(emotion, self.emotions, "emotion")
        self._phoneme_id = _match(phoneme, self.phonemes, "phoneme")
        self._version = 0
        self._state = threading.Condition()
        self._life = threading.Lock()  # guards the fields below
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._closed = False

    # --- state ----------------------------------------------------------------------------------

    def current(self) -> tuple[int, int]:
        """The current ``(emotion_id, phoneme_id)``, indices into ``emotions`` and ``phonemes``."""
        with self._state:
            return self._emotion_id, self._phoneme_id

    def labels(self) -> tuple[str, str]:
        """The current ``(emotion, phoneme)`` labels."""
        emotion_id, phoneme_id = self.current()
        return self.emotions[emotion_id], self.phonemes[phoneme_id]

    @property
    def version(self) -> int:
        """How many EMO/PHO updates were accepted (re-setting the same label counts too)."""
        with self._state:
            return self._version

    def wait_for_change(self, timeout: float | None = None, *, since: int | None = None) -> bool:
        """Block until ``version`` exceeds ``since`` (default: its value now); False on timeout.

        To avoid missing a quick update, read ``version`` before triggering it and pass it as ``since``.
        """
        with self._state:
            base = self._version if since is None else since
            return self._state.wait_for(lambda: self._version > base, timeout)

    def set_emotion(self, label: str) -> str:
        """Set the emotion (label matched as in the protocol); returns the canonical label."""
        index = _match(label, self.emotions, "emotion")
        self._update(emotion_id=index)
        return self.emotions[index]

    def set_phoneme(self, label: str) -> str:
        """Set the phoneme (label matched as in the protocol); returns the canonical label."""
        index = _match(label, self.phonemes, "phoneme")
        self._update(phoneme_id=index)
        return self.phonemes[index]

    def _update(self, *, emotion_id: int | None = None, phoneme_id: int | None = None) -> None:
        with self._state:
            if emotion_id is not None:
                self._emotion_id = emotion_id
            if phoneme_id is not None:
                self._phoneme_id = phoneme_id
            self._version += 1
            self._state.notify_all()
        log.debug("live control: now %s / %s", *self.labels())

    def execute(self, line: str | bytes) -> str | None:
        """Apply one protocol line; returns the reply line (no line end), or None for a blank line."""
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError:
                return "ERR line is not valid UTF-8"
        words = line.split(None, 1)
        if not words:
            return None
        command = words[0].upper()
        argument = words[1].strip() if len(words) > 1 else ""
        if command in ("EMO", "PHO"):
            if not argument:
                return f"ERR {command} needs a label"
            try:
                label = self.set_emotion(argument) if command == "EMO" else self.set_phoneme(argument)
            except ValueError as error:
                return f"ERR {error}"
            return f"OK {command} {label}"
        if command == "GET":
            if argument:
                return "ERR GET takes no argument"
            return "OK {} {}".format(*self.labels())
        return f"ERR unknown command {_short(words[0], 32)} (expected EMO, PHO or GET)"

    # --- server ---------------------------------------------------------------------------------

    def start(self) -> LiveController:
        """Bind and serve from a daemon thread (no-op when already started); returns self."""
        with self._life:
            if self._closed:
                raise RuntimeError("this LiveController is closed; make a new one")
            if self._server is not None:
                return self
            host = "127.0.0.1" if self.host.lower() == "localhost" else self.host.strip("[]")
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            server = _Server((host, self.port), family, self)
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": _POLL_SECONDS},
                                      name=f"evenet-live-{server.server_address[1]}", daemon=True)
            thread.start()
            self._server, self._thread = server, thread
        log.info("EveNet live control listening on %s:%d", *server.server_address[:2])
        return self

    @property
    def address(self) -> tuple[str, int]:
        """The bound ``(host, port)``; RuntimeError when not listening."""
        server = self._server
        if server is None or self._closed:
            raise RuntimeError("not listening: call start() or use `with LiveController(...)`")
        host, port = server.server_address[:2]
        return host, port

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._server is not None and not self._closed

    def close(self) -> None:
        """Stop serving, close client connections and the listening socket; safe to call twice."""
        with self._life:
            if self._closed:
                return
            self._closed = True
            server, thread = self._server, self._thread
            connections = list(self._connections.items())
        if server is None:
            return
        server.shutdown()
        server.server_close()
        thread.join(_JOIN_SECONDS)
        for connection, _ in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)  # wakes a handler blocked on reading
            except OSError:
                pass  # already closed by the client: nothing to wake
        for _, handler in connections:
            handler.join(_JOIN_SECONDS)
        log.info("EveNet live control on %s:%d closed", *server.server_address[:2])

    def _register(self, connection: socket.socket) -> bool:
        with self._life:
            if self._closed:
                return False
            self._connections[connection] = threading.current_thread()
            return True

    def _unregister(self, connection: socket.socket) -> None:
        with self._life:
            self._connections.pop(connection, None)

    def __enter__(self) -> LiveController:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


class _Handler(socketserver.StreamRequestHandler):
    """One client connection: read lines, reply to each."""

    server: _Server

    def handle(self) -> None:
        controller = self.server.controller
        if not controller._register(self.connection):
            return
        try:
            self._serve(controller)
        finally:
            controller._unregister(self.connection)

    def _serve(self, controller: LiveController) -> None:
        while True:
            try:
                line = self.rfile.readline(MAX_LINE_BYTES + 1)
            except OSError:
                return
            if not line:
                return
            if len(line) > MAX_LINE_BYTES:
                log.warning("live control: line over %d bytes from %s; closing the connection",
                            MAX_LINE_BYTES, self.client_address)
                self._reply(f"ERR line too long (over {MAX_LINE_BYTES} bytes); closing the connection")
                self._drain()
                return
            reply = controller.execute(line)
            if reply is not None and not self._reply(reply):
                return

    def _reply(self, text: str) -> bool:
        try:
            self.wfile.write(text.encode("utf-8") + b"\n")
            return True
        except OSError:
            return False

    def _drain(self) -> None:
        """Half-close, then drop a bounded amount of unread input so closing does not reset the reply."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(_DRAIN_SECONDS)
            received = 0
            while received < _DRAIN_BYTES:
                chunk = self.connection.recv(4096)
                if not chunk:
                    break
                received += len(chunk)
        except OSError:
            pass  # the client went away first: nothing left to drain


class _Server(socketserver.ThreadingTCPServer):
    """ThreadingTCPServer with SO_REUSEADDR, daemon handler threads and the controller attached."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, address: tuple[str, int], family: int, controller: LiveController):
        self.address_family = family
        self.controller = controller
        super().__init__(address, _Handler)

    def handle_error(self, request, client_address) -> None:
        log.warning("live control: error while serving %s", client_address, exc_info=True)


# --- the generation loop --------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveRun:
    """What ``run_live`` generated.

    ``frames`` (n, D) (``(0, 0)`` float32 when nothing was generated); ``emotion_ids`` and
    ``phoneme_ids`` (n,) int64, the labels each frame was generated with; ``late_frames`` how many
    frames started over half a frame period behind schedule; ``interrupted`` whether a
    KeyboardInterrupt ended the run.
    """

    frames: np.ndarray
    emotion_ids: np.ndarray
    phoneme_ids: np.ndarray
    late_frames: int = 0
    interrupted: bool = False

    def __len__(self) -> int:
        return len(self.frames)


def run_live(
    step: Callable[[int, int], np.ndarray],
    controller,
    *,
    frames: int | None = None,
    fps: float = 48.0,
    realtime: bool = True,
    sink: Callable[[int, np.ndarray], object] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
) -> LiveRun:
    """Generate frames with the controller's current labels; returns a ``LiveRun``.

    Per frame: when ``realtime``, wait until its due time ``start + index / fps`` (a frame already
    behind is not delayed and, over half a period behind, counted in ``late_frames`` and logged at
    debug); read ``controller.current()``; call ``step(emotion_id, phoneme_id)`` for a (D,) frame; record
    it and pass it, read-only, to ``sink(index, frame)``. Stops after ``frames`` frames (None: no limit)
    or on KeyboardInterrupt, keeping what was generated. ``controller`` is anything with ``current()``
    (normally a ``LiveController``); ``clock``/``sleep`` are injectable for tests.
    """
    if frames is not None and (isinstance(frames, bool) or not isinstance(frames, numbers.Integral) or frames < 0):
        raise ValueError(f"frames must be a non-negative integer or None, got {frames!r}")
    fps = float(fps)
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be positive and finite, got {fps}")
    period = 1.0 / fps
    out: list[np.ndarray] = []
    emotion_ids: list[int] = []
    phoneme_ids: list[int] = []
    late = 0
    interrupted = False
    start = clock() if realtime else 0.0
    try:
        index = 0
        while frames is None or index < frames:
            if realtime:
                due = start + index * period
                now = clock()
                if now - due > 0.5 * period:
                    late += 1
                    log.debug("live frame %d started %.1f ms late", index, (now - due) * 1e3)
                while now < due:
                    sleep(due - now)
                    now = clock()
            emotion_id, phoneme_id = controller.current()
            frame = np.array(step(emotion_id, phoneme_id), copy=True)
            if frame.ndim != 1 or (out and frame.shape != out[0].shape):
                expected = f" (earlier frames: {out[0].shape})" if out else ""
                raise ValueError(f"step returned a frame of shape {frame.shape}; expected (D,){expected}")
            frame.flags.writeable = False
            out.append(frame)
            emotion_ids.append(int(emotion_id))
            phoneme_ids.append(int(phoneme_id))
            index += 1
            if sink is not None:
                sink(index - 1, frame)
    except KeyboardInterrupt:
        interrupted = True
        log.info("live generation interrupted after %d frames", len(out))
    if late:
        log.debug("live generation: %d of %d frames late", late, len(out))
    return LiveRun(
        frames=np.stack(out) if out else np.zeros((0, 0), np.float32),
        emotion_ids=np.asarray(emotion_ids, np.int64),
        phoneme_ids=np.asarray(phoneme_ids, np.int64),
        late_frames=late,
        interrupted=interrupted,
    )
