"""Batched inference: a Keras model in a ``tf.function``, or a TFLite signature (ai-edge-litert).

Both take NumPy arrays whose first axis is the example axis, run them in batches of ``batch_size``
rows and return NumPy arrays, so a model's Predictor can switch engines without changing its
features. ``TFLiteRunner`` is also what ``zoo.export`` uses for its TFLite parity checks.
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

DEFAULT_BATCH = 512


@contextlib.contextmanager
def quiet_native_stderr():
    """File descriptor 2 sent to a temporary file for the block: native libraries' start-up lines (TensorFlow's
    oneDNN/CUDA probing, LiteRT's "Created TensorFlow Lite XNNPACK delegate") would bury a command's one-line
    messages. On an exception (not Ctrl-C) what they wrote is shown after all."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as chatter:
        os.dup2(chatter.fileno(), 2)
        try:
            yield
        except Exception:
            os.dup2(saved, 2)
            chatter.seek(0)
            sys.stderr.write(chatter.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class KerasRunner:
    """``model`` called with ``training=False`` on batches of ``batch_size`` rows.

    ``runner(x)`` for a one-input model, ``runner(x, e)`` for a model called with a list of inputs;
    the result is the model's single output (rows, ...) as float32 NumPy.
    """

    def __init__(self, model, batch_size: int = DEFAULT_BATCH):
        import tensorflow as tf

        self.model, self.batch_size = model, int(batch_size)
        self._call = tf.function(lambda *xs: model(xs[0] if len(xs) == 1 else list(xs), training=False),
                                 reduce_retracing=True)

    def __call__(self, *inputs: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        rows = _rows(inputs)
        out = [self._call(*(tf.constant(x[i:i + self.batch_size]) for x in inputs)).numpy()
               for i in range(0, rows, self.batch_size)]
        if out:
            return np.concatenate(out)
        shape = self.model.outputs[0].shape[1:]
        return np.zeros((0, *shape), np.float32)


def _rows(inputs: Sequence[np.ndarray]) -> int:
    rows = {len(x) for x in inputs}
    if len(rows) != 1:
        raise ValueError(f"inputs have different numbers of rows: {sorted(rows)}")
    return rows.pop()


class TFLiteRunner:
    """One signature of a TFLite model: ``runner({name: array})`` → {output name: array}.

    ``source`` is a .tflite path or the model's bytes. Inputs are resized to each batch of
    ``batch_size`` rows; a model converted with a static batch of 1 runs row by row. Anything the
    interpreter cannot use is one ValueError that names the file.
    """

    def __init__(self, source: str | os.PathLike | bytes, signature: str = "serving_default",
                 batch_size: int = DEFAULT_BATCH, num_threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter

        self.where = "<TFLite bytes>" if isinstance(source, bytes) else str(source)
        if not isinstance(source, bytes) and not Path(source).is_file():
            raise ValueError(f"{source}: TFLite file not found")
        try:
            interpreter = (Interpreter(model_content=source, num_threads=num_threads) if isinstance(source, bytes)
                           else Interpreter(model_path=str(source), num_threads=num_threads))
        except (ValueError, RuntimeError) as exc:
            raise ValueError(f"{self.where}: not a loadable TFLite model ({exc})") from None
        signatures = interpreter.get_signature_list()
        if signature not in signatures:
            raise ValueError(f"{self.where}: no {signature!r} signature (it has {sorted(signatures)})")
        self.signature, self.batch_size = signature, int(batch_size)
        self._runner = interpreter.get_signature_runner(signature)
        details = self._runner.get_input_details()
        self.input_shapes = {k: tuple(int(d) for d in v["shape_signature"]) for k, v in details.items()}
        self.output_shapes = {k: tuple(int(d) for d in v["shape_signature"])
                              for k, v in self._runner.get_output_details().items()}
        self.static_batch_one = all(s[:1] == (1,) for s in self.input_shapes.values())
        self._invoked = False  # the first invoke creates the XNNPACK delegate, which says so on stderr

    def check(self, inputs: Mapping[str, tuple], outputs: Mapping[str, int]) -> TFLiteRunner:
        """Raise a ValueError naming the file unless the signature takes ``inputs`` (name → shape of one
        example) and has ``outputs`` (name → width of the last axis); returns self."""
        got = {k: s[1:] for k, s in self.input_shapes.items()}
        want = {k: tuple(v) for k, v in inputs.items()}
        if got != want:
            raise ValueError(f"{self.where}: {self.signature!r} takes inputs {got} per example, the model needs "
                             f"{want} (a TFLite file of another model?)")
        for name, width in outputs.items():
            if name not in self.output_shapes:
                raise ValueError(f"{self.where}: {self.signature!r} outputs {sorted(self.output_shapes)}, not {name!r}")
            if self.output_shapes[name][-1] != width:
                raise ValueError(f"{self.where}: {self.signature!r} output {name!r} is {self.output_shapes[name][-1]} "
                                 f"wide, the model has {width} (a TFLite file of another model?)")
        return self

    def __call__(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        missing = set(self.input_shapes) ^ set(inputs)
        if missing:
            raise ValueError(f"{self.where}: {self.signature!r} takes inputs {sorted(self.input_shapes)}, "
                             f"given {sorted(inputs)}")
        arrays = {k: np.asarray(v) for k, v in inputs.items()}
        rows = _rows(list(arrays.values()))
        step = 1 if self.static_batch_one else self.batch_size
        with contextlib.nullcontext() if self._invoked or rows == 0 else quiet_native_stderr():
            parts = [{k: np.array(v) for k, v in self._runner(
                **{n: np.ascontiguousarray(x[i:i + step]) for n, x in arrays.items()}).items()}
                for i in range(0, rows, step)]
        self._invoked = self._invoked or rows > 0
        if not parts:
            return {k: np.zeros((0, *s[1:]), np.float32) for k, s in self.output_shapes.items()}
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


__all__ = ["KerasRunner", "TFLiteRunner", "DEFAULT_BATCH", "quiet_native_stderr"]
