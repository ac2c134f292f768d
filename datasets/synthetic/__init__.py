"""The embedded synthetic talking corpus (DESIGN §4): espeak-ng speech with phoneme timings,
and the face motion driven by them. Nothing here imports TensorFlow.

Modules: ``speech`` (espeak-ng through the espeakng-loader wheel: voices, emotional prosody,
phoneme events), ``face`` (ARKit-52 curves from a phoneme timeline: visemes with
coarticulation, blinks, emotion overlays, head motion), ``sentences.txt`` (the bundled text).
"""
