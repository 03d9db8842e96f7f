"""hpstudy installed from its wheel (not the checkout) into a fresh virtual environment, and study files of one's own
in an unrelated folder run with the console command `hpstudy run`: hpstudy's trainer on a sweep, and a training
function of one's own searched with TPE + ASHA over 3 seeds, Ctrl-C'd and resumed.

The fresh environment takes hpstudy's dependencies from this one (a .pth file naming its site-packages, which holds
no hpstudy code: its editable install's finder only runs from a site directory) and hpstudy itself from the wheel.
"""

from __future__ import annotations

import signal
import site
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.slow  # ~2 min on 2 cores: a wheel, a venv, a 4-trial sweep and a 6-trial search

ROOT = Path(__file__).resolve().parents[2]
SWEEP = '''
    from hpstudy import DataConfig, Grid, Study, TrainConfig, Variants
    from my_settings import LR  # a module beside the study file

    DESCRIPTION = "my own sweep"

    def get_study(profile):
        base = TrainConfig(epochs=2, data=DataConfig(name="mnist5k", limit_train=256))
        space = {"variant": Variants(({"name": "baseline"}, {"name": "faster", "optim.lr": LR})), "seed": Grid((0, 1))}
        return Study(profile=profile, base=base, space=space, baseline="baseline")
'''
SEARCH = '''
    import time

    from hpstudy import Asha, Grid, LogUniform, Study
    from my_settings import LR

    def train(config, trial):
        state = trial.checkpoint() or {"epoch": 0, "acc": 0.0}
        acc = state["acc"]
        for epoch in range(state["epoch"] + 1, config["epochs"] + 1):
            time.sleep(1.0)  # an epoch's work: long enough for a Ctrl-C to land mid-study
            acc += config["lr"] * (1.0 - acc)
            trial.report(epoch, {"val/acc": acc, "train/loss": 1.0 - acc}, checkpoint={"epoch": epoch, "acc": acc})

    def get_study(profile):
        return Study(profile=profile, base={"lr": LR, "epochs": 4}, space={"lr": LogUniform(0.05, 0.5),
                     "seed": Grid((0, 1, 2))}, search="tpe", num_samples=2, asha=Asha(), train=train,
                     metric="val/acc")
'''


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv holding hpstudy's wheel; its bin/ folder."""
    tmp = tmp_path_factory.mktemp("installed")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "wheels"), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = (tmp / "wheels").glob("hpstudy-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    target = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"], check=True,
                            capture_output=True, text=True).stdout.strip()
    Path(target, "deps_from_test.pth").write_text(site.getsitepackages()[0] + "\n")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True,
                   timeout=300)
    return venv / "bin"


@pytest.fixture
def folder(tmp_path) -> Path:
    work = tmp_path / "somewhere_else"
    (work / "research").mkdir(parents=True)
    (work / "research" / "my_settings.py").write_text("LR = 0.2\n")
    (work / "research" / "my_sweep.py").write_text(textwrap.dedent(SWEEP))
    (work / "research" / "my_search.py").write_text(textwrap.dedent(SEARCH))
    return work


def _runs(work: Path, study: str):
    client = MlflowClient(f"sqlite:///{work / 'hpstudy_runs' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name(study).experiment_id])
    return client, [r for r in runs if r.data.tags["hpstudy.role"] == "study"], [
        r for r in runs if r.data.tags["hpstudy.role"] == "trial"]


def test_the_installed_wheel_runs_a_study_file_from_an_unrelated_folder(installed, folder):
    where = subprocess.run([installed / "python", "-c", "import studies; print(studies.__file__)"], cwd=folder,
                           check=True, capture_output=True, text=True).stdout
    assert where.startswith(str(installed.parent)), where  # the wheel's code, not the checkout's
    done = subprocess.run([installed / "hpstudy", "run", "research/my_sweep.py"], cwd=folder, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "my_sweep (full): 4 trials: 4 completed" in done.stdout and "| faster | 2 |" in done.stdout
    _, parents, trials = _runs(folder, "my_sweep")
    assert parents[0].data.tags["hpstudy.study_file"] == str(folder / "research" / "my_sweep.py")
    assert parents[0].data.tags["hpstudy.command"] == "hpstudy run research/my_sweep.py" and len(trials) == 4


def _epochs_logged(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return con.execute("select count(*) from metrics where key = 'val/acc'").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_an_installed_training_function_is_searched_ctrl_cd_and_resumed(installed, folder):
    command = [installed / "hpstudy", "run", "research/my_search.py"]
    proc = subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while _epochs_logged(folder / "hpstudy_runs" / "mlflow.db") < 2 and proc.poll() is None:
        assert time.monotonic() < deadline, "no epoch logged in 5 minutes"
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)  # Ctrl-C, as a user presses it
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-3000:]
    assert f"resume with: hpstudy run {folder / 'research' / 'my_search.py'} --resume" in err
    done = subprocess.run([*command, "--resume"], cwd=folder, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "my_search (full): 6 trials:" in done.stdout and "report: " in done.stdout
    client, parents, trials = _runs(folder, "my_search")
    assert len(parents) == 1 and len(trials) == 6
    assert all(r.data.tags["mlflow.parentRunId"] == parents[0].info.run_id for r in trials)
    for run in trials:
        steps = [m.step for m in client.get_metric_history(run.info.run_id, "val/acc")]
        assert steps == sorted(set(steps)), steps  # every epoch once
