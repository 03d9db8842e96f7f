"""A team's MLflow tracking server on PostgreSQL (benchmarks/tracking_server.py: Debian's postgresql and `mlflow
server`, on loopback), with two studies of one's own logging to it at once through the real CLI, each in its own
process: every trial nested under its own study's parent, every epoch once (slow: ~1-2 min on 2 cores)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from benchmarks.tracking_server import Unavailable, postgres_mlflow

ROOT = Path(__file__).resolve().parents[2]
STUDY = '''
    from hpstudy import Grid, Study

    def train(config, trial):
        acc = 0.0
        for epoch in range(1, config["epochs"] + 1):
            acc += config["lr"] * (1.0 - acc)
            trial.report(epoch, {"val/acc": acc, "train/loss": 1.0 - acc}, checkpoint={"epoch": epoch})

    def get_study(profile):
        return Study(profile=profile, base={"lr": 0.1, "epochs": 3}, space={"lr": Grid((0.1, 0.2, 0.3))},
                     train=train, metric="val/acc")
'''


@pytest.mark.slow
def test_two_studies_log_to_one_postgres_backed_server_at_once(tmp_path):
    folder = Path(tempfile.mkdtemp(prefix="hpsrv_"))
    try:
        server = postgres_mlflow(folder)
        uri = server.__enter__()
    except Unavailable as why:
        pytest.skip(str(why))
    try:
        procs = {}
        for name in ("team_a", "team_b"):
            (tmp_path / f"{name}.py").write_text(textwrap.dedent(STUDY))
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", "studies.run", str(tmp_path / f"{name}.py"), "--tracking-uri", uri,
                 "--runs-dir", str(tmp_path / f"runs_{name}")],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        outputs = {name: p.communicate(timeout=600)[0] for name, p in procs.items()}
        for name, p in procs.items():
            assert p.returncode == 0, outputs[name][-3000:]
            assert f"this study's runs: {uri}/#/experiments/" in outputs[name]

        from mlflow.tracking import MlflowClient

        client = MlflowClient(uri)
        for name in procs:
            experiment = client.get_experiment_by_name(name)
            runs = client.search_runs([experiment.experiment_id])
            parents = [r for r in runs if r.data.tags.get("hpstudy.role") == "study"]
            trials = [r for r in runs if r.data.tags.get("hpstudy.role") == "trial"]
            assert len(parents) == 1 and parents[0].info.status == "FINISHED"
            assert len(trials) == 3 and {t.data.tags["mlflow.parentRunId"] for t in trials} == {parents[0].info.run_id}
            for t in trials:
                assert t.data.tags["hpstudy.status"] == "completed"
                assert [m.step for m in client.get_metric_history(t.info.run_id, "val/acc")] == [1, 2, 3]
        assert not (tmp_path / "runs_team_a" / "mlflow.db").exists()  # the server holds it all
    finally:
        server.__exit__(None, None, None)
