"""Checks every model of the zoo runs on its presets (DESIGN §3, §7); each raises AssertionError with the cause.

* ``check_contract(model)``: the subpackage offers the contract (``CONTRACT``), and ``import zoo.<model>``
  does not import TensorFlow (in a fresh interpreter);
* ``check_no_model_imports_another()``: no model subpackage imports another;
* ``check_config_round_trip(Config, config, build_model)``: JSON and Keras ``get_config`` round trips;
* ``check_golden_params(build_model, presets, golden)``: the golden parameter counts;
* ``check_streaming_equals_full(full, frames, atol)``: a streamer's (index, values) equal the full pass;
* ``check_export_parity(result, tolerance, signatures)``: every signature of the SavedModel and the TFLite
  file within ``tolerance`` of Keras, by the parity report ``zoo.export`` wrote;
* ``check_small_overfit(history, factor)``: the training loss fell by ``factor``.

Command line (every model's ``zoo <model> ...``, issue "the command line as a user meets it"):

* ``bad_audio_files(folder)``: the standard unusual inputs (5 s of 16 kHz speech, the same at 8 kHz, an mp3, silence,
  a fake m4a, a file that is not audio) as real files;
* ``run_cli(argv, capsys)`` → (exit status, stdout, stderr lines) of ``zoo.cli.main`` in this process;
* ``check_cli_refusal(argv, capsys, pattern, untouched)``: status 2, exactly one stderr line matching ``pattern``,
  and none of ``untouched`` created;
* ``check_fails_before_tensorflow(argv)``: in a fresh interpreter, the command fails with status 2 without
  importing TensorFlow;
* ``read_only_folder_run(folder, argv)``: run ``zoo`` with ``folder`` read-only (a read-only bind mount in a private
  mount namespace when root, for whom permission bits do not count; chmod otherwise).

Recipes: ``check_recipe_republishes_and_resumes(pipeline, argv, out, published, other_argv, files)``: a published
preset published again from its run.json gives equal ``files``, a rerun keeps every finished stage, and other
arguments in the same folder are refused.

Signals: ``speech_like(seconds, rate, seed)``: int16-quantised speech-like audio (pulse train and breath noise through
three formant resonators, in syllable bursts with digital silence between them).

Documentation (every README and model card runs):

* ``doc_blocks(path)``, ``shell_commands(block)``: the fenced ``sh``/``python`` blocks of a Markdown file and the
  logical lines of a shell block;
* ``run_doc_blocks(path, cwd, not_run, dry_run)``: run them in order in ``cwd`` (``zoo`` commands as
  ``python -m zoo.cli``; those starting with a ``dry_run`` prefix with ``--dry-run``); a block or command holding
  a key of ``not_run`` is skipped for the reason given; returns (ran, skipped).
"""
from __future__ import annotations

import ast
import contextlib
import json
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def fake_chumpy():
    """``chumpy.ch.Ch`` in sys.modules while a test pickles (chumpy itself is never installed): its state mirrors
    chumpy's (``__getstate__`` = the instance dict without ``_parents`` and ``_cache``; the array under 'x'), so a
    pickle written with it has a real FLAME file's structure."""
    import types

    class Ch:
        def __init__(self, x):
            self.x = np.asarray(x, np.float64)
            self._dirty_vars, self._itr, self._depends_on_deps = set(), None, {}
            self._make_dense = self._make_sparse = False
            self._parents, self._cache = {}, {"r": None, "drs": {}}

        def __getstate__(self):
            state = dict(self.__dict__)
            del state["_parents"], state["_cache"]
            return state

    Ch.__module__, Ch.__qualname__ = "chumpy.ch", "Ch"
    package, module = types.ModuleType("chumpy"), types.ModuleType("chumpy.ch")
    module.Ch, package.ch = Ch, module
    sys.modules["chumpy"], sys.modules["chumpy.ch"] = package, module
    try:
        yield Ch
    finally:
        del sys.modules["chumpy.ch"], sys.modules["chumpy"]
CONTRACT = ("Config", "PRESETS", "GOLDEN_PARAMS", "build_model", "train", "Predictor", "evaluate", "export_model")


