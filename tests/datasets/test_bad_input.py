"""The bad-input matrix: each case gives one error of the right type naming the file and the cause."""
from __future__ import annotations

import os
import pickle
import struct

import numpy as np
import pytest
import soundfile as sf

from zoo.datasets import (
    AudioError,
    DataError,
    FrameCountError,
    LabelError,
    UnsafePickleError,
    load_audio,
    load_npy,
    load_pickle,
    read_facegood,
)


def _assert_names(exc: DataError, path, *cause_words):
    message = str(exc)
    assert os.fspath(path) in message, f"message does not name the file: {message}"
    for word in cause_words:
        assert word in message.lower(), f"message does not give the cause {word!r}: {message}"


# ---------------------------------------------------------------- load_audio


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioError) as e:
        load_audio(path)
    _assert_names(e.value, path, "empty")


def test_missing_audio_file(tmp_path):
    path = tmp_path / "absent.wav"
    with pytest.raises(AudioError) as e:
        load_audio(path)
    _assert_names(e.value, path, "not found")


def test_truncated_wav(write_wav, tone):
    path = write_wav("cut.wav", tone(1.0))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a download cut in half: header still claims 1 s
    with pytest.raises(AudioError) as e:
        load_audio(path)
    _assert_names(e.value, path, "truncated", str(16000 * 2))


