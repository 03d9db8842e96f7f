"""Four more catalogue studies against their seeds: seed 001 Exp 4 (toy κ(J)), Exp 8 (spectral norm), Exp 13
(WRN-28-10) and seed 002's ViT stability fixes. Full profiles are built, never run; local profiles are built
down to their training parts (data, model, hooks, weighting), not trained."""

from __future__ import annotations

from typing import Any

import pytest

from search_spaces import Grid
from studies import registry
from tests.studies.catalogue import built as _built
from tests.studies.catalogue import captured as _captured
from tests.studies.catalogue import config as _config
from tests.studies.catalogue import variants as _variants
from trainables.config.overrides import apply_overrides, flatten
from trainables.defaults import resolve
from trainables.models.by_name import build_model
from trainables.parts import build_parts

# Seed 001, "Setup tecnico di riferimento", as it states them.
SES_DEFAULT = {"ses.lam": 0.01, "ses.beta": 0.7, "ses.beta_schedule": "fixed", "ses.every_k": 1}  # "λ=0.01, β=0.7"
SGD = {"optim.name": "sgd", "optim.lr": 0.1, "optim.momentum": 0.9, "optim.weight_decay": 5e-4}  # "SGD lr=0.1 ..."
MULTISTEP = {"epochs": 50, "sched.name": "multistep", "sched.milestones": (20, 35, 45), "sched.gamma": 0.1,
             "sched.warmup_epochs": 0.0}  # "Epoch 50", "MultiStep [20,35,45]" (gamma: torch's default)
NO_RECIPE = {"recipe.mixup_alpha": 0.0, "recipe.cutmix_alpha": 0.0, "recipe.randaugment_n": 0}
ROB = {"rob.enabled": True, "rob.max_images": 0, "rob.severities": (1, 2, 3, 4, 5), "rob.corruptions": ()}
CIFAR = {  # column "CIFAR (Exp 1-10)": ResNet-18, conv1 3x3 s1 no maxpool, batch 256, FP32, 9 hooks, standard aug
    **SES_DEFAULT, **SGD, **MULTISTEP, **NO_RECIPE, "model.name": "resnet18", "model.small_input": True,
    "data.batch_size": 256, "precision": "fp32", "ses.layers": "all", "data.augment": True, "optim.grad_clip": 0.0,
}
DUAL_GPU_WRN = {  # column "Dual-GPU (Exp 12-13)", WRN-28-10: batch 512, "idem" optimizer, FP16 on a T4 -> auto
    **CIFAR, "data.name": "cifar100", "model.name": "wrn28_10", "model.drop_rate": 0.0,  # dropout: not in the seed
    "data.batch_size": 512, "precision": "auto", **ROB,
}
TOY = {  # Exp 4 has no column: the "CIFAR (Exp 1-10)" values a 2-D toy can take, κ(J) measured
    **SES_DEFAULT, **SGD, **MULTISTEP, **NO_RECIPE, "data.name": "toy2d", "model.name": "toy_mlp",
    "data.batch_size": 256, "precision": "fp32", "ses.layers": "all", "data.augment": False, "rob.enabled": False,
    "eval.jacobian": True,
}
# Seed 002 ("Quick Fix Summary - Training Issues V2"): 100 epochs, "batch_size: int = 2",
# "gradient_accumulation_steps: int = 8", "use_gradient_checkpointing: bool = True", uncertainty-weighted losses.
VIT_STABILITY = {
    "epochs": 100, "data.batch_size": 2, "accum_steps": 8, "grad_checkpointing": True,
    "loss_weighting": "uncertainty", "ses.enabled": False, "monitor.collapse_epochs": 3, "monitor.collapse_ratio": 0.5,
}

OFF, ON = {"ses.enabled": False}, {"ses.enabled": True}
RESNET18_9 = [f"layer{i}.{j}" for i in range(1, 5) for j in range(2)] + ["global_pool"]  # "9 (all blocks + avgpool)"
WRN_13 = [f"layer{g}.{i}" for g in (1, 2, 3) for i in range(4)] + ["global_pool"]  # "13 (WRN)"

