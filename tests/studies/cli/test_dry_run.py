"""`--dry-run [--json]`: the trials a study would run for the chosen profile, each with its resolved config, and
nothing started, read or written. `studies.run.main` in this process, but for the one test that checks the
imports in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from studies.catalog import ses_beta_sweep
from studies.cli.main import main

BETAS = ["baseline", *(f"beta={b}" for b in ses_beta_sweep.BETAS)]


@pytest.fixture
def run_cli(tmp_path, monkeypatch, capsys):
    """`python -m studies.run ARGS` in an empty folder, in this process: (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)

    def run(args: list[str]) -> tuple[int, str, str]:
        code = main(args)
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def _trials(run_cli, args: list[str]):
    code, out, err = run_cli([*args, "--dry-run", "--json"])
    assert code == 0, err
    return json.loads(out)


def test_the_sweep_lists_variant_x_seed_in_tunes_order(run_cli, tmp_path):
    code, out, err = run_cli(["ses_beta_sweep", "--dry-run", "--profile", "local"])
    assert code == 0, err
    assert "dry run: nothing is started" in out and "5 configurations x 2 seeds (0, 1) = 10 trials" in out
    heads = [line for line in out.splitlines() if line.startswith("trial ")]
    assert heads == [f"trial {5 * s + i + 1}: variant {v}, seed {s}" for s in (0, 1) for i, v in enumerate(BETAS)]
    assert "  ses.beta=0.3" in out.split("trial 2:")[1].split("trial 3:")[0]  # each trial's own lines
    assert not list(tmp_path.iterdir()), "a dry run writes nothing"


def test_the_grid_runs_seed_by_seed_so_no_arm_runs_first(run_cli):
    """The trials that start first pay a fresh process's warm-up and meet the machine's early load: each seed's
    round holds every configuration, so no configuration's trials all come first (Tune ran each one's seeds
    together, the baseline's first). tests/studies/tune/test_tuner_grid_order.py: Tune's order is this one."""
    trials = _trials(run_cli, ["ses_beta_sweep", "--profile", "local", "--seeds", "3,4,5", "--num-samples", "2"])
    rounds = [[t["variant"] for t in trials[i:i + len(BETAS)]] for i in range(0, len(trials), len(BETAS))]
    assert rounds == [BETAS] * 6
    assert [t["seed"] for t in trials[::len(BETAS)]] == [3, 4, 5, 3, 4, 5]


def test_json_gives_each_trial_its_full_resolved_config(run_cli):
    trials = _trials(run_cli, ["ses_beta_sweep", "--profile", "local", "--seeds", "3,4,5", "--set", "epochs=7"])
    assert [(t["variant"], t["seed"]) for t in trials] == [(v, s) for s in (3, 4, 5) for v in BETAS]
    assert [t["trial"] for t in trials] == list(range(1, 16))
    for t in trials:
        config = t["config"]
        assert config["seed"] == t["seed"] and config["epochs"] == 7 and config["data.name"] == "mnist5k"
        assert config["ses.enabled"] == (t["variant"] != "baseline") == t["params"]["ses.enabled"]
        assert config["checkpoint.metric"] == "val/acc" and config["num_threads"] == 1  # resolved, as trained
    assert trials[1]["config"]["ses.beta"] == 0.3 and trials[1]["params"]["ses.lam"] == ses_beta_sweep.LAMBDA


def test_full_is_shown_where_its_data_is_missing(run_cli):
    code, out, err = run_cli(["ses_beta_sweep", "--dry-run", "--profile", "full"])
    assert code == 0, err
    assert "profile full" in out and "note: this machine cannot run it" in out and "15 trials" in out
    config = _trials(run_cli, ["ses_beta_sweep", "--profile", "full"])[0]["config"]
    assert (config["data.name"], config["epochs"], config["sched.milestones"]) == ("cifar100", 50, [20, 35, 45])


def test_smoke_is_the_full_profile_shrunk_to_one_seed_and_writes_no_data(run_cli, tmp_path):
    code, out, err = run_cli(["ses_beta_sweep", "--dry-run", "--smoke"])
    assert code == 0, err
    assert "profile smoke" in out and "generated when the study runs" in out
    trials = _trials(run_cli, ["ses_beta_sweep", "--smoke"])
    assert len(trials) == 5 and {t["config"]["epochs"] for t in trials} == {2}
    assert {t["config"]["model.name"] for t in trials} == {"resnet18"}
    assert not list(tmp_path.iterdir())


def test_a_search_shows_its_space_and_trial_count_not_invented_samples(run_cli):
    code, out, err = run_cli(["lr_warmup_dropout", "--dry-run", "--seeds", "0,1"])
    assert code == 0, err
    assert "8 configurations sampled while it runs x 2 seeds (0, 1) = 16 trials" in out
    assert "none is shown here" in out and "  optim.lr ~ LogUniform(" in out
    assert not [line for line in out.splitlines() if line.startswith("trial ")]
    plan = _trials(run_cli, ["lr_warmup_dropout", "--seeds", "0,1", "--num-samples", "3"])
    assert plan["sampled"] and (plan["configurations"], plan["seeds"], plan["trials"]) == (3, [0, 1], 6)
    assert set(plan["space"]) == {"optim.lr", "sched.warmup_epochs", "model.drop_rate", "optim.weight_decay"}


@pytest.mark.parametrize("args, named", [
    (["ses_beta_sweep", "--json"], "--dry-run"),
    (["ses_beta_sweep", "--dry-run", "--resume"], "--resume"),
    (["ses_beta_sweep", "--dry-run", "--set", "optim.lrr=1"], "optim.lrr"),
])
def test_bad_input_to_a_dry_run_is_one_line(run_cli, args, named):
    code, _, err = run_cli(args)
    assert code == 2 and len(err.strip().splitlines()) == 1 and named in err


def test_a_dry_run_imports_neither_ray_nor_mlflow(tmp_path):
    code = ("import sys; from studies.cli.main import main; assert main(['ses_beta_sweep', '--dry-run']) == 0; "
            "print(sorted(m for m in ('ray', 'mlflow') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