def check_contract(model: str, streams: bool) -> None:
    """``zoo.<model>`` offers ``CONTRACT``, ``Predictor.load/predict`` (+ ``streamer`` where it ``streams``) and
    ``zoo.<model>.cli.add_commands/run``; importing it leaves TensorFlow unloaded."""
    code = (f"import sys, json, zoo.{model} as m, zoo.{model}.cli as c;"
            "print(json.dumps({'tf': 'tensorflow' in sys.modules or 'keras' in sys.modules,"
            f"'missing': [n for n in {list(CONTRACT)!r} if not hasattr(m, n)],"
            "'predictor': [n for n in ('load', 'predict', 'streamer') if hasattr(m.Predictor, n)],"
            "'cli': [n for n in ('add_commands', 'run') if callable(getattr(c, n, None))]}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=PROJECT)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.splitlines()[-1])
    assert not found["tf"], f"import zoo.{model} imports TensorFlow or Keras (load them on first use)"
    assert not found["missing"], f"zoo.{model} lacks {found['missing']}"
    want = ["load", "predict"] + (["streamer"] if streams else [])
    assert set(want) <= set(found["predictor"]), f"zoo.{model}.Predictor lacks {set(want) - set(found['predictor'])}"
    assert found["cli"] == ["add_commands", "run"], f"zoo.{model}.cli lacks add_commands/run"


def _imported_modules(path: Path) -> Iterable[str]:
    """Absolute names of the modules ``path`` (a file under the project) imports; relative imports resolved."""
    package = path.relative_to(PROJECT).with_suffix("").parts[:-1]  # zoo/audio2face/train.py → zoo, audio2face
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            yield ".".join([*base, *([node.module] if node.module else [])])


def check_no_model_imports_another(models: Sequence[str]) -> None:
    """No file of ``zoo/<model>/`` imports ``zoo.<other model>``."""
    offenders = []
    for model in models:
        folder = PROJECT / "zoo" / model
        for path in folder.rglob("*.py") if folder.is_dir() else []:
            for name in _imported_modules(path):
                other = [m for m in models if m != model and (name == f"zoo.{m}" or name.startswith(f"zoo.{m}."))]
                if other:
                    offenders.append(f"{path.relative_to(PROJECT)} imports {name}")
    assert not offenders, f"a model imports another: {offenders}"


def check_config_round_trip(config_class, config, build_model=None) -> None:
    """``Config.from_dict(JSON of to_dict())`` equals ``config``; the built model's ``get_config`` rebuilds it."""
    assert config_class.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    if build_model is not None:
        model = build_model(config)
        clone = type(model).from_config(model.get_config())
        assert clone.count_params() == model.count_params()
        assert clone.get_config() == model.get_config()


def check_golden_params(build_model, presets: Mapping, golden: Mapping[str, int]) -> None:
    """Every preset of ``golden`` builds a model with exactly its parameter count."""
    assert golden, "no golden parameter counts"
    counts = {name: int(build_model(presets[name]).count_params()) for name in golden}
    assert counts == dict(golden), f"parameter counts {counts} ≠ golden {dict(golden)}"


def check_streaming_equals_full(full: np.ndarray, frames: Sequence[tuple[int, np.ndarray]], atol: float) -> None:
    """Streamed (index, values) cover every frame once, in order, and equal the full pass within ``atol``."""
    assert [i for i, _ in frames] == list(range(len(full))), "streamed frame indices differ from the full pass"
    np.testing.assert_allclose(np.stack([v for _, v in frames]), full, atol=atol)


def check_export_parity(result, tolerance: float, signatures: Sequence[str]) -> dict:
    """The parity report of a ``zoo.export.ExportResult``: every signature through the SavedModel and
    ``serving_default`` through TFLite within ``tolerance`` (int8 has its own bound); returns the report."""
    report = json.loads(Path(result.parity_report).read_text())
    assert report["passed"], report
    checked = {(c["backend"], c["signature"]) for c in report["checks"]}
    want = {("saved_model", s) for s in signatures} | ({("tflite", "serving_default")} if result.tflite else set())
    assert want <= checked, f"parity not checked for {want - checked}"
    for check in report["checks"]:
        if check["backend"] != "tflite_int8":
            assert check["max_abs_diff"] <= tolerance, check
    return report


def check_small_overfit(history: Sequence[Mapping], factor: float, key: str = "train_loss") -> None:
    """``history[-1][key]`` ≤ ``history[0][key]`` / ``factor``."""
    first, last = history[0][key], history[-1][key]
    assert last <= first / factor, f"{key} fell from {first:.4g} to {last:.4g}, less than {factor}×"


# -- command line ---------------------------------------------------------------------------------------------
def bad_audio_files(folder: Path) -> dict[str, Path]:
    """{kind: path}: speech (5 s, 16 kHz, 150 frames at 30 fps), speech8k (the same at 8 kHz), mp3 (the speech),
    silent (2 s of zeros), m4a (an AAC header, unreadable), text (not audio). Speech: ``zoo.core.parity_speech``."""
    import soundfile as sf
    import soxr

    from zoo.core import parity_speech

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    audio, rate = parity_speech()
    speech = np.tile(soxr.resample(audio, rate, 16000), 2)[: 5 * 16000].astype(np.float32)
    files = {k: folder / n for k, n in (("speech", "speech.wav"), ("speech8k", "speech8k.wav"), ("mp3", "speech.mp3"),
                                        ("silent", "silent.wav"), ("m4a", "speech.m4a"), ("text", "notes.wav"))}
    sf.write(files["speech"], speech, 16000, subtype="PCM_16")
    sf.write(files["speech8k"], soxr.resample(speech, 16000, 8000), 8000, subtype="PCM_16")
    sf.write(files["mp3"], speech, 16000, format="MP3")
    sf.write(files["silent"], np.zeros(2 * 16000, np.float32), 16000, subtype="PCM_16")
    files["m4a"].write_bytes(b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00M4A isomiso2" + bytes(200))
    files["text"].write_text("these are notes, not audio\n")
    return files


def run_cli(argv: Sequence[str], capsys) -> tuple[int, str, list[str]]:
    """(exit status, stdout, non-empty stderr lines) of ``zoo.cli.main(argv)`` run in this process."""
    from zoo.cli import main

    capsys.readouterr()
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse errors
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, [line for line in err.splitlines() if line.strip()]


def check_cli_refusal(argv: Sequence[str], capsys, pattern: str, untouched: Sequence[Path] = ()) -> str:
    """Status 2, one stderr line matching ``pattern`` (a regex), nothing of ``untouched`` created; the line."""
    import re

    status, _, err = run_cli(argv, capsys)
    assert status == 2, (status, err)
    assert len(err) == 1, err
    assert re.search(pattern, err[0]), err[0]
    for path in untouched:
        assert not Path(path).exists(), f"{path} was written"
    return err[0]


def check_fails_before_tensorflow(argv: Sequence[str]) -> str:
    """Run ``zoo argv`` in a fresh interpreter: status 2 and TensorFlow never imported; the stderr line."""
    code = ("import sys\nfrom zoo.cli import main\ntry:\n    rc = main(sys.argv[1:])\nexcept SystemExit as e:\n"
            "    rc = e.code\nassert 'tensorflow' not in sys.modules, 'tensorflow imported'\nsys.exit(rc)\n")
    done = subprocess.run([sys.executable, "-c", code, *map(str, argv)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    return done.stderr.strip()


def read_only_folder_run(folder: Path, argv: Sequence[str]) -> subprocess.CompletedProcess:
    """``python -m zoo.cli argv`` with ``folder`` read-only; see the module docstring."""
    import os
    import shlex
    import shutil

    command = [sys.executable, "-m", "zoo.cli", *map(str, argv)]
    if os.geteuid() != 0:
        os.chmod(folder, 0o555)
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=300)
        finally:
            os.chmod(folder, 0o755)
    if shutil.which("unshare") is None:
        import pytest

        pytest.skip("running as root without unshare(1): no way to make a folder read-only for root")
    f = shlex.quote(str(folder))
    script = f"mount --bind {f} {f} && mount -o remount,ro,bind {f} && exec {shlex.join(command)}"
    done = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script], capture_output=True,
                          text=True, timeout=300)
    if "mount:" in done.stderr and done.returncode != 2:
        import pytest

        pytest.skip(f"cannot bind-mount read-only here: {done.stderr.strip()[:200]}")
    return done


# -- documentation ------------------------------------------------------------------------------------------------
def doc_blocks(path: Path) -> list[tuple[str, str]]:
    """(language, text) of every fenced ``sh``/``python`` block of a Markdown file, in order."""
    import re

    text = Path(path).read_text(encoding="utf-8")
    return re.findall(r"^```(sh|python)\n(.*?)^```", text, re.S | re.M)


def shell_commands(block: str) -> list[str]:
    """The logical lines of a shell block: continuations joined, comments and blank lines dropped."""
    import re

    joined = re.sub(r"\s*\\\n\s*", " ", block)
    lines = (re.sub(r"\s+#.*$", "", line).strip() for line in joined.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def run_doc_blocks(path: Path, cwd: Path, not_run: Mapping[str, str], dry_run: Sequence[str] = ()):
    """Run every block of ``path`` in ``cwd`` (module docstring); AssertionError naming the first that fails."""
    import os
    import shlex

    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    ran, skipped = [], []
    for lang, body in doc_blocks(path):
        for unit in shell_commands(body) if lang == "sh" else [body]:
            reason = next((why for key, why in not_run.items() if key in unit), None)
            if reason:
                skipped.append((unit[:60], reason))
                continue
            if lang == "python":
                argv = [sys.executable, "-c", unit]
            else:
                words = shlex.split(unit)
                assert words[0] == "zoo", f"{path}: a shell command the test cannot run: {unit}"
                argv = [sys.executable, "-m", "zoo.cli", *words[1:], *(["--dry-run"] if unit.startswith(tuple(
                    dry_run)) else [])]
            done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, f"{path}: `{unit[:200]}` exited {done.returncode}:\n{done.stderr[-3000:]}"
            ran.append(unit)
    return ran, skipped


def speech_like(seconds: float, rate: int = 44100, seed: int = 0) -> np.ndarray:
    """int16-quantised 'speech' as float32 in [-1, 1]: a 90–150 Hz glottal pulse train plus breath noise through
    three formant resonators, in syllable bursts with digital silence between them."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    src = 0.02 * rng.standard_normal(n)
    cycles = np.floor(np.cumsum((120 + 30 * np.sin(2 * np.pi * 0.7 * t)) / rate))
    src[1:][np.diff(cycles) > 0] += 1.0
    y = src
    for freq, bw in ((rng.uniform(500, 800), 80), (rng.uniform(1000, 1600), 100), (rng.uniform(2300, 2900), 150)):
        pole = np.exp(-np.pi * bw / rate) * np.exp(2j * np.pi * freq / rate)
        y = lfilter([1.0], np.poly([pole, pole.conjugate()]).real, y)
    envelope = np.zeros(n)
    step = int(0.4 * rate)
    for start in range(0, n, step):
        length = int(rng.integers(step // 3, step))
        envelope[start:start + length] = np.hanning(length)[: max(0, min(length, n - start))]
    y = 0.6 * y * envelope / np.abs(y).max()
    return (np.round(y * 32767) / 32768).astype(np.float32)


def check_recipe_republishes_and_resumes(pipeline, argv, out: Path, published: Path, other_argv,
                                         files=("metadata.json", "README.md", "run.json")) -> None:
    """A recipe's run in ``out`` (made by ``pipeline.main(argv)``, published to ``published``): ``republish`` from its
    run.json writes equal ``files``; a second run with ``argv`` keeps every finished stage; ``other_argv`` in the
    same folder is refused."""
    import pytest

    again = published.parent / "again" / published.name  # the card names its folder
    pipeline.republish(published, again)
    for name in files:
        assert (again / name).read_bytes() == (published / name).read_bytes(), name
    before = (out / "state.json").read_text()
    assert pipeline.main(argv) == 0
    assert (out / "state.json").read_text() == before
    with pytest.raises(SystemExit, match="other arguments"):
        pipeline.main(other_argv)
