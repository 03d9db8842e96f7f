"""hpstudy installed from its wheel (not the checkout) into a fresh virtual environment, and a study file of one's
own in an unrelated folder run with the console command `hpstudy run`: a real study, trained, logged and reported.

The fresh environment takes hpstudy's dependencies from this one (a .pth file naming its site-packages, which holds
no hpstudy code: its editable install's finder only runs from a site directory) and hpstudy itself from the wheel.
"""

from __future__ import annotations

import site
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.slow  # ~1 min on 2 cores: a wheel, a venv and a 4-trial study

ROOT = Path(__file__).resolve().parents[2]
STUDY = '''
    from hpstudy import DataConfig, Grid, Study, TrainConfig, Variants
    from my_settings import LR  # a module beside the study file

    DESCRIPTION = "my own sweep"

    def get_study(profile):
        base = TrainConfig(epochs=2, data=DataConfig(name="mnist5k", limit_train=256))
        space = {"variant": Variants(({"name": "baseline"}, {"name": "faster", "optim.lr": LR})), "seed": Grid((0, 1))}
        return Study(profile=profile, base=base, space=space, baseline="baseline")
'''


def test_the_installed_wheel_runs_a_study_file_from_an_unrelated_folder(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("hpstudy-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    target = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"], check=True,
                            capture_output=True, text=True).stdout.strip()
    Path(target, "deps_from_test.pth").write_text(site.getsitepackages()[0] + "\n")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True,
                   timeout=300)

    work = tmp_path / "somewhere_else"
    (work / "research").mkdir(parents=True)
    (work / "research" / "my_settings.py").write_text("LR = 0.2\n")
    (work / "research" / "my_sweep.py").write_text(textwrap.dedent(STUDY))
    where = subprocess.run([python, "-c", "import studies, hpstudy.schema; print(studies.__file__)"], cwd=work,
                           check=True, capture_output=True, text=True).stdout
    assert where.startswith(str(venv)), where  # the wheel's code, not the checkout's
    done = subprocess.run([venv / "bin" / "hpstudy", "run", "research/my_sweep.py"], cwd=work, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "my_sweep (full): 4 trials: 4 completed" in done.stdout and "| faster | 2 |" in done.stdout
    client = MlflowClient(f"sqlite:///{work / 'hpstudy_runs' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("my_sweep").experiment_id])
    parent = next(r for r in runs if r.data.tags["hpstudy.role"] == "study")
    assert parent.data.tags["hpstudy.study_file"] == str(work / "research" / "my_sweep.py")
    assert parent.data.tags["hpstudy.command"] == "hpstudy run research/my_sweep.py"
    assert sum(r.data.tags["hpstudy.role"] == "trial" for r in runs) == 4
