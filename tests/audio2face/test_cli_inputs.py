"""The command line as a user meets it: every bad or unusual input of the audio2face CLI is one clear line (exit 2)
before anything is written, the good ones work, and nothing is sent beyond loopback.

``CASES`` is the table of the session note (before/after): (id, action, argv with {placeholders}, status, pattern
of the one stderr line). Placeholders: M the synthetic preset (paper, emotion database), R the real preset
(FACEGOOD rig, no emotion input), W/W8/MP3/SILENT/M4A/TEXT audio files, T a scratch folder, FILE a regular file,
OUT the default --out, and the broken model folders of ``broken_models``.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import (
    PROJECT,
    bad_audio_files,
    check_cli_refusal,
    check_fails_before_tensorflow,
    read_only_folder_run,
    run_cli,
)

PRETRAINED = PROJECT / "pretrained" / "audio2face"
VECTOR16 = ",".join(["-0.3"] + ["0.01"] * 15)

# (id, action, arguments after the action, exit status, regex of the first stderr line (None: no stderr))
CASES = [
    ("smooth-longer-than-clip", "predict", "--model {M} --audio {W} --out {OUT} --smooth 999", 2,
     r"--smooth 999: is longer than the clip \(150 frames\)"),
    ("smooth-zero", "predict", "--model {M} --audio {W} --out {OUT} --smooth 0", 2,
     r"argument --smooth: must be a positive integer"),
    ("smooth-negative", "predict", "--model {M} --audio {W} --out {OUT} --smooth -1", 2,
     r"argument --smooth: must be a positive integer"),
    ("smooth-even", "predict", "--model {M} --audio {W} --out {OUT} --smooth 4", 2, r"must be odd"),
    ("udp-remote-without-opt-in", "predict", "--model {R} --audio {W} --out {OUT} --udp 192.0.2.1:43014", 2,
     r"--udp 192.0.2.1:43014: not a loopback address; add --allow-remote"),
    ("udp-port-out-of-range", "predict", "--model {R} --audio {W} --out {OUT} --udp 127.0.0.1:99999", 2,
     r"port 99999 is outside 1-65535"),
    ("udp-port-not-a-number", "predict", "--model {R} --audio {W} --out {OUT} --udp localhost:x", 2,
     r"port 'x' is not a number"),
    ("udp-names-without-udp", "predict", "--model {R} --audio {W} --out {OUT} --udp-names {NAMES5}", 2,
     r"--udp-names: only with --udp"),
    ("udp-names-wrong-count", "predict", "--model {R} --audio {W} --out {OUT} --udp --udp-names {NAMES5}", 2,
     r"--udp-names .*: the receiver has 116 slots, the file names 5"),
    ("udp-names-missing-file", "predict", "--model {R} --audio {W} --out {OUT} --udp --udp-names {T}/nope.txt", 2,
     r"--udp-names .*nope.txt: no such file"),
    ("udp-rig-mismatch", "predict", "--model {M} --audio {W} --out {OUT} --udp", 2,
     r"channels are not receiver slots .*add --udp-names"),
    ("out-is-a-folder", "predict", "--model {M} --audio {W} --out {T}", 2, r"--out .*: is a folder"),
    ("out-unknown-suffix", "predict", "--model {M} --audio {W} --out {T}/curves.txt", 2,
     r"unknown output format '.txt'; use .csv, .npy, .json"),
    ("out-parent-is-a-file", "predict", "--model {M} --audio {W} --out {FILE}/curves.csv", 2,
     r"is a file, not a folder"),
    ("plot-not-png", "predict", "--model {M} --audio {W} --out {OUT} --plot {T}/x.txt", 2,
     r"--plot .*x.txt: unknown output format '.txt'; use .png"),
    ("weights-truncated", "predict", "--model {TRUNCATED} --audio {W} --out {OUT}", 2,
     r"--model: .*model.weights.h5: sha256 differs from metadata.json"),
    ("weights-of-another-preset", "predict", "--model {OTHER_WEIGHTS} --audio {W} --out {OUT}", 2,
     r"model.weights.h5.*config.json"),
    ("config-not-json", "predict", "--model {BAD_JSON} --audio {W} --out {OUT}", 2,
     r"config.json: not valid JSON"),
    ("config-unknown-field", "predict", "--model {BAD_FIELD} --audio {W} --out {OUT}", 2,
     r"config.json.*colour"),
    ("emotion-database-missing", "predict", "--model {NO_DATABASE} --audio {W} --out {OUT}", 2,
     r"emotion_database.npy"),
    ("model-missing", "predict", "--model {T}/nope --audio {W} --out {OUT}", 2, r"--model .*nope: no such folder"),
    ("audio-8khz", "predict", "--model {M} --audio {W8} --out {OUT}", 0,
     r"warning: .*speech8k.wav: a 8000 Hz file whose content ends at 3.9 kHz"),
    ("audio-silent", "predict", "--model {M} --audio {SILENT} --out {OUT}", 2, r"silent.wav: audio is silent"),
    ("audio-m4a", "predict", "--model {M} --audio {M4A} --out {OUT}", 2, r"AAC is not readable here.*ffmpeg -i"),
    ("audio-not-audio", "predict", "--model {M} --audio {TEXT} --out {OUT}", 2, r"notes.wav: "),
    ("audio-mp3", "predict", "--model {M} --audio {MP3} --out {OUT}", 0, None),
    ("audio-missing", "predict", "--model {M} --audio {T}/nope.wav --out {OUT}", 2,
     r"--audio .*nope.wav: no such file"),
    ("emotion-index-negative", "predict", "--model {M} --audio {W} --out {OUT} --emotion-index -1", 2,
     r"--emotion-index -1: out of range: the database has \d+ entries"),
    ("emotion-index-too-big", "predict", "--model {M} --audio {W} --out {OUT} --emotion-index 999999", 2,
     r"out of range"),
    ("emotion-vector-negative-first", "predict", "--model {M} --audio {W} --out {OUT} --emotion-vector " + VECTOR16,
     0, None),
    ("emotion-vector-spaces", "predict",
     "--model {M} --audio {W} --out {OUT} --emotion-vector " + VECTOR16.replace(",", " "), 0, None),
    ("emotion-vector-wrong-length", "predict", "--model {M} --audio {W} --out {OUT} --emotion-vector -0.3,0.1", 2,
     r"needs 16 finite values, got 2"),
    ("emotion-by-name", "predict", "--model {M} --audio {W} --out {OUT} --emotion happy", 0, None),
    ("emotion-blend", "predict", "--model {M} --audio {W} --out {OUT} --emotion happy:0.7,neutral:0.3", 0, None),
    ("emotion-unknown-name", "predict", "--model {M} --audio {W} --out {OUT} --emotion joyful", 2,
     r"unknown emotion 'joyful'; this model knows .*happy"),
    ("emotion-without-emotion-input", "predict", "--model {R} --audio {W} --out {OUT} --emotion-index 0", 2,
     r"preset 'facegood_tf2' has no emotion input"),
    ("litert-without-tflite", "predict", "--model {NO_TFLITE} --audio {W} --out {OUT} --engine litert", 2,
     r"has no model.tflite"),
    ("tflite-missing", "predict", "--model {M} --audio {W} --out {OUT} --tflite {T}/nope.tflite", 2,
     r"--tflite .*nope.tflite: no such file"),
    ("unknown-flag", "predict", "--model {M} --audio {W} --out {OUT} --smoothe 3", 2,
     r"unrecognized arguments: --smoothe 3 \(see zoo audio2face predict --help\)"),
    ("export-exists", "export", "--model {M} --dest {EXPORTS}", 2, r"exists; add --overwrite to replace it"),
    ("export-int8-without-tflite", "export", "--model {M} --dest {T}/x --int8 --no-tflite", 2,
     r"--int8: needs the TFLite model"),
    ("export-version-zero", "export", "--model {M} --dest {T}/x --version 0", 2, r"must be a positive integer"),
    ("export-name-with-slash", "export", "--model {M} --dest {T}/x --name a/b", 2, r"--name a/b: must be a plain"),
    ("export-dest-is-a-file", "export", "--model {M} --dest {FILE}", 2, r"--dest .*: is a file, not a folder"),
    ("train-data-missing", "train", "--data {T}/nope --workdir {T}/w", 2, r"--data .*nope: no such folder"),
    ("train-workdir-is-a-file", "train", "--data {DATA} --workdir {FILE}", 2, r"--workdir .*: is a file"),
    ("train-unknown-val-clip", "train", "--data {DATA} --workdir {T}/w --val-clips nope", 2,
     r"--val-clips nope: no clip 'nope'"),
    ("train-unknown-field", "train", "--data {DATA} --workdir {T}/w --set colour=red", 2,
     r"--set colour=red: expected FIELD=VALUE"),
    ("train-invalid-value", "train", "--data {DATA} --workdir {T}/w --set batch_size=3", 2,
     r"batch_size must be even"),
    ("train-negative-epochs", "train", "--data {DATA} --workdir {T}/w --epochs -1", 2, r"must be an integer ≥ 0"),
    ("evaluate-out-not-json", "evaluate", "--model {M} --data {DATA} --out {T}/m.csv", 2,
     r"unknown output format '.csv'; use .json"),
]


def _reseal(folder: Path) -> None:
    """Rewrite metadata.json's sha256 of ``folder`` after a deliberate change (a consistent but broken folder)."""
    from zoo.core.modeldir import METADATA_FILE, sha256_file

    meta = json.loads((folder / METADATA_FILE).read_text())
    meta["sha256"] = {p.name: sha256_file(p) for p in sorted(folder.iterdir())
                      if p.is_file() and p.name in meta["sha256"]}
    (folder / METADATA_FILE).write_text(json.dumps(meta, indent=1))


