"""A disk that fills up under a running study: one `error:` line, exit 4 (its surroundings failed), the parent run
marked interrupted although marking its trials fails too, and `--resume` completes it once there is space again.
The full disk is the tracker's writes raising ENOSPC, as SQLite and the file system do."""

from __future__ import annotations

import errno

import pytest

from studies.cli.exit_status import EXIT_SURROUNDINGS, surroundings_failure
from tests.studies.closed_form import ClosedForm
from tests.studies.conftest import store, study_runs

ARGS = ["ses_beta_sweep", "--seeds", "0", "--set", "epochs=3"]


def _full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device", "/runs/mlflow.db")


@pytest.fixture(scope="module")
def filled(run_study, tmp_path_factory):
    from studies.tracking.tracker import StudyTracker

    cwd = tmp_path_factory.mktemp("full")
    calls = {"n": 0}
    original = StudyTracker.trial_metrics

    def metrics(self, *args, **kwargs):  # the disk fills after a few epochs were logged
        calls["n"] += 1
        return _full() if calls["n"] > 4 else original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(StudyTracker, "trial_metrics", metrics)
        mp.setattr(StudyTracker, "trial_ended", _full)  # marking the open trials fails as well
        first = run_study(ARGS, cwd, ClosedForm(epoch_s=0.05))
    parents_then, trials_then = study_runs(store(cwd), "ses_beta_sweep")
    resumed = run_study(["ses_beta_sweep", "--resume"], cwd, ClosedForm(epoch_s=0.05))
    return first, parents_then, trials_then, resumed, study_runs(store(cwd), "ses_beta_sweep")


@pytest.mark.slow  # ~9 s: a closed-form sweep whose disk fills, then its resume
def test_a_full_disk_is_one_line_and_exit_4_with_the_parent_marked(filled):
    first, parents, _, _, _ = filled
    assert first.returncode == EXIT_SURROUNDINGS, first.stderr[-3000:]
    errors = [line for line in first.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "the disk is full" in errors[0] and "--resume" in errors[0]
    assert "Traceback" not in first.stderr
    assert parents[0].data.tags["hpstudy.status"] == "interrupted"


@pytest.mark.slow
def test_after_space_is_freed_resume_completes_every_trial_once(filled):
    _, _, _, resumed, (parents, trials) = filled
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    points = [(t.data.tags["hpstudy.config_name"], t.data.tags["hpstudy.seed"]) for t in trials]
    assert len(points) == len(set(points)) == 5
    assert {t.data.tags["hpstudy.status"] for t in trials} == {"completed"}


@pytest.mark.parametrize("err, says", [
    (OSError(errno.ENOSPC, "No space left on device"), "the disk is full"),
    (OSError(errno.EROFS, "Read-only file system", "/runs"), "the file system is read-only (/runs)"),
    (RuntimeError("(sqlite3.OperationalError) database or disk is full"), "the disk is full"),
])
def test_errors_of_the_surroundings_are_named_wherever_they_are_in_the_chain(err, says):
    try:
        try:
            raise err
        except Exception as inner:
            raise RuntimeError("Tune: a callback failed") from inner
    except RuntimeError as outer:
        assert surroundings_failure(outer).startswith(says)
    assert surroundings_failure(ValueError("a bug")) is None

