"""Tune's trial events reach plain-Python handlers; Tune's snapshot of the experiment first lets the tracker write
what it queued (a trial the saved state records as ended is whole in MLflow)."""

from __future__ import annotations


def test_tunes_snapshot_flushes_the_tracker_before_it_saves_the_callbacks_state(tmp_path):
    from ray.tune.callback import CallbackList

    from studies.tune.events import TrialEvents

    flushed = []
    events = TrialEvents(print, print, print, on_snapshot=lambda: flushed.append(True))
    CallbackList([events]).save_to_dir(str(tmp_path))  # what TuneController.save_to_dir calls at each snapshot
    assert flushed == [True]
    assert list(tmp_path.iterdir()) == []  # no scheduler: no state file, as before
