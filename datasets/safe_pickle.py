"""A restricted loader for pickles and object-dtype ``.npy`` files (DESIGN §2).

Plain ``pickle.load`` runs whatever a file asks it to; a dataset file from the internet
must not. ``RestrictedUnpickler`` admits only dicts, lists, tuples, sets, numbers, strings,
bytes and NumPy arrays/dtypes/scalars; any other global (``os.system``, a class with a
``__reduce__``, ...) is refused with ``UnsafePickleError`` before anything is called.
Python 2 pickles (VOCASET's) load with ``encoding="latin1"``.
"""
from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path

import numpy as np

from .errors import DataError, UnsafePickleError

# (module, name) pairs a pickle may reference. NumPy moved numpy.core to numpy._core in 2.0;
# pickles written by either are admitted. ``_codecs.encode`` rebuilds bytes in protocol-2 pickles.
_ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "complex"),
    ("__builtin__", "set"),
    ("__builtin__", "frozenset"),
    ("collections", "OrderedDict"),
}


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose ``find_class`` only resolves the allow-listed globals."""

    def __init__(self, file, *, source: str | os.PathLike | None = None, **kwargs):
        super().__init__(file, **kwargs)
        self._source = source

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            if module.startswith("numpy.core"):
                module = module.replace("numpy.core", "numpy._core", 1)
            if module == "__builtin__":
                module = "builtins"
            return super().find_class(module, name)
        if module == "numpy.dtypes" and name.endswith("DType"):  # numpy 2 dtype classes
            return super().find_class(module, name)
        raise UnsafePickleError(
            self._source,
            f"refused to load pickle: it references {module}.{name}, which is not a plain data type "
            "(only dicts, lists, tuples, numbers, strings and NumPy arrays are allowed)",
        )


def _unpickle(stream, source, encoding: str):
    try:
        return RestrictedUnpickler(stream, source=source, encoding=encoding).load()
    except UnsafePickleError:
        raise
    except Exception as exc:
        raise DataError(source, f"corrupt or truncated pickle ({type(exc).__name__}: {exc})") from None


def load_pickle(path: str | os.PathLike, *, encoding: str = "latin1"):
    """Load a pickle file through ``RestrictedUnpickler``.

    ``encoding`` applies to Python 2 ``str`` objects (latin1 keeps NumPy buffers intact).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    if path.stat().st_size == 0:
        raise DataError(path, "empty file (0 bytes)")
    with open(path, "rb") as f:
        return _unpickle(f, path, encoding)


def load_npy(path: str | os.PathLike, *, encoding: str = "latin1") -> np.ndarray:
    """Load a ``.npy`` file; object-dtype payloads go through ``RestrictedUnpickler``.

    Plain dtypes are read without any unpickling. Python 2 headers (``116L``) are accepted.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    with open(path, "rb") as f:
        try:
            version = np.lib.format.read_magic(f)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "created on Python 2" notice
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                else:
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        except Exception as exc:
            raise DataError(path, f"not a valid .npy file ({exc})") from None
        if dtype.hasobject:
            array = _unpickle(f, path, encoding)
            if not isinstance(array, np.ndarray):
                raise DataError(path, f"object .npy payload is a {type(array).__name__}, not an array")
            return array
        f.seek(0)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return np.lib.format.read_array(f, allow_pickle=False)
        except Exception as exc:
            raise DataError(path, f"corrupt or truncated .npy file ({exc})") from None

