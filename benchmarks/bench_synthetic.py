"""Synthetic-corpus stages, each as a speed ratio, with the face renderer side by side with pyrender.

* espeak-ng synthesis and face animation: seconds of speech produced per second of compute (× real time).
* Rendering the 5,937-vertex face at 128×128: the project's NumPy rasteriser against pyrender (OpenGL
  through EGL/Mesa, the renderer of the original VOCA), same mesh, camera and size, in the same run.
  pyrender runs in a subprocess that never imports TensorFlow (specs/environment.md §4).

Run by ``make bench`` / ``zoo bench synthetic`` (benchmarks/run.py).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

from zoo.datasets.synthetic import corpus, face, geometry, speech

PYRENDER_WORKER = r"""
import json, os, sys, time
os.environ["PYOPENGL_PLATFORM"] = "egl"
import numpy as np
if not hasattr(np, "infty"):
    np.infty = np.inf  # pyrender 0.1.45 on NumPy 2
import pyrender, trimesh
from zoo.datasets.synthetic import geometry as g
n = int(sys.argv[1])
v, f = g.template("m1"), np.asarray(g.FACES)
colors = (g.vertex_colors("m1") * 255).astype(np.uint8)
scene = pyrender.Scene(bg_color=[0.16, 0.18, 0.22, 1.0], ambient_light=[0.4, 0.4, 0.4])
scene.add(pyrender.Mesh.from_trimesh(trimesh.Trimesh(v, f, vertex_colors=colors, process=False)))
pose = np.eye(4); pose[:3, 3] = g.DEFAULT_CAMERA.position
scene.add(pyrender.PerspectiveCamera(yfov=np.radians(g.DEFAULT_CAMERA.fov_deg)), pose=pose)
scene.add(pyrender.DirectionalLight(intensity=3.0), pose=pose)
r = pyrender.OffscreenRenderer(128, 128)
r.render(scene)
best = float("inf")
for _ in range(3):
    t = time.perf_counter()
    for _ in range(n):
        r.render(scene)
    best = min(best, (time.perf_counter() - t) / n)
print(json.dumps({"ms_per_frame": best * 1000}))
"""


def run(bench) -> None:
    sentences = corpus.load_sentences()[:40]
    utterances = [speech.synthesize(s, "female_warm", "happy", "normal") for s in sentences]
    seconds = sum(u.duration for u in utterances)
    timings = {}
    for name, fn in (("speech", lambda: [speech.synthesize(s, "female_warm", "happy", "normal") for s in sentences]),
                     ("face", lambda: [face.animate(u.phonemes, u.duration, 60, emotion="happy") for u in utterances])):
        best = float("inf")
        for _ in range(bench.reps(3)):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        timings[name] = seconds / best
    bench.record("generators", "synthetic corpus generators (no reference implementation: against real time)",
                 {"espeak-ng synthesis with phoneme events (4 voices, prosody), × real time": timings["speech"],
                  "ARKit-52 face animation at 60 fps, × real time": timings["face"]},
                 detail=f"{len(sentences)} bundled sentences, {seconds:.0f} s of speech; best of the runs.")

    frames = 100
    verts = geometry.deform("m1", np.zeros((frames, 52), np.float32))
    colors = geometry.vertex_colors("m1")
    worker = subprocess.run([sys.executable, "-c", PYRENDER_WORKER, str(frames)], capture_output=True, text=True,
                            timeout=600, env={**os.environ, "PYOPENGL_PLATFORM": "egl"})
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for v in verts:
            geometry.render(v, geometry.FACES, 128, colors=colors)
        best = min(best, (time.perf_counter() - start) / frames)
    values = {"NumPy rasteriser `geometry.render`, ms/frame (best of 3 × 100)": best * 1e3}
    if worker.returncode == 0:
        ms_pyrender = json.loads(worker.stdout.strip().splitlines()[-1])["ms_per_frame"]
        values["pyrender (EGL, Mesa), ms/frame (best of 3 × 100, worker process)"] = ms_pyrender
        values["ratio (pyrender time / ours)"] = ms_pyrender / (best * 1e3)
    else:
        values["pyrender"] = f"failed: {worker.stderr.strip().splitlines()[-1][:80]}"
    bench.record("render", "render the 5,937-vertex face mesh at 128×128", values,
                 detail="pyrender cannot share a process with TensorFlow (specs/environment.md §4), so it runs in a "
                        "worker process right after ours; same mesh, camera and size.")
