"""A finished local study in MLflow's own UI, in a real browser: `mlflow ui` started as the CLI prints it (on a free
port of 127.0.0.1) and the study's runs page rendered by headless Chromium shows the parent run, its trials with
their dataset, and the best model on the parent; a screenshot of it is taken (slow: the study, ~1 min, and the UI's
start; skipped without a Chromium binary, as on a CI runner without one: `apt-get install chromium`)."""

from __future__ import annotations

import html
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import quote

import pytest

from studies.tracking.ui import mlflow_ui_command

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-headless-shell")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="no chromium or chromium-headless-shell on PATH")]
UP_S = 120  # the UI's start: ~35 s on 2 busy cores
# Sorted by the study's metric the trials are rows of their own (sorted by creation MLflow folds them under the
# parent), so one page shows the parent, every trial and their columns.
VIEW = f"runs?workflowType=machine_learning&orderByKey={quote('metrics.`val/acc`')}&orderByAsc=false"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ui(finished_study, tmp_path):
    """The study's MLflow UI, started with the command the CLI printed (plus a free port): its base URL."""
    runs = finished_study.cwd / "hpstudy_runs"
    printed = mlflow_ui_command(f"sqlite:///{runs / 'mlflow.db'}", runs)
    assert f"\nbrowse the runs: {printed}\n" in finished_study.stdout
    port = _free_port()
    cmd = [sys.executable, "-m", *shlex.split(printed), "--port", str(port)]
    log = tmp_path / "mlflow_ui.log"  # a file, not a pipe: the server logs every request
    with log.open("w") as out, subprocess.Popen(cmd, cwd=finished_study.cwd, stdout=out, stderr=subprocess.STDOUT,
                                                start_new_session=True) as proc:
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for(f"{base}/health", proc, log)
            yield base
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def _wait_for(url: str, proc: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + UP_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"mlflow ui exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    pytest.fail(f"mlflow ui did not answer {url} in {UP_S} s")


def _chromium(url: str, tmp_path, *mode: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000",
                           "--window-size=2000,560", *mode, url],
                          capture_output=True, text=True, timeout=180, cwd=tmp_path)


def test_the_runs_page_shows_the_parent_its_trials_their_dataset_and_the_best_model(ui, finished_study, tmp_path):
    url = f"{ui}/#/experiments/{finished_study.parent.info.experiment_id}/{VIEW}"
    dom = _chromium(url, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", " ", dom.stdout,
                                                                               flags=re.S))))
    assert finished_study.parent.info.run_name in text
    for trial in finished_study.trials:
        assert trial.info.run_name in text, trial.info.run_name
    assert "Dataset" in text and text.count("mnist5k (first 512)") == len(finished_study.trials)
    assert "Models" in text and "best_model" in text
    assert f"{len(finished_study.trials) + 1} matching runs" in text
    shot = tmp_path / "runs.png"
    done = _chromium(url, tmp_path, f"--screenshot={shot}")
    assert done.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", done.stderr[-2000:]
    assert shot.stat().st_size > 30_000, "a rendered table, not a blank page"
