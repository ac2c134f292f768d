"""zoo.evenet.live: the loopback EMO/PHO control server and the live generation loop.

Every socket here is on 127.0.0.1 (port 0 = a free port); nothing binds the default 9999 or a remote address.
"""
import ast
import inspect
import logging
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import zoo.evenet.live as live_module
from zoo.datasets.evenet import PHONEME_CATEGORIES, WRITTEN_EMOTION_CATEGORIES
from zoo.evenet.live import MAX_LINE_BYTES, LiveController, LiveRun, is_loopback, run_live

SIL = PHONEME_CATEGORIES.index("SIL")
AA = PHONEME_CATEGORIES.index("AA")
M = PHONEME_CATEGORIES.index("M")
NEUTRAL = WRITTEN_EMOTION_CATEGORIES.index("Neutral")
HAPPY = WRITTEN_EMOTION_CATEGORIES.index("Happy")
SADNESS = WRITTEN_EMOTION_CATEGORIES.index("Sadness")


class Client:
    """A loopback line client: ``ask`` sends one line and returns the reply line."""

    def __init__(self, address):
        assert address[0] == "127.0.0.1"
        self.sock = socket.create_connection(address, timeout=5.0)
        self.reader = self.sock.makefile("rb")

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_line(self) -> bytes:
        return self.reader.readline()

    def ask(self, line: str) -> str:
        self.send_raw(line.encode("utf-8") + b"\n")
        return self.read_line().decode("utf-8").rstrip("\n")

    def close(self) -> None:
        self.reader.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@pytest.fixture
def live():
    with LiveController(WRITTEN_EMOTION_CATEGORIES, emotion="Neutral", port=0) as controller:
        yield controller


@pytest.fixture
def connect(live):
    clients = []

    def make():
        client = Client(live.address)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def fake_step(emotion_id, phoneme_id):
    return np.array([emotion_id, phoneme_id], float)


# --- the protocol ---------------------------------------------------------------------------------

def test_emo_pho_get_over_loopback(live, connect):
    assert live.current() == (NEUTRAL, SIL) and live.labels() == ("Neutral", "SIL")
    host, port = live.address
    assert host == "127.0.0.1" and port > 0
    client = connect()
    assert client.ask("GET") == "OK Neutral SIL"
    assert client.ask("EMO Happy") == "OK EMO Happy"
    assert live.current() == (HAPPY, SIL)
    assert client.ask("PHO AA") == "OK PHO AA"
    assert live.current() == (HAPPY, AA) and live.labels() == ("Happy", "AA")
    assert client.ask("GET") == "OK Happy AA"
    assert live.version == 2


def test_case_and_line_endings(live, connect):
    client = connect()
    client.send_raw(b"emo sadness\r\n")  # command and label case-insensitive; CRLF
    assert client.read_line() == b"OK EMO Sadness\n"
    assert client.ask("Pho   aa  ") == "OK PHO AA"
    assert client.ask("PHO i") == "OK PHO i"  # exact match wins over case-insensitive ("IY" is not "i")
    assert client.ask("PHO I") == "OK PHO i"  # unique case-insensitive match
    assert client.ask("PHO S") == "OK PHO S" and client.ask("PHO s") == "OK PHO s"  # both exist: exact only
    assert client.ask("PHO +laughter+") == "OK PHO +LAUGHTER+"
    client.send_raw(b"\n  \r\n")  # blank lines: ignored, no reply
    assert client.ask("get") == "OK Sadness +LAUGHTER+"


def test_errors_leave_state_unchanged_and_connection_open(live, connect):
    client = connect()
    assert client.ask("EMO Happy") == "OK EMO Happy"
    before, version = live.current(), live.version
    assert client.ask("PHO XX") == "ERR unknown phoneme 'XX'"
    assert client.ask("EMO Ecstatic") == "ERR unknown emotion 'Ecstatic'"
    assert client.ask("EMO") == "ERR EMO needs a label"
    assert client.ask("JUMP now").startswith("ERR unknown command 'JUMP'")
    assert client.ask("__import__('os').system('true')").startswith("ERR unknown command")
    assert client.ask("GET x") == "ERR GET takes no argument"
    client.send_raw(b"EMO Sad\xff\xfeness\n")
    assert client.read_line() == b"ERR line is not valid UTF-8\n"
    assert client.ask("PHO \x00AA") == "ERR unknown phoneme '\\x00AA'"
    assert live.current() == before and live.version == version
    assert client.ask("GET") == "OK Happy SIL"  # the same connection still works


