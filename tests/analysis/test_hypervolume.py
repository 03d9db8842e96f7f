"""analysis.hypervolume: a search's hypervolume against the epochs its trials spent, on frames whose volumes are
worked out by hand, and its place in the report."""

import math

import pandas as pd
import pytest

from analysis.hypervolume import format_hypervolume_markdown, hypervolume, hypervolume_history, normalized
from analysis.report_content import build_report

OBJECTIVES = [("val/acc", "max"), ("sys/epoch_s/mean", "min")]


def frame() -> pd.DataFrame:
    """Four trials in start order. Counted (completed): 1, 3, 4; trial 2 stopped early with the best accuracy of all,
    which must not count. Normalized: trial 1 (1, 0.5), trial 3 (0, 0) dominating both others, trial 4 (0.5, 1)."""
    return pd.DataFrame({
        "run_id": list("abcd"), "trial_id": list("abcd"), "config": ["lr=0.1", "lr=0.3", "lr=0.01", "lr=0.03"],
        "seed": [0] * 4, "status": ["completed", "early_stopped", "completed", "completed"],
        "val/acc": [0.5, 0.9, 0.7, 0.6], "sys/epoch_s/mean": [2.0, 4.0, 1.0, 3.0], "sys/epochs": [3, 1, 2, 2]})


def test_the_volume_of_boxes_below_the_reference():
    assert math.isclose(hypervolume([(0.25, 0.5), (0.5, 0.25)], (1, 1)), 0.5)  # two boxes less their overlap
    assert hypervolume([(1.0, 0.0), (0.5, math.nan)], (1, 1)) == 0.0  # on the reference's edge, or NaN: nothing


def test_normalized_maps_best_to_0_and_worst_to_1_in_each_direction():
    out = normalized(frame()[["val/acc", "sys/epoch_s/mean"]].to_numpy(), ["max", "min"])
    assert out[:, 0].tolist() == pytest.approx([1.0, 0.0, 0.5, 0.75])  # acc 0.9 best, 0.5 worst
    assert out[:, 1].tolist() == pytest.approx([1 / 3, 1.0, 0.0, 2 / 3])


def test_history_counts_every_trials_epochs_but_only_counted_trials_volume():
    h = hypervolume_history(frame(), OBJECTIVES)
    assert h["epochs_spent"].tolist() == [3, 4, 6, 8]
    # trial 1 alone: (1.1 - 1.0) x (1.1 - 0.5); trial 2 adds nothing; trial 3 at (0, 0) takes the whole 1.1 x 1.1
    assert h["hypervolume"].tolist() == pytest.approx([0.06, 0.06, 1.21, 1.21])
    assert h["of_final"].tolist() == pytest.approx([0.06 / 1.21, 0.06 / 1.21, 1.0, 1.0])
    assert h.attrs["statuses"] == ("completed",)


def test_counting_early_stopped_trials_changes_the_scale_and_the_volume():
    h = hypervolume_history(frame(), OBJECTIVES, statuses=("completed", "early_stopped"))
    assert h["hypervolume"].iloc[1] > h["hypervolume"].iloc[0]  # trial 2's accuracy now counts


def test_a_frame_without_epochs_is_refused():
    with pytest.raises(ValueError, match="sys/epochs"):
        hypervolume_history(frame().drop(columns="sys/epochs"), OBJECTIVES)


def test_the_markdown_keeps_the_last_trial_and_says_what_was_counted():
    text = format_hypervolume_markdown(hypervolume_history(frame(), OBJECTIVES), rows=2)
    assert "val/acc ↑, sys/epoch_s/mean ↓" in text and "Counted: completed trials" in text
    assert text.strip().splitlines()[-2:] == ["| 1 | 3 | 0.0600 | 0.05 |", "| 4 | 8 | 1.2100 | 1.00 |"]


def test_a_search_report_carries_the_history_and_a_sweep_report_does_not():
    trials = frame()
    trials.attrs = {"study": "s", "parent_run_id": "p"}
    search = build_report(trials, metrics=["val/acc"], objectives=OBJECTIVES)
    assert search.hypervolume is not None
    assert search.hypervolume_line() == "hypervolume: 90% of its final value after 3 of 4 trials, 6 of 8 epochs spent"
    assert search.hypervolume_line() in search.terminal_lines()
    sweep = build_report(trials, baseline="lr=0.1", metrics=["val/acc"], objectives=OBJECTIVES)
    assert sweep.hypervolume is None and sweep.hypervolume_markdown() is None


def test_the_report_writes_its_table_csv_and_figure(tmp_path):
    from analysis.outputs import write_tables
    from analysis.plots import plot_hypervolume

    trials = frame()
    trials.attrs = {"study": "s", "parent_run_id": "p"}
    report = build_report(trials, metrics=["val/acc"], objectives=OBJECTIVES)
    written = {p.name for p in write_tables(report, tmp_path)}
    assert {"hypervolume.md", "hypervolume.csv"} <= written
    assert pd.read_csv(tmp_path / "hypervolume.csv")["epochs_spent"].tolist() == [3, 4, 6, 8]
    png = plot_hypervolume(report.hypervolume, tmp_path / "hypervolume.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
