"""Seed 000's studies against its note (the recipe it was stuck with, the four fixes, the restart at epoch 124):
full profiles as the note gives them, local profiles that stay small. Built, never run."""

from __future__ import annotations

from typing import Any

import pytest

from search_spaces import Grid, Variants
from search_spaces.distributions import NAME_KEY
from studies import registry
from studies.assembly.assemble import build_study
from trainables.config.overrides import apply_overrides, flatten
from trainables.defaults import resolve

# The note's "Configuration Summary", for every arm: SGD momentum 0.9, wd 1e-4, mixup 0.2, cutmix 1.0, EMA 0.9999,
# cosine to eta_min 1e-5; and what is assumed where it is silent (the study file says why).
NOTE = {"optim.name": "sgd", "optim.momentum": 0.9, "optim.weight_decay": 1e-4, "recipe.mixup_alpha": 0.2,
        "recipe.cutmix_alpha": 1.0, "ema.enabled": True, "ema.decay": 0.9999, "sched.name": "cosine",
        "sched.eta_min": 1e-5}
ASSUMED = {"model.name": "resnet50", "model.small_input": False, "data.name": "imagefolder", "data.image_size": 224,
           "data.batch_size": 256, "optim.lr": 0.1, "epochs": 600, "data.val_fraction": 0.1,
           "checkpoint.keep": "last"}
BROKEN = {"recipe.mix_target": "hard", "recipe.label_smoothing": 0.1, "optim.decay_norm_bias": True,
          "recipe.randaugment_n": 0}
FIXES = {  # arm -> what it changes from the broken recipe, and nothing else
    "soft_target": {"recipe.mix_target": "soft", "recipe.label_smoothing": 0.0},
    "no_decay_norm_bias": {"optim.decay_norm_bias": False},
    "randaugment": {"recipe.randaugment_n": 2, "recipe.randaugment_m": 7},
}


def _built(name: str, profile: str):
    return build_study(registry.load(name), profile, {}, None)


def _arms(study) -> dict[str, dict[str, Any]]:
    space = study.space["variant"]
    assert isinstance(space, Variants)
    return {c[NAME_KEY]: flatten(resolve(apply_overrides(study.base, {k: v for k, v in c.items() if k != NAME_KEY})))
            for c in space.configs}


def _differs(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {k: b[k] for k in a if a[k] != b[k]}


def test_seed_000_studies_are_registered_under_their_note():
    for name in ("rsb_fixes_ablation", "rsb_restart"):
        entry = registry.entry(name)
        assert entry.seed == "000" and entry.experiment and entry.description


def test_ablation_full_is_the_notes_recipe_with_the_four_bugs_as_baseline():
    study = _built("rsb_fixes_ablation", "full")
    arms = _arms(study)
    assert list(arms) == ["seed_recipe", "soft_target", "no_decay_norm_bias", "randaugment", "all_fixes"]
    for name, cfg in arms.items():
        wrong = {k: (cfg[k], v) for k, v in {**NOTE, **ASSUMED}.items() if cfg[k] != v}
        assert not wrong, f"{name}: key: (study, note) {wrong}"
    base = arms["seed_recipe"]
    assert {k: base[k] for k in BROKEN} == BROKEN and study.baseline == "seed_recipe"
    for name, change in FIXES.items():
        assert _differs(base, arms[name]) == change, name  # one fix alone
    assert _differs(base, arms["all_fixes"]) == {k: v for c in FIXES.values() for k, v in c.items()}
    # EMA is read on every arm, so the study selects on it and the final test measures it (checkpoint.keep=last)
    assert (study.metric, study.mode, study.asha, study.search) == ("val/acc_ema", "max", None, "grid")
    assert study.base.checkpoint.metric == "val/acc_ema" and study.space["seed"] == Grid((0, 1, 2))
    assert study.total_trials() == 15 and study.gpus_per_trial == 1.0


def test_restart_full_pretrains_the_seeds_recipe_to_124_then_continues_fixed_for_476():
    study = _built("rsb_restart", "full")
    pre, trial = flatten(resolve(study.pretrain)), flatten(resolve(study.base))
    assert {k: pre[k] for k in BROKEN} == BROKEN and not pre["ema.enabled"]  # the seed's first run: no EMA
    assert (pre["epochs"], pre["sched.name"], pre["sched.t0"]) == (124, "cosine_restarts", 600)  # 600-ep cosine, cut
    assert pre["model.name"] == trial["model.name"] == "resnet50" and pre["data.name"] == trial["data.name"]
    fixed = {k: v for c in FIXES.values() for k, v in c.items()}
    assert {k: trial[k] for k in fixed} == fixed and trial["ema.enabled"] and trial["ema.decay"] == 0.9999
    assert (trial["epochs"], trial["sched.name"], trial["sched.eta_min"], trial["sched.warmup_epochs"]) == (
        476, "cosine", 1e-5, 0.0)
    assert (trial["init.mode"], trial["init.keep"], trial["init.checkpoint"]) == ("continue", ("model", "ema"), "")
    assert study.lr_range_steps >= 100 and trial["optim.lr"] == 2e-4  # the seed's pick, replaced by the test's
    assert study.space == {"seed": Grid((0, 1, 2))} and study.metric == "val/acc_ema"


@pytest.mark.parametrize("name", ["rsb_fixes_ablation", "rsb_restart"])
def test_local_profiles_are_small_on_embedded_data(name):
    study = _built(name, "local")
    configs = [study.base] + ([study.pretrain] if study.pretrain else [])
    assert all(c.data.name == "mnist5k" and c.epochs <= 4 and c.model.name == "small_cnn" for c in configs)
    assert study.gpus_per_trial == 0.0 and study.space["seed"] == Grid((0, 1)) and study.total_trials() <= 10
    assert study.lr_range_steps <= 50
    if name == "rsb_fixes_ablation":
        assert list(_arms(study)) == list(_arms(_built(name, "full")))
