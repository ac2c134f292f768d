"""The model card's generated blocks are what ``zoo.landmark_dcgan.card`` writes; the deviation table covers spec §9."""
import pytest

from zoo.core.cards import read_block
from zoo.landmark_dcgan import card


@pytest.fixture(scope="module")
def blocks():
    return card.blocks()


def test_blocks_are_generated(blocks):
    for (path, marker), text in blocks.items():
        assert read_block(path, marker) == text.strip(), (
            f"{path} block {marker} differs from what `python -m zoo.landmark_dcgan.card` writes")


def test_every_item_of_spec_section_9_has_a_row_in_order():
    table = card.deviations_table().splitlines()
    assert len(table) == 2 + len(card.DEVIATIONS) and all(line.count(" | ") == 3 for line in table[2:])
    assert [row[0].split()[0] for row in card.DEVIATIONS[:23]] == [f"§9.{i}" for i in range(1, 24)]


def test_presets_table_shows_the_golden_counts(blocks):
    table = blocks[(card.CARD, "card:presets")]
    for count in ("**276,104** (golden)", "**387,896** (golden)", "**9,660,388** (golden)", "**9,250,779** (golden)"):
        assert count in table


def test_training_lines_say_when_the_time_budget_stopped_a_stage():
    """The committed run's lines give epochs trained of planned; a GAN its budget stopped says so (the GAN's epoch
    count is fixed so that its figures do not depend on the machine's speed)."""
    import copy
    import json

    import zoo

    run = json.loads((zoo.PRETRAINED / "landmark_dcgan" / "synthetic" / "run.json").read_text())
    state = {"train": run["train"]}
    planned = run["train"]["config"]["gan_epochs"]
    def gan_line(lines):
        return next(line for line in lines if line.startswith("GAN ("))

    line = gan_line(card.training_lines(state))
    done = run["train"]["gan"]["epochs_trained"]
    assert line.startswith("GAN (gan64") and f"): {done} of {planned} epochs" in line
    beta = run["train"]["config"].get("gan_average")
    assert ("G's weight average, β" in line) == bool(beta), line
    stopped = copy.deepcopy(state)
    stopped["train"]["gan"].update(epochs_trained=planned - 2, stopped_by_budget=True)
    assert f": {planned - 2} of {planned} epochs (its time budget stopped it) in " in gan_line(
        card.training_lines(stopped))
