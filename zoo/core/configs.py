"""The JSON round trip every model's frozen ``Config`` dataclass shares (``config.json`` of a model directory)."""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping


class ConfigBase:
    """Methods of a frozen dataclass of hyperparameters: ``replace``, ``to_dict``/``from_dict`` (tuple fields come
    back as tuples; an unknown key is a ValueError naming the model, ``MODEL``) and ``to_json``."""

    MODEL = "model"

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict):
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown {cls.MODEL} config keys {sorted(unknown)}")
        tuples = {f.name for f in dataclasses.fields(cls) if str(f.type).startswith("tuple")}
        return cls(**{k: tuple(v) if k in tuples else v for k, v in values.items()})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)


def pick_preset(presets: Mapping[str, ConfigBase], name: str, **overrides):
    """``presets[name]`` with fields replaced by ``overrides``; an unknown name is a KeyError listing the presets."""
    if name not in presets:
        model = next(iter(presets.values())).MODEL if presets else "model"
        raise KeyError(f"unknown {model} preset {name!r}; presets: {sorted(presets)}")
    return presets[name].replace(**overrides) if overrides else presets[name]


__all__ = ["ConfigBase", "pick_preset"]