@pytest.fixture(scope="module")
def env(tmp_path_factory, synthetic_facegood):
    root = tmp_path_factory.mktemp("cli")
    files = bad_audio_files(root / "audio")
    places = {"M": PRETRAINED / "synthetic", "R": PRETRAINED / "facegood_real", "T": root / "scratch",
              "FILE": root / "a-file", "OUT": root / "out" / "curves.csv", "DATA": synthetic_facegood,
              "NAMES5": root / "names5.txt", "EXPORTS": root / "exports",
              **{k.upper(): v for k, v in files.items()}, "W": files["speech"], "W8": files["speech8k"]}
    places["T"].mkdir()
    places["FILE"].write_text("a file\n")
    places["NAMES5"].write_text("a\nb\nc\nd\ne\n")
    (places["EXPORTS"] / "audio2face" / "1").mkdir(parents=True)
    broken = {name: root / "models" / name for name in
              ("TRUNCATED", "OTHER_WEIGHTS", "BAD_JSON", "BAD_FIELD", "NO_DATABASE", "NO_TFLITE")}
    for folder in broken.values():
        shutil.copytree(places["M"], folder)
    weights = broken["TRUNCATED"] / "model.weights.h5"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    shutil.copyfile(places["R"] / "model.weights.h5", broken["OTHER_WEIGHTS"] / "model.weights.h5")
    (broken["BAD_JSON"] / "config.json").write_text('{"preset": "paper",')
    config = json.loads((places["M"] / "config.json").read_text())
    (broken["BAD_FIELD"] / "config.json").write_text(json.dumps({**config, "colour": "red"}))
    (broken["NO_DATABASE"] / "emotion_database.npy").unlink()
    (broken["NO_TFLITE"] / "model.tflite").unlink(missing_ok=True)
    for name in ("OTHER_WEIGHTS", "BAD_JSON", "BAD_FIELD", "NO_DATABASE", "NO_TFLITE"):
        meta = json.loads((broken[name] / "metadata.json").read_text())
        meta["sha256"] = {k: v for k, v in meta["sha256"].items() if (broken[name] / k).is_file()}
        if name == "NO_TFLITE":
            meta.pop("tflite", None)  # a folder trained but not published: no TFLite file, no parity report
        (broken[name] / "metadata.json").write_text(json.dumps(meta))
        _reseal(broken[name])
    return {**places, **broken}


