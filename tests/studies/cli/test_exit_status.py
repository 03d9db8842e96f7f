"""A study's exit code and closing lines from how its trials ended: labelled stops are results, failures are not."""

from __future__ import annotations

from studies.cli.exit_status import EXIT_OK, EXIT_TRIALS_FAILED, Outcome


def test_completed_and_labelled_stops_exit_0():
    outcome = Outcome.of([("completed", ""), ("early_stopped", "stopped by ASHA at epoch 1"),
                          ("diverged", "non-finite loss"), ("collapsed", "at chance"), ("oom", "batch 256"),
                          ("memory_growth", "+300 MB/epoch")])
    assert outcome.exit_code == EXIT_OK and outcome.status == "completed"
    assert outcome.lines() == [] and outcome.tags() == {}


def test_any_failure_exits_3_with_one_line_per_distinct_error():
    outcome = Outcome.of([("failed", "DataError: cifar10: malformed file data_batch_2"), ("completed", ""),
                          ("failed", "DataError: cifar10: malformed file data_batch_2"),
                          ("failed", "RuntimeError: shapes cannot be multiplied"), ("failed", "")])
    assert outcome.exit_code == EXIT_TRIALS_FAILED == 3
    assert outcome.status == "completed", "one trial gave a result"
    assert outcome.lines() == ["4 of 5 trials failed:",
                               "  DataError: cifar10: malformed file data_batch_2  (2 trials)",
                               "  RuntimeError: shapes cannot be multiplied",
                               "  no reason recorded"]
    assert outcome.tags() == {"hpstudy.failed_trials": "4 of 5"}


def test_a_study_whose_every_trial_failed_is_failed():
    outcome = Outcome.of([("failed", "ValueError: x"), ("failed", "ValueError: x")])
    assert outcome.status == "failed" and outcome.exit_code == EXIT_TRIALS_FAILED
