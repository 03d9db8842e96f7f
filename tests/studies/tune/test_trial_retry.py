"""A trial whose process dies mid-trial is retried by Tune from its last checkpoint (FailureConfig): the study
completes, the retry is logged on the trial's run, and every epoch reaches MLflow once (a closed-form trial;
before, a dead Train run failed its trial and was never retried)."""

from __future__ import annotations

import pytest

from tests.studies.closed_form import ClosedForm, ses_beta_is
from tests.studies.conftest import store, study_runs

EPOCHS = 4  # ses_beta_sweep's local profile


@pytest.fixture(scope="module")
def study(run_study, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("retry")
    trial = ClosedForm(crashes=ses_beta_is(0.5), interrupt_epoch=2, marker=str(cwd / "crashed"), max_failures=1)
    return cwd, run_study(["ses_beta_sweep", "--seeds", "0", "-v"], cwd, trial)


@pytest.mark.slow  # ~12 s; the default suite's tests/studies/cli/test_chaos.py kills a trial's process too
def test_a_dead_trial_is_retried_from_its_checkpoint_and_the_study_completes(study):
    cwd, result = study
    assert result.returncode == 0, result.stderr[-3000:]
    client = store(cwd)
    _, trials = study_runs(client, "ses_beta_sweep")
    assert {t.data.tags["hpstudy.status"] for t in trials} == {"completed"} and len(trials) == 5
    retried = [t for t in trials if t.data.tags["hpstudy.config_name"] == "beta=0.5"]
    assert len(retried) == 1 and retried[0].data.tags["hpstudy.retries"] == "1"
    assert all("hpstudy.retries" not in t.data.tags for t in trials if t is not retried[0])
    for trial in trials:  # continued from its epoch-2 checkpoint: a restart from scratch would log epoch 1 twice
        steps = [m.step for m in client.get_metric_history(trial.info.run_id, "val/acc")]
        assert steps == list(range(1, EPOCHS + 1)), (trial.data.tags["hpstudy.config_name"], steps)
    lines = client.download_artifacts(retried[0].info.run_id, "retries.txt", str(cwd))
    assert open(lines).read().startswith("retried after epoch 2: "), open(lines).read()
    assert "retried after epoch 2" in result.stdout
