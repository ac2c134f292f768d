"""The shared command-line pieces: the common flags, --set overrides and the Ctrl-C policy."""
from __future__ import annotations

import argparse
import importlib
import signal
import sys
import time

import pytest

from zoo.core import cli


def _parser():
    parser = argparse.ArgumentParser()
    return parser, cli.add_actions(parser, "toy", presets=["tiny", "paper"], default_preset="paper",
                                   data_help="a toy folder", train_description="Train the toy.",
                                   predict_help="audio → toy curves")


def test_every_action_has_the_shared_flags():
    parser, actions = _parser()
    assert set(actions) == set(cli.ACTIONS)
    args = parser.parse_args(["train", "--data", "d", "--workdir", "w", "--strategy", "multi-worker", "--epochs", "3"])
    assert (args.preset, args.strategy, args.epochs, args.set) == ("paper", "multi-worker", 3, [])
    assert cli.train_options(args) == {"max_minutes": None, "progress": True, "strategy": "multi-worker",
                                       "cpu_devices": None}
    args = parser.parse_args(["export", "--model", "m", "--dest", "x", "--int8"])
    assert cli.export_options(args)["int8"] and args.name == "toy" and args.version == 1
    for action in ("predict", "evaluate", "export"):
        assert "--model" in actions[action].format_help()


def test_set_overrides_parse_json_and_refuse_unknown_fields():
    parser, _ = _parser()
    args = parser.parse_args(["train", "--data", "d", "--workdir", "w", "--seed", "4", "--set", "dropout=0.25",
                              "--set", "schedule=constant", "--set", "filters=[8, 16]", "--set", "noise=true"])
    fields = ["dropout", "schedule", "filters", "noise", "seed", "epochs", "batch_size"]
    assert cli.config_overrides(args, {}, fields) == {"seed": 4, "dropout": 0.25, "schedule": "constant",
                                                      "filters": (8, 16), "noise": True}
    args = parser.parse_args(["train", "--data", "d", "--workdir", "w", "--set", "colour=red"])
    with pytest.raises(ValueError, match="--set colour=red: expected FIELD=VALUE with FIELD one of"):
        cli.config_overrides(args, {}, fields)


_SWALLOWING_MODULE = '''
import os, signal, time
try:  # a library's import-time code that swallows everything (the KeyboardInterrupt included)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.3)
except BaseException:
    pass
'''


def test_ctrl_c_inside_an_import_is_held_until_the_import_is_over(tmp_path, monkeypatch, capsys):
    """A Ctrl-C during an import whose code swallows KeyboardInterrupt still ends the command with status 130 (held
    until the import is over, then raised before the work goes on); without the hold the work would run to the end."""
    (tmp_path / "swallowing_library.py").write_text(_SWALLOWING_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    steps = []

    def work():
        importlib.import_module("swallowing_library")
        steps.append("imported")
        for _ in range(100):  # the held interrupt arrives within 50 ms of the import's end
            time.sleep(0.01)
        steps.append("finished")
        return 0

    saved = signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job (make &) ignores SIGINT
    try:
        assert cli.guarded("zoo toy predict", work) == 130
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    finally:
        signal.signal(signal.SIGINT, saved)
        sys.modules.pop("swallowing_library", None)
    assert steps == ["imported"] and capsys.readouterr().err == "zoo toy predict: interrupted\n"


def test_an_ignored_sigint_stays_ignored():
    saved = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        still_ignored = lambda: 0 if signal.getsignal(signal.SIGINT) is signal.SIG_IGN else 1  # noqa: E731
        assert cli.guarded("zoo toy predict", still_ignored) == 0
    finally:
        signal.signal(signal.SIGINT, saved)


def test_a_wrapped_interrupt_is_still_status_130(capsys):
    def work():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:  # as Python 3.11 wraps an exception raised in __set_name__
            raise RuntimeError("Error calling __set_name__ on 'cached_property' instance") from exc

    assert cli.guarded("zoo toy predict", work) == 130
    assert capsys.readouterr().err == "zoo toy predict: interrupted\n"
