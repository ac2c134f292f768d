"""Prediction: frame counts, output formats, emotion control, streaming = batch, the CLI, bad audio."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from zoo.audio2face import Animation, Predictor
from zoo.audio2face import features as feats
from zoo.datasets import ARKIT_52, load_audio


@pytest.fixture(scope="module")
def predictor(tiny_model):
    return Predictor.load(tiny_model[0])


@pytest.fixture(scope="module")
def speech(synthetic_facegood):
    wav = sorted((synthetic_facegood / "wav").glob("*.wav"))[0]
    audio, rate = load_audio(wav)
    return wav, audio, rate


def test_frame_count_rule_and_names(predictor, speech):
    wav, audio, rate = speech
    anim = predictor.predict(wav)
    assert anim.values.shape == (len(audio) * 30 // 16000, len(predictor.names))
    assert anim.names == predictor.names and anim.fps == 30
    assert anim.values.std(axis=0).mean() > 1e-4  # the curves move (a collapsed model would make tests vacuous)


def test_44k1_stereo_file_gives_the_16k_frame_count(predictor, speech, tmp_path):
    _, audio, _ = speech
    from zoo.datasets import resample

    a44 = resample(audio, 16000, 44100)
    stereo = np.stack([a44, 0.5 * a44], axis=1)
    path = tmp_path / "stereo.wav"
    sf.write(path, stereo, 44100, subtype="PCM_16")
    anim = predictor.predict(path)
    assert abs(len(anim.values) - len(a44) * 30 // 44100) <= 1
    mono16 = predictor.predict(audio, 16000)
    n = min(len(anim.values), len(mono16.values))
    # same speech at another rate and layout: the curves agree closely
    assert np.corrcoef(anim.values[:n].ravel(), mono16.values[:n].ravel())[0, 1] > 0.95


def test_audio_shorter_than_one_frame_is_refused(predictor, tmp_path):
    path = tmp_path / "blip.wav"
    sf.write(path, np.full(400, 0.1), 16000, subtype="PCM_16")
    with pytest.raises(ValueError, match="blip.wav.*shorter than one 30 fps frame"):
        predictor.predict(path)


@pytest.mark.parametrize("suffix", [".csv", ".npy", ".json"])
def test_output_formats_round_trip(predictor, speech, tmp_path, suffix):
    anim = predictor.predict(speech[0])
    path = anim.write(tmp_path / f"out{suffix}")
    back = Animation.read(path)
    assert back.names == anim.names and back.fps == pytest.approx(30)
    np.testing.assert_allclose(back.values, anim.values, atol=1e-5)


def test_npy_output_is_a_structured_array_without_pickle(predictor, speech, tmp_path):
    anim = predictor.predict(speech[0])
    table = np.load(anim.write(tmp_path / "o.npy"), allow_pickle=False)
    assert table.dtype.names == anim.names
    np.testing.assert_array_equal(table["jawOpen"], anim.values[:, anim.names.index("jawOpen")])


def test_arkit_clip_and_smooth(predictor, speech):
    anim = predictor.predict(speech[0])
    ark = anim.to_arkit()
    assert ark.names == ARKIT_52 and ark.values.shape == (len(anim.values), 52)
    np.testing.assert_array_equal(ark.values[:, ARKIT_52.index("jawOpen")], anim.values[:, anim.names.index("jawOpen")])
    clipped = predictor.predict(speech[0], clip=True)
    assert clipped.values.min() >= 0 and clipped.values.max() <= 1
    smooth = anim.smoothed(5)
    assert np.abs(np.diff(smooth.values, axis=0)).mean() < np.abs(np.diff(anim.values, axis=0)).mean()


def test_emotion_controls(predictor, speech):
    _, audio, _ = speech
    n = len(audio) * 30 // 16000
    db = predictor.database
    mean = predictor.emotion_vectors(None, n)
    np.testing.assert_allclose(mean[0], db.mean(axis=0), rtol=1e-6)
    np.testing.assert_array_equal(predictor.emotion_vectors(3, n)[5], db[3])
    keys = predictor.emotion_vectors([(0.0, 0), (1.0, 1)], n)
    np.testing.assert_allclose(keys[15], 0.5 * (db[0] + db[1]), rtol=1e-5)  # t = 0.5 s
    np.testing.assert_allclose(keys[-1], db[1], rtol=1e-6)  # held after the last key
    a = predictor.predict(audio, 16000, emotion=0).values
    b = predictor.predict(audio, 16000, emotion=np.full(4, 3.0, np.float32)).values
    assert np.abs(a - b).max() > 1e-4
    with pytest.raises(ValueError, match="outside the database"):
        predictor.emotion_vectors(10**6, n)
    with pytest.raises(ValueError, match="emotion must be"):
        predictor.emotion_vectors(np.zeros(7), n)


@pytest.mark.parametrize("chunk", [1000, 533, 4096])
def test_streaming_equals_batch(predictor, speech, chunk):
    _, audio, _ = speech
    audio = audio[: 3 * 16000]
    batch = predictor.predict(audio, 16000).values
    streamer = predictor.streamer()
    got, first_ready = [], None
    for start in range(0, len(audio), chunk):
        frames = streamer.push(audio[start:start + chunk])
        if frames and first_ready is None:
            first_ready = start + chunk
        got += frames
    got += streamer.finish()
    assert [i for i, _ in got] == list(range(len(batch)))
    np.testing.assert_allclose(np.stack([v for _, v in got]), batch, atol=1e-5)
    # frame 0 (t = 0) needs 260 ms of audio: the algorithmic lookahead
    assert first_ready >= feats.LOOKAHEAD and streamer.lookahead_seconds == pytest.approx(0.26)


def test_cli_predict_writes_curves_plot_and_arkit(tiny_model, speech, tmp_path):
    from zoo.cli import main

    out, png = tmp_path / "curves.csv", tmp_path / "curves.png"
    assert main(["audio2face", "predict", "--model", str(tiny_model[0]), "--audio", str(speech[0]),
                 "--out", str(out), "--arkit", "--clip", "--plot", str(png)]) == 0
    header = out.read_text().splitlines()[0].split(",")
    assert header == ["time", *ARKIT_52]
    assert png.stat().st_size > 5000
    assert main(["audio2face", "predict", "--model", str(tiny_model[0]), "--audio", str(speech[0]),
                 "--out", str(tmp_path / "x.txt")]) == 2


def test_cli_predict_sends_udp_frames(tiny_model, speech, tmp_path):
    import socket
    import threading

    from zoo.audio2face.udp import decode_frame
    from zoo.cli import main

    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    port = receiver.getsockname()[1]
    audio, _ = load_audio(speech[0])
    short = tmp_path / "short.wav"
    sf.write(short, audio[:8000], 16000, subtype="PCM_16")  # 0.5 s = 15 frames
    names = tmp_path / "receiver_names.txt"  # a receiver rig of 116 slots that holds the ARKit names
    names.write_text("116\n" + "\n".join([*ARKIT_52, *(f"unused_{i}" for i in range(64))]) + "\n")
    got = []

    def listen():
        try:
            while len(got) < 15:
                got.append(receiver.recv(1024))
        except OSError:
            pass

    thread = threading.Thread(target=listen)
    thread.start()
    assert main(["audio2face", "predict", "--model", str(tiny_model[0]), "--audio", str(short),
                 "--out", str(tmp_path / "o.json"), "--udp", f"127.0.0.1:{port}", "--udp-names", str(names)]) == 0
    thread.join(10)
    receiver.close()
    assert len(got) == 15 and all(len(g) == 468 for g in got)
    frames = json.loads((tmp_path / "o.json").read_text())["frames"]
    assert len(frames) == 15
    jaw = json.loads((tmp_path / "o.json").read_text())["names"].index("jawOpen")
    expected = np.clip([f[jaw] for f in frames], 0, 1)
    np.testing.assert_allclose([decode_frame(g)[ARKIT_52.index("jawOpen")] for g in got], expected, atol=1e-5)
