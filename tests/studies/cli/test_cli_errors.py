"""Bad input to `python -m studies.run` is one line on stderr and exit code 2, before Ray starts.

The first test runs the command as a user does, in a subprocess; the others call its `main` in this process
(the same code path up to the exit code, without ~7 s of imports per case; conftest's `cli_here`).
"""

from __future__ import annotations

import pytest

from studies import registry
from tests.studies.conftest import cli


def _one_line_error(result) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_list_names_every_study_with_a_description(cli_here):
    result = cli_here(["--list"])
    assert result.returncode == 0
    names = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("  ")}  # not headings
    assert set(names) == set(registry.study_names())
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
def test_bad_set_names_the_key(workdir, cli_here, setting, named):
    line = _one_line_error(cli_here(["ses_beta_sweep", "--set", setting]))
    assert named in line
    assert not (workdir / "hpstudy_runs").exists(), "bad input must not start a study"


@pytest.mark.parametrize("args, named", [
    (["--set", "ses.beta=1.5"], "ses.beta: expected 0 < value <= 1"),  # beta is a fraction of log d
    (["--set", "optim.momentum=1.2"], "optim.momentum"),
    (["--set", "data.val_fraction=0"], "data.val_fraction=0"),  # a search would select on the test set
    (["--set", "checkpoint.metric=test/acc"], "checkpoint.metric"),  # follows the study's metric
    (["--smoke", "--profile", "local"], "--smoke"),
])
def test_values_outside_their_meaning_are_refused(workdir, cli_here, args, named):
    line = _one_line_error(cli_here(["lr_warmup_dropout", *args]))
    assert named in line
    assert not (workdir / "hpstudy_runs").exists(), "bad input must not start a study"


def test_profile_full_without_data_names_the_missing_root(workdir, cli_here):
    line = _one_line_error(cli_here(["ses_beta_sweep", "--profile", "full", "--set", "data.root=/nowhere/cifar"]))
    assert "/nowhere/cifar" in line and "cifar-100-python" in line


def test_missing_data_root_for_local_profile(workdir, cli_here):
    args = ["ses_beta_sweep", "--profile", "local", "--set", "data.name=cifar10", "--set", "data.root=/no/such/root"]
    line = _one_line_error(cli_here(args))
    assert "/no/such/root" in line


def test_resume_with_nothing_to_resume(workdir, cli_here):
    line = _one_line_error(cli_here(["ses_beta_sweep", "--resume"]))
    assert "nothing to resume" in line


def test_lr_range_on_a_study_that_varies_the_lr_is_refused(workdir, cli_here):
    line = _one_line_error(cli_here(["lr_warmup_dropout", "--lr-range", "50"]))
    assert "--lr-range 50" in line and "optim.lr" in line


# trainables.config.ranges: values that cannot mean a run, refused by the command before anything runs
@pytest.mark.parametrize(("setting", "line"), [
    ("optim.lr=inf", "error: optim.lr: expected a finite number, got 'inf'"),  # SES then fails every step
    ("optim.lr=nan", "error: optim.lr: expected a finite number, got 'nan'"),
    ("epochs=100000000", "error: epochs: expected 1 <= value <= 100000, got 100000000"),
])
def test_the_command_refuses_them_in_one_line_before_anything_runs(workdir, cli_here, setting, line):
    result = cli_here(["ses_beta_sweep", "--set", setting, "--dry-run"])
    assert result.returncode == 2, result.stderr
    assert [x for x in result.stderr.splitlines() if x.strip()] == [line]
    assert list(workdir.iterdir()) == [], "bad input must not write anything"
