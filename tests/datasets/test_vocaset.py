import pickle

import numpy as np
import pytest

from zoo.datasets import DataError, FrameCountError, UnsafePickleError
from zoo.datasets.vocaset import read_vocaset, read_vocaset_templates, vertex_channel_names, write_vocaset


def _sequences(rate=22000):
    rng = np.random.default_rng(0)
    templates = {s: rng.normal(size=(5, 3)).astype(np.float32) * 0.1 for s in ("FaceTalk_A", "FaceTalk_B")}
    sequences = {}
    for s, template in templates.items():
        sequences[s] = {}
        for k, seconds in enumerate((0.5, 0.25)):
            frames = int(seconds * 60)
            verts = template + 0.01 * rng.normal(size=(frames, 5, 3)).astype(np.float32)
            audio = (np.sin(np.arange(int(seconds * rate)) / 9) * 8000).astype(np.int16)
            sequences[s][f"sentence{k + 1:02d}"] = (verts, audio, rate)
    return sequences, templates


def test_write_then_read(tmp_path):
    sequences, templates = _sequences()
    write_vocaset(tmp_path, sequences, templates)
    clips = read_vocaset(tmp_path)
    assert len(clips) == 4 and {c.subject for c in clips} == {"FaceTalk_A", "FaceTalk_B"}
    clip = clips[0]
    assert clip.fps == 60 and clip.sample_rate == 22000 and clip.target_kind == "vertices"
    assert clip.channel_names == vertex_channel_names(5) and clip.channel_names[:4] == ("v0.x", "v0.y", "v0.z", "v1.x")
    np.testing.assert_array_equal(clip.targets, sequences["FaceTalk_A"]["sentence01"][0].reshape(30, 15))
    np.testing.assert_allclose(clip.audio, sequences["FaceTalk_A"]["sentence01"][1] / 32768, atol=1e-7)
    assert set(read_vocaset_templates(tmp_path)) == {"FaceTalk_A", "FaceTalk_B"}
    assert [c.subject for c in read_vocaset(tmp_path, subjects=["FaceTalk_B"], sample_rate=16000)] == ["FaceTalk_B"] * 2


def test_frame_mismatch_trims_like_voca_or_raises(tmp_path):
    sequences, templates = _sequences()
    verts, audio, rate = sequences["FaceTalk_A"]["sentence01"]
    sequences["FaceTalk_A"]["sentence01"] = (np.concatenate([verts, verts[:3]]), audio, rate)  # 3 extra mesh frames
    write_vocaset(tmp_path, sequences, templates)
    clip = read_vocaset(tmp_path, subjects=["FaceTalk_A"], sentences=["sentence01"])[0]
    assert clip.num_frames == 30
    with pytest.raises(FrameCountError, match="33 frames but the audio implies 30"):
        read_vocaset(tmp_path, on_mismatch="error")


def test_malicious_template_pickle_is_refused(tmp_path):
    sequences, templates = _sequences()
    write_vocaset(tmp_path, sequences, templates)
    marker = tmp_path / "ran"
    (tmp_path / "templates.pkl").write_bytes(b"cos\nsystem\n(V" + f"touch {marker}".encode() + b"\ntR.")
    with pytest.raises(UnsafePickleError, match="os.system"):
        read_vocaset(tmp_path)
    assert not marker.exists()


@pytest.mark.parametrize("damage, cause", [
    (lambda d: (d / "raw_audio_fixed.pkl").unlink(), "missing vocaset file"),
    (lambda d: (d / "subj_seq_to_idx.pkl").write_bytes(pickle.dumps({"FaceTalk_A": {"sentence01": {0: 999}}})),
     "rows outside"),
    (lambda d: (d / "subj_seq_to_idx.pkl").write_bytes(pickle.dumps({"FaceTalk_C": {"s": {0: 0}}})), "no template"),
    (lambda d: (d / "raw_audio_fixed.pkl").write_bytes(pickle.dumps({})), "no audio for"),
    (lambda d: np.save(d / "data_verts.npy", np.zeros((10, 5))), "expected (frames, v, 3)"),
])
def test_bad_vocaset_files(tmp_path, damage, cause):
    sequences, templates = _sequences()
    write_vocaset(tmp_path, sequences, templates)
    damage(tmp_path)
    with pytest.raises(DataError) as e:
        read_vocaset(tmp_path)
    assert str(tmp_path) in str(e.value) and cause in str(e.value).lower()
