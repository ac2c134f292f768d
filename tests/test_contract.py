"""The model contract (DESIGN §3) for every model the registry calls available."""
from __future__ import annotations

import pytest
from helpers import check_contract, check_no_model_imports_another

from zoo import registry

AVAILABLE = [m.name for m in registry.MODELS if m.status == "available"]
STREAMING = {"audio2face", "evenet"}  # the methods that stream (DESIGN §3: "stream where the method streams")


@pytest.mark.parametrize("model", AVAILABLE)
def test_contract_present_and_import_is_light(model):
    check_contract(model, streams=model in STREAMING)


def test_no_model_imports_another():
    check_no_model_imports_another([m.name for m in registry.MODELS])


def test_a_model_importing_another_is_caught(tmp_path, monkeypatch):
    import helpers

    (tmp_path / "zoo" / "evenet").mkdir(parents=True)
    (tmp_path / "zoo" / "evenet" / "x.py").write_text("from zoo.audio2face import features\n")
    (tmp_path / "zoo" / "audio2face").mkdir()
    (tmp_path / "zoo" / "audio2face" / "y.py").write_text("from ..evenet import model\n")
    monkeypatch.setattr(helpers, "PROJECT", tmp_path)
    with pytest.raises(AssertionError) as caught:
        helpers.check_no_model_imports_another(["evenet", "audio2face"])
    assert "x.py imports zoo.audio2face" in str(caught.value) and "y.py imports zoo.evenet" in str(caught.value)
