"""Search-space declarations: validation messages, variant grids, and trial config -> overrides."""

from __future__ import annotations

import pytest

from search_spaces import (
    Grid,
    IntRange,
    LogUniform,
    Uniform,
    Variants,
    lr_warmup_dropout_space,
    ses_beta_variants,
    to_overrides,
)
from studies.catalog import lr_warmup_dropout, ses_beta_sweep
from studies.study import Study
from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides


@pytest.mark.parametrize("make, message", [
    (lambda: LogUniform(0.0, 1.0), "0 < low < high"),
    (lambda: LogUniform(0.5, 0.1), "self.low=0.5"),
    (lambda: Uniform(1.0, 1.0), "low < high"),
    (lambda: IntRange(3, 2), "low <= high"),
    (lambda: Variants(({"name": "a"}, {"name": "a"})), "unique 'name'"),
    (lambda: Variants(({"ses.beta": 0.5},)), "unique 'name'"),
])
def test_bad_declarations_name_the_values(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_ses_beta_variants_are_a_baseline_then_one_per_beta():
    variants = ses_beta_variants((0.3, 0.7), lam=0.05)
    assert [v["name"] for v in variants.configs] == ["baseline", "beta=0.3", "beta=0.7"]
    assert variants.configs[0] == {"name": "baseline", "ses.enabled": False}
    assert variants.configs[2] == {"name": "beta=0.7", "ses.enabled": True, "ses.beta": 0.7, "ses.lam": 0.05}


def test_a_sampled_trial_config_becomes_valid_overrides():
    name, overrides = to_overrides({"variant": {"name": "beta=0.5", "ses.enabled": True, "ses.beta": 0.5}, "seed": 2})
    assert name == "beta=0.5"
    cfg = apply_overrides(TrainConfig(), overrides)
    assert (cfg.ses.enabled, cfg.ses.beta, cfg.seed) == (True, 0.5, 2)
    assert to_overrides({"optim.lr": 0.01}) == (None, {"optim.lr": 0.01})


def test_every_key_of_the_recipe_space_is_a_config_key():
    space = lr_warmup_dropout_space(lr=(1e-4, 1e-1), max_warmup_epochs=3)
    sample = {k: (v.low if hasattr(v, "low") else v) for k, v in space.items()}
    apply_overrides(TrainConfig(), sample)  # raises on a key the trainer does not have
    assert isinstance(space["optim.lr"], LogUniform) and space["sched.warmup_epochs"] == IntRange(0, 3)


@pytest.mark.parametrize("module", [ses_beta_sweep, lr_warmup_dropout])
@pytest.mark.parametrize("profile", ["local", "full"])
def test_studies_build_valid_configs_for_both_profiles(module, profile):
    study = module.get_study(profile)
    assert isinstance(study, Study) and study.profile == profile
    for key, value in study.space.items():
        values = value.configs if isinstance(value, Variants) else [{key: v} for v in getattr(value, "values", ())]
        for overrides in values:
            apply_overrides(study.base, to_overrides(dict(overrides) if key != "variant" else {"variant": overrides})[1])


def test_total_trials_counts_the_whole_grid():
    local, full = ses_beta_sweep.get_study("local"), ses_beta_sweep.get_study("full")
    assert local.total_trials() == 5 * 2 and full.total_trials() == 5 * 3
    assert lr_warmup_dropout.get_study("local").total_trials() == lr_warmup_dropout.get_study("local").num_samples
    grid = Study(name="x", profile="local", base=TrainConfig(), space={"seed": Grid((0, 1, 2))}, num_samples=2)
    assert grid.total_trials() == 6
