"""A restricted loader for pickles and object-dtype ``.npy`` files (DESIGN §2).

Plain ``pickle.load`` runs whatever a file asks it to; a dataset file from the internet
must not. ``RestrictedUnpickler`` admits only dicts, lists, tuples, sets, numbers, strings,
bytes and NumPy arrays/dtypes/scalars; any other global (``os.system``, a class with a
``__reduce__``, ...) is refused with ``UnsafePickleError`` before anything is called.
Python 2 pickles (VOCASET's) load with ``encoding="latin1"``.

FLAME model files (``generic_model.pkl``, Python 2, licensed, supplied by the user) hold chumpy arrays and a
SciPy sparse matrix. ``load_flame_pickle`` (or ``load_pickle(path, flame=True)``) reads them without importing
chumpy and without running any class's code, under an explicit, opt-in mapping:

* ``chumpy.ch.Ch`` becomes an inert stand-in. Chumpy pickles a ``Ch`` as ``NEWOBJ(Ch)`` + ``BUILD(state)``, where
  ``state`` is a copy of the object's ``__dict__`` minus its weak-reference caches: for a leaf array it holds
  ``'x'`` (the ndarray) beside bookkeeping (``_dirty_vars``, ``_itr``, ``_depends_on_deps``, ``_make_dense``,
  ``_make_sparse``). The stand-in only stores that state; after loading it is replaced by ``state['x']`` as an
  ndarray. Other chumpy classes (derived expressions such as ``chumpy.reordering.*``, which would need chumpy to
  evaluate) stay refused, with a message saying so.
* ``scipy.sparse`` CSC/CSR matrices (``scipy.sparse._csc.csc_matrix`` and the pre-1.8 path
  ``scipy.sparse.csc.csc_matrix``; the same for CSR) become a stand-in holding their state (``data``, ``indices``,
  ``indptr`` and ``_shape``, or ``shape`` in old SciPy), rebuilt afterwards with SciPy's own constructor, which
  checks the index structure.
* Protocol 0/1 pickles reach these classes through ``copy_reg._reconstructor(cls, object, None)``; that call is
  admitted for the stand-ins only.

Every other global stays refused with the loader's usual error.
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


class _Pickled:
    """Inert stand-in for an object of a mapped class: ``BUILD`` stores the pickled state, nothing else runs."""

    __slots__ = ("state",)
    origin = "object"

    def __setstate__(self, state):
        self.state = state


class _PickledCh(_Pickled):
    __slots__ = ()
    origin = "chumpy.ch.Ch"


class _PickledCSC(_Pickled):
    __slots__ = ()
    origin = "scipy.sparse csc_matrix"


class _PickledCSR(_Pickled):
    __slots__ = ()
    origin = "scipy.sparse csr_matrix"


# The opt-in FLAME mapping: (module, name) -> what find_class returns instead of the real global
# (None: the unpickler's checked ``_reconstructor``).
_FLAME_GLOBALS = {
    ("chumpy.ch", "Ch"): _PickledCh,
    ("scipy.sparse._csc", "csc_matrix"): _PickledCSC,
    ("scipy.sparse.csc", "csc_matrix"): _PickledCSC,
    ("scipy.sparse._csr", "csr_matrix"): _PickledCSR,
    ("scipy.sparse.csr", "csr_matrix"): _PickledCSR,
    ("copy_reg", "_reconstructor"): None,
    ("copyreg", "_reconstructor"): None,
    ("__builtin__", "object"): object,
    ("builtins", "object"): object,
}


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose ``find_class`` only resolves the allow-listed globals.

    ``flame=True`` adds the FLAME mapping (module docstring): chumpy ``Ch`` and SciPy CSC/CSR matrices become inert
    stand-ins; ``resolve_stand_ins`` turns them into ndarrays and SciPy matrices after ``load``.
    """

    def __init__(self, file, *, source: str | os.PathLike | None = None, flame: bool = False, **kwargs):
        super().__init__(file, **kwargs)
        self._source = source
        self._flame = bool(flame)

    def find_class(self, module: str, name: str):
        if self._flame and (module, name) in _FLAME_GLOBALS:
            return _FLAME_GLOBALS[module, name] or self._reconstructor
        if self._flame and (module == "chumpy" or module.startswith("chumpy.")):
            raise UnsafePickleError(
                self._source,
                f"refused to load pickle: it references {module}.{name}; of chumpy only leaf arrays (chumpy.ch.Ch) "
                "are read without chumpy, not derived expressions (re-save the model with plain arrays)",
            )
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

    def _reconstructor(self, cls, base, state):
        """``copy_reg._reconstructor`` (protocols 0/1) for the stand-ins only: ``cls``, ``object``, no state."""
        if not (isinstance(cls, type) and issubclass(cls, _Pickled) and base is object and state is None):
            raise UnsafePickleError(self._source, "refused to load pickle: copy_reg._reconstructor is only admitted "
                                                  f"for the chumpy/scipy stand-ins, not for {cls!r} on {base!r}")
        return object.__new__(cls)