def _argv(action: str, template: str, env: dict) -> list[str]:
    return ["audio2face", action, *template.format(**env).split()]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_cli_case(case, env, capfd):
    """Each input of the table: its exit status and its one line (file descriptor 2 captured, so native libraries'
    lines count too); a refusal writes nothing."""
    _, action, template, status, pattern = case
    out = env["OUT"]
    out.unlink(missing_ok=True)
    if status == 2:
        check_cli_refusal(_argv(action, template, env), capfd, pattern, untouched=[out, env["T"] / "x"])
        return
    got, stdout, err = run_cli(_argv(action, template, env), capfd)
    assert got == status, err
    if pattern is None:
        assert err == []
    else:
        assert len(err) == 1 and re.search(pattern, err[0]), err
    assert out.is_file() and f"{out}: 150 frames" in stdout  # smoothing, emotion and rate never change the count


def test_emotion_by_name_is_the_mean_of_its_rows(env, capsys):
    """--emotion happy = the mean of the database rows of the happy training clips; a blend is the weighted sum."""
    from zoo.audio2face import Predictor
    from zoo.core.animation import Animation

    predictor = Predictor.load(env["M"], engine="keras")
    ranges = predictor.metadata["emotions"]
    assert {"happy", "neutral", "sad", "angry"} <= set(ranges)
    rows = sum(b - a for spans in ranges.values() for a, b in spans)
    assert rows == len(predictor.database) == predictor.metadata["train_frames"]
    happy = predictor.database[np.concatenate([np.arange(a, b) for a, b in ranges["happy"]])].mean(axis=0)
    np.testing.assert_allclose(predictor.emotion_vectors("happy", 2)[1], happy, rtol=1e-6)
    blend = predictor.emotion_vectors({"happy": 0.7, "neutral": 0.3}, 1)[0]
    np.testing.assert_allclose(blend, 0.7 * happy + 0.3 * predictor.emotion_of("neutral"), rtol=1e-5, atol=1e-7)
    for spec in ("happy", "happy:0.7,neutral:0.3"):
        run_cli(_argv("predict", "--model {M} --audio {W} --out {OUT} --engine keras --emotion " + spec, env), capsys)
        by_name = Animation.read(env["OUT"]).values
        vector = ",".join(f"{v:.9g}" for v in predictor.emotion_vectors(
            "happy" if spec == "happy" else {"happy": 0.7, "neutral": 0.3}, 1)[0])
        run_cli(_argv("predict", "--model {M} --audio {W} --out {OUT} --engine keras --emotion-vector " + vector,
                      env), capsys)
        np.testing.assert_allclose(by_name, Animation.read(env["OUT"]).values, atol=1e-5)


