"""The model card's generated blocks are what ``zoo.voca_emotion.card`` writes; the deviation table covers spec §9."""
import pytest

from zoo.core.cards import read_block
from zoo.voca_emotion import card


@pytest.mark.parametrize("where", list(card.blocks()), ids=lambda w: w[1])
def test_block_is_generated(where):
    path, marker = where
    assert read_block(path, marker) == card.blocks()[where].strip(), (
        f"{path} block {marker} differs from what `python -m zoo.voca_emotion.card` writes")


def test_every_item_of_spec_section_9_has_a_row_in_order():
    table = card.deviations_table().splitlines()
    assert len(table) == 2 + len(card.DEVIATIONS) and all(line.count(" | ") == 3 for line in table[2:])
    assert [row[0].split()[0] for row in card.DEVIATIONS[:18]] == [f"§9.{i}" for i in range(1, 19)]


def test_presets_table_shows_the_golden_counts():
    table = card.presets_table()
    assert "**809,563** (golden)" in table and "**1,925,783** (golden)" in table
