import socket
import struct
import threading

import numpy as np
import pytest

from zoo.audio2face.rig import FACEGOOD_116_UE, FACEGOOD_TRAINED_37
from zoo.audio2face.udp import (
    DEFAULT_PORT,
    FRAME_BYTES,
    UdpSender,
    decode_frame,
    encode_control,
    encode_frame,
    parse_control,
)


class FakeTime:
    """A clock that only moves when slept on (or by ``step`` per reading); records the sleeps."""

    def __init__(self, t0=100.0, step=0.0):
        self.t, self.step, self.sleeps = t0, step, []

    def clock(self):
        self.t += self.step
        return self.t

    def sleep(self, seconds):
        assert seconds > 0
        self.sleeps.append(seconds)
        self.t += seconds


@pytest.fixture
def receiver():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5.0)
    yield sock
    sock.close()


def _receive(sock, n):
    return [sock.recvfrom(2048)[0] for _ in range(n)]


# --- frames -------------------------------------------------------------------------------------

def test_encode_decode_round_trip():
    values = np.linspace(-1, 2, 116)
    data = encode_frame(values)
    assert len(data) == FRAME_BYTES == 468 and data[-4:] == b"\0\0\0\0"
    assert struct.unpack("<116f", data[:464])[5] == pytest.approx(values[5])
    np.testing.assert_allclose(decode_frame(data), values.astype(np.float32))


def test_frame_validation():
    with pytest.raises(ValueError, match="116"):
        encode_frame(np.zeros(37))
    with pytest.raises(ValueError, match="NaN"):
        encode_frame(np.full(116, np.nan))
    with pytest.raises(ValueError, match="468"):
        decode_frame(b"\0" * 464)
    with pytest.raises(ValueError, match="trailer"):
        decode_frame(b"\0" * 464 + b"\0\0\0\1")


# --- control ------------------------------------------------------------------------------------

@pytest.mark.parametrize("length_counts_nul", [True, False])
def test_parse_control_both_length_conventions(length_counts_nul):
    assert parse_control(encode_control("start", length_counts_nul=length_counts_nul)) == "start"
    assert parse_control(encode_control("stop", length_counts_nul=length_counts_nul)) == "stop"
    assert encode_control("start") == b"\x02\x00\x00\x001\x00"
    assert parse_control(b"\x01\x00\x00\x002\x00") == "stop"


@pytest.mark.parametrize("message, match", [
    (b"\x02\x00\x00", "too short"),
    (b"\x02\x00\x00\x001\x01", "NUL"),
    (b"\x05\x00\x00\x001\x00", "length field 5"),
    (b"\x02\x00\x00\x003\x00", "unknown control payload"),
    (b"\x03\x00\x00\x0012\x00", "unknown control payload"),
    (b"\x01\x00\x00\x00\x00", "unknown control payload"),
])
def test_parse_control_rejects(message, match):
    with pytest.raises(ValueError, match=match):
        parse_control(message)


# --- sender -------------------------------------------------------------------------------------

def test_play_over_loopback(receiver):
    port = receiver.getsockname()[1]
    names = ["mouth_stretch_c", "mouth_funnel_ul", "tooth_l"]
    frames = np.array([[0.25, 0.5, 0.0], [1.5, -0.2, 0.75], [0.0, 1.0, 0.1], [0.6, 0.3, 0.9]])
    fake = FakeTime()
    with UdpSender(port=port, fps=30.0) as sender:
        stats = sender.play(frames, names, clock=fake.clock, sleep=fake.sleep)
    assert sender.closed
    assert stats.frames_sent == 4 and not stats.stopped
    got = _receive(receiver, 4)
    slots = [FACEGOOD_116_UE.index(n) for n in names]
    for data, row in zip(got, frames):
        assert len(data) == 468 and data[-4:] == b"\0\0\0\0"
        values = decode_frame(data)
        np.testing.assert_allclose(values[slots], np.clip(row, 0, 1).astype(np.float32))
        others = np.delete(values, slots)
        assert not others.any()
    assert decode_frame(got[0])[FACEGOOD_116_UE.index("mouth_stretch_c")] == pytest.approx(0.25)
    assert decode_frame(got[1])[FACEGOOD_116_UE.index("mouth_stretch_c")] == 1.0  # clipped


