"""Bad input to `python -m studies.run` is one line on stderr and exit code 2, before Ray starts."""

from __future__ import annotations

import pytest

from tests.studies.conftest import cli


def _one_line_error(result) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_list_names_every_study_with_a_description(workdir):
    result = cli(["--list"], workdir)
    assert result.returncode == 0
    names = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert set(names) == {"ses_beta_sweep", "lr_warmup_dropout"}
    assert all(len(line.split()) > 3 for line in names.values())


def test_unknown_study_lists_the_valid_ones(workdir):
    line = _one_line_error(cli(["ses_beta_swep"], workdir))
    assert "ses_beta_swep" in line and "ses_beta_sweep" in line and "lr_warmup_dropout" in line


@pytest.mark.parametrize("setting, named", [
    ("optim.lrr=0.1", "optim.lrr"),
    ("optim.lr=fast", "optim.lr"),
    ("data.batch_size=1.5", "data.batch_size"),
    ("ses.beta=0.5", "ses.beta"),  # the sweep varies beta itself
    ("noequals", "noequals"),
])
def test_bad_set_names_the_key(workdir, setting, named):
    line = _one_line_error(cli(["ses_beta_sweep", "--set", setting], workdir))
    assert named in line
    assert not (workdir / "hpstudy_runs").exists(), "bad input must not start a study"


def test_profile_full_without_data_names_the_missing_root(workdir):
    line = _one_line_error(cli(["ses_beta_sweep", "--profile", "full", "--set", "data.root=/nowhere/cifar"], workdir))
    assert "/nowhere/cifar" in line and "cifar-100-python" in line


def test_missing_data_root_for_local_profile(workdir):
    args = ["ses_beta_sweep", "--profile", "local", "--set", "data.name=cifar10", "--set", "data.root=/no/such/root"]
    line = _one_line_error(cli(args, workdir))
    assert "/no/such/root" in line


def test_resume_with_nothing_to_resume(workdir):
    line = _one_line_error(cli(["ses_beta_sweep", "--resume"], workdir))
    assert "nothing to resume" in line


def test_lr_range_on_a_study_that_varies_the_lr_is_refused(workdir):
    line = _one_line_error(cli(["lr_warmup_dropout", "--lr-range", "50"], workdir))
    assert "--lr-range 50" in line and "optim.lr" in line
