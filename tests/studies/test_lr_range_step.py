"""`--lr-range STEPS`: an LR range test on the base config first, then every trial trains at the suggested LR."""

from __future__ import annotations

from tests.studies.conftest import cli, store, study_runs


def test_lr_range_step_sets_every_trials_lr(tmp_path):
    args = ["ses_beta_sweep", "--lr-range", "30", "--set", "data.limit_train=256", "--set", "epochs=1"]
    result = cli(args, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    client = store(tmp_path)
    parents, trials = study_runs(client, "ses_beta_sweep")
    suggestion = parents[0].data.params["lr_range.suggestion"]
    assert f"optim.lr={suggestion}" in result.stdout
    assert {float(t.data.params["optim.lr"]) for t in trials} == {float(suggestion)}
    artifacts = {a.path for a in client.list_artifacts(parents[0].info.run_id, "lr_range")}
    assert artifacts == {"lr_range/lr_range.csv", "lr_range/lr_range.png"}
