"""Shared export (DESIGN §5): SavedModel with named signatures, TF-Serving layout, TFLite + parity.

``export(model, dest, name=..., endpoints=..., output_names=..., metadata=...)`` writes::

    dest/<name>/<version>/                     SavedModel = TF-Serving layout (model_base_path = dest/<name>)
        saved_model.pb, variables/, fingerprint.pb
        assets/output_names.txt                one output channel name per line
        assets/metadata.json                   fps, sample rate, window ... + signatures, versions
        assets.extra/tf_serving_warmup_requests  TFRecord of PredictionLog (one per signature)
    dest/<name>-v<version>.tflite              the TFLite model of one signature
    dest/<name>-v<version>.int8.tflite         opt-in (``tflite_int8=True``): the same signature with
                                               dynamic-range quantisation (int8 weights, float32 between ops)
    dest/<name>-v<version>.parity.json         max/mean |Δ| vs Keras for SavedModel, TFLite [, int8 TFLite]

Parity is measured on the caller's real inputs: every signature of the reloaded SavedModel
and the TFLite signature (ai-edge-litert interpreter) against the eager Keras function.
Any difference above ``tolerance`` (``int8_tolerance`` for the int8 TFLite, whose weights are
rounded to 8 bits) raises ``ExportParityError``. Everything is built in a
staging folder inside ``dest`` and renamed into place only after all checks pass, so a
failure never leaves half an artifact; a failed or interrupted export also removes the folders it created
(``dest`` and its missing parents, ``dest/<name>``) while they are empty, never a folder that was there before.

Input checks. Every signature checks its inputs inside the graph (what TF-Serving and
``tf.saved_model.load(path).signatures[key](...)`` run), before the model sees them, so a wrong input is an
``InvalidArgumentError`` that names the signature, the input and the expected shape, never a silent result
or an abort inside a kernel (an unbatched input used to abort the process inside oneDNN):

* rank and every static dimension of each input against its ``input_signature`` spec (a ``tf.debugging.Assert``
  with that message, then ``tf.ensure_shape`` as a backstop; for a spec without ``None`` TensorFlow folds the
  assert away and the backstop's own message "Shape of tensor <input> [...] is not compatible with expected
  shape [...]" is the error);
* the batch: all inputs whose spec starts with a ``None`` dimension have the same size there;
* ``Endpoint.checks``: (description, predicate) pairs for what the specs cannot say (e.g. "audio holds at least
  one frame"); ``predicate`` takes the shape-checked inputs as keyword tensors and returns a scalar bool tensor.

The dtype needs no op: the signature's placeholders are typed and TensorFlow refuses another dtype before the
graph runs (``InvalidArgumentError`` naming the input's position, "input #i"). ``ExportedModel.__call__``
also checks in Python, by name, and refuses another kind of dtype (an int16 PCM array where float32 is expected).
The TFLite converter drops Assert and EnsureShape ops (TFLite has no such builtins), so the TFLite files carry
no input checks and convert as before: the interpreter itself refuses another dtype, and another rank where a
kernel needs it (RuntimeError), but runs a wrong static dimension or batch; check inputs before running them
(``zoo.core.runners.TFLiteRunner`` compares the file's shapes with the model's).

Keras 3 GRU/LSTM layers convert to TFLite only with ``unroll=True`` or with a static batch
of 1 (specs/environment.md §1); for the latter pass ``tflite_model=`` a batch-1 copy of the
model, converted with ``TFLiteConverter.from_keras_model`` and checked example by example.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__

log = logging.getLogger(__name__)

WARMUP_FILE = "tf_serving_warmup_requests"
WARMUP_MAX_BATCH = 4


class ExportParityError(RuntimeError):
    """An exported artifact disagrees with the Keras model by more than the tolerance."""


class ExportError(ValueError):
    """Export arguments that cannot give a valid artifact (shapes, names, destinations)."""


@dataclass
class Endpoint:
    """One serving signature.

    Args:
        fn: called with keyword tensors named as ``input_signature``; returns a dict of
            output tensors.
        input_signature: input name → ``tf.TensorSpec`` (use None for the batch dimension).
        parity_inputs: input name → a real NumPy input batch used for the parity check and
            the TF-Serving warmup request.
        expected: output name → the outputs for ``parity_inputs`` computed without ``fn`` (e.g. by a
            NumPy pipeline); the parity check compares the exported signature with them. Without it
            the reference is ``fn`` run eagerly (which checks the export, not ``fn`` itself).
        checks: extra input checks run inside the exported graph after the generic ones (module docstring):
            (description, predicate) pairs; ``predicate`` takes the inputs as keyword tensors and returns a
            scalar bool tensor; when it is False the call fails with "signature <key>: <description>" and the
            shapes of the inputs.
    """

    fn: Callable[..., Mapping]
    input_signature: Mapping
    parity_inputs: Mapping[str, np.ndarray]
    expected: Mapping[str, np.ndarray] | None = None
    checks: Sequence[tuple[str, Callable[..., Any]]] = ()


@dataclass
class ParityCheck:
    signature: str
    backend: str  # "saved_model" | "tflite" | "tflite_int8"
    max_abs_diff: float
    mean_abs_diff: float
    tolerance: float
    examples: int

    @property
    def passed(self) -> bool:
        return self.max_abs_diff <= self.tolerance


@dataclass
class ExportResult:
    saved_model: Path
    tflite: Path | None
    parity_report: Path
    checks: list[ParityCheck] = field(default_factory=list)
    tflite_int8: Path | None = None


def keras_endpoint(model, parity_inputs, output_key: str = "outputs") -> Endpoint:
    """The batch-dynamic ``serving_default`` of a single-output functional Keras model.

    Inputs are named after the model's inputs; ``parity_inputs`` is an array (one input)
    or a dict by input name.
    """
    import tensorflow as tf

    names = [t.name.split(":")[0] for t in model.inputs]
    specs = {n: tf.TensorSpec([None, *t.shape[1:]], t.dtype, name=n) for n, t in zip(names, model.inputs)}
    if not isinstance(parity_inputs, Mapping):
        if len(names) != 1:
            raise ExportError(f"model has inputs {names}; pass parity_inputs as a dict")
        parity_inputs = {names[0]: parity_inputs}

    def serve(**inputs):
        args = [inputs[n] for n in names]
        return {output_key: model(args[0] if len(args) == 1 else args, training=False)}

    return Endpoint(serve, specs, parity_inputs)


def _shape_text(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _shape_matches(x, shape):
    """A scalar bool tensor: ``x``'s runtime shape has ``shape``'s rank and static dimensions. Never fails itself
    on another rank: the runtime shape is padded with -1 to rank + 1 entries, so entry ``rank`` is -1 exactly when
    ``x`` has at most that rank, and entry ``rank - 1`` is ≥ 0 exactly when it has at least that rank."""
    import tensorflow as tf

    rank = len(shape)
    # not tf.shape: it returns a fully known static shape as a constant (the EnsureShape after the check covers that)
    runtime = tf.raw_ops.Shape(input=x, out_type=tf.int64)
    got = tf.concat([runtime, tf.fill([rank + 1], tf.constant(-1, tf.int64))], 0)[:rank + 1]
    ok = [tf.equal(got[rank], -1)] + ([tf.greater_equal(got[rank - 1], 0)] if rank else [])
    ok += [tf.equal(got[i], d) for i, d in enumerate(shape) if d is not None]
    return tf.reduce_all(tf.stack(ok))


def _with_input_checks(signature: str, ep: Endpoint):
    """``ep.fn`` as a function of positional tensors in ``input_signature`` order that first checks them inside
    the graph (module docstring, "Input checks"); the model only runs on inputs that passed."""
    import tensorflow as tf

    keys = list(ep.input_signature)
    shapes = {k: tf.TensorShape(ep.input_signature[k].shape) for k in keys}
    batched = [k for k in keys if shapes[k].rank and shapes[k][0] is None]

    def after(asserts, tensors):
        with tf.control_dependencies(asserts):
            return {k: tf.identity(v) for k, v in tensors.items()}

    def shapes_of(tensors):
        return [item for k in keys for item in (f"{k}:", tf.raw_ops.Shape(input=tensors[k]))]

    def call(*args):
        inputs = dict(zip(keys, args))
        # no quotes in the messages: the Assert op prints its strings C-escaped (' as \\')
        asserts = [
            tf.debugging.Assert(_shape_matches(x, shapes[k].as_list()), [
                f"signature {signature}: input {k} must have shape {_shape_text(shapes[k].as_list())}, got",
                tf.raw_ops.Shape(input=x)], summarize=16, name=f"check_{k}_shape")
            for k, x in inputs.items() if shapes[k].rank is not None]
        inputs = {k: tf.ensure_shape(x, shapes[k]) for k, x in after(asserts, inputs).items()}
        asserts = []
        if len(batched) > 1:
            sizes = tf.stack([tf.shape(inputs[k], out_type=tf.int64)[0] for k in batched])
            asserts.append(tf.debugging.Assert(
                tf.reduce_all(tf.equal(sizes, sizes[0])),
                [f"signature {signature}: inputs {', '.join(batched)} must have the same batch size "
                 "(dimension 0), got", sizes], summarize=16, name="check_batch"))
        for description, predicate in ep.checks:
            asserts.append(tf.debugging.Assert(
                tf.reshape(predicate(**inputs), []),
                [f"signature {signature}: {description}; got shapes", *shapes_of(inputs)], summarize=16))
        return ep.fn(**after(asserts, inputs))

    return call


def _as_numpy_dict(outputs) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in dict(outputs).items()}


def _compare(signature, backend, ref: dict, got: dict, tolerance: float) -> ParityCheck:
    if set(ref) != set(got):
        raise ExportParityError(f"{backend} signature {signature!r} outputs {sorted(got)} ≠ Keras {sorted(ref)}")
    diffs = []
    for key in ref:
        if ref[key].shape != got[key].shape:
            raise ExportParityError(
                f"{backend} signature {signature!r} output {key!r} has shape {got[key].shape}, Keras {ref[key].shape}")
        diffs.append(np.abs(ref[key].astype(np.float64) - got[key].astype(np.float64)).ravel())
    d = np.concatenate(diffs) if diffs else np.zeros(1)
    examples = len(next(iter(ref.values()))) if ref else 0
    return ParityCheck(signature, backend, float(d.max()), float(d.mean()), tolerance, examples)


def _run_tflite(model_bytes: bytes, signature: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run a TFLite signature on a batch (``zoo.core.runners.TFLiteRunner``: a static batch of 1 runs row by row)."""
    from zoo.core.runners import TFLiteRunner

    runner = TFLiteRunner(model_bytes, signature)
    if set(runner.input_shapes) != set(inputs):
        raise ExportParityError(f"TFLite signature {signature!r} inputs {sorted(runner.input_shapes)} ≠ given "
                                f"{sorted(inputs)}")
    return runner(inputs)


