"""Rendering: blendshape curves as PNG plots, ARKit-52 weights as MP4 videos of the synthetic face, vertex
sequences (VOCA's meshes) as MP4 videos, 3D skeletons (the gesture model's joints) as stick-figure MP4s, and
normalised 68-point landmarks (with generated faces beside them) as landmark-animation MP4s.

Rule (DESIGN §1): ``zoo.render`` never imports TensorFlow, directly or indirectly. Videos are rendered in
a child process (``python -m zoo.render face|mesh|skeleton|landmarks ...``, which blocks ``import tensorflow``) that
imports only NumPy, ``zoo.datasets.synthetic.geometry`` (face, mesh), ``zoo.datasets.audio`` and
``zoo.datasets.video``, so a caller with TensorFlow loaded can use it safely. ``plot_curves`` runs
in-process (matplotlib's Agg canvas).
"""
from __future__ import annotations

from .face import render_face_video
from .landmarks import render_landmark_video
from .mesh import render_mesh_video
from .plots import plot_curves
from .skeleton import render_skeleton_video

__all__ = ["plot_curves", "render_face_video", "render_landmark_video", "render_mesh_video",
           "render_skeleton_video"]
