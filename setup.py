"""Packaging for speech-anim-zoo.

Import packages: ``zoo``, ``zoo.datasets`` (folder ``datasets/``) and ``zoo.pipelines``
(folder ``pipelines/``). There is deliberately no top-level ``datasets`` package: it would
shadow Hugging Face's ``datasets`` in the same environment.
"""
import re
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "zoo" / "_version.py").read_text()).group(1)

CORE = [
    "setuptools>=70.1,<81",  # bvhtoolbox imports pkg_resources, removed in setuptools 81
    "tensorflow==2.21.0",
    "ai-edge-litert==2.3.0",
    "tensorflow-serving-api==2.21.0",
    "librosa==0.11.0",
    "numba==0.68.1",  # audio2face's bit-exact LPC loops (also librosa's)
    "soundfile==0.14.0",
    "soxr>=0.5,<2",
    "espeakng-loader==0.2.4",
    "bvhtoolbox==0.1.3",
    "matplotlib==3.11.2",
    "tensorboard==2.21.0",  # TensorBoard logs of training (tf.summary needs it)
    "pocketsphinx==5.1.1",  # voca_emotion's phone front end (the wheel bundles the en-us model and phone LM)
    "praat-parselmouth==0.4.7",  # gesture_ae's prosody features (Praat pitch and intensity)
]
EXTRAS = {
    "render": [
        "trimesh==5.2.0",
        "pyrender==0.1.45",
        "opencv-python-headless==5.0.0.93",
        "imageio-ffmpeg==0.8.1",
    ],
    "landmarks": [
        "dlib-bin==20.0.1.post1",
        "face_recognition_models==0.3.0",
        "scikit-image==0.26.0",
    ],
    "dev": [
        "pytest==9.2.0",
        "nbclient==0.11.0",
        "nbformat==5.11.1",
        "ipykernel==7.4.0",
        "nbmake==1.5.5",
        "ruff==0.17.5",
        "openpyxl==3.1.5",
        "python_speech_features==0.6",  # gesture_ae's MFCC is tested against the package the original used
    ],
}

setup(
    name="speech-anim-zoo",
    version=VERSION,
    description="TF2/Keras reimplementations of five speech-driven animation methods, "
    "with a shared tf.data layer and SavedModel/TF-Serving/TFLite export.",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.11,<3.12",
    packages=["zoo", "zoo.core", "zoo.audio2face", "zoo.evenet", "zoo.voca_emotion", "zoo.gesture_ae",
              "zoo.landmark_dcgan", "zoo.render", "zoo.datasets", "zoo.datasets.synthetic", "zoo.pipelines"],
    package_dir={"zoo": "zoo", "zoo.datasets": "datasets", "zoo.pipelines": "pipelines"},
    package_data={"zoo.datasets": ["data/*"], "zoo.datasets.synthetic": ["*.txt"], "zoo.core": ["data/*.wav"]},
    install_requires=CORE,
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["zoo = zoo.cli:main"]},
    license="MIT",
)