def test_text_file_named_wav(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("these are my meeting notes, not audio\n" * 20)
    with pytest.raises(AudioError) as e:
        load_audio(path)
    _assert_names(e.value, path, "not a readable audio file")


def test_zero_length_audio(write_wav):
    path = write_wav("zero.wav", np.zeros(0))
    assert path.stat().st_size > 0  # a valid header with no samples
    with pytest.raises(AudioError) as e:
        load_audio(path)
    _assert_names(e.value, path, "no audio samples")


def test_nan_samples_in_float_wav(write_wav, tone):
    x = tone(0.5)
    x[1234] = np.nan
    path = write_wav("nan.wav", x, subtype="FLOAT")
    with pytest.raises(AudioError) as e:
        load_audio(path)
    _assert_names(e.value, path, "non-finite", "1234")


def test_silent_only_audio(write_wav):
    path = write_wav("silence.wav", np.zeros(16000))
    with pytest.raises(AudioError) as e:
        load_audio(path)
    _assert_names(e.value, path, "silent")
    audio, _ = load_audio(path, allow_silence=True)
    assert audio.shape == (16000,) and not audio.any()


def test_directory_instead_of_file(tmp_path):
    folder = tmp_path / "clip.wav"
    folder.mkdir()
    with pytest.raises(AudioError) as e:
        load_audio(folder)
    _assert_names(e.value, folder, "not a regular file")


# ---------------------------------------------------------------- restricted loader


class _Exploit:
    """Unpickling this would create a marker file: proof that code ran."""

    marker = None

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    _Exploit.marker = marker
    path = tmp_path / "data.pkl"
    path.write_bytes(pickle.dumps({"audio": [1, 2, 3], "x": _Exploit()}))
    with pytest.raises(UnsafePickleError) as e:
        load_pickle(path)
    _assert_names(e.value, path, "refused", "io.open")
    assert not marker.exists()


def test_os_system_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned2"
    payload = b"cos\nsystem\n(V" + f"touch {marker}".encode() + b"\ntR."  # protocol 0: os.system("touch …")
    path = tmp_path / "templates.pkl"
    path.write_bytes(payload)
    with pytest.raises(UnsafePickleError) as e:
        load_pickle(path)
    _assert_names(e.value, path, "os.system")
    assert not marker.exists()


def test_malicious_object_npy_is_refused(tmp_path):
    marker = tmp_path / "pwned3"
    _Exploit.marker = marker
    path = tmp_path / "names.npy"
    np.save(path, np.array([_Exploit(), "jaw"], dtype=object), allow_pickle=True)
    with pytest.raises(UnsafePickleError) as e:
        load_npy(path)
    _assert_names(e.value, path, "refused")
    assert not marker.exists()


def test_truncated_pickle(tmp_path):
    path = tmp_path / "cut.pkl"
    path.write_bytes(pickle.dumps({"verts": np.arange(1000.0)})[:300])
    with pytest.raises(DataError) as e:
        load_pickle(path)
    _assert_names(e.value, path, "corrupt or truncated pickle")


def test_not_an_npy_file(tmp_path):
    path = tmp_path / "bs_name.npy"
    path.write_text("jawOpen\nmouthClose\n")
    with pytest.raises(DataError) as e:
        load_npy(path)
    _assert_names(e.value, path, "not a valid .npy")


def test_truncated_npy(tmp_path):
    path = tmp_path / "values.npy"
    np.save(path, np.ones((100, 8)))
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(DataError) as e:
        load_npy(path)
    _assert_names(e.value, path, "corrupt or truncated")


# ---------------------------------------------------------------- FACEGOOD reader


def test_missing_label_file(facegood_layout):
    root = facegood_layout(ids=("a",))
    (root / "wav" / "b.wav").write_bytes((root / "wav" / "a.wav").read_bytes())
    with pytest.raises(LabelError) as e:
        read_facegood(root, clip_ids=["a", "b"])
    _assert_names(e.value, root / "bs_value" / "bs_value_b.npy", "label file not found")


def test_label_rows_differ_from_frames(facegood_layout):
    root = facegood_layout(seconds=1.0, rows=27)  # 1.0 s at 30 fps is 30 frames
    with pytest.raises(FrameCountError) as e:
        read_facegood(root)
    _assert_names(e.value, root / "bs_value" / "bs_value_a.npy", "27", "30", "trim")
    assert (e.value.label_frames, e.value.expected_frames) == (27, 30)


def test_names_differ_from_columns(facegood_layout):
    root = facegood_layout(names=("jaw", "lip", "brow"))
    np.save(root / "BS_name.npy", np.array(["jaw", "lip"]))
    with pytest.raises(LabelError) as e:
        read_facegood(root)
    _assert_names(e.value, root / "bs_value" / "bs_value_a.npy", "3 label columns", "2 names")


def test_nan_in_labels(facegood_layout):
    root = facegood_layout()
    path = root / "bs_value" / "bs_value_a.npy"
    labels = np.load(path)
    labels[7, 1] = np.nan
    np.save(path, labels)
    with pytest.raises(LabelError) as e:
        read_facegood(root)
    _assert_names(e.value, path, "non-finite", "frame 7", "'lip'")


def test_label_file_wrong_rank(facegood_layout):
    root = facegood_layout()
    path = root / "bs_value" / "bs_value_a.npy"
    np.save(path, np.zeros(90))
    with pytest.raises(LabelError) as e:
        read_facegood(root)
    _assert_names(e.value, path, "(frames, channels)")


def test_label_without_audio(facegood_layout):
    root = facegood_layout(ids=("a",))
    np.save(root / "bs_value" / "bs_value_c.npy", np.zeros((30, 3)))
    with pytest.raises(DataError) as e:
        read_facegood(root)
    _assert_names(e.value, root / "wav" / "c.wav", "audio file", "not found")


def test_ambiguous_name_files(facegood_layout):
    root = facegood_layout()
    (root / "BS_name.npy").rename(root / "x_1015_bs_name.npy")
    np.save(root / "x_1119_bs_name.npy", np.array(["lip", "jaw", "brow"]))
    with pytest.raises(LabelError) as e:
        read_facegood(root)
    _assert_names(e.value, root, "several name files")


def test_missing_wav_folder(facegood_layout):
    root = facegood_layout()
    for p in (root / "wav").iterdir():
        p.unlink()
    (root / "wav").rmdir()
    with pytest.raises(DataError) as e:
        read_facegood(root)
    _assert_names(e.value, root / "wav", "missing folder")


# ---------------------------------------------------------------- formats that must work


@pytest.mark.parametrize("subtype, tol", [("PCM_U8", 1 / 128), ("PCM_24", 1 / 2**23), ("PCM_32", 1e-7), ("DOUBLE", 0)])
def test_pcm_depths_are_read_to_float(write_wav, tone, subtype, tol):
    x = tone(0.25, amp=0.6)
    path = write_wav(f"{subtype}.wav", x, subtype=subtype)
    audio, rate = load_audio(path)
    assert audio.dtype == np.float32 and rate == 16000
    assert np.abs(audio - x).max() <= tol + 1e-7


def test_44k1_stereo_is_downmixed_and_resampled(write_wav, tone):
    x = tone(1.0, rate=44100, freq=440.0, channels=2)  # channel 1 at half the level of channel 2
    path = write_wav("stereo44.wav", x, rate=44100)
    audio, rate = load_audio(path, sample_rate=16000)
    assert rate == 16000 and audio.ndim == 1
    assert abs(audio.size - 16000) <= 1
    expected = 0.75 * 0.5 * np.sin(2 * np.pi * 440.0 * np.arange(audio.size) / 16000)  # mean of the channels
    assert np.abs(audio[200:-200] - expected[200:-200]).max() < 2e-3


def test_flac_and_ogg_read(tmp_path, tone):
    x = tone(0.5)
    for fmt, tol in (("flac", 1 / 2**15), ("ogg", 0.05)):
        path = tmp_path / f"clip.{fmt}"
        sf.write(str(path), x, 16000, format=fmt.upper())
        audio, rate = load_audio(path)
        assert rate == 16000 and abs(audio.size - x.size) <= 1024
        n = min(audio.size, x.size)
        assert np.abs(audio[:n] - x[:n]).max() < tol + 1e-4


def test_streaming_writer_placeholder_size_is_accepted(write_wav, tone):
    path = write_wav("stream.wav", tone(0.5))
    data = bytearray(path.read_bytes())
    at = data.index(b"data")
    data[at + 4: at + 8] = struct.pack("<I", 0xFFFFFFFF)  # size unknown when the stream started
    path.write_bytes(bytes(data))
    audio, _ = load_audio(path)
    assert audio.size == 8000
