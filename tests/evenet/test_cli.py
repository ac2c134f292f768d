"""``zoo evenet``: refusals are one line before TensorFlow; train → predict → evaluate → export → info → live work."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers import check_fails_before_tensorflow, run_cli

REFUSALS = [
    ("neither-text-nor-audio", "predict --model {M} --out {T}/a.csv", r"give either --text or --audio"),
    ("both", "predict --model {M} --text hi --audio {WAV} --out {T}/a.csv", r"give either --text or --audio"),
    ("audio-without-transcript", "predict --model {M} --audio {WAV} --out {T}/a.csv", r"needs --transcript"),
    ("transcript-with-text", "predict --model {M} --text hi --transcript hi --out {T}/a.csv", r"goes with --audio"),
    ("empty-text", "predict --model {M} --text '' --out {T}/a.csv", r"--text: is empty"),
    ("unspeakable-text", "predict --model {M} --text '?!' --out {T}/a.csv", r"--text: '\?!': has nothing speakable"),
    ("unknown-emotion", "predict --model {M} --text hi --emotion bored --out {T}/a.csv",
     r"--emotion bored: not an emotion of this model \(Anger, "),
    ("bad-out-suffix", "predict --model {M} --text hi --out {T}/a.txt", r"unknown output format '.txt'"),
    ("bad-video-suffix", "predict --model {M} --text hi --out {T}/a.csv --video {T}/a.gif", r"--video"),
    ("not-a-model", "predict --model {T} --text hi --out {T}/a.csv", r"--model"),
    ("unknown-val-take", "train --data {D} --workdir {T}/w --val-takes nope", r"no take 'nope'"),
    ("val-is-test", "train --data {D} --workdir {T}/w --val-takes take01 --test-takes take01",
     r"'take01' is also a validation take"),
    ("unknown-config-field", "train --data {D} --workdir {T}/w --set colour=1", r"FIELD one of"),
    ("bad-config-value", "train --data {D} --workdir {T}/w --set lineage=\"gan\"", r"lineage must be one of"),
    ("speakers-without-map", "train --data {D} --workdir {T}/w --val-speakers s1", r"needs --speakers"),
    ("unknown-speaker", "train --data {D} --workdir {T}/w --speakers {SPK} --test-speakers s9",
     r"--test-speakers s9: no speaker 's9' in --speakers"),
    ("takes-and-speakers", "train --data {D} --workdir {T}/w --speakers {SPK} --val-speakers s1 --val-takes take01",
     r"by takes or by speakers, not both"),
    ("remote-live-host", "live --model {M} --host 0.0.0.0", r"--host 0.0.0.0: is not a loopback address"),
]


@pytest.mark.parametrize("case, argv, pattern", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_refusals_are_one_line_before_tensorflow(case, argv, pattern, tiny_model, evenet_folder, tmp_path):
    import re
    import shlex

    wav = tmp_path / "speech.wav"
    import soundfile as sf

    sf.write(wav, 0.3 * np.sin(np.arange(16000) / 10.0), 16000)
    speakers = tmp_path / "speakers.json"
    speakers.write_text(json.dumps({f"take{i:02d}": f"s{i % 3}" for i in range(12)}))
    args = shlex.split(argv.format(M=tiny_model[0], T=tmp_path, D=evenet_folder, WAV=wav, SPK=speakers))
    line = check_fails_before_tensorflow(["evenet", *args])
    assert len(line.splitlines()) == 1 and re.search(pattern, line), line
    assert not any(p.suffix in (".csv", ".wav") and p.name != "speech.wav" for p in tmp_path.iterdir())
    assert not (tmp_path / "w").exists()


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_train_by_speaker(evenet_folder, tmp_path, capsys):
    speakers = tmp_path / "speakers.csv"
    speakers.write_text("take,speaker\n" + "".join(f"take{i:02d},s{i % 3}\n" for i in range(12)))
    status, _, err = run_cli(["evenet", "train", "--data", evenet_folder, "--workdir", tmp_path / "w", "--preset",
                              "tiny", "--epochs", "1", "--speakers", speakers, "--val-speakers", "s1",
                              "--test-speakers", "s2", "--quiet"], capsys)
    assert status == 0, err
    meta = json.loads((tmp_path / "w" / "model" / "metadata.json").read_text())
    assert meta["test_takes"] == [f"take{i:02d}" for i in range(2, 12, 3)]
    assert meta["val_takes"] == [f"take{i:02d}" for i in range(1, 12, 3)]


def test_predict_writes_the_original_csv_the_wav_and_named_json(tiny_model, tmp_path, capsys):
    import soundfile as sf

    status, out, err = run_cli(["evenet", "predict", "--model", tiny_model[0], "--text", "Mama made apple pie.",
                                "--emotion", "happy", "--out", tmp_path / "take.csv"], capsys)
    assert status == 0, err
    text = (tmp_path / "take.csv").read_text().splitlines()
    rows = np.loadtxt(tmp_path / "take.csv", delimiter=",")
    assert rows.shape[1] == 4 and len(text) == len(rows)  # no header: one frame a row
    assert all(len(v.split("e")[0].split(".")[1]) == 10 for v in text[0].split(","))  # %.10e
    audio, rate = sf.read(tmp_path / "take.wav")
    assert len(rows) == int(len(audio) * 48 / rate)
    status, _, err = run_cli(["evenet", "predict", "--model", tiny_model[0], "--audio", tmp_path / "take.wav",
                              "--transcript", "Mama made apple pie.", "--out", tmp_path / "aligned.json"], capsys)
    assert status == 0, err
    named = json.loads((tmp_path / "aligned.json").read_text())
    assert named["fps"] == 48.0 and named["names"][0] == "jawOpen" and len(named["frames"]) == len(rows)


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_train_evaluate_export_info(evenet_folder, tmp_path, capsys):
    work = tmp_path / "w"
    status, out, err = run_cli(["evenet", "train", "--data", evenet_folder, "--workdir", work, "--preset", "tiny",
                                "--epochs", "1", "--test-takes", "take11", "--quiet"], capsys)
    assert status == 0, err
    model = work / "model"
    status, out, _ = run_cli(["evenet", "evaluate", "--model", model, "--data", evenet_folder,
                              "--out", tmp_path / "m.json"], capsys)
    assert status == 0 and json.loads((tmp_path / "m.json").read_text())["takes"] == ["take11"]
    status, out, err = run_cli(["evenet", "export", "--model", model, "--dest", tmp_path / "x"], capsys)
    assert status == 0, err
    assert "tflite" in out and (tmp_path / "x" / "evenet-v1.tflite").is_file()
    status, out, _ = run_cli(["evenet", "info", "--model", model, "--json"], capsys)
    info = json.loads(out)
    assert status == 0 and info["lineage"] == "regression" and info["outputs"][0] == "jawOpen"


def test_live_follows_a_loopback_client(tiny_model, tmp_path):
    """``zoo evenet live`` listens on 127.0.0.1 (port 0: any free one), generates at 48 fps, and a PHO command
    changes the frames that follow; the frames land in --out."""
    out = tmp_path / "live.csv"
    proc = subprocess.Popen([sys.executable, "-m", "zoo.cli", "evenet", "live", "--model", str(tiny_model[0]),
                             "--port", "0", "--frames", "144", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on 127.0.0.1:"), (line, proc.stderr.read() if proc.poll() else "")
        port = int(line.split()[2].rstrip(":").rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            time.sleep(0.5)
            client.sendall(b"PHO AA\n")
            assert client.makefile().readline().strip() == "OK PHO AA"
        rest, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "144 frames" in rest and np.loadtxt(out, delimiter=",").shape == (144, 4)
