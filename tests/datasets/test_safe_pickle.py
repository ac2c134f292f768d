import os
import pickle
import sys

import numpy as np
import pytest
import scipy.sparse
from helpers import fake_chumpy

from zoo.datasets import DataError, UnsafePickleError, load_npy, load_pickle
from zoo.datasets.safe_pickle import load_flame_pickle


def test_plain_data_and_arrays_load(tmp_path):
    data = {"FaceTalk_1": {"sentence01": np.arange(6, dtype=np.int16)}, "fps": 60.0, "ids": [1, (2, 3)],
            "template": np.ones((4, 3), np.float32), "scalar": np.float64(2.5), "name": "voca"}
    for protocol in (2, 4):
        path = tmp_path / f"p{protocol}.pkl"
        path.write_bytes(pickle.dumps(data, protocol=protocol))
        out = load_pickle(path)
        np.testing.assert_array_equal(out["FaceTalk_1"]["sentence01"], data["FaceTalk_1"]["sentence01"])
        assert out["template"].dtype == np.float32 and out["ids"] == [1, (2, 3)] and out["scalar"] == 2.5


def test_python2_style_pickle_loads(tmp_path):
    # Python 2 pickles name numpy.core and store array buffers as str; latin1 keeps the bytes
    array = np.arange(5, dtype=np.float32)
    raw = pickle.dumps(array, protocol=2).replace(b"numpy._core", b"numpy.core")
    path = tmp_path / "py2.pkl"
    path.write_bytes(raw)
    np.testing.assert_array_equal(load_pickle(path), array)


def test_object_npy_of_names_loads(tmp_path):
    names = np.array(["jaw_open", "mouth_close", "tongue_out"], dtype=object)
    path = tmp_path / "BS_name.npy"
    np.save(path, names, allow_pickle=True)
    out = load_npy(path)
    assert out.dtype == object and out.tolist() == names.tolist()


def test_plain_npy_never_unpickles(tmp_path):
    path = tmp_path / "v.npy"
    np.save(path, np.eye(3))
    np.testing.assert_array_equal(load_npy(path), np.eye(3))


# ---------------------------------------------------------------- FLAME model pickles (opt-in chumpy/scipy mapping)
# A FLAME generic_model.pkl is a Python 2 pickle of a dict whose arrays are partly chumpy ``Ch`` objects. Chumpy
# pickles a Ch as NEWOBJ(chumpy.ch.Ch) + BUILD(state), the state being its __dict__ without the weak-reference
# caches: 'x' (the array) and bookkeeping. helpers.fake_chumpy reproduces that, in sys.modules only while pickling.


def _flame_like(rng, vertices=10):
    """Arrays of a FLAME-shaped model (V vertices, 400 = 300 shape + 100 expression directions, 5 joints)."""
    regressor = np.zeros((5, vertices))
    regressor[np.arange(5), np.arange(5)] = 0.5
    regressor[np.arange(5), np.arange(5) + 5] = 0.5
    return {"v_template": rng.normal(0, 0.05, (vertices, 3)), "shapedirs": rng.normal(0, 1e-3, (vertices, 3, 400)),
            "posedirs": rng.normal(0, 1e-3, (vertices, 3, 36)), "J": rng.normal(0, 0.05, (5, 3)),
            "weights": rng.dirichlet(np.ones(5), vertices), "J_regressor": scipy.sparse.csc_matrix(regressor),
            "f": np.array([[0, 1, 2], [2, 3, 4]], np.uint32), "bs_style": "lbs", "bs_type": "lrotmin",
            "kintree_table": np.array([[-1, 0, 1, 1, 1], [0, 1, 2, 3, 4]])}


def _flame_pickle(arrays, protocol=2) -> bytes:
    """Pickle ``arrays`` the way FLAME's file holds them: the five dense model arrays as chumpy Ch objects."""
    with fake_chumpy() as Ch:
        model = {k: (Ch(v) if k in ("v_template", "shapedirs", "posedirs", "J", "weights") else v)
                 for k, v in arrays.items()}
        model["alias"] = model["J"]  # one Ch referenced twice (pickle memo): both become the same array
        return pickle.dumps(model, protocol=protocol)


