import pickle

import numpy as np

from zoo.datasets import load_npy, load_pickle


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
