"""The study-end benchmark: the store it builds holds the trials it says, and every step of a study's end is timed
on it (the report included)."""

import pytest
from mlflow.tracking import MlflowClient

from benchmarks import closing_scale


@pytest.mark.slow  # a report's 17 plots: ~6-14 s
def test_the_store_holds_the_runs_and_every_step_of_the_end_is_timed(tmp_path, capsys):
    closing_scale.build(tmp_path / "store", 6)
    client = MlflowClient(f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(closing_scale.STUDY).experiment_id
    trials = client.search_runs([experiment], "tags.`hpstudy.role` = 'trial'")
    assert len(trials) == 6 and all(r.info.status == "FINISHED" for r in trials)
    assert closing_scale.main(["--runs", "6", "--store", str(tmp_path / "store")]) == 0
    out = capsys.readouterr().out
    assert "over 6 trial runs" in out and out.count("\n| ") == 6  # header, 4 steps, all
    assert not (tmp_path / "store" / "reports").exists(), "the timed end writes to a copy"
