"""Generated Markdown blocks: read and replace between markers, one clear error without a block."""
from __future__ import annotations

import pytest

from zoo.core.cards import epochs_done, read_block, replace_block


def test_replace_then_read(tmp_path):
    doc = tmp_path / "card.md"
    doc.write_text("# Card\n\n<!-- t -->\nold\n<!-- /t -->\n\ntail\n")
    replace_block(doc, "t", "| a |\n|---|\n| 1 |\n")
    assert doc.read_text() == "# Card\n\n<!-- t -->\n| a |\n|---|\n| 1 |\n<!-- /t -->\n\ntail\n"
    assert read_block(doc, "t") == "| a |\n|---|\n| 1 |"


def test_a_missing_or_repeated_block_names_the_file(tmp_path):
    doc = tmp_path / "card.md"
    doc.write_text("<!-- t -->\n<!-- /t -->\n<!-- t -->\n")
    with pytest.raises(ValueError, match="card.md: needs exactly one <!-- t -->"):
        read_block(doc, "t")
    with pytest.raises(ValueError, match="card.md"):
        replace_block(doc, "u", "x")


def test_epochs_done_says_when_the_budget_stopped_the_stage():
    assert epochs_done(21, 21, False) == "21 of 21 epochs"
    assert epochs_done(21, 300, True) == "21 of 300 epochs (its time budget stopped it)"