STUDIES: dict[str, dict[str, Any]] = {
    "ses_toy_jacobian": dict(
        seed="001", experiment="Exp 4", column=TOY, baseline="baseline", gpus=0.0,
        configurations={"baseline": OFF, "beta=0.7": {**ON, "ses.beta": 0.7}},
        hooks={"beta=0.7": ["hidden1", "hidden2", "hidden3"]}),
    "ses_vs_spectral_norm": dict(
        seed="001", experiment="Exp 8", column={**CIFAR, "data.name": "cifar100", **ROB}, baseline="baseline", gpus=1.0,
        configurations={"baseline": {**OFF, "model.spectral_norm": False},
                        "spectral_norm": {**OFF, "model.spectral_norm": True},
                        "beta=0.7": {**ON, "ses.beta": 0.7, "model.spectral_norm": False}},
        hooks={"beta=0.7": RESNET18_9}),
    "ses_wrn28_10": dict(
        seed="001", experiment="Exp 13", column=DUAL_GPU_WRN, baseline="baseline", gpus=1.0,
        configurations={"baseline": OFF, "beta=0.7": {**ON, "ses.beta": 0.7, "ses.layers": "all"}},
        hooks={"beta=0.7": WRN_13}),
    "vit_stability": dict(
        seed="002", experiment="quick fix V2", column=VIT_STABILITY, baseline="log_var=+-5", gpus=1.0,
        configurations={"log_var=+-5": {"log_var_bounds": (-5.0, 5.0)},  # "OLD: min_log_var = -5.0 ..."
                        "log_var=+-2": {"log_var_bounds": (-2.0, 2.0)}},  # "NEW: min_log_var = -2.0 ..."
        hooks={}),
}
LOCAL_DATA = {"mnist5k", "digits", "toy2d"}  # embedded: nothing to download


def test_the_four_studies_are_registered():
    missing = set(STUDIES) - set(registry.study_names())
    assert not missing, f"not in studies/catalog: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_full_profile_is_the_seeds_setup(name):
    row, module = STUDIES[name], registry.load(name)
    assert (module.SEED, module.EXPERIMENT) == (row["seed"], row["experiment"]) and module.DESCRIPTION
    study = _built(name, "full")
    base = flatten(resolve(study.base))
    wrong = {k: (base[k], v) for k, v in row["column"].items() if base[k] != v}
    assert not wrong, f"{name}: key: (study, seed) {wrong}"
    assert (study.search, study.asha, study.baseline) == ("grid", None, row["baseline"])
    assert study.gpus_per_trial == row["gpus"] and study.space["seed"] == Grid((0, 1, 2))


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_full_profile_runs_the_seeds_configurations(name):
    row, study = STUDIES[name], _built(name, "full")
    variants = _variants(study)
    assert list(variants) == list(row["configurations"])
    assert study.total_trials() == len(row["configurations"]) * 3
    for variant, expected in row["configurations"].items():
        cfg = _config(study, variants[variant])
        wrong = {k: (cfg[k], v) for k, v in expected.items() if cfg[k] != v}
        assert not wrong, f"{name} {variant}: key: (study, seed) {wrong}"


@pytest.mark.parametrize("name", sorted(n for n, row in STUDIES.items() if row["hooks"]))
def test_full_profile_hooks_the_seeds_layers(name):
    row, study = STUDIES[name], _built(name, "full")
    variants = _variants(study)
    in_chans, image_size = (2, 0) if study.base.data.name == "toy2d" else (3, 32)
    for variant, expected in row["hooks"].items():
        assert _captured(apply_overrides(study.base, variants[variant]), in_chans, image_size) == expected


def test_toy_study_reports_kappa_as_its_metric():
    study = _built("ses_toy_jacobian", "full")
    assert (study.metric, study.mode) == ("val/jacobian_kappa", "min")  # the seed's Exp 4 figure: κ(J) 57.3 -> 23.4


def test_vit_stability_arms_its_monitors_and_uses_a_12_block_timm_vit():
    study = _built("vit_stability", "full")
    assert study.base.monitor.memory_growth_mb > 0 and study.base.monitor.collapse_epochs > 0  # "armed"
    model = build_model(study.base.model, num_classes=200, in_chans=3, image_size=study.base.data.image_size)
    assert len(model.blocks) == 12  # the seed's "all 12 SA blocks"


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_local_profile_is_small_keeps_the_configurations_and_builds(name):
    full, study = _built(name, "full"), _built(name, "local")
    assert study.base.data.name in LOCAL_DATA and study.gpus_per_trial == 0.0
    assert study.space["seed"] == Grid((0, 1)) and study.total_trials() <= 6
    assert (study.asha, study.baseline, list(_variants(study))) == (None, full.baseline, list(_variants(full)))
    if name == "ses_toy_jacobian":
        assert study.base == full.base  # the full toy already runs in seconds a trial on one core
    else:
        assert study.base.epochs <= 4
    for overrides in _variants(study).values():  # every configuration's parts build: data, model, hooks, weighting
        parts = build_parts(apply_overrides(study.base, {**overrides, "num_threads": 1}))
        assert parts.steps_per_epoch > 0
        parts.ses.close()


def test_vit_stability_local_keeps_the_seeds_batch_accumulation_and_checkpointing():
    local = flatten(resolve(_built("vit_stability", "local").base))
    wrong = {k: (local[k], v) for k, v in VIT_STABILITY.items() if k != "epochs" and local[k] != v}
    assert not wrong, f"key: (local, seed) {wrong}"