def test_ambiguous_label_is_refused():
    controller = LiveController(("Happy", "HAPPY", "Sad"), emotion="Sad")
    assert controller.execute("EMO happy") == "ERR ambiguous emotion 'happy' (matches 'Happy', 'HAPPY')"
    assert controller.execute("EMO HAPPY") == "OK EMO HAPPY"
    assert controller.execute(b"EMO sad\r\n") == "OK EMO Sad"
    assert controller.current() == (2, SIL)
    controller.close()


def test_overlong_line_closes_the_connection_only(live, connect):
    client = connect()
    assert client.ask("EMO Happy") == "OK EMO Happy"
    longest = b"PHO " + b"x" * (MAX_LINE_BYTES - 5) + b"\n"  # exactly the limit: still a command
    assert len(longest) == MAX_LINE_BYTES
    client.send_raw(longest)
    assert client.read_line().startswith(b"ERR unknown phoneme")
    client.send_raw(b"PHO AA" + b" " * MAX_LINE_BYTES + b"\n")  # one byte too many (and more)
    assert client.read_line().startswith(b"ERR line too long")
    assert client.read_line() == b""  # then the server closes
    assert live.current() == (HAPPY, SIL)
    assert connect().ask("GET") == "OK Happy SIL"  # a new client is served


def test_unterminated_flood_is_cut_off(live, connect):
    client = connect()
    client.send_raw(b"E" * 5000)
    assert client.read_line().startswith(b"ERR line too long")
    assert client.read_line() == b""
    assert connect().ask("PHO M") == "OK PHO M"


def test_two_clients_latest_wins(live, connect):
    first, second = connect(), connect()
    assert first.ask("EMO Happy") == "OK EMO Happy"
    assert second.ask("EMO Sadness") == "OK EMO Sadness"
    assert live.current()[0] == SADNESS
    assert second.ask("PHO M") == "OK PHO M"
    assert first.ask("PHO AA") == "OK PHO AA"
    assert live.current() == (SADNESS, AA)
    assert first.ask("GET") == second.ask("GET") == "OK Sadness AA"


def test_in_process_setters_and_wait_for_change(live):
    version = live.version
    assert not live.wait_for_change(0.01)
    assert live.set_emotion("happy") == "Happy"
    assert live.wait_for_change(0, since=version)  # the update before the wait is not missed
    with pytest.raises(ValueError, match="unknown phoneme 'QQ'"):
        live.set_phoneme("QQ")
    assert live.version == version + 1

    changed = threading.Event()

    def waiter():
        if live.wait_for_change(5.0, since=version + 1):
            changed.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    with Client(live.address) as client:
        assert client.ask("PHO AA") == "OK PHO AA"
    thread.join(5.0)
    assert changed.is_set() and live.labels() == ("Happy", "AA")



# --- binding and lifecycle ------------------------------------------------------------------------

