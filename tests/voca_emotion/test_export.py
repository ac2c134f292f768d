"""Export of VOCA: SavedModel (TF-Serving layout) with ``serving_default`` and the raw-audio signature; TFLite
parity."""
from __future__ import annotations

import numpy as np
import pytest
from helpers import check_export_parity

from zoo.core import parity_speech
from zoo.datasets import resample
from zoo.voca_emotion import Predictor, export_model
from zoo.voca_emotion import features as feats


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    model_dir, _ = trained
    return model_dir, export_model(model_dir, tmp_path_factory.mktemp("export"))


def test_parity_of_every_signature(exported):
    _, result = exported
    report = check_export_parity(result, 1e-4, ["serving_default", "audio"])  # metres: 0.1 mm
    assert {c["signature"] for c in report["checks"]} == {"serving_default", "audio"}


def test_saved_model_serves_audio_as_the_predictor_does_and_checks_the_subject(exported):
    import tensorflow as tf

    model_dir, result = exported
    predictor = Predictor.load(model_dir)
    audio, rate = parity_speech()
    a16 = resample(audio, rate, feats.SAMPLE_RATE)[: 2 * feats.SAMPLE_RATE + 77]
    loaded = tf.saved_model.load(str(result.saved_model))
    tpl = predictor.templates[[1]]
    out = loaded.signatures["audio"](audio=tf.constant(a16[None]), subject=tf.constant([1], tf.int32),
                                     template=tf.constant(tpl))["vertices"].numpy()
    n = feats.num_frames(len(a16), feats.SAMPLE_RATE)
    assert out.shape == (1, n, predictor.config.num_vertices, 3)
    expected = predictor.vertices(predictor.windows(a16, feats.SAMPLE_RATE), 1, tpl[0])
    assert np.abs(out[0] - expected).max() < 1e-4
    with pytest.raises(tf.errors.InvalidArgumentError, match="subject"):
        loaded.signatures["audio"](audio=tf.constant(a16[None]), subject=tf.constant([2], tf.int32),
                                   template=tf.constant(tpl))


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_the_phone_front_end_trains_predicts_and_exports_without_a_raw_audio_signature(tmp_path, vocaset_dir):
    pytest.importorskip("pocketsphinx", reason="the phones front end needs the pocketsphinx wheel (setup.py has it)")
    from zoo.voca_emotion import preset, train

    config = preset("tiny", audio_feature="phones", num_audio_features=40, epochs=1)
    train(config, vocaset_dir, tmp_path / "run", val_subjects=["subj_c"], progress=False)
    predictor = Predictor.load(tmp_path / "run" / "model")
    audio, rate = parity_speech()
    windows = predictor.windows(audio, rate)
    assert windows.shape == (feats.num_frames(len(audio), rate), 16, 40)
    assert set(np.unique(windows.sum(axis=2))) <= {0.0, 1.0}  # one-hot phones (zero rows: the window's padding)
    result = export_model(tmp_path / "run" / "model", tmp_path / "export")
    report = check_export_parity(result, 1e-4, ["serving_default"])
    assert "audio" not in {c["signature"] for c in report["checks"]}
    with pytest.raises(ValueError, match="40 features"):
        preset("tiny", audio_feature="phones")