def _warmup_records(name: str, endpoints: Mapping[str, Endpoint]) -> list[bytes]:
    """One serialized ``PredictionLog`` per signature, with up to WARMUP_MAX_BATCH real examples."""
    import tensorflow as tf
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    records = []
    for key, ep in endpoints.items():
        request = predict_pb2.PredictRequest(
            model_spec=model_pb2.ModelSpec(name=name, signature_name=key))
        for input_name, value in ep.parity_inputs.items():
            value = np.asarray(value)
            shape = tf.TensorShape(ep.input_signature[input_name].shape)
            if shape.rank and shape[0] is None:  # batch-dynamic: a few real examples are enough
                value = value[:WARMUP_MAX_BATCH]
            request.inputs[input_name].CopyFrom(tf.make_tensor_proto(value))
        log_entry = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
        records.append(log_entry.SerializeToString())
    return records


def _spec_json(spec) -> dict:
    return {"shape": [None if d is None else int(d) for d in spec.shape], "dtype": spec.dtype.name}


def export(
    model,
    dest: str | os.PathLike,
    *,
    name: str,
    output_names: list[str],
    metadata: Mapping,
    endpoints: Mapping[str, Endpoint] | None = None,
    parity_inputs=None,
    version: int = 1,
    tflite: bool = True,
    tflite_signature: str = "serving_default",
    tflite_model=None,
    tolerance: float = 1e-5,
    overwrite: bool = False,
    tflite_int8: bool = False,
    int8_tolerance: float = 0.02,
) -> ExportResult:
    """Export ``model`` as SavedModel (TF-Serving layout) and TFLite, with parity checks.

    Args:
        model: the Keras model whose variables the endpoints use (tracked into the SavedModel).
        dest: the export root (created if needed).
        name: the servable name (folder name and TF-Serving model name).
        output_names: the names of the output channels (written to assets/output_names.txt).
        metadata: JSON-serialisable facts for assets/metadata.json (fps, sample_rate, window,
            lookahead, preset, ...).
        endpoints: signature name → ``Endpoint``; must include "serving_default". Default:
            ``keras_endpoint(model, parity_inputs)``.
        parity_inputs: real inputs for the default endpoint (when ``endpoints`` is None).
        version: the TF-Serving version folder (positive integer).
        tflite: also convert ``tflite_signature`` to TFLite.
        tflite_model: a batch-1 Keras model for ``from_keras_model`` conversion (RNN recipe).
        tolerance: maximum allowed |Δ| for every parity check but the int8 one.
        overwrite: replace an existing artifact of the same name and version.
        tflite_int8: also convert ``tflite_signature`` with dynamic-range quantisation
            (``tf.lite.Optimize.DEFAULT``, no representative data: int8 weights of tensors with
            ≥ 1024 elements; tensors between ops stay float32, quantised on the fly inside the
            int8 kernels) to ``<name>-v<version>.int8.tflite``.
            Needs ``tflite``.
        int8_tolerance: maximum allowed |Δ| of the int8 TFLite against Keras.
    """
    import keras
    import tensorflow as tf

    if endpoints is None:
        if parity_inputs is None:
            raise ExportError("pass parity_inputs (real inputs for the parity check) or endpoints")
        endpoints = {"serving_default": keras_endpoint(model, parity_inputs)}
    if "serving_default" not in endpoints:
        raise ExportError(f"endpoints {sorted(endpoints)} lack 'serving_default' (TF-Serving needs it)")
    if tflite_int8 and not tflite:
        raise ExportError("tflite_int8 needs tflite=True (the int8 model is a second conversion of the TFLite one)")
    if tflite and tflite_signature not in endpoints:
        raise ExportError(f"tflite_signature {tflite_signature!r} is not one of {sorted(endpoints)}")
    if not (isinstance(version, int) and version > 0):
        raise ExportError(f"version must be a positive integer, got {version!r}")
    if not name or "/" in name or name.startswith("."):
        raise ExportError(f"invalid export name {name!r}")
    for key, ep in endpoints.items():
        if set(ep.parity_inputs) != set(ep.input_signature):
            raise ExportError(
                f"{key}: parity inputs {sorted(ep.parity_inputs)} ≠ signature inputs {sorted(ep.input_signature)}")
        for input_name, spec in ep.input_signature.items():
            value = np.asarray(ep.parity_inputs[input_name])
            if not tf.TensorShape(spec.shape).is_compatible_with(value.shape):
                raise ExportError(f"{key}: parity input {input_name!r} has shape {value.shape}, signature {spec.shape}")
    try:
        meta_text = json.dumps(dict(metadata), indent=1, sort_keys=True)
    except TypeError as exc:
        raise ExportError(f"metadata is not JSON-serialisable: {exc}") from None

    dest = Path(dest)
    final_sm = dest / name / str(version)
    final_tflite = dest / f"{name}-v{version}.tflite"
    final_int8 = dest / f"{name}-v{version}.int8.tflite"
    final_report = dest / f"{name}-v{version}.parity.json"
    targets = [final_report] + ([final_tflite] if tflite else []) + ([final_int8] if tflite_int8 else []) + [final_sm]
    existing = [p for p in targets if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{existing[0]} exists; replace it with overwrite (overwrite=True, --overwrite on "
                              "the command line)")

    created = _missing_folders(final_sm.parent)  # removed again (when empty) unless the export succeeds
    staging = dest / f".staging-{uuid.uuid4().hex[:12]}"
    done = False
    try:
        dest.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        sm_dir = staging / "saved_model"
        archive = keras.export.ExportArchive()
        archive.track(model)
        for key, ep in endpoints.items():
            keys = list(ep.input_signature)
            specs = [tf.TensorSpec(ep.input_signature[k].shape, ep.input_signature[k].dtype, name=k) for k in keys]
            archive.add_endpoint(key, _with_input_checks(key, ep), input_signature=specs)
        archive.write_out(str(sm_dir), verbose=False)

        # reference outputs: the endpoint's independent ``expected``, else the same function run eagerly
        references = {key: {k: np.asarray(v) for k, v in ep.expected.items()} if ep.expected is not None else
                      _as_numpy_dict(ep.fn(**{k: tf.constant(v) for k, v in ep.parity_inputs.items()}))
                      for key, ep in endpoints.items()}
        checks = []
        loaded = tf.saved_model.load(str(sm_dir))
        signature_specs = {}
        for key, ep in endpoints.items():
            fn = loaded.signatures[key]
            got = _as_numpy_dict(fn(**{k: tf.constant(v) for k, v in ep.parity_inputs.items()}))
            checks.append(_compare(key, "saved_model", references[key], got, tolerance))
            signature_specs[key] = {
                "inputs": {k: _spec_json(s) for k, s in fn.structured_input_signature[1].items()},
                "outputs": {k: _spec_json(s) for k, s in fn.structured_outputs.items()},
            }
        del loaded

        if tflite:
            ep = endpoints[tflite_signature]
            tfl_inputs = {k: np.asarray(v) for k, v in ep.parity_inputs.items()}
            if tflite_model is not None:  # from_keras_model names I/O after the Keras model
                tfl_inputs = dict(zip([t.name.split(":")[0] for t in tflite_model.inputs], tfl_inputs.values()))
            ref = references[tflite_signature]
            conversions = [("tflite", False, tolerance, "model.tflite")]
            if tflite_int8:
                conversions.append(("tflite_int8", True, int8_tolerance, "model.int8.tflite"))
            for backend, quantised, tol, file in conversions:
                tflite_bytes = _convert_tflite(sm_dir, tflite_signature, tflite_model, quantised)
                got = _run_tflite(tflite_bytes, tflite_signature if tflite_model is None else "serving_default",
                                  tfl_inputs)
                if tflite_model is not None and len(ref) == 1 and len(got) == 1:
                    got = {next(iter(ref)): next(iter(got.values()))}
                checks.append(_compare(tflite_signature, backend, ref, got, tol))
                (staging / file).write_bytes(tflite_bytes)

        report = {
            "name": name, "version": version, "tolerance": tolerance,
            "int8_tolerance": int8_tolerance if tflite_int8 else None,
            "passed": all(c.passed for c in checks),
            "checks": [dict(asdict(c), passed=c.passed) for c in checks],
        }
        (staging / "parity.json").write_text(json.dumps(report, indent=1))
        failed = [c for c in checks if not c.passed]
        if failed:
            worst = max(failed, key=lambda c: c.max_abs_diff / c.tolerance if c.tolerance > 0 else np.inf)
            raise ExportParityError(
                f"{name} v{version}: {worst.backend} signature {worst.signature!r} differs from Keras by "
                f"max {worst.max_abs_diff:.3g} (mean {worst.mean_abs_diff:.3g}) > tolerance {worst.tolerance:g}; "
                "nothing was written" + (" (raise the bound with int8_tolerance= / --int8-tolerance)"
                                         if worst.backend == "tflite_int8" else ""))

        full_meta = {
            **json.loads(meta_text),
            "name": name, "version": version, "output_names": list(output_names),
            "signatures": signature_specs,
            "tflite_signature": tflite_signature if tflite else None,
            "tflite_int8": bool(tflite_int8),
            "zoo_version": __version__, "tensorflow_version": tf.__version__,
            "keras_version": keras.__version__,
            "exported_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        (sm_dir / "assets").mkdir(exist_ok=True)
        (sm_dir / "assets" / "output_names.txt").write_text("".join(f"{n}\n" for n in output_names))
        (sm_dir / "assets" / "metadata.json").write_text(json.dumps(full_meta, indent=1))
        (sm_dir / "assets.extra").mkdir()
        with tf.io.TFRecordWriter(str(sm_dir / "assets.extra" / WARMUP_FILE)) as writer:
            for record in _warmup_records(name, endpoints):
                writer.write(record)

        _move_into_place(staging, [
            (staging / "parity.json", final_report),
            *([(staging / "model.tflite", final_tflite)] if tflite else []),
            *([(staging / "model.int8.tflite", final_int8)] if tflite_int8 else []),
            (sm_dir, final_sm),
        ])
        done = True
        for c in checks:
            log.info("%s v%d %s %s: max |Δ| %.3g, mean %.3g", name, version, c.backend, c.signature,
                     c.max_abs_diff, c.mean_abs_diff)
        return ExportResult(final_sm, final_tflite if tflite else None, final_report, checks,
                            final_int8 if tflite_int8 else None)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not done:
            _remove_empty(created)


def _missing_folders(path: Path) -> list[Path]:
    """``path`` and its ancestors that do not exist yet, deepest first (the folders an export would create)."""
    missing = []
    for folder in [path, *path.parents]:
        if folder.exists():
            break
        missing.append(folder)
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (deepest first) while they are empty: a failed export leaves no folder it created."""
    for folder in folders:
        try:
            folder.rmdir()
        except FileNotFoundError:
            continue
        except OSError:  # not empty (or not ours to remove): its parents are not empty either
            break


def _convert_tflite(sm_dir: Path, signature: str, tflite_model, quantised: bool) -> bytes:
    """TFLite bytes of ``signature`` of the SavedModel, or of ``tflite_model`` (``from_keras_model``);
    ``quantised``: dynamic-range quantisation (``tf.lite.Optimize.DEFAULT`` without representative data)."""
    import tensorflow as tf

    if tflite_model is not None:
        converter = tf.lite.TFLiteConverter.from_keras_model(tflite_model)
    else:
        converter = tf.lite.TFLiteConverter.from_saved_model(str(sm_dir), signature_keys=[signature])
    if quantised:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    chatter = io.StringIO()  # from_keras_model prints Keras' export summary; keep it in the log
    with contextlib.redirect_stdout(chatter):
        tflite_bytes = converter.convert()
    log.debug("TFLite converter output:\n%s", chatter.getvalue())
    return tflite_bytes


def _move_into_place(staging: Path, moves: list[tuple[Path, Path]]) -> None:
    """Rename each staged path onto its target; on any failure undo the renames already done."""
    old = staging / "replaced"
    old.mkdir()
    done = []
    try:
        for i, (src, dst) in enumerate(moves):
            dst.parent.mkdir(parents=True, exist_ok=True)
            backup = None
            if dst.exists():
                backup = old / str(i)
                os.replace(dst, backup)
            os.replace(src, dst)
            done.append((src, dst, backup))
    except BaseException:
        for src, dst, backup in reversed(done):
            os.replace(dst, src)
            if backup is not None:
                os.replace(backup, dst)
        raise


def _dtype_kind(dtype) -> str:
    """NumPy's kind letter ("f" float, "b" bool, ...), "i" for any integer: casts within a kind keep the values'
    meaning."""
    kind = np.dtype(dtype).kind
    return "i" if kind == "u" else kind


class ExportedModel:
    """A SavedModel written by ``export``, with its output names and metadata.

    ``ExportedModel.load(path)`` takes the version folder, or the servable folder
    (``dest/<name>``: the highest version is used). Call it like the model:
    ``outputs = exported(audio=x)`` runs ``serving_default`` and returns NumPy arrays.
    """

    def __init__(self, path: Path, loaded, output_names: list[str], metadata: dict):
        self.path, self._loaded = path, loaded  # keep ``loaded`` alive: signatures reference it
        self.output_names, self.metadata = output_names, metadata
        self.signatures = loaded.signatures

    @classmethod
    def load(cls, path: str | os.PathLike) -> ExportedModel:
        import tensorflow as tf

        path = Path(path)
        if not (path / "saved_model.pb").is_file():
            versions = sorted((int(p.name) for p in path.iterdir() if p.name.isdigit() and p.is_dir()),
                              reverse=True) if path.is_dir() else []
            if not versions:
                raise FileNotFoundError(f"{path}: no SavedModel (saved_model.pb) and no version folders")
            path = path / str(versions[0])
        assets = path / "assets"
        for needed in ("output_names.txt", "metadata.json"):
            if not (assets / needed).is_file():
                raise FileNotFoundError(f"{path}: not a zoo export (assets/{needed} missing)")
        names = (assets / "output_names.txt").read_text().split("\n")[:-1]
        metadata = json.loads((assets / "metadata.json").read_text())
        return cls(path, tf.saved_model.load(str(path)), names, metadata)

    def __call__(self, signature: str = "serving_default", **inputs) -> dict[str, np.ndarray]:
        """Run ``signature`` on NumPy inputs; a missing, unknown or misshapen input is a ValueError
        that names the signature, the input, the expected and the given shape. An input is cast to the
        signature's dtype only within its kind (float64 → float32); another kind (e.g. int16 PCM samples
        where float32 audio in [-1, 1] is expected) is a TypeError that names the input."""
        import tensorflow as tf

        if signature not in self.signatures:
            raise ValueError(f"{self.path}: no signature {signature!r}; it has {sorted(self.signatures)}")
        specs = self.signatures[signature].structured_input_signature[1]
        missing, unknown = sorted(set(specs) - set(inputs)), sorted(set(inputs) - set(specs))
        if missing or unknown:
            raise ValueError(f"{self.path} signature {signature!r}: missing inputs {missing}, unknown inputs "
                             f"{unknown}; it takes {sorted(specs)}")
        tensors = {}
        for name, spec in specs.items():
            value = np.asarray(inputs[name])
            want = tuple(spec.shape.as_list())
            if not spec.shape.is_compatible_with(value.shape):
                raise ValueError(f"{self.path} signature {signature!r}: input {name!r} must have shape {want}, "
                                 f"got {value.shape}")
            want_kind = _dtype_kind(spec.dtype.as_numpy_dtype)
            if want_kind in "fib" and _dtype_kind(value.dtype) != want_kind:
                raise TypeError(f"{self.path} signature {signature!r}: input {name!r} must be {spec.dtype.name}, "
                                f"got {value.dtype}; convert it first")
            tensors[name] = tf.constant(value, dtype=spec.dtype)
        outputs = self.signatures[signature](**tensors)
        return {k: v.numpy() for k, v in outputs.items()}
