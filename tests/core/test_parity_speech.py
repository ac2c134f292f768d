"""The shipped parity sentence is the synthesizer's output, and export uses it by default."""
from __future__ import annotations

import numpy as np


def test_parity_speech_is_the_synthesizers_sentence():
    from zoo.core import parity_speech
    from zoo.datasets.synthetic.speech import synthesize

    audio, rate = parity_speech()
    spoken = synthesize("The quick brown fox jumps over the lazy dog.", "female_warm")
    assert rate == spoken.sample_rate == 22050 and len(audio) == len(spoken.audio)
    np.testing.assert_allclose(audio, spoken.audio, atol=1 / 32768)  # PCM16 of the same samples
