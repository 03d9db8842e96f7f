"""A study file of one's own, in a folder outside the package: `python -m studies.run path/to/my_study.py`. Its name
is the file's stem, its folder's modules import, and a broken file is one line, exit 2. The runs go through a
closed-form trial on the session's Ray (the tuner, MLflow, the seed table and the resume, without training)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from studies import registry
from tests.studies.closed_form import ClosedForm, lr_is
from tests.studies.conftest import store, study_runs

STUDY = '''
    """A researcher's sweep, in their own folder."""
    from hpstudy import Study, TrainConfig, Variants, Grid, DataConfig
    from my_settings import LR  # a sibling module of the study file

    DESCRIPTION = "my own sweep"

    def get_study(profile):
        base = TrainConfig(epochs=2, data=DataConfig(name="mnist5k", limit_train=256))
        space = {"variant": Variants(({"name": "baseline"}, {"name": "faster", "optim.lr": LR})),
                 "seed": Grid((0, 1))}
        return Study(profile=profile, base=base, space=space, baseline="baseline")
'''


@pytest.fixture
def own(tmp_path) -> Path:
    """A folder of one's own holding `my_sweep.py` and the module it imports; the study file's path."""
    folder = tmp_path / "research"
    folder.mkdir()
    (folder / "my_settings.py").write_text("LR = 0.2\n")
    (folder / "my_sweep.py").write_text(textwrap.dedent(STUDY))
    yield folder / "my_sweep.py"
    for name in ("my_sweep", "my_settings"):  # each test's folder is a new one: import it afresh
        sys.modules.pop(name, None)
    if str(folder) in sys.path:
        sys.path.remove(str(folder))


def test_a_study_file_is_named_by_its_stem_and_imports_its_siblings(own):
    module = registry.load(str(own))
    assert registry.study_name(str(own)) == "my_sweep" and module.LR == 0.2
    assert registry.entry(str(own)).description == "my own sweep"
    assert registry.code_dir(str(own)) == own.parent and registry.code_dir("ses_beta_sweep") is None


def test_a_dry_run_of_a_study_file(own, cli_here):
    result = cli_here([str(own), "--dry-run"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("hpstudy: my_sweep, profile full (its data and 0 GPU per trial are present)")
    assert "2 configurations x 2 seeds (0, 1) = 4 trials" in result.stdout and "optim.lr=0.2" in result.stdout


@pytest.mark.parametrize("content,expected", [
    (None, "no such file"),
    ("def get_study(profile:\n", "SyntaxError: line 1"),
    ("import not_a_module_anywhere\n", "ModuleNotFoundError: No module named 'not_a_module_anywhere'"),
    ("X = 1\n", "has no get_study(profile)"),
    ("def get_study(profile):\n    return {'epochs': 1}\n", "returned a dict, expected a studies.study.Study"),
])
def test_a_broken_study_file_is_one_line_exit_2(tmp_path, cli_here, content, expected):
    path = tmp_path / "broken_study.py"
    if content is not None:
        path.write_text(content)
    result = cli_here([str(path), "--dry-run"])
    sys.modules.pop("broken_study", None)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert expected in result.stderr and str(path) in result.stderr


def test_a_study_file_named_like_a_module_already_loaded_is_refused(tmp_path, cli_here):
    path = tmp_path / "json.py"  # the standard library's json is loaded already
    path.write_text("def get_study(profile): ...\n")
    result = cli_here([str(path), "--dry-run"])
    assert result.returncode == 2 and "its name 'json' is already the module" in result.stderr


@pytest.mark.slow  # 14 s; the fast suite runs a study file through a Ctrl-C and --resume in test_own_function.py
def test_a_study_file_runs_and_resumes_like_a_catalogue_study(own, run_study, tmp_path):
    cwd = tmp_path / "work"
    cwd.mkdir()
    trial = ClosedForm(interrupts=lr_is(0.2, seed=0), interrupt_epoch=1, marker=str(cwd / "ctrl-c"), epoch_s=0.05)
    first = run_study([str(own)], cwd, trial)
    assert first.returncode == 130 and f"resume with: python -m studies.run {own} --resume" in first.stderr
    resumed = run_study([str(own), "--resume"], cwd, trial)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "my_sweep (full): 4 trials: 4 completed" in resumed.stdout and "| faster | 2 |" in resumed.stdout
    parents, trials = study_runs(store(cwd), "my_sweep")
    assert len(parents) == 1 and len(trials) == 4
    assert parents[0].data.tags["hpstudy.description"] == "my own sweep"
