"""Ctrl-C in the middle of a study saves it and exits 130; --resume finishes it: no duplicate runs or epochs, none left
RUNNING, finished trials not rerun, the interrupted one continued from its checkpoint (a closed-form trial)."""

from __future__ import annotations

import pytest

from tests.studies.conftest import store, study_runs

EPOCHS = 4  # ses_beta_sweep's local profile
TRIALS = 5  # 5 variants x 1 seed (--seeds 0)
INTERRUPTER = ("beta=0.5", "0")  # (config, seed) of the trial that presses Ctrl-C after its epoch 2


def _key(trial) -> tuple[str, str]:
    return trial.data.tags["hpstudy.config_name"], trial.data.tags["hpstudy.seed"]


@pytest.fixture(scope="module")
def study(interrupted_sweep):
    """The sweep Ctrl-C'd once (by the third variant's seed-0 trial, after it checkpointed epoch 2), then resumed
    (conftest's `interrupted_sweep`: its storage is a file:// URI, which test_storage.py reads)."""
    return interrupted_sweep


def test_ctrl_c_saves_the_study_and_says_how_to_resume(study):
    assert study.first.returncode == 130, study.first.stderr[-3000:]
    assert ("resume with: python -m studies.run ses_beta_sweep --resume --runs-dir "
            f"{study.cwd / 'hpstudy_runs'}") in study.first.stderr
    parent, trials = study.parent_before, study.trials_before
    assert parent.data.tags["hpstudy.status"] == "interrupted" and parent.info.status == "KILLED"
    assert all(t.info.status != "RUNNING" for t in trials), "an interrupted study leaves no run RUNNING"
    statuses = {_key(t): t.data.tags["hpstudy.status"] for t in trials}
    assert statuses[INTERRUPTER] == "interrupted" and "completed" in statuses.values()
    assert len(trials) < TRIALS, "the rest of the grid had not started"


def test_resume_finishes_every_trial_once_with_every_epoch_once(study):
    assert study.resumed.returncode == 0, study.resumed.stderr[-3000:]
    client = store(study.cwd)
    parents, trials = study_runs(client, "ses_beta_sweep")
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert len(trials) == TRIALS and len({t.data.tags["hpstudy.trial_id"] for t in trials}) == TRIALS
    assert {t.data.tags["hpstudy.status"] for t in trials} == {"completed"}
    assert all(t.info.status == "FINISHED" for t in trials)
    for trial in trials:  # a trial restarted from scratch would log epoch 1 twice
        steps = [m.step for m in client.get_metric_history(trial.info.run_id, "val/acc")]
        assert steps == list(range(1, EPOCHS + 1)), (trial.data.tags["hpstudy.trial_id"], steps)
    assert "| baseline | 1 |" in study.resumed.stdout


def test_resume_reruns_no_finished_trial_and_continues_the_interrupted_one(study):
    client = store(study.cwd)
    after = {t.info.run_id: t for t in study_runs(client, "ses_beta_sweep")[1]}
    for trial in study.trials_before:
        if trial.data.tags["hpstudy.status"] == "completed":  # a rerun would reopen its run and end it again
            assert after[trial.info.run_id].info.end_time == trial.info.end_time, _key(trial)
        elif _key(trial) == INTERRUPTER:
            history = client.get_metric_history(trial.info.run_id, "val/acc")
            assert [m.step for m in history if m.timestamp >= study.resumed_at_ms] == [3, 4], \
                "continued from its epoch-2 checkpoint"