def test_defaults_are_loopback_9999():
    params = inspect.signature(LiveController).parameters
    assert params["host"].default == "127.0.0.1" and params["port"].default == 9999
    assert params["allow_remote"].default is False
    assert params["phonemes"].default == PHONEME_CATEGORIES and params["phoneme"].default == "SIL"
    assert params["emotion"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["emotion"].default is inspect.Parameter.empty


@pytest.fixture
def no_sockets(monkeypatch):
    """Fail the test if anything creates a socket."""

    def refuse(*args, **kwargs):
        raise AssertionError("a socket was created")

    monkeypatch.setattr(socket, "socket", refuse)


@pytest.mark.parametrize("host", ["0.0.0.0", "", "::", "192.168.1.20", "10.0.0.1", "example.com"])
def test_non_loopback_bind_is_refused(no_sockets, host):
    with pytest.raises(ValueError, match="refusing to bind") as info:
        LiveController(WRITTEN_EMOTION_CATEGORIES, emotion="Neutral", host=host, port=0)
    assert repr(host) in str(info.value) and "allow_remote=True" in str(info.value)


def test_allow_remote_only_validates_until_started(no_sockets):
    controller = LiveController(WRITTEN_EMOTION_CATEGORIES, emotion="Neutral", host="0.0.0.0", allow_remote=True)
    assert not controller.running
    with pytest.raises(RuntimeError, match="not listening"):
        _ = controller.address
    controller.close()
    controller.close()
    with pytest.raises(RuntimeError, match="closed"):
        controller.start()


def test_loopback_names():
    assert is_loopback("127.0.0.1") and is_loopback("127.1.2.3") and is_loopback("::1") and is_loopback("[::1]")
    assert is_loopback("localhost") and is_loopback("LOCALHOST")
    assert not is_loopback("0.0.0.0") and not is_loopback("") and not is_loopback("::") and not is_loopback("8.8.8.8")
    assert not is_loopback("localhost.example.com")


@pytest.mark.parametrize("kwargs, message", [
    ({"emotion": "Ecstatic"}, "unknown emotion 'Ecstatic'"),
    ({"emotion": "Neutral", "phoneme": "XX"}, "unknown phoneme 'XX'"),
    ({"emotion": "Neutral", "port": 70000}, "port"),
    ({"emotion": "Neutral", "port": -1}, "port"),
])
def test_constructor_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LiveController(WRITTEN_EMOTION_CATEGORIES, **kwargs)


@pytest.mark.parametrize("emotions, message", [
    ((), "empty"), (("Happy", "Happy"), "repeated"), (("Very happy",), "whitespace"), (("",), "whitespace"),
])
def test_category_validation(emotions, message):
    with pytest.raises(ValueError, match=message):
        LiveController(emotions, emotion="Happy")
    with pytest.raises(TypeError):
        LiveController("Happy", emotion="Happy")


def test_localhost_binds_loopback():
    with LiveController(WRITTEN_EMOTION_CATEGORIES, emotion="Neutral", host="localhost", port=0) as controller:
        assert controller.address[0] == "127.0.0.1"
        with Client(controller.address) as client:
            assert client.ask("GET") == "OK Neutral SIL"


def test_close_releases_the_port_and_is_idempotent():
    first = LiveController(WRITTEN_EMOTION_CATEGORIES, emotion="Neutral", port=0).start()
    assert first.start() is first and first.running
    port = first.address[1]
    client = Client(first.address)  # a connected client must not keep the port (or close()) busy
    assert client.ask("EMO Happy") == "OK EMO Happy"
    first.close()
    first.close()
    assert not first.running
    assert client.read_line() == b""  # the server closed the connection
    client.close()
    with LiveController(WRITTEN_EMOTION_CATEGORIES, emotion="Happy", port=port) as second:
        assert second.address == ("127.0.0.1", port)
        with Client(second.address) as again:
            assert again.ask("GET") == "OK Happy SIL"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5.0).close()


def test_no_thread_is_left_behind():
    before = set(threading.enumerate())
    with LiveController(WRITTEN_EMOTION_CATEGORIES, emotion="Neutral", port=0) as controller:
        with Client(controller.address) as client:
            assert client.ask("GET") == "OK Neutral SIL"
            held = Client(controller.address)  # still connected at close()
            assert held.ask("PHO AA") == "OK PHO AA"
    held.close()
    assert set(threading.enumerate()) <= before


# --- run_live -------------------------------------------------------------------------------------

def test_run_live_records_frames_and_labels():
    controller = LiveController(WRITTEN_EMOTION_CATEGORIES, emotion="Happy", phoneme="M")
    run = run_live(fake_step, controller, frames=5, realtime=False)
    assert isinstance(run, LiveRun) and len(run) == 5
    np.testing.assert_array_equal(run.frames, [[HAPPY, M]] * 5)
    assert run.emotion_ids.tolist() == [HAPPY] * 5 and run.phoneme_ids.tolist() == [M] * 5
    assert run.emotion_ids.dtype == np.int64 and run.late_frames == 0 and not run.interrupted
    empty = run_live(fake_step, controller, frames=0, realtime=False)
    assert empty.frames.shape == (0, 0) and empty.emotion_ids.shape == (0,)


def test_a_client_changes_the_phoneme_mid_run(live):
    client = Client(live.address)
    seen = []

    def sink(index, frame):
        seen.append((index, frame.tolist()))
        if index == 10:
            version = live.version
            assert client.ask("PHO AA") == "OK PHO AA"
            assert live.wait_for_change(5.0, since=version)
        if index == 15:
            assert client.ask("EMO Sadness") == "OK EMO Sadness"

    try:
        run = run_live(fake_step, live, frames=25, realtime=False, sink=sink)
    finally:
        client.close()
    assert [i for i, _ in seen] == list(range(25))
    assert run.phoneme_ids.tolist() == [SIL] * 11 + [AA] * 14  # frame 10 was made before its sink sent PHO
    assert run.emotion_ids.tolist() == [NEUTRAL] * 16 + [SADNESS] * 9
    np.testing.assert_array_equal(run.frames, np.stack([run.emotion_ids, run.phoneme_ids], axis=1))
    assert [f for _, f in seen] == run.frames.tolist()


