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


# -- the TFLite file of a published preset, companion arrays, weights that do not fit --------------------------
PARITY = {"max_abs_diff": 2.5e-7, "mean_abs_diff": 1.5e-8, "tolerance": 1e-4}


def _write_tflite(payload: bytes = b"tflite bytes"):
    """A ``publish(tflite=...)`` callable: checks it is given a complete model directory, writes model.tflite."""
    seen = []

    def tflite(folder):
        seen.append(read_model_dir(folder).metadata["preset"])  # the staging folder is already a model directory
        (folder / "model.tflite").write_bytes(payload)
        return PARITY

    return tflite, seen


def test_publish_writes_the_tflite_file_sealed_with_its_parity(tmp_path):
    from zoo.core.modeldir import TFLITE_FILE

    trained = write_model_dir(tmp_path / "model", config={"units": 3}, model=_Weights(), metadata=META)
    tflite, seen = _write_tflite()
    dest = publish(trained, tmp_path / "preset", data="toy", command="c", metrics={}, tflite=tflite,
                   card=lambda meta, folder: f"max |Δ| {meta['tflite']['max_abs_diff']}\n")
    found = read_model_dir(dest)
    assert seen == ["tiny"] and TFLITE_FILE == "model.tflite" and found.tflite == dest / "model.tflite"
    assert found.metadata["tflite"] == {"file": "model.tflite", **PARITY}
    assert set(found.metadata["sha256"]) == {"config.json", "model.weights.h5", "model.tflite"}
    assert (dest / "README.md").read_text() == "max |Δ| 2.5e-07\n"
    # publishing the preset again replaces its TFLite file with the callable's (the old one is not copied)
    again = publish(dest, tmp_path / "again", data="toy", command="c", metrics={}, card=lambda m, f: "",
                    tflite=_write_tflite(b"new bytes")[0])
    assert (again / "model.tflite").read_bytes() == b"new bytes" and read_model_dir(again).tflite is not None
    # without a callable, the file and its report travel together
    copied = publish(dest, tmp_path / "copied", data="toy", command="c", metrics={}, card=lambda m, f: "")
    assert read_model_dir(copied).metadata["tflite"]["max_abs_diff"] == PARITY["max_abs_diff"]
    plain = write_model_dir(tmp_path / "plain", config={}, model=_Weights(), metadata=META)
    assert read_model_dir(plain).tflite is None


