"""--storage: Ray's experiment and the trials' checkpoints in a folder or a URI (a study across nodes).

A study Ctrl-C'd with its storage at a file:// URI resumes from it (Tune's experiment state and the trials'
checkpoints are read back through pyarrow, as from s3://); the resume state and MLflow stay under --runs-dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studies.tune.storage import StorageError, join, resolve
from tests.studies.conftest import run_main, store, study_runs

EPOCHS = 4  # ses_beta_sweep's local profile


def test_the_default_is_the_runs_folder_and_a_path_is_made_absolute(tmp_path, monkeypatch):
    assert resolve(None, tmp_path, "s") == str(tmp_path / "ray" / "s")
    monkeypatch.chdir(tmp_path)
    assert resolve("shared/x", tmp_path, "s") == str(tmp_path / "shared" / "x" / "s")


@pytest.mark.parametrize(("uri", "expected"), [
    ("s3://bucket", "s3://bucket/s"),
    ("s3://bucket/hp/", "s3://bucket/hp/s"),
    ("gs://b/hp?endpoint_override=localhost:9000", "gs://b/hp/s?endpoint_override=localhost:9000"),
    ("file:///shared/hp", "file:///shared/hp/s"),
])
def test_a_uri_gets_the_study_name_appended(uri, expected):
    assert resolve(uri, Path("/unused"), "s") == expected
    assert join(uri, "s") == expected


@pytest.mark.parametrize(("value", "says"), [
    ("ftp://host/x", "expected a path or a URI with one of the schemes"),
    ("file://relative/x", "a file:// URI needs an absolute path"),
])
def test_a_storage_ray_cannot_use_is_refused(value, says):
    with pytest.raises(StorageError, match=says):
        resolve(value, Path("/unused"), "s")


def test_the_cli_refuses_it_in_one_line_before_anything_starts(tmp_path):
    result = run_main(["ses_beta_sweep", "--storage", "ftp://host/x"], tmp_path, trial_factory=None)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: --storage ftp://host/x: expected a path or a URI with one of the schemes file://, s3://, gs://, "
        "gcs://, hdfs://, viewfs://, abfs://, abfss://"]
    assert not (tmp_path / "hpstudy_runs").exists()


@pytest.fixture(scope="module")
def study(interrupted_sweep):
    """conftest's `interrupted_sweep`: Ctrl-C'd with --storage at a file:// URI, --resume --storage refused, resumed."""
    return interrupted_sweep


def test_checkpoints_go_to_the_storage_and_the_resume_state_stays_in_the_runs_folder(study):
    assert study.first.returncode == 130, study.first.stderr[-3000:]
    shared = study.cwd / "shared" / "ses_beta_sweep"
    assert list(shared.glob("train_*/checkpoint_*/history.json")), "the trials checkpoint in --storage"
    local = study.cwd / "hpstudy_runs" / "ray" / "ses_beta_sweep"
    assert [p.name for p in local.iterdir()] == ["latest.json"]  # nothing of Ray's here
    assert json.loads((local / "latest.json").read_text())["storage"] == f"{study.uri}/ses_beta_sweep"


def test_a_resume_keeps_the_storage_it_started_with(study):
    assert study.again.returncode == 2 and "drop --set/" in study.again.stderr and "--storage" in study.again.stderr
    assert study.resumed.returncode == 0, study.resumed.stderr[-3000:]
    client = store(study.cwd)
    _, trials = study_runs(client, "ses_beta_sweep")
    assert len(trials) == 5 and {t.data.tags["hpstudy.status"] for t in trials} == {"completed"}
    for trial in trials:  # the interrupted one continued from its checkpoint in the storage: no epoch twice
        steps = [m.step for m in client.get_metric_history(trial.info.run_id, "val/acc")]
        assert steps == list(range(1, EPOCHS + 1)), (trial.data.tags["hpstudy.config_name"], steps)
