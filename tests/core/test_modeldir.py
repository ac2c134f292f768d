"""Model directories: atomic write, verified read (schema, sha256), publish with a card."""
from __future__ import annotations

import json

import numpy as np
import pytest

from zoo.core.modeldir import ModelDirError, publish, read_model_dir, write_model_dir

META = {"model": "toy", "preset": "tiny", "sample_rate": 16000, "fps": 30, "window_seconds": 0.52,
        "lookahead_seconds": 0.26, "output_names": ["a", "b"]}


class _Weights:
    """Stands in for a Keras model: ``save_weights`` writes known bytes."""

    def __init__(self, payload: bytes = b"weights"):
        self.payload = payload

    def save_weights(self, path):
        with open(path, "wb") as f:
            f.write(self.payload)


def test_round_trip_with_arrays_and_sha256(tmp_path):
    dest = write_model_dir(tmp_path / "m", config={"units": 3}, model=_Weights(), metadata=META,
                           arrays={"emotion_database": np.arange(6, dtype=np.float32).reshape(3, 2)})
    found = read_model_dir(dest, "toy")
    assert found.config == {"units": 3} and found.metadata["output_names"] == ["a", "b"]
    assert set(found.metadata["sha256"]) == {"config.json", "model.weights.h5", "emotion_database.npy"}
    np.testing.assert_array_equal(found.array("emotion_database"), np.arange(6).reshape(3, 2))
    assert found.array("nothing") is None and not list(tmp_path.glob(".m-*"))  # no staging folder left


def test_rewrite_replaces_the_directory_whole(tmp_path):
    write_model_dir(tmp_path / "m", config={}, model=_Weights(b"one"), metadata=META, arrays={"x": np.zeros(2)})
    write_model_dir(tmp_path / "m", config={}, model=_Weights(b"two"), metadata=META)
    assert (tmp_path / "m" / "model.weights.h5").read_bytes() == b"two" and not (tmp_path / "m" / "x.npy").exists()


def test_failed_write_leaves_nothing(tmp_path):
    class Broken:
        def save_weights(self, path):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_model_dir(tmp_path / "m", config={}, model=Broken(), metadata=META)
    assert list(tmp_path.iterdir()) == []


def test_schema_is_enforced_on_write_and_read(tmp_path):
    with pytest.raises(ModelDirError, match="lacks \\['fps'\\]"):
        write_model_dir(tmp_path / "m", config={}, model=_Weights(), metadata={k: v for k, v in META.items()
                                                                                 if k != "fps"})
    dest = write_model_dir(tmp_path / "m", config={}, model=_Weights(), metadata=META)
    with pytest.raises(ModelDirError, match="of 'toy', not of 'audio2face'"):
        read_model_dir(dest, "audio2face")


def _resealed(folder, name: str, text: str) -> None:
    """Replace ``name`` and record its new sha256, as a hand edit that also fixed the digest would."""
    from zoo.core.modeldir import sha256_file

    (folder / name).write_text(text)
    meta = json.loads((folder / "metadata.json").read_text())
    meta["sha256"][name] = sha256_file(folder / name)
    (folder / "metadata.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("damage, error, match", [
    (lambda d: (d / "model.weights.h5").write_bytes(b"weigh"), ModelDirError, "model.weights.h5: sha256 differs"),
    (lambda d: _resealed(d, "config.json", "{units"), ModelDirError, "config.json: not valid JSON"),
    (lambda d: (d / "metadata.json").write_text("[]"), ModelDirError, "metadata.json: a JSON object was expected"),
    (lambda d: (d / "model.weights.h5").unlink(), FileNotFoundError, "model.weights.h5 missing"),
])
def test_damaged_directories_are_one_clear_error(tmp_path, damage, error, match):
    dest = write_model_dir(tmp_path / "m", config={"units": 3}, model=_Weights(), metadata=META)
    damage(dest)
    with pytest.raises(error, match=match):
        read_model_dir(dest)


def test_publish_copies_adds_the_record_and_writes_the_card(tmp_path):
    trained = write_model_dir(tmp_path / "run" / "model", config={"units": 3}, model=_Weights(),
                              metadata={**META, "history": [1, 2]})
    dest = publish(trained, tmp_path / "pretrained" / "tiny", data="toy corpus", command="make pretrained-toy",
                   metrics={"mse": 0.25}, card=lambda meta, folder: f"# {meta['preset']}: MSE {meta['metrics']['mse']}"
                                                                     f" ({len(list(folder.iterdir()))} files)\n",
                   license="MIT")
    meta = json.loads((dest / "metadata.json").read_text())
    assert meta["data"] == "toy corpus" and meta["command"] == "make pretrained-toy" and meta["license"] == "MIT"
    assert meta["history"] == [1, 2] and set(meta["sha256"]) == {"config.json", "model.weights.h5"}
    assert (dest / "README.md").read_text() == "# tiny: MSE 0.25 (3 files)\n"  # config, weights, metadata
    assert read_model_dir(dest).metadata["metrics"] == {"mse": 0.25}
