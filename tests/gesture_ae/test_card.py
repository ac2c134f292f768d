"""The model card's generated blocks are what ``zoo.gesture_ae.card`` writes; the deviation table covers spec §10."""
import pytest

from zoo.core.cards import read_block
from zoo.gesture_ae import card


@pytest.mark.parametrize("where", list(card.blocks()), ids=lambda w: w[1])
def test_block_is_generated(where):
    path, marker = where
    assert read_block(path, marker) == card.blocks()[where].strip(), (
        f"{path} block {marker} differs from what `python -m zoo.gesture_ae.card` writes")


def test_every_item_of_spec_section_10_has_a_row_in_order():
    table = card.deviations_table().splitlines()
    assert len(table) == 2 + len(card.DEVIATIONS) and all(line.count(" | ") == 3 for line in table[2:])
    assert [row[0].split()[0] for row in card.DEVIATIONS[:14]] == [f"§10.{i}" for i in range(1, 15)]


def test_presets_table_shows_the_golden_counts():
    table = card.presets_table()
    assert "**635,264** (golden)" in table and "**620,101** (golden)" in table and "250,309" in table