def test_sink_gets_read_only_copies():
    buffer = np.zeros(3)

    def step(emotion_id, phoneme_id):  # reuses one buffer, as a stateful model might
        buffer[0] += 1
        return buffer

    def sink(index, frame):
        with pytest.raises(ValueError):
            frame[0] = -1

    controller = LiveController(WRITTEN_EMOTION_CATEGORIES, emotion="Happy")
    run = run_live(step, controller, frames=3, realtime=False, sink=sink)
    assert run.frames[:, 0].tolist() == [1, 2, 3]


def test_keyboard_interrupt_keeps_what_was_generated():
    controller = LiveController(WRITTEN_EMOTION_CATEGORIES, emotion="Happy")

    def sink(index, frame):
        if index == 6:
            raise KeyboardInterrupt

    run = run_live(fake_step, controller, frames=None, realtime=False, sink=sink)
    assert run.interrupted and len(run) == 7 and run.phoneme_ids.shape == (7,)

    def step(emotion_id, phoneme_id):
        if step.calls == 3:
            raise KeyboardInterrupt
        step.calls += 1
        return fake_step(emotion_id, phoneme_id)

    step.calls = 0
    run = run_live(step, controller, frames=100, realtime=False)
    assert run.interrupted and run.frames.shape == (3, 2)


@pytest.mark.parametrize("kwargs", [{"frames": -1}, {"frames": 1.5}, {"fps": 0}, {"fps": float("nan")}])
def test_run_live_validation(kwargs):
    controller = LiveController(WRITTEN_EMOTION_CATEGORIES, emotion="Happy")
    with pytest.raises(ValueError):
        run_live(fake_step, controller, realtime=False, **{"frames": 3, **kwargs})


def test_step_shape_is_checked():
    controller = LiveController(WRITTEN_EMOTION_CATEGORIES, emotion="Happy")
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        run_live(lambda e, p: np.zeros((2, 2)), controller, frames=2, realtime=False)
    sizes = iter([3, 4])
    with pytest.raises(ValueError, match=r"earlier frames: \(3,\)"):
        run_live(lambda e, p: np.zeros(next(sizes)), controller, frames=2, realtime=False)


def test_realtime_pacing_lower_bound():
    controller = LiveController(WRITTEN_EMOTION_CATEGORIES, emotion="Happy")
    start = time.monotonic()
    run = run_live(fake_step, controller, frames=20, fps=200.0)
    elapsed = time.monotonic() - start
    assert len(run) == 20
    assert elapsed >= 19 / 200


class FakeTime:
    """A clock that moves only when slept on or advanced by hand; records the sleeps."""

    def __init__(self):
        self.t, self.sleeps = 1000.0, []

    def clock(self):
        return self.t

    def sleep(self, seconds):
        assert seconds > 0
        self.sleeps.append(seconds)
        self.t += seconds


def test_pacing_schedule_and_late_frames(caplog):
    fake, fps = FakeTime(), 64.0
    period = 1 / fps  # exact in binary, so the schedule has no rounding slack

    def step(emotion_id, phoneme_id):
        if len(calls) == 2:
            fake.t += 3 * period  # frame 2 stalls for three periods
        calls.append(fake.t)
        return fake_step(emotion_id, phoneme_id)

    calls = []
    controller = LiveController(WRITTEN_EMOTION_CATEGORIES, emotion="Happy")
    with caplog.at_level(logging.DEBUG, logger="zoo.evenet.live"):
        run = run_live(step, controller, frames=8, fps=fps, clock=fake.clock, sleep=fake.sleep)
    # frames 3 and 4 start 2 and 1 periods behind (late, not delayed); frame 5 is exactly on time again
    assert run.late_frames == 2
    assert fake.sleeps == [period] * 4  # before frames 1 and 2, then 6 and 7
    assert calls == [1000.0 + i * period for i in (0, 1, 5, 5, 5, 5, 6, 7)]
    assert fake.t == 1000.0 + 7 * period
    assert sum("late" in r.getMessage() for r in caplog.records) == 3  # frames 3 and 4, and the summary


def test_not_realtime_never_sleeps():
    fake = FakeTime()
    controller = LiveController(WRITTEN_EMOTION_CATEGORIES, emotion="Happy")
    run = run_live(fake_step, controller, frames=10, realtime=False, clock=fake.clock, sleep=fake.sleep)
    assert len(run) == 10 and fake.sleeps == [] and run.late_frames == 0


def test_module_does_not_import_tensorflow():
    code = "import sys, zoo.evenet.live; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "False"
    tree = ast.parse(inspect.getsource(live_module))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= {"__future__", "ipaddress", "logging", "math", "numbers", "socket", "socketserver",
                        "threading", "time", "collections", "dataclasses", "numpy", "zoo"}
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert not called & {"eval", "exec", "compile", "__import__"}
