import hashlib

import numpy as np
import pytest

from zoo.datasets import DataError
from zoo.datasets.ravdess import RAVDESS_FPS, RavdessName, parse_ravdess_name, read_ravdess
from zoo.datasets.video import read_video, read_video_audio, write_video


def test_name_round_trip():
    name = parse_ravdess_name("Actor_05/03-01-06-02-01-02-05.wav")
    assert name == RavdessName("audio", "speech", "fearful", "strong", 1, 2, 5)
    assert name.stem == "03-01-06-02-01-02-05" and name.subject == "Actor_05"
    assert name.text == "Kids are talking by the door"
    assert name.with_modality("audio-video").stem == "01-01-06-02-01-02-05"


@pytest.mark.parametrize("filename, cause", [
    ("03-01-09-01-01-01-01.wav", "emotion code 09"),
    ("04-01-01-01-01-01-01.wav", "modality code 04"),
    ("03-01-01-02-01-01-01.wav", "neutral has no strong"),
    ("03-01-01-01-03-01-01.wav", "statement 3"),
    ("kids_talking.wav", "not a ravdess name"),
    ("03-01-01-01-01-01.wav", "seven two-digit fields"),
])
def test_bad_names(filename, cause):
    with pytest.raises(DataError) as e:
        parse_ravdess_name(filename)
    assert filename in str(e.value) and cause in str(e.value).lower()


def _frames(t=30, size=64):
    frames = np.zeros((t, size, size, 3), np.uint8)
    for i in range(t):
        frames[i, 10:50, 10 + i:20 + i] = (200, 120, 90)
    return frames


def test_video_round_trip_is_reproducible(tmp_path, tone):
    audio = tone(1.0, rate=48000).astype(np.float32)
    frames = _frames()
    a = write_video(tmp_path / "a.mp4", frames, RAVDESS_FPS, audio=audio, sample_rate=48000)
    b = write_video(tmp_path / "b.mp4", frames, RAVDESS_FPS, audio=audio, sample_rate=48000)
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    decoded, fps = read_video(a)
    assert decoded.shape == frames.shape and fps == pytest.approx(29.97, abs=0.01)
    assert np.abs(decoded.astype(int) - frames).mean() < 3  # H.264 at CRF 18
    sound = read_video_audio(a, 48000)
    assert abs(sound.size - audio.size) < 2048  # AAC frames pad the end
    seg = sound[5000:9000]
    lag = min(range(-2000, 2000), key=lambda k: np.abs(seg - audio[5000 + k:9000 + k]).mean())  # encoder delay
    assert np.abs(sound[5000:40000] - audio[5000 + lag:40000 + lag]).max() < 0.05
    silent = write_video(tmp_path / "c.mp4", frames, RAVDESS_FPS)
    with pytest.raises(DataError, match="cannot read audio"):
        read_video_audio(silent, 48000)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_read_ravdess_layout(tmp_path, write_wav, tone):
    for emotion_code, actor in (("03", 1), ("04", 2)):
        stem = f"01-{emotion_code}-02-01-01-{actor:02d}"
        write_wav(f"audio/Actor_{actor:02d}/03-{stem}.wav", tone(1.0, rate=48000), rate=48000)
        write_video(tmp_path / f"video/Actor_{actor:02d}/01-{stem}.mp4", _frames(29), RAVDESS_FPS)
    clips = read_ravdess(tmp_path)
    assert [(c.subject, c.emotion, c.intensity) for c in clips] == [("Actor_01", "happy", "strong"),
                                                                     ("Actor_02", "sad", "strong")]
    assert clips[0].num_frames == 29 and clips[0].targets.shape == (29, 0) and clips[0].sample_rate == 48000

    def brightness(video, name):
        frames, _ = read_video(video)
        return frames.mean(axis=(1, 2, 3))[:, None], ("brightness",), "landmarks2d"

    clips = read_ravdess(tmp_path, targets=brightness, sample_rate=16000)
    assert clips[1].targets.shape == (29, 1) and clips[1].sample_rate == 16000
    (tmp_path / "video" / "Actor_02" / "01-01-04-02-01-01-02.mp4").unlink()
    with pytest.raises(DataError, match="no audio-video file 01-01-04-02-01-01-02.mp4"):
        read_ravdess(tmp_path, targets=brightness)


def test_read_ravdess_stems_opens_only_those(tmp_path, write_wav, tone):
    write_wav("Actor_01/03-01-03-02-01-01-01.wav", tone(0.5, rate=48000), rate=48000)
    (tmp_path / "Actor_02").mkdir()
    (tmp_path / "Actor_02" / "03-01-04-02-01-01-02.wav").write_text("held out: never opened\n")
    [clip] = read_ravdess(tmp_path, stems=["03-01-03-02-01-01-01"])
    assert clip.subject == "Actor_01"
    with pytest.raises(DataError, match="not a|cannot|unreadable|audio"):
        read_ravdess(tmp_path)
    with pytest.raises(DataError, match="03-01-05-02-01-01-01"):
        read_ravdess(tmp_path, stems=["03-01-05-02-01-01-01"])