def test_send_unclipped_and_name_file(receiver, tmp_path):
    port = receiver.getsockname()[1]
    order = list(reversed(FACEGOOD_116_UE))
    name_file = tmp_path / "names.txt"
    name_file.write_text("116\n" + "\n".join(order) + "\n")
    with UdpSender(port=port, names=name_file, clip=False) as sender:
        assert sender.send([1.5, -0.5], ["mouth_stretch_c", "brow_lower_l"]) == 468
    values = decode_frame(_receive(receiver, 1)[0])
    assert values[order.index("mouth_stretch_c")] == 1.5 and values[order.index("brow_lower_l")] == -0.5
    assert values[115] == -0.5  # brow_lower_l is UE slot 0, here reversed


def test_pacing_follows_schedule(receiver):
    port = receiver.getsockname()[1]
    frames = np.zeros((5, 37))
    fake = FakeTime(t0=10.0)
    with UdpSender(port=port, fps=25.0) as sender:
        stats = sender.play(frames, FACEGOOD_TRAINED_37, clock=fake.clock, sleep=fake.sleep)
    assert stats.frames_sent == 5 and stats.max_lateness_s == 0.0
    np.testing.assert_allclose(fake.sleeps, [1 / 25] * 4)  # frame 0 at start, then every 1/fps
    fake = FakeTime(t0=10.0)
    with UdpSender(port=port, fps=30.0) as sender:
        sender.play(frames[:3], FACEGOOD_TRAINED_37, start_time=10.5, clock=fake.clock, sleep=fake.sleep)
    np.testing.assert_allclose(fake.sleeps, [0.5, 1 / 30, 1 / 30])
    assert fake.t == pytest.approx(10.5 + 2 / 30)
    _receive(receiver, 8)


def test_late_frames_go_out_without_sleeping(receiver):
    port = receiver.getsockname()[1]
    fake = FakeTime(t0=0.0, step=0.05)  # each clock reading costs 50 ms: slower than 30 fps
    with UdpSender(port=port, fps=30.0) as sender:
        stats = sender.play(np.zeros((4, 1)), ["jaw_sideways_l"], start_time=0.0,
                            clock=fake.clock, sleep=fake.sleep)
    assert fake.sleeps == [] and stats.frames_sent == 4
    # frame f is read at t = 0.05 (f + 1) and due at f / 30
    assert stats.max_lateness_s == pytest.approx(0.2 - 3 / 30)
    assert len(_receive(receiver, 4)) == 4


def test_stop_event_ends_playback(receiver):
    port = receiver.getsockname()[1]
    stop = threading.Event()
    fake = FakeTime()

    def sleep(seconds):
        fake.sleep(seconds)
        if len(fake.sleeps) == 2:
            stop.set()

    with UdpSender(port=port) as sender:
        stats = sender.play(np.zeros((10, 1)), ["tooth_l"], clock=fake.clock, sleep=sleep, stop=stop)
    assert stats.stopped and stats.frames_sent == 2
    assert len(_receive(receiver, 2)) == 2


def test_bad_names_and_shapes_raise_before_sending(receiver):
    port = receiver.getsockname()[1]
    receiver.settimeout(0.05)
    fake = FakeTime()
    with UdpSender(port=port) as sender:
        with pytest.raises(ValueError, match="not in the UDP rig.*jawOpen"):
            sender.play(np.zeros((3, 2)), ["mouth_stretch_c", "jawOpen"], clock=fake.clock, sleep=fake.sleep)
        with pytest.raises(ValueError, match="not in the UDP rig"):
            sender.send([0.1], ["nope"])
        with pytest.raises(ValueError, match="duplicate"):
            sender.send([0.1, 0.2], ["tooth_l", "tooth_l"])
        with pytest.raises(ValueError, match="shape"):
            sender.play(np.zeros((3, 2)), ["tooth_l"], clock=fake.clock, sleep=fake.sleep)
        with pytest.raises(ValueError, match="NaN"):
            sender.play(np.array([[0.1], [np.nan]]), ["tooth_l"], clock=fake.clock, sleep=fake.sleep)
    with pytest.raises(TimeoutError):
        receiver.recvfrom(2048)  # nothing was sent
    with pytest.raises(RuntimeError, match="closed"):
        sender.send([0.1], ["tooth_l"])


def test_constructor_validation():
    assert DEFAULT_PORT == 43014
    with pytest.raises(ValueError, match="116"):
        UdpSender(names=FACEGOOD_TRAINED_37)
    with pytest.raises(ValueError, match="fps"):
        UdpSender(fps=0)
    sender = UdpSender()
    assert sender.address == ("127.0.0.1", 43014) and sender.names == FACEGOOD_116_UE
    sender.close()
    sender.close()