@pytest.mark.parametrize("flavour", ["py3", "py2_paths", "protocol0"])
def test_flame_pickle_maps_chumpy_and_sparse_without_chumpy(tmp_path, flavour):
    arrays = _flame_like(np.random.default_rng(0))
    raw = _flame_pickle(arrays, protocol=0 if flavour == "protocol0" else 2)
    if flavour == "py2_paths":  # how Python 2 / SciPy < 1.8 name the globals
        raw = raw.replace(b"numpy._core", b"numpy.core").replace(b"scipy.sparse._csc", b"scipy.sparse.csc")
        assert b"scipy.sparse.csc\ncsc_matrix" in raw
    assert b"chumpy.ch\nCh" in raw and "chumpy" not in sys.modules
    path = tmp_path / "generic_model.pkl"
    path.write_bytes(raw)
    model = load_flame_pickle(path)
    assert "chumpy" not in sys.modules
    for key in ("v_template", "shapedirs", "posedirs", "J", "weights", "f", "kintree_table"):
        assert type(model[key]) is np.ndarray, key
        np.testing.assert_array_equal(model[key], arrays[key])
    assert model["alias"] is model["J"]
    assert model["shapedirs"].shape == (10, 3, 400) and model["f"].dtype == np.uint32
    assert isinstance(model["J_regressor"], scipy.sparse.csc_matrix)
    np.testing.assert_array_equal(model["J_regressor"].toarray(), arrays["J_regressor"].toarray())
    assert (model["bs_style"], model["bs_type"]) == ("lbs", "lrotmin")


def test_chumpy_is_refused_without_the_flame_opt_in(tmp_path):
    path = tmp_path / "generic_model.pkl"
    path.write_bytes(_flame_pickle(_flame_like(np.random.default_rng(1))))
    with pytest.raises(UnsafePickleError) as e:
        load_pickle(path)
    assert os.fspath(path) in str(e.value) and "chumpy.ch.Ch" in str(e.value)


def test_os_system_is_still_refused_with_the_flame_mapping(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "generic_model.pkl"
    path.write_bytes(b"cos\nsystem\n(V" + f"touch {marker}".encode() + b"\ntR.")  # protocol 0: os.system("touch …")
    with pytest.raises(UnsafePickleError) as e:
        load_flame_pickle(path)
    assert os.fspath(path) in str(e.value) and "os.system" in str(e.value)
    assert not marker.exists()


def test_flame_mapping_refuses_what_it_cannot_read_safely(tmp_path):
    cases = {
        # a derived chumpy expression would need chumpy to evaluate
        "reordering.pkl": (b"\x80\x02cchumpy.reordering\nSelect\n)\x81}b.", UnsafePickleError, "chumpy.reordering"),
        # copy_reg._reconstructor is admitted for the stand-ins only, not to build arbitrary classes
        "reconstruct.pkl": (b"ccopy_reg\n_reconstructor\n(cnumpy\nndarray\nc__builtin__\nobject\nNtR.",
                            UnsafePickleError, "_reconstructor"),
        # a Ch whose state has no array
        "no_x.pkl": (b"\x80\x02cchumpy.ch\nCh\n)\x81}X\x04\x00\x00\x00_itrNsb.", DataError, "no 'x' array"),
    }
    for name, (raw, error, words) in cases.items():
        path = tmp_path / name
        path.write_bytes(raw)
        with pytest.raises(error) as e:
            load_flame_pickle(path)
        assert os.fspath(path) in str(e.value) and words in str(e.value), str(e.value)
    # a CSC matrix whose index pointer does not fit its shape: SciPy's own check, reported with the file
    bad = scipy.sparse.csc_matrix(np.eye(3))
    bad.indptr = np.array([0, 1, 2], np.int32)  # 3 columns need 4 pointers
    path = tmp_path / "bad_sparse.pkl"
    path.write_bytes(pickle.dumps({"J_regressor": bad}, protocol=2))
    with pytest.raises(DataError) as e:
        load_flame_pickle(path)
    assert os.fspath(path) in str(e.value) and "malformed" in str(e.value)
