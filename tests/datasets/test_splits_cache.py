import numpy as np
import pytest

from zoo.datasets import Clip, FeatureCache, split_by_clip, split_by_name, split_by_subject


def _clip(k, subject="s0"):
    audio = np.sin(np.arange(1600) * (k + 1) / 50).astype(np.float32) * 0.5
    return Clip(audio=audio, sample_rate=16000, targets=np.zeros((3, 1)), fps=30, target_kind="blendshapes",
                channel_names=("c",), subject=subject, source=f"clip{k}.wav")


def test_split_by_clip_is_disjoint_and_deterministic():
    clips = [_clip(k) for k in range(20)]
    split = split_by_clip(clips, val=0.1, test=0.2, seed=7)
    assert (len(split.train), len(split.val), len(split.test)) == (14, 2, 4)
    ids = [[c.source for c in part] for part in split]
    assert len(set(sum(ids, []))) == 20
    assert [[c.source for c in part] for part in split_by_clip(clips, val=0.1, test=0.2, seed=7)] == ids
    assert [[c.source for c in part] for part in split_by_clip(clips, val=0.1, test=0.2, seed=8)] != ids
    small = split_by_clip(clips[:3], val=0.1, test=0.1)
    assert (len(small.train), len(small.val), len(small.test)) == (1, 1, 1)
    with pytest.raises(ValueError):
        split_by_clip(clips[:2], val=0.1, test=0.1)


def test_split_by_name_holds_out_the_named_clips():
    clips = [_clip(k) for k in range(5)]
    split = split_by_name(clips, val_names=["clip3"], test_names=["clip0"])
    assert [c.name for c in split.train] == ["clip1", "clip2", "clip4"]
    assert [c.name for c in split.val] == ["clip3"] and [c.name for c in split.test] == ["clip0"]
    with pytest.raises(ValueError, match="validation clips \\['nope'\\] are not in the data \\(5 clips\\)"):
        split_by_name(clips, val_names=["nope"])
    with pytest.raises(ValueError, match="both validation and test"):
        split_by_name(clips, val_names=["clip1"], test_names=["clip1"])
    with pytest.raises(ValueError, match="no clip is left for training"):
        split_by_name(clips[:1], val_names=["clip0"])


def test_split_by_subject_holds_out_whole_subjects():
    clips = [_clip(k, subject=f"s{k % 4}") for k in range(12)]
    split = split_by_subject(clips, val_subjects=["s1"], test_subjects=["s2"])
    assert {c.subject for c in split.train} == {"s0", "s3"}
    assert {c.subject for c in split.val} == {"s1"} and len(split.test) == 3
    with pytest.raises(ValueError, match="unknown subjects"):
        split_by_subject(clips, val_subjects=["s9"])
    with pytest.raises(ValueError, match="both"):
        split_by_subject(clips, val_subjects=["s1"], test_subjects=["s1"])


def test_feature_cache_hits_misses_and_recovers(tmp_path):
    calls = []

    def features(clip):
        calls.append(clip.source)
        return np.abs(clip.audio[:100]) * 2

    cache = FeatureCache(tmp_path, {"feature": "lpc", "order": 32})
    clip = _clip(1)
    first = cache.get_or_compute(clip, features)
    again = cache.get_or_compute(clip.replace(source="elsewhere.wav"), features)  # same audio: a hit
    np.testing.assert_array_equal(first, again)
    assert calls == ["clip1.wav"]
    assert (cache.folder / "config.json").is_file()
    assert not [p for p in cache.folder.iterdir() if p.name.startswith(".")]  # no temporary leftovers

    other = FeatureCache(tmp_path, {"feature": "lpc", "order": 16})
    assert other.folder != cache.folder
    other.get_or_compute(clip, features)
    assert len(calls) == 2

    cache.path(clip).write_bytes(b"\x93NUMPY garbage")  # a damaged entry is recomputed
    np.testing.assert_array_equal(cache.get_or_compute(clip, features), first)
    assert len(calls) == 3
    assert FeatureCache(tmp_path, {"order": 32, "feature": "lpc"}).folder == cache.folder  # key order is irrelevant
