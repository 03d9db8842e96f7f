"""The overhead table and the terminal's "epoch time vs baseline" phrases, on trials frames of known timings: the
steady epoch time (warm-up left out) compared, paired by seed, with its 95% t-interval."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.overhead import format_overhead_markdown, overhead_summary, overhead_table
from analysis.stats import mean_ci

STEADY, MEAN = "sys/epoch_s_steady", "sys/epoch_s/mean"


def trials(rows: list[tuple[str, int, dict[str, float]]]) -> pd.DataFrame:
    """A load_trials-like frame: (config, seed, {column: value}) per completed trial."""
    return pd.DataFrame([{"config": c, "seed": s, "status": "completed", **v} for c, s, v in rows]).astype(
        {"seed": "Int64"})


def test_a_slow_first_epoch_does_not_make_its_config_look_slower():
    """The baseline's trials started first, in fresh processes: their first epoch took 3.4 s against 2.0 s later
    (mean over 4 epochs 2.35 s); the SES arm's, in warm processes, 2.0 s every epoch. Same steady cost."""
    frame = trials([(c, s, {MEAN: (3.4 + 3 * 2.0) / 4 if c == "baseline" else 2.0, STEADY: 2.0})
                    for c in ("baseline", "beta=0.5") for s in (0, 1, 2)])
    table = overhead_table(frame, "baseline")
    assert table.loc["beta=0.5", f"{STEADY}/rel_paired"] == pytest.approx(0.0)
    assert overhead_summary(table) == ["beta=0.5 ±0% [±0%, ±0%]"]


def test_the_overhead_is_the_mean_per_seed_ratio_with_its_t_interval():
    base = {0: 2.0, 1: 2.5, 2: 3.0}
    ratio = {0: 1.00, 1: 1.04, 2: 1.05}  # beta=0.5's epoch time / the baseline's, seed by seed
    frame = trials([("baseline", s, {STEADY: t}) for s, t in base.items()]
                   + [("beta=0.5", s, {STEADY: base[s] * ratio[s]}) for s in (2, 0, 1)])
    row = overhead_table(frame, "baseline").loc["beta=0.5"]
    low, high = mean_ci([r - 1 for r in ratio.values()])
    assert row[f"{STEADY}/rel_paired"] == pytest.approx(0.03)
    assert (row[f"{STEADY}/rel_ci_low"], row[f"{STEADY}/rel_ci_high"]) == pytest.approx((low, high))
    assert row[f"{STEADY}/n_pairs"] == 3
    assert overhead_summary(overhead_table(frame, "baseline")) == [f"beta=0.5 +3% [{low:+.0%}, {high:+.0%}]"]
    md = format_overhead_markdown(overhead_table(frame, "baseline"))
    assert f"| beta=0.5 | 3 | 2.58 (+3% [{low:+.0%}, {high:+.0%}]) |" in md and "warm-up" in md


def test_without_pairs_it_is_the_ratio_of_means_and_without_the_steady_key_the_mean_over_epochs():
    """A trial of one's own training function, or a study logged before the steady key: sys/epoch_s/mean; a
    seed only one side has pairs with nothing, and one pair has no interval."""
    frame = trials([("baseline", 0, {MEAN: 2.0}), ("baseline", 1, {MEAN: 2.0}), ("fast", 0, {MEAN: 1.5}),
                    ("fast", 5, {MEAN: 1.5})])
    table = overhead_table(frame, "baseline")
    assert STEADY not in table.columns and table.loc["fast", f"{MEAN}/n_pairs"] == 1
    assert overhead_summary(table) == ["fast -25%"]
    assert "warm-up" not in format_overhead_markdown(table)