def _unpickle(stream, source, encoding: str, flame: bool = False):
    try:
        data = RestrictedUnpickler(stream, source=source, encoding=encoding, flame=flame).load()
    except UnsafePickleError:
        raise
    except Exception as exc:
        raise DataError(source, f"corrupt or truncated pickle ({type(exc).__name__}: {exc})") from None
    return resolve_stand_ins(data, source) if flame else data


def _ch_array(obj: _PickledCh, source, resolve) -> np.ndarray:
    state = getattr(obj, "state", None)
    if not isinstance(state, dict) or "x" not in state:
        keys = sorted(map(str, state)) if isinstance(state, dict) else type(state).__name__
        raise DataError(source, f"a chumpy.ch.Ch object has no 'x' array in its pickled state (state: {keys})")
    x = resolve(state["x"])
    if isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
        return x
    if isinstance(x, bool | int | float):
        return np.asarray(x, dtype=np.float64)
    raise DataError(source, f"a chumpy.ch.Ch object's 'x' is a {type(x).__name__}, not a numeric array")


def _sparse_matrix(obj: _PickledCSC | _PickledCSR, source):
    import scipy.sparse

    state = getattr(obj, "state", None)
    what = obj.origin
    if not isinstance(state, dict):
        raise DataError(source, f"a pickled {what} has no state dict (got {type(state).__name__})")
    missing = [k for k in ("data", "indices", "indptr") if not isinstance(state.get(k), np.ndarray)]
    shape = state.get("_shape", state.get("shape"))
    if missing or not (isinstance(shape, tuple) and len(shape) == 2 and all(isinstance(n, int) for n in shape)):
        raise DataError(source, f"a pickled {what} lacks {', '.join(missing) or 'a 2-tuple shape'} in its state")
    build = scipy.sparse.csc_matrix if isinstance(obj, _PickledCSC) else scipy.sparse.csr_matrix
    try:
        return build((state["data"], state["indices"], state["indptr"]), shape=shape)
    except Exception as exc:  # SciPy's check_format: lengths, index ranges, dtypes
        raise DataError(source, f"a pickled {what} is malformed ({exc})") from None


def resolve_stand_ins(data, source=None):
    """``data`` with every chumpy stand-in replaced by its ``'x'`` ndarray and every CSC/CSR stand-in by a SciPy
    matrix, through dicts, lists and tuples (in place for dicts and lists; shared objects stay shared)."""
    done: dict[int, tuple[object, object]] = {}  # id -> (original, result); keeping the original pins its id

    def resolve(obj):
        key = id(obj)
        if key in done:
            return done[key][1]
        if isinstance(obj, _PickledCh):
            result = _ch_array(obj, source, resolve)
        elif isinstance(obj, _PickledCSC | _PickledCSR):
            result = _sparse_matrix(obj, source)
        elif isinstance(obj, _Pickled):
            raise DataError(source, f"an unresolved {obj.origin} stand-in")
        elif isinstance(obj, dict):
            done[key] = (obj, obj)
            for k, v in obj.items():
                obj[k] = resolve(v)
            return obj
        elif isinstance(obj, list):
            done[key] = (obj, obj)
            obj[:] = [resolve(v) for v in obj]
            return obj
        elif isinstance(obj, tuple):
            result = tuple(resolve(v) for v in obj)
        else:
            return obj
        done[key] = (obj, result)
        return result

    return resolve(data)


def load_pickle(path: str | os.PathLike, *, encoding: str = "latin1", flame: bool = False):
    """Load a pickle file through ``RestrictedUnpickler``.

    ``encoding`` applies to Python 2 ``str`` objects (latin1 keeps NumPy buffers intact). ``flame=True`` opts in to
    the FLAME mapping (chumpy ``Ch`` → ndarray, SciPy CSC/CSR rebuilt; module docstring).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    if path.stat().st_size == 0:
        raise DataError(path, "empty file (0 bytes)")
    with open(path, "rb") as f:
        return _unpickle(f, path, encoding, flame)


def load_flame_pickle(path: str | os.PathLike, *, encoding: str = "latin1"):
    """A FLAME model pickle (``generic_model.pkl``, Python 2) as plain data: ``load_pickle(path, flame=True)``.

    Returns what the file holds (for FLAME a dict: ``v_template``, ``shapedirs``, ``posedirs``, ``J``, ``weights``
    as ndarrays, ``J_regressor`` as a SciPy CSC matrix, ``f``, ``kintree_table``, ``bs_style``, ``bs_type``).
    """
    return load_pickle(path, encoding=encoding, flame=True)


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

