"""What each command imports, in a fresh interpreter: `--help` nothing but the CLI's own few modules, `--list` the
catalogue without torch, Ray or MLflow, and a local study's plan without timm, torchvision or torchmetrics (it
trains `small_cnn` on embedded MNIST and uses none of them). Their timings are `python -m benchmarks.cli_start`'s;
these tests keep the imports that make them fast from coming back."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "timm", "torchvision", "torchmetrics", "scipy", "ray", "mlflow", "optuna", "pandas")


def _loaded(code: str, tmp_path) -> list[str]:
    """The HEAVY modules loaded once `code` ran in a fresh interpreter (in `tmp_path`, nothing on its path)."""
    probe = f"import sys\n{code}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return eval(done.stdout.splitlines()[-1])  # noqa: S307 -- our own print of a list of names


def test_help_imports_nothing_heavy(tmp_path):
    code = ("from studies.cli.main import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'trainables' not in sys.modules and 'studies.registry' not in sys.modules")
    assert _loaded(code, tmp_path) == []


def test_list_imports_the_catalogue_but_not_torch_ray_or_mlflow(tmp_path):
    code = ("from studies.cli.main import main\nassert main(['--list']) == 0\n"
            "assert 'studies.catalog.ses_vit' in sys.modules")
    assert _loaded(code, tmp_path) == []


@pytest.mark.parametrize("study,expected", [
    ("ses_beta_sweep", ["torch"]),  # small_cnn on embedded MNIST: the trainer's checks need torch, nothing more
    ("ses_vit", ["timm", "torch", "torchvision"]),  # a timm model: its name is checked against timm's
])
def test_a_plan_imports_what_its_study_uses(tmp_path, study, expected):
    code = ("import argparse\nfrom studies.cli.main import parse_args\nfrom studies.cli.plan import make_plan\n"
            f"make_plan(parse_args([{study!r}, '--profile', 'local']), 'test')")
    assert _loaded(code, tmp_path) == expected
