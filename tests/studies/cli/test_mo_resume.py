"""A multi-objective search Ctrl-C'd and resumed through the CLI (closed-form trials): the resumed study finishes,
and its MO-ASHA rungs hold every trial, those recorded before the Ctrl-C included. Tune never restores a scheduler;
its callbacks' state (studies.tune.tuner.TrialEvents) carries the rungs across. Without that, the last assertion fails
(11 of 12: the interrupted trial's epoch-1 record is lost), checked once by disabling TrialEvents.set_state."""

from __future__ import annotations

import pickle

import pytest
from ray.tune.utils.util import _load_newest_checkpoint

from tests.studies.closed_form import ClosedForm, always
from tests.studies.conftest import store, study_runs

TRIALS = 12  # ses_search's local num_samples; grace period 1: every trial is recorded at the epoch-1 rung


pytestmark = pytest.mark.slow  # ~55 s on 2 cores; the fast twin: tests/studies/tune/test_mo_asha.py (Tune's CallbackList)


@pytest.fixture(scope="module")
def resumed(run_study, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("mo_resume")
    # the first trial to finish epoch 2 presses Ctrl-C, once; the resumed one continues from its epoch-2 checkpoint,
    # so it never reports epoch 1 again: only a restored rung still holds its epoch-1 record
    trial = ClosedForm(interrupts=always, interrupt_epoch=2, marker=str(cwd / "ctrl-c"), epoch_s=0.05)
    first = run_study(["ses_search", "--profile", "local"], cwd, trial)
    second = run_study(["ses_search", "--resume"], cwd, trial)
    return cwd, first, second


def test_the_search_resumes_to_its_end(resumed):
    cwd, first, second = resumed
    assert first.returncode == 130, first.stderr[-3000:]
    assert second.returncode == 0, second.stderr[-3000:]
    _, trials = study_runs(store(cwd), "ses_search")
    assert len(trials) == TRIALS
    assert {t.data.tags["hpstudy.status"] for t in trials} <= {"completed", "early_stopped"}


def test_the_rungs_after_the_resume_hold_the_trials_from_before_it(resumed):
    cwd, _, _ = resumed
    (experiment,) = (cwd / "hpstudy_runs" / "ray" / "ses_search").glob("local-*")
    state = _load_newest_checkpoint(str(experiment), "callback-states-*.pkl")
    (events,) = [s for s in state.values() if s]  # TrialEvents is the one stateful callback
    rungs = pickle.loads(events["scheduler"])["recorded"]
    assert len(rungs[1]) == TRIALS, {level: len(r) for level, r in rungs.items()}
