"""Driving the model from text and from speech with its transcript; evaluation on held-out takes."""
import numpy as np
import pytest


@pytest.fixture(scope="module")
def predictor(tiny_model):
    from zoo.evenet import Predictor

    return Predictor.load(tiny_model[0])


def test_text_drives_generation(predictor):
    anim, timeline = predictor.predict("Mama made apple pie.", emotion="happy")
    assert anim.fps == 48.0 and anim.names == predictor.names
    assert len(anim.values) == timeline.num_frames == int(timeline.seconds * 48)
    ids = timeline.phoneme_ids()
    assert ids[0] == ids[-1] == 47 and 27 in ids  # starts and ends silent; M is spoken
    # the schedule matters: another sentence's phonemes give other frames
    other, _ = predictor.predict("Sue flew through it.", emotion="happy")
    assert not np.allclose(other.values[: len(anim.values)][:40], anim.values[:40])


def test_speech_with_transcript_drives_generation(predictor):
    from zoo.datasets.synthetic.speech import synthesize

    spoken = synthesize("Please pass me the blue mug.", "male_deep", "sad")
    anim, timeline = predictor.predict(audio=spoken.audio, sample_rate=spoken.sample_rate,
                                       transcript="Please pass me the blue mug.")
    assert len(anim.values) == timeline.num_frames == int(len(spoken.audio) * 48 / spoken.sample_rate)
    assert 27 in timeline.phoneme_ids()  # the M of "me" and "mug"


@pytest.mark.parametrize("emotion, expected", [("happy", "Happy"), ("Happy", "Happy"), ("neutral", "Neutral"),
                                               (None, "Neutral"), (4, "Happy")])
def test_emotion_names(predictor, emotion, expected):
    assert predictor.config.emotion_categories[predictor.emotion_id(emotion)] == expected


def test_unknown_emotion_lists_the_categories(predictor):
    with pytest.raises(ValueError, match="unknown emotion 'bored'.*Neutral"):
        predictor.emotion_id("bored")


def test_evaluate_reads_the_test_takes(tiny_model, evenet_folder):
    from zoo.evenet import evaluate

    result, generated = evaluate(tiny_model[0], evenet_folder)
    assert result["takes"] == ["take11"] and generated["take11"].values.shape == (result["frames"], 4)
    forced = result["teacher_forced"]
    assert forced["frames"] > 50 and forced["rmse"] > 0 and forced["rmse_repeat_last"] > 0
    assert result["free_running"]["frames"] == forced["frames"] + 1
