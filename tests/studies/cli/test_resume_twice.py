"""Ctrl-C, --resume, Ctrl-C again, --resume: the resumed session's events reach its own tracker and progress line
(Tune's restore unpickles the first session's callbacks), so the second Ctrl-C leaves no trial RUNNING either, and
the study ends with every trial once (slow: three sessions of a closed-form sweep)."""

from __future__ import annotations

import pytest

from tests.studies.closed_form import ClosedForm, ses_beta_is
from tests.studies.conftest import store, study_runs

ARGS = ["ses_beta_sweep", "--seeds", "0,1", "--set", "epochs=3"]


@pytest.mark.slow
def test_a_second_ctrl_c_after_a_resume_leaves_nothing_running(run_study, tmp_path):
    trial = ClosedForm(interrupts=ses_beta_is(0.5), interrupt_epoch=2, marker=str(tmp_path / "ctrl-c"),
                       interrupt_times=2, epoch_s=0.1)
    first = run_study(ARGS, tmp_path, trial)
    assert first.returncode == 130, first.stderr[-3000:]
    second = run_study(["ses_beta_sweep", "--resume"], tmp_path, trial)
    assert second.returncode == 130, second.stdout[-2000:] + second.stderr[-2000:]
    parents, trials = study_runs(store(tmp_path), "ses_beta_sweep")
    running = [(t.data.tags["hpstudy.config_name"], t.data.tags["hpstudy.seed"]) for t in trials
               if t.info.status == "RUNNING" or t.data.tags.get("hpstudy.status") == "running"]
    assert running == [], f"left RUNNING after the second Ctrl-C: {running}"
    assert parents[0].data.tags["hpstudy.status"] == "interrupted"
    last_progress = [line for line in second.stdout.splitlines() if line.startswith("trials ")][-1]
    assert not last_progress.startswith("trials 0/"), last_progress  # the earlier session's trials count
    third = run_study(["ses_beta_sweep", "--resume"], tmp_path, trial)
    assert third.returncode == 0, third.stderr[-3000:]
    _, trials = study_runs(store(tmp_path), "ses_beta_sweep")
    points = [(t.data.tags["hpstudy.config_name"], t.data.tags["hpstudy.seed"]) for t in trials]
    assert len(points) == len(set(points)) == 10
    assert {t.data.tags["hpstudy.status"] for t in trials} == {"completed"}