@pytest.mark.parametrize("case", ["smooth-longer-than-clip", "udp-remote-without-opt-in", "audio-silent",
                                  "weights-truncated", "emotion-index-negative", "export-exists", "unknown-flag"])
def test_refusals_come_before_tensorflow(case, env):
    """A bad argument is refused without importing TensorFlow (the fast start)."""
    _, action, template, _, pattern = next(c for c in CASES if c[0] == case)
    assert re.search(pattern, check_fails_before_tensorflow(_argv(action, template, env)))


@pytest.mark.parametrize("flag", ["--out", "--plot"])
def test_read_only_output_folder(flag, env, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    args = ["audio2face", "predict", "--model", env["M"], "--audio", env["W"], "--out",
            folder / "c.csv" if flag == "--out" else tmp_path / "c.csv"]
    args += ["--plot", folder / "p.png"] if flag == "--plot" else []
    done = read_only_folder_run(folder, args)
    assert done.returncode == 2, done.stderr
    assert re.fullmatch(rf"zoo audio2face predict: error: {flag} .*: folder .*locked is not writable\n", done.stderr)
    assert not any(folder.iterdir()) and not (tmp_path / "c.csv").exists()


def _in_empty_network(argv: list) -> subprocess.CompletedProcess:
    """``zoo argv`` inside an empty network namespace (no interface but a down loopback: nothing can leave)."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"]).returncode != 0:
        pytest.skip("unshare -n is not available: no empty network namespace")
    return subprocess.run(["unshare", "-n", sys.executable, "-m", "zoo.cli", *map(str, argv)], capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("target, cause", [
    ("no-such-host.invalid:43014", r"cannot resolve host 'no-such-host.invalid' \(.*\)"),
    ("192.0.2.1:43014", r"cannot reach 192.0.2.1 \(Network is unreachable\)")])
def test_allow_remote_failures_are_one_line_and_write_nothing(target, cause, env):
    out = env["T"] / "remote.csv"
    done = _in_empty_network(["audio2face", "predict", "--model", env["R"], "--audio", env["W"], "--out", out,
                              "--udp", target, "--allow-remote"])
    assert done.returncode == 2, done.stderr
    assert re.fullmatch(rf"zoo audio2face predict: error: --udp {re.escape(target)}: {cause}\n", done.stderr)
    assert not out.exists()


class _FakeSocket:
    """Stands in for ``socket.socket``: records datagrams instead of sending them."""

    sent: list = []

    def __init__(self, family=None, kind=None, *_):
        self.family = family

    def connect(self, address):
        self.connected = address

    def sendto(self, data, address):
        _FakeSocket.sent.append((address, len(data)))
        return len(data)

    def close(self):
        """Nothing to release: no socket was opened."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_allow_remote_sends_to_the_remote_host(env, capsys, monkeypatch):
    """With --allow-remote the frames go to the named host (the socket is replaced: no packet leaves)."""
    import socket

    _FakeSocket.sent = []
    monkeypatch.setattr(socket, "socket", _FakeSocket)
    out = env["T"] / "remote-ok.csv"
    status, stdout, err = run_cli(["audio2face", "predict", "--model", env["R"], "--audio", env["W"], "--out", out,
                                   "--udp", "192.0.2.1:43014", "--allow-remote"], capsys)
    assert status == 0, err
    assert len(_FakeSocket.sent) == 150 and {a for a, _ in _FakeSocket.sent} == {("192.0.2.1", 43014)}
    assert {n for _, n in _FakeSocket.sent} == {468} and "sent 150 frames to 192.0.2.1:43014" in stdout


def test_unexpected_error_is_one_line_with_the_log(env, capsys, monkeypatch, tmp_path):
    from zoo.audio2face import predict

    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure\nsecond line")

    monkeypatch.setattr(predict.Predictor, "load", broken)
    monkeypatch.setenv("ZOO_LOG_DIR", str(tmp_path / "logs"))
    argv = ["audio2face", "predict", "--model", env["M"], "--audio", env["W"], "--out", env["T"] / "u.csv"]
    status, _, err = run_cli(argv, capsys)
    assert status == 1 and len(err) == 1, err
    line = re.fullmatch(r"zoo audio2face predict: unexpected error: RuntimeError: simulated failure \(traceback in "
                        r"(.*\.log); --debug prints it\)", err[0])
    assert line, err
    assert "Traceback" in Path(line.group(1)).read_text() and "def broken" not in err[0]
    status, _, err = run_cli(["--debug", *argv], capsys)
    assert status == 1 and err[0].startswith("Traceback") and any("in broken" in e for e in err)


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_exits_130_and_leaves_nothing(env, tmp_path):
    out = tmp_path / "interrupted.csv"
    process = subprocess.Popen([sys.executable, "-m", "zoo.cli", "audio2face", "predict", "--model", env["M"],
                                "--audio", env["W"], "--out", out, "--engine", "keras"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=_default_sigint)  # as a foreground command (a background job ignores it)
    maps = Path(f"/proc/{process.pid}/maps")  # TensorFlow's library mapped: the arguments are checked, work began
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline and "tensorflow" not in maps.read_text():
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert err.strip().splitlines()[-1] == "zoo audio2face predict: interrupted" and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_info_lists_what_a_model_takes_and_gives(env, capsys):
    status, stdout, _ = run_cli(["audio2face", "info", "--model", env["M"], "--json"], capsys)
    d = json.loads(stdout)
    assert status == 0 and d["sample_rate"] == 16000 and d["fps"] == 30 and d["lookahead_seconds"] == 0.26
    assert d["emotion"] == "database" and "happy" in d["emotions"] and len(d["outputs"]) == len(set(d["outputs"]))
    status, stdout, _ = run_cli(["audio2face", "info", "--model", env["R"]], capsys)
    assert status == 0 and "none: computed from the audio" in stdout and "37 channels at 30 fps" in stdout
    status, stdout, _ = run_cli(["audio2face", "info"], capsys)
    assert "paper" in stdout and "facegood_real, synthetic" in stdout


def test_debug_is_accepted_after_the_action(env, capsys):
    status, _, err = run_cli(_argv("predict", "--model {M} --audio {SILENT} --out {OUT} --debug", env), capsys)
    assert status == 2 and err[-1].endswith("audio is silent (every sample is zero)")
    assert os.environ.get("TF_CPP_MIN_LOG_LEVEL")  # set by the CLI (or conftest) before TensorFlow loads


def test_train_records_emotion_rows_from_clip_labels(env, capsys, tmp_path):
    """train --emotions: the database rows of each label are the frames of its training clips, in order."""
    from zoo.audio2face import Predictor
    from zoo.datasets import read_facegood

    clips = {c.name: c.num_frames for c in read_facegood(env["DATA"])}
    names = sorted(clips)
    labels = tmp_path / "labels.csv"
    labels.write_text("clip,emotion\n" + "".join(f"{n},{'happy' if '_male_' in n else 'sad'}\n" for n in names))
    check_cli_refusal(["audio2face", "train", "--data", env["DATA"], "--workdir", tmp_path / "w0", "--emotions",
                       env["NAMES5"]], capsys, r"--emotions .*names5.txt: expected a .json or .csv file")
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({n: "happy" for n in names[1:]}))
    check_cli_refusal(["audio2face", "train", "--data", env["DATA"], "--workdir", tmp_path / "w0", "--emotions",
                       partial], capsys, rf"no label for clip '{names[0]}'", untouched=[tmp_path / "w0"])
    status, _, err = run_cli(["audio2face", "train", "--data", env["DATA"], "--workdir", tmp_path / "w",
                              "--preset", "tiny", "--epochs", "1", "--val-clips", names[0], "--test-clips", names[1],
                              "--emotions", labels, "--quiet"], capsys)
    assert status == 0, err
    predictor = Predictor.load(tmp_path / "w" / "model")
    train = predictor.metadata["train_clips"]
    assert names[0] not in train and names[1] not in train
    starts = np.cumsum([0] + [clips[n] for n in train])
    want = {}
    for name, a, b in zip(train, starts[:-1], starts[1:]):
        spans = want.setdefault("happy" if "_male_" in name else "sad", [])
        if spans and spans[-1][1] == a:
            spans[-1][1] = int(b)
        else:
            spans.append([int(a), int(b)])
    assert predictor.metadata["emotions"] == want and starts[-1] == len(predictor.database)
    out = tmp_path / "happy.csv"
    status, _, err = run_cli(["audio2face", "predict", "--model", tmp_path / "w" / "model", "--audio", env["W"],
                              "--out", out, "--emotion", "sad:0.5,happy:0.5"], capsys)
    assert status == 0 and out.is_file(), err


def test_a_send_failure_is_one_line_that_says_where_the_curves_are(env, capsys, monkeypatch):
    import errno
    import socket

    class Refusing(_FakeSocket):
        def sendto(self, data, address):
            raise OSError(errno.ECONNREFUSED, "Connection refused")

    monkeypatch.setattr(socket, "socket", Refusing)
    out = env["T"] / "refused.csv"
    status, _, err = run_cli(["audio2face", "predict", "--model", env["R"], "--audio", env["W"], "--out", out,
                              "--udp", "127.0.0.1:43014"], capsys)
    assert status == 2 and err == [f"zoo audio2face predict: error: --udp 127.0.0.1:43014: sending failed "
                                   f"(Connection refused); the curves are in {out}"]
    assert out.is_file()


@pytest.mark.parametrize("engine", ["keras", "litert"])
def test_a_fresh_process_says_only_what_it_wrote(engine, env, tmp_path):
    """No start-up lines of TensorFlow or LiteRT reach the user: stderr is empty, stdout one line."""
    out = tmp_path / f"{engine}.csv"
    done = subprocess.run([sys.executable, "-m", "zoo.cli", "audio2face", "predict", "--model", env["M"], "--audio",
                           env["W"], "--out", out, "--engine", engine], capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if not k.startswith(("TF_CPP", "ABSL"))})
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout == f"{out}: 150 frames × 41 channels at 30 fps\n"
