"""The shared command-line pieces: the common flags and --set overrides."""
from __future__ import annotations

import argparse

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
