"""The embedded synthetic talking corpus (DESIGN §4). Nothing here imports TensorFlow.

* ``speech``: espeak-ng through the espeakng-loader wheel: 4 voices, the 8 RAVDESS emotions at two
  intensities in the prosody, phoneme and word timings from espeak's own events.
* ``face``: ARKit-52 curves from a phoneme timeline: visemes with coarticulation, blinks, emotion
  overlays, head motion, at any fps.
* ``geometry``: a parametric face mesh with 4 identities and a linear basis for the 52 shapes,
  68 iBUG landmarks, head pose and a NumPy rasteriser.
* ``corpus``: ``generate(out, preset, seed)`` (the ``zoo corpus`` command) writes all of it in the
  FACEGOOD, EveNet, VOCASET and RAVDESS layouts, deterministically.
* ``sentences.txt``: the bundled sentences, written for this project.
"""
