"""Scale-out through `zoo audio2face train --strategy ...`: two workers on 127.0.0.1, and two CPU replicas.

Every run trains the tiny preset for one epoch on the same clips with the same seed and global batch,
with dropout off (each replica draws its own dropout masks, so masks cannot match a one-process run), a
constant learning rate and Adam's ε = 1e-3. Declared before measuring: a distributed run's weights differ
from the one-process run's by at most 1e-3 of the distance the one-process run moved them from their
initial values (the replicas sum their gradients in another order; nothing else differs).

Why ε = 1e-3: with the preset's ε = 1e-8 Adam turns a gradient of ~0 into a step of ±lr, so the ~1e-7
rounding differences of a split batch (one step's gradients agree to that) grew into 1.1 % of the update
after 34 steps in the first measurement; a larger ε keeps such steps proportional to the gradient.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

ZOO = str(Path(sys.executable).with_name("zoo"))
RELATIVE_TOLERANCE = 1e-3
TIMEOUT = 420


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from zoo.datasets.synthetic.corpus import write_facegood_subset

    root = tmp_path_factory.mktemp("a2f_distributed")
    write_facegood_subset(root, 4, seed=0)
    return root


def _command(data: Path, workdir: Path, *extra: str, epochs: int = 1) -> list[str]:
    from zoo.datasets import read_facegood

    held_out = read_facegood(data)[-1].name
    return [ZOO, "audio2face", "train", "--data", str(data), "--workdir", str(workdir), "--preset", "tiny",
            "--epochs", str(epochs), "--batch-size", "16", "--val-clips", held_out, "--quiet",
            "--set", "dropout=0.0", "--set", "schedule=constant", "--set", "learning_rate=0.003",
            "--set", "adam_epsilon=0.001", *extra]


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    return {**env, "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


def _summary(stdout: str) -> dict:
    return json.JSONDecoder().raw_decode(stdout[stdout.index("{"):])[0]


def _run(command, **env) -> dict:
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=_env(**env))
    assert done.returncode == 0, done.stderr[-3000:]
    return _summary(done.stdout)


def _weights(model_dir: Path) -> dict[str, np.ndarray]:
    arrays = {}
    with h5py.File(model_dir / "model.weights.h5", "r") as f:
        f.visititems(lambda name, obj: arrays.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return arrays


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _workers(data: Path, workdirs: list[Path], epochs: int = 1) -> list[tuple[int, str, str]]:
    """(exit code, stdout, stderr) of two `--strategy multi-worker` processes on 127.0.0.1, worker i in workdirs[i]."""
    cluster = {"worker": [f"127.0.0.1:{p}" for p in _free_ports(2)]}
    procs = [subprocess.Popen(_command(data, workdirs[i], "--strategy", "multi-worker", epochs=epochs),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=_env(TF_CONFIG=json.dumps({"cluster": cluster,
                                                             "task": {"type": "worker", "index": i}})))
             for i in range(2)]
    try:
        outputs = [p.communicate(timeout=TIMEOUT) for p in procs]
    finally:
        for p in procs:
            p.kill()
    return [(p.returncode, out, err) for p, (out, err) in zip(procs, outputs)]


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory):
    """(initial weights, one-process weights, summary) of the default strategy."""
    root = tmp_path_factory.mktemp("a2f_single")
    _run(_command(data, root / "init", epochs=0))
    summary = _run(_command(data, root / "single"))
    return _weights(root / "init" / "model"), _weights(root / "single" / "model"), summary


def _relative_distance(got: dict, reference) -> float:
    initial, single, _ = reference
    moved = np.sqrt(sum(np.sum((single[k] - initial[k]) ** 2) for k in single))
    off = np.sqrt(sum(np.sum((got[k] - single[k]) ** 2) for k in single))
    assert moved > 0.1, f"the one-process run barely trained (moved {moved:.3g})"
    return float(off / moved)


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_two_workers_on_loopback_equal_one_process(data, tmp_path, reference):
    workdirs = [tmp_path / f"worker{i}" for i in range(2)]
    outputs = _workers(data, workdirs)
    for rc, _, err in outputs:
        assert rc == 0, err[-3000:]
    chief, other = (_summary(out) for _, out, _ in outputs)
    assert chief["replicas"] == other["replicas"] == 2 and chief["chief"] and not other["chief"]
    assert chief["state_sha256"] == other["state_sha256"]  # the two workers hold identical weights and state
    assert {p.name for p in workdirs[0].iterdir()} >= {"model", "checkpoints", "history.json", "tensorboard"}
    assert not workdirs[1].exists()  # only the chief writes
    assert chief["epochs_trained"] == 1 and chief["val"]["train_loss"] > 0
    distance = _relative_distance(_weights(workdirs[0] / "model"), reference)
    assert distance <= RELATIVE_TOLERANCE, f"two workers vs one process: {distance:.3g} of the update"


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_mirrored_on_two_cpu_devices_equals_one_process(data, tmp_path, reference):
    summary = _run(_command(data, tmp_path / "mirrored", "--strategy", "mirrored", "--cpu-devices", "2"))
    assert summary["replicas"] == 2 and summary["strategy"] == "mirrored"
    distance = _relative_distance(_weights(tmp_path / "mirrored" / "model"), reference)
    assert distance <= RELATIVE_TOLERANCE, f"mirrored vs one process: {distance:.3g} of the update"


def test_multi_worker_without_tf_config_is_one_clear_error(data, tmp_path):
    done = subprocess.run(_command(data, tmp_path / "w", "--strategy", "multi-worker"), capture_output=True,
                          text=True, timeout=TIMEOUT, env=_env())
    assert done.returncode == 2 and "TF_CONFIG" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "w").exists()


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_workers_resume_together_from_the_chiefs_checkpoints(data, tmp_path):
    """Both workers on one --workdir (a shared folder): one epoch, then a rerun to two resumes from the chief's
    checkpoint and ends in exactly the state of two workers training two epochs straight; a worker that cannot
    see the checkpoints stops both with one clear error instead of training apart."""
    shared, elsewhere, straight = tmp_path / "shared", tmp_path / "elsewhere", tmp_path / "straight"

    assert all(rc == 0 for rc, _, _ in _workers(data, [shared, shared]))
    refused = _workers(data, [shared, elsewhere], epochs=2)
    for rc, _, err in refused:
        assert rc == 2 and "resumed from different epochs" in err and "Traceback" not in err, err[-2000:]
    resumed = _workers(data, [shared, shared], epochs=2)
    assert [rc for rc, _, _ in resumed] == [0, 0], resumed[0][2][-2000:]
    chief, other = (_summary(out) for _, out, _ in resumed)
    assert chief["epochs_trained"] == 2 and chief["state_sha256"] == other["state_sha256"]
    assert [r["epoch"] for r in json.loads((shared / "history.json").read_text())] == [1, 2]
    uninterrupted = _workers(data, [straight, straight], epochs=2)
    assert [rc for rc, _, _ in uninterrupted] == [0, 0], uninterrupted[0][2][-2000:]
    assert _summary(uninterrupted[0][1])["state_sha256"] == chief["state_sha256"]  # bit-identical resume
