"""Params only for what applies: a section that is off logs its switch and nothing else; the YAML has it all."""

from __future__ import annotations

import yaml

from studies.tracking.logged_config import APPLIES, SECTIONS, applies, config_dict, trial_params
from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides, flatten


def test_a_disabled_section_logs_its_switch_only():
    params = trial_params(TrainConfig())  # SES, EMA, robustness off; no checkpoint; no mixing; cosine; SGD
    assert params["ses.enabled"] is False and params["ema.enabled"] is False and params["rob.enabled"] is False
    assert not [k for k in params if k.startswith(("ses.", "ema.", "rob.", "init.")) and not k.endswith("enabled")]
    assert {"recipe.mix_prob", "recipe.switch_prob", "recipe.randaugment_m", "sched.milestones", "sched.power",
            "monitor.min_delta", "log_var_bounds", "data.root"}.isdisjoint(params)
    assert {"optim.lr", "optim.momentum", "sched.eta_min", "recipe.mixup_alpha", "seed", "epochs"} <= set(params)


def test_an_enabled_section_logs_what_it_uses():
    cfg = apply_overrides(TrainConfig(), {"ses.enabled": True, "ses.beta_schedule": "linear", "recipe.mixup_alpha": 0.2,
                                          "optim.name": "adamw", "init.checkpoint": "/ckpt", "init.mode": "warm"})
    params = trial_params(cfg)
    assert {"ses.lam", "ses.beta_start", "ses.beta_end", "recipe.mix_prob", "init.checkpoint",
            "init.allow_partial"} <= set(params)
    assert {"ses.beta", "ses.beta_steps", "recipe.switch_prob", "optim.momentum", "init.keep"}.isdisjoint(params)


def test_every_rule_names_keys_the_config_has():
    """A renamed field must not leave a rule that silently matches nothing."""
    flat = flatten(TrainConfig())
    assert set(APPLIES) <= set(flat) and set(SECTIONS.values()) <= set(flat)
    assert all(any(k.startswith(p) for k in flat) for p in SECTIONS)
    assert all(isinstance(applies(k, flat), bool) for k in flat)  # every predicate runs on the default config


def test_the_yaml_has_the_whole_config():
    cfg = TrainConfig()
    text = yaml.safe_dump(config_dict(cfg))  # plain values only: tuples became lists
    assert yaml.safe_load(text)["ses"]["beta"] == 0.7 and yaml.safe_load(text)["sched"]["milestones"] == [20, 35, 45]
