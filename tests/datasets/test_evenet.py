import json

import numpy as np
import pytest

from zoo.datasets import LabelError
from zoo.datasets.evenet import (
    PHONEME_CATEGORIES,
    default_reader_config,
    frames_to_segments,
    ipa_to_category,
    phoneme_frames,
    read_evenet,
    write_evenet_take,
)


def test_phoneme_categories_match_the_original():
    assert len(PHONEME_CATEGORIES) == 56 and PHONEME_CATEGORIES.index("SIL") == 47
    assert PHONEME_CATEGORIES[:3] == ("AA", "AE", "AH") and PHONEME_CATEGORIES[-4:] == ("b", "i", "e", "s")


@pytest.mark.parametrize("ipa, category", [
    ("ˈɑːɹ", "AA"), ("ə", "AX"), ("oʊ", "OW"), ("tʃ", "CH"), ("dʒ", "JH"), ("ŋ", "NG"), ("ɡ", "G"), ("ð", "DH"),
    ("θ", "TH"), ("ˌɪ", "IH"), ("iː", "IY"), ("uː", "UW"), ("_", "SIL"), ("", "SIL"), ("ʘ", "SIL"), ("n̩", "N"),
])
def test_ipa_mapping(ipa, category):
    assert ipa_to_category(ipa) == category


def test_frames_and_segments_round_trip():
    phonemes = [(0.1, 0.2, "m"), (0.2, 0.35, "ɑː"), (0.5, 0.6, "p")]
    labels = phoneme_frames(phonemes, 48, 48.0)
    assert labels[0] == "SIL" and labels[5] == "M" and labels[10] == "AA" and labels[20] == "SIL"
    assert labels[24] == "P"
    segments = frames_to_segments(labels, 48.0)
    assert [s[2] for s in segments] == ["M", "AA", "P"]
    assert segments[1][0] == pytest.approx(10 / 48) and segments[1][1] == pytest.approx(17 / 48)


def _take(tmp_path, frames=24, names=("jawOpen", "mouthClose")):
    values = np.linspace(0, 1, frames * len(names)).reshape(frames, len(names))
    pho = ["SIL"] * 4 + ["M"] * 8 + ["AA"] * (frames - 12)
    write_evenet_take(tmp_path, "take01", values, pho, ["Happy"] * frames)
    (tmp_path / "reader_config.json").write_text(json.dumps(default_reader_config(names)))
    return values


def test_write_then_read(tmp_path, write_wav, tone):
    values = _take(tmp_path)
    write_wav("take01.wav", tone(0.5, rate=16000))  # 0.5 s at 48 fps = 24 frames
    (clip,) = read_evenet(tmp_path)
    assert clip.target_kind == "shape_keys" and clip.fps == 48.0 and clip.emotion == "happy"
    assert clip.channel_names == ("jawOpen", "mouthClose") and clip.has_audio
    np.testing.assert_allclose(clip.targets, values, atol=1e-6)
    assert [p[2] for p in clip.phonemes] == ["M", "AA"]


def test_original_style_take_without_audio_or_names(tmp_path):
    (tmp_path / "t.dat").write_text("0.1,0.2,0.3\n0.4,0.5,0.6\n")
    (tmp_path / "t.pho").write_text("SIL\nB\n")
    (tmp_path / "t.emo").write_text("Anger\nAnger\n")
    (clip,) = read_evenet(tmp_path)
    assert not clip.has_audio and clip.channel_names == ("key0", "key1", "key2") and clip.emotion == "angry"


@pytest.mark.parametrize("damage, cause", [
    (lambda d: (d / "take01.pho").write_text("SIL\n" * 3), "3 phoneme lines but take01.dat has 24 frames"),
    (lambda d: (d / "take01.emo").unlink(), "emotion file not found"),
    (lambda d: (d / "take01.pho").write_text("XX\n" * 24), "unknown phoneme labels"),
    (lambda d: (d / "take01.emo").write_text("Bored\n" * 24), "unknown emotion labels"),
    (lambda d: (d / "take01.dat").write_text("0.1,zz\n" * 24), "malformed csv"),
    (lambda d: (d / "reader_config.json").write_text("{"), "invalid json"),
])
def test_bad_takes(tmp_path, damage, cause):
    _take(tmp_path)
    damage(tmp_path)
    with pytest.raises(Exception) as e:
        read_evenet(tmp_path)
    assert str(tmp_path) in str(e.value) and cause in str(e.value).lower()
    assert isinstance(e.value, ValueError)


def test_writer_refuses_unknown_labels(tmp_path):
    with pytest.raises(ValueError, match="outside the EveNet categories"):
        write_evenet_take(tmp_path, "x", np.zeros((2, 1)), ["SIL", "QQ"], ["Happy", "Happy"])
    assert not list(tmp_path.iterdir())


def test_names_must_match_columns(tmp_path):
    _take(tmp_path)
    with pytest.raises(LabelError, match="2 columns but 3 shape-key names"):
        read_evenet(tmp_path, data_names=["a", "b", "c"])
