"""How a trial's last result is told to the search: COMPLETE only at max epochs, PRUNED when stopped early, a labelled
stop as its table says and never with a score."""

from __future__ import annotations

import math

import pytest

from studies.search.endings import COMPLETE, FAIL, PRUNED, STOP_DETAIL, STOP_REASON, STOP_STATES, ending

OBJ = ["val/acc"]


@pytest.mark.parametrize("result, error, state, reason, values", [
    ({"epoch": 6, "val/acc": 0.8}, False, COMPLETE, "complete", (0.8,)),
    ({"epoch": 2, "val/acc": 0.8}, False, PRUNED, "pruned", None),  # ASHA stopped it at a rung
    ({"epoch": 2, "val/acc": 0.1, STOP_REASON: "diverged"}, False, PRUNED, "diverged", None),
    ({"epoch": 6, "val/acc": 0.1, STOP_REASON: "collapsed"}, False, PRUNED, "collapsed", None),
    ({"epoch": 3, "val/acc": math.nan, STOP_REASON: "oom"}, False, FAIL, "oom", None),
    ({"epoch": 4, "val/acc": 0.7, STOP_REASON: "early_stopped"}, False, COMPLETE, "early_stopped", (0.7,)),
    ({"epoch": 4, "val/acc": 0.7, STOP_REASON: "a new one"}, False, FAIL, "a new one", None),
    ({"epoch": 6, "val/acc": math.nan}, False, FAIL, "objective_not_finite", None),
    ({"epoch": 6}, False, FAIL, "objective_not_finite", None),
    ({"val/acc": 0.9}, False, FAIL, "no_epoch", None),  # Ray's Repeater passes only the metric
    (None, False, FAIL, "no_result", None),  # removed while pending
    ({"epoch": 6, "val/acc": 0.8}, True, FAIL, "error", None),
])
def test_each_ending(result, error, state, reason, values):
    end = ending(result, error=error, objectives=OBJ, max_epochs=6)
    assert (end.state, end.reason, end.values) == (state, reason, values)


def test_multi_objective_completes_with_every_value_or_fails():
    objectives = ["val/acc", "sys/epoch_s"]
    assert ending({"epoch": 6, "val/acc": 0.8, "sys/epoch_s": 2}, error=False, objectives=objectives,
                  max_epochs=6).values == (0.8, 2.0)
    assert ending({"epoch": 6, "val/acc": 0.8}, error=False, objectives=objectives, max_epochs=6).state == FAIL


def test_the_table_is_the_callers_and_covers_every_reason_the_loop_gives():
    from trainables import loop
    from trainables.watch.stops import REASONS

    assert set(STOP_STATES) == set(REASONS)
    assert (STOP_REASON, STOP_DETAIL) == (loop.STOP_REASON, loop.STOP_DETAIL)
    strict = {**STOP_STATES, "early_stopped": PRUNED}
    assert ending({"epoch": 4, "val/acc": 0.7, STOP_REASON: "early_stopped"}, error=False, objectives=OBJ,
                  max_epochs=6, stop_states=strict).state == PRUNED
