"""The study's summary from one row per trial: the best trial by the study's metric and mode, per-config means
over the trials that trained every epoch, counts by status, and what the parent run gets from it."""

from __future__ import annotations

import math

from studies.tracking.summary import TrialRow, summarize


def _row(trial_id, config, value, status="completed", seed="0"):
    return TrialRow(f"run-{trial_id}", trial_id, config, seed, status, value)


ROWS = [_row("t0", "a", 0.2), _row("t1", "a", 0.4, seed="1"), _row("t2", "b", 0.1),
        _row("t3", "c", 0.9, "early_stopped"), _row("t4", "d", math.nan, "diverged"), _row("t5", "e", None, "failed")]


def test_the_best_trial_follows_the_mode_and_is_one_that_trained_every_epoch():
    assert summarize(ROWS, "val/acc", "max").best.trial_id == "t1"  # not t3: ASHA stopped it at an earlier epoch
    assert summarize(ROWS, "val/loss", "min").best.trial_id == "t2"
    assert summarize(ROWS[3:], "val/acc", "max").best.trial_id == "t3"  # none completed: an early stop's result
    assert summarize([_row("t0", "a", 0.5), _row("t1", "b", 0.5)], "val/acc", "max").best.trial_id == "t0"  # tie
    assert summarize([_row("t4", "d", math.nan, "diverged")], "val/acc", "max").best is None


def test_config_means_count_completed_trials_best_first():
    configs = summarize(ROWS, "val/acc", "max").configs
    assert [(c.config, c.n) for c in configs] == [("a", 2), ("b", 1)]
    assert math.isclose(configs[0].mean, 0.3) and math.isclose(configs[0].std, math.sqrt(0.02))
    assert math.isnan(configs[1].std)
    assert [c.config for c in summarize(ROWS, "val/loss", "min").configs] == ["b", "a"]


def test_what_the_parent_run_gets():
    s = summarize(ROWS, "val/acc", "max")
    assert s.metrics() == {"trials/total": 6, "trials/completed": 3, "trials/early_stopped": 1, "trials/failed": 1,
                           "trials/diverged": 1, "best/val/acc": 0.4}
    assert s.tags() == {"hpstudy.best_config": "a", "hpstudy.best_trial_id": "t1", "hpstudy.best_trial_run_id": "run-t1"}
    md = s.markdown("study")
    assert md.startswith("# study\n") and "best val/acc 0.4: a seed=1 [t1]" in md and "6 trials: 3 completed" in md
    assert "| a | 2 | 0.3 | 0.1414 |" in md and "| b | 1 | 0.1 | — |" in md


def test_no_result_yet():
    s = summarize([_row("t5", "e", None, "failed")], "val/acc", "max")
    assert s.tags() == {} and "best/val/acc" not in s.metrics() and s.metrics()["trials/failed"] == 1
    assert "no best trial" in s.markdown("study")
