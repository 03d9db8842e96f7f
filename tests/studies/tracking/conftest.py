"""A finished local study of hpstudy's trainer, run as a user runs it, for the slow tests that read its MLflow record:
the best model on its parent run (test_best_model_e2e.py) and the runs table in a browser (test_mlflow_ui.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.studies.conftest import cli, store, study_runs

STUDY = "lr_warmup_dropout"  # TPE + ASHA on embedded MNIST, small_cnn
ARGS = [STUDY, "--num-samples", "2", "--set", "epochs=2", "--set", "data.limit_train=512"]  # ~1 min on 2 cores


@dataclass(frozen=True)
class Finished:
    cwd: Path  # where it ran: hpstudy_runs/ under it
    stdout: str
    parent: object  # its MLflow parent run
    trials: list  # its trial runs


@pytest.fixture(scope="session")
def finished_study(tmp_path_factory) -> Finished:
    cwd = tmp_path_factory.mktemp("finished")
    result = cli(ARGS, cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    parents, trials = study_runs(store(cwd), STUDY)
    return Finished(cwd, result.stdout, parents[0], trials)
