"""The model card's generated blocks are what ``zoo.evenet.card`` writes; the deviation table covers spec §8."""
import pytest

from zoo.core.cards import read_block
from zoo.evenet import card


@pytest.mark.parametrize("where", list(card.blocks()), ids=lambda w: w[1])
def test_block_is_generated(where):
    path, marker = where
    assert read_block(path, marker) == card.blocks()[where].strip(), (
        f"{path} block {marker} differs from what `python -m zoo.evenet.card` writes")


def test_every_item_of_spec_section_8_has_a_row_in_order():
    table = card.deviations_table().splitlines()
    assert len(table) == 2 + len(card.DEVIATIONS) and all(line.count(" | ") == 3 for line in table[2:])
    assert [row[0].split()[0] for row in card.DEVIATIONS[:9]] == [f"§8.{i}" for i in range(1, 10)]


@pytest.mark.parametrize("dilations, text", [((1, 2, 4, 1, 2, 4), "[1…4]×2"),
                                             ((1, 2, 4, 8) * 2 + (2, 8), "[1…8]×2 + [2, 8]"),
                                             ((1, 1), "1, 1")])
def test_dilation_text(dilations, text):
    assert card.dilation_text(dilations) == text
