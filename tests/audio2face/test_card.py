"""The generated parts of the model card, the README headline and the pretrained index are what
``zoo.audio2face.card`` writes from the committed presets' recorded runs."""
from __future__ import annotations

import pytest

from zoo.audio2face import card
from zoo.core.cards import read_block


@pytest.mark.parametrize("where", list(card.blocks()), ids=lambda w: f"{w[0].parent.name}/{w[0].name}:{w[1]}")
def test_block_is_generated(where):
    path, marker = where
    assert read_block(path, marker) == card.blocks()[where].strip(), (
        f"{path} block {marker} differs from what `python -m zoo.audio2face.card` writes")


def test_the_deviation_table_has_one_row_per_item():
    table = card.deviations_table().splitlines()
    assert len(table) == 2 + len(card.DEVIATIONS) and all(line.count(" | ") == 3 for line in table[2:])