def test_publish_refuses_a_tflite_step_without_file_or_report_and_leaves_nothing(tmp_path):
    trained = write_model_dir(tmp_path / "model", config={}, model=_Weights(), metadata=META)
    with pytest.raises(ModelDirError, match="wrote no model.tflite"):
        publish(trained, tmp_path / "p", data="", command="", metrics={}, card=lambda m, f: "",
                tflite=lambda folder: PARITY)
    with pytest.raises(ModelDirError, match="parity report lacks \\['max_abs_diff', 'tolerance'\\]"):
        publish(trained, tmp_path / "p", data="", command="", metrics={}, card=lambda m, f: "",
                tflite=lambda folder: (folder / "model.tflite").write_bytes(b"x") and {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_an_unsealed_tflite_file_is_refused(tmp_path):
    dest = write_model_dir(tmp_path / "m", config={}, model=_Weights(), metadata=META)
    (dest / "model.tflite").write_bytes(b"dropped in by hand")
    with pytest.raises(ModelDirError, match="model.tflite: not sealed with this model"):
        read_model_dir(dest)
    (dest / "model.tflite").unlink()
    meta = json.loads((dest / "metadata.json").read_text())
    # a report left behind by a removed (and unsealed) TFLite file: the folder is a model without one
    (dest / "metadata.json").write_text(json.dumps({**meta, "tflite": {"file": "model.tflite", **PARITY}}))
    assert read_model_dir(dest).tflite is None
    (dest / "metadata.json").write_text(json.dumps({**meta, "tflite": {"max_abs_diff": 0}}))
    with pytest.raises(ModelDirError, match="metadata tflite must be the parity report of model.tflite"):
        read_model_dir(dest)


@pytest.mark.parametrize("array, match", [
    (None, "database.npy is missing: the model takes one"),
    (np.zeros((3, 5), np.float32), r"database.npy has shape \(3, 5\), the model takes one needs \(N, 4\)"),
    (np.zeros(4, np.float32), r"has shape \(4,\), the model takes one needs \(N, 4\)"),
    (np.zeros((3, 4), np.int64), "database.npy holds int64, the model takes one needs floating point"),
])
def test_check_array_names_the_file(tmp_path, array, match):
    arrays = {} if array is None else {"database": array}
    found = read_model_dir(write_model_dir(tmp_path / "m", config={}, model=_Weights(), metadata=META, arrays=arrays))
    with pytest.raises(ModelDirError, match=match):
        found.check_array("database", (None, 4), "the model takes one")


def test_check_array_reads_the_shape_only(tmp_path):
    found = read_model_dir(write_model_dir(tmp_path / "m", config={}, model=_Weights(), metadata=META,
                                           arrays={"database": np.ones((7, 4), np.float32)}))
    assert found.check_array("database", (None, 4), "x") == (7, 4)
    (found.path / "database.npy").write_bytes(b"\x93NUMPY broken")
    with pytest.raises(ModelDirError, match="database.npy: not a readable .npy array"):
        found.check_array("database", (None, 4), "x")


def test_load_weights_that_do_not_fit_the_config_is_one_error_naming_the_file(tmp_path):
    import keras

    from zoo.core.modeldir import load_weights

    def dense(units):
        x = keras.Input((6,))
        return keras.Model(x, keras.layers.Dense(units, name="out")(keras.layers.Dense(5, name="hidden")(x)))

    original = dense(3)
    dest = write_model_dir(tmp_path / "m", config={"units": 3}, model=original, metadata=META)
    same = dense(3)
    load_weights(same, read_model_dir(dest))
    assert all(np.array_equal(a, b) for a, b in zip(same.get_weights(), original.get_weights()))
    with pytest.raises(ModelDirError, match="m/model.weights.h5: the weights do not fit config.json .*shape"):
        load_weights(dense(4), dest)
    x = keras.Input((6,))
    other = keras.Model(x, keras.layers.Dense(3, name="elsewhere")(x))  # no layer the file has a group for
    with pytest.raises(ModelDirError, match="model.weights.h5: the weights do not fit config.json"):
        load_weights(other, dest)
    (dest / "model.weights.h5").write_bytes(b"not hdf5")
    with pytest.raises(ModelDirError, match="model.weights.h5: not a readable Keras weights file"):
        load_weights(dense(3), dest)


def test_weight_shapes_are_read_without_keras_and_checked_against_a_plan(tmp_path):
    """``weight_shapes`` lists the arrays of model.weights.h5 with h5py; ``check_weight_shapes`` compares them with
    the shapes a config implies, in any order, and names what differs."""
    import keras

    from zoo.core.modeldir import check_weight_shapes, weight_shapes

    x = keras.Input((6,))
    model = keras.Model(x, keras.layers.Dense(3)(keras.layers.Dense(5)(x)))
    dest = write_model_dir(tmp_path / "m", config={}, model=model, metadata=META)
    assert weight_shapes(dest) == [(3,), (5,), (5, 3), (6, 5)]
    check_weight_shapes(dest, [(6, 5), (5,), (5, 3), (3,)], "two layers")
    with pytest.raises(ModelDirError, match=r"m/model.weights.h5: the weights do not fit config.json \(4 outputs\): "
                                            r"the file holds 4 arrays, the network 4; only in the file: \(3,\), "
                                            r"\(5, 3\); only in the network: \(4,\), \(5, 4\)"):
        check_weight_shapes(dest, [(6, 5), (5,), (5, 4), (4,)], "4 outputs")
    (dest / "model.weights.h5").write_bytes(b"not hdf5")
    with pytest.raises(ModelDirError, match="model.weights.h5: not a readable Keras weights file"):
        weight_shapes(dest)
