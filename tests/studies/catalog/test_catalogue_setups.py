"""The seed-001 studies' full profiles against the seed's setup table ("Setup tecnico di riferimento", transcribed
here column by column), their configurations x seeds, and local profiles that stay small: built, never run."""

from __future__ import annotations

from dataclasses import dataclass, field
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

VIT_S, VIT_T = "vit_small_patch16_224", "vit_tiny_patch16_224"

# Choices the seed leaves open, the same in every study (studies/catalog/_ses_setups.py says why).
OPEN = {"data.val_fraction": 0.1, "data.augment": True}
ROB = {"rob.enabled": True, "rob.max_images": 0, "rob.severities": (1, 2, 3, 4, 5), "rob.corruptions": (),
       "rob.every": 0}  # "Rob": every image of the measured split, every implemented corruption, at the end
NO_RECIPE = {"recipe.mixup_alpha": 0.0, "recipe.cutmix_alpha": 0.0, "recipe.randaugment_n": 0}
SES_DEFAULT = {"ses.lam": 0.01, "ses.beta": 0.7, "ses.beta_schedule": "fixed", "ses.targets": ("block",),
               "ses.every_k": 1}

# One dict per column of the setup table: dataset, model + adaptation, batch, optimizer, epochs, schedule, precision,
# hooks, SES default, augmentation. grad_clip is the resolved value (ViT + AdamW: 1.0, seed bug 12).
CIFAR = {  # "CIFAR (Exp 1-10)"
    **OPEN, **NO_RECIPE, **SES_DEFAULT,
    "model.name": "resnet18", "model.small_input": True, "data.batch_size": 256,
    "optim.name": "sgd", "optim.lr": 0.1, "optim.momentum": 0.9, "optim.weight_decay": 5e-4, "optim.grad_clip": 0.0,
    "epochs": 50, "sched.name": "multistep", "sched.milestones": (20, 35, 45), "sched.gamma": 0.1,
    "sched.warmup_epochs": 0.0, "precision": "fp32", "ses.layers": "all", **ROB,
}
TINY = {**CIFAR, "data.name": "tiny_imagenet", "model.name": "resnet50", "epochs": 60,  # "Tiny-ImageNet (Exp 11)"
        "sched.milestones": (25, 40, 52), "precision": "bf16", "ses.layers": "last:4"}
BATCH512 = {**CIFAR, "data.name": "cifar100", "data.batch_size": 512, "precision": "auto"}  # "Dual-GPU", "β Sched"
VIT = {  # "ViT (Exp 14)", "ViT+Aug (Exp 15)", "ViT Abl (Exp 17)"; Exp 18 shares it
    **OPEN, **NO_RECIPE, **SES_DEFAULT,
    "data.name": "cifar100", "model.name": VIT_S, "model.small_input": True, "data.batch_size": 512,
    "optim.name": "adamw", "optim.lr": 1e-3, "optim.weight_decay": 0.05, "optim.grad_clip": 1.0, "epochs": 50,
    "sched.name": "cosine", "sched.warmup_epochs": 5.0, "precision": "auto", "ses.layers": "all", **ROB,
}

RESNET18_9 = [f"layer{i}.{j}" for i in range(1, 5) for j in range(2)] + ["global_pool"]
BLOCKS = [f"blocks.{i}" for i in range(12)]

OFF = {"ses.enabled": False}
ON = {"ses.enabled": True}
RA = {"recipe.randaugment_n": 2, "recipe.randaugment_m": 9}  # "RA(n=2,m=9)"
MIX = {"recipe.mixup_alpha": 1.0, "recipe.cutmix_alpha": 0.0, "recipe.mix_prob": 1.0}  # alphas: not in the seed
CUT = {"recipe.mixup_alpha": 0.0, "recipe.cutmix_alpha": 1.0, "recipe.mix_prob": 1.0}


def weights(block: str) -> str:
    return f"{block}.attn.weights"


@dataclass(frozen=True)
class Row:
    experiment: str
    column: dict[str, Any]  # the setup table's column, with the study's own dataset etc.
    configurations: dict[str, dict[str, Any]]  # variant name -> what its resolved config must hold
    hooks: dict[str, list[str]] = field(default_factory=dict)  # variant name -> captured tensors, in order
    baseline: str = "baseline"


STUDIES = {
    "ses_dynamics": Row(
        "Exp 1", {**{k: v for k, v in CIFAR.items() if k not in ROB}, "data.name": "cifar10", "rob.enabled": False},
        {"baseline": OFF, "beta=0.7": {**ON, "ses.beta": 0.7}}, {"beta=0.7": RESNET18_9}),
    "ses_robustness_cifar10": Row(
        "Exp 3/5", {**CIFAR, "data.name": "cifar10"},
        {"baseline": OFF, "beta=0.7": {**ON, "ses.beta": 0.7}}, {"beta=0.7": RESNET18_9}),
    "ses_multiseed_cifar100": Row(
        "Exp 6", {**CIFAR, "data.name": "cifar100"},
        {"baseline": OFF, "beta=0.7": {**ON, "ses.beta": 0.7}}, {"beta=0.7": RESNET18_9}),
    "ses_lambda_ablation": Row(
        "Exp 7", {**CIFAR, "data.name": "cifar10"},  # the seed names no dataset: see the study file
        {"baseline": OFF, **{f"lambda={lam}": {**ON, "ses.lam": lam, "ses.beta": 0.7}
                             for lam in (0.001, 0.005, 0.01, 0.05, 0.1)}}),
    "ses_layer_ablation": Row(
        "Exp 9", {**CIFAR, "data.name": "cifar10"},
        {"baseline": OFF, "layers=all": {**ON, "ses.layers": "all"}, "layers=first:3": {**ON, "ses.layers": "first:3"},
         "layers=last:3": {**ON, "ses.layers": "last:3"}},
        {"layers=all": RESNET18_9, "layers=first:3": ["layer1.0", "layer1.1", "layer2.0"],
         "layers=last:3": ["layer4.0", "layer4.1", "global_pool"]}),
    "ses_periodic": Row(
        "Exp 10", {**CIFAR, "data.name": "cifar100"},
        {"baseline": OFF, **{f"every_k={k}": {**ON, "ses.every_k": k} for k in (1, 3, 5, 10)}},
        {"every_k=10": RESNET18_9}),
    "ses_resnet50_tinyimagenet": Row(
        "Exp 11", TINY, {"baseline": OFF, "beta=0.7": {**ON, "ses.beta": 0.7}},
        {"beta=0.7": ["layer4.0", "layer4.1", "layer4.2", "global_pool"]}),  # "4 (layer4 + avgpool)"
    "ses_mixup_cutmix": Row(
        "Exp 12", BATCH512,
        {"none": OFF, "none+ses": ON, "mixup": {**OFF, **MIX}, "mixup+ses": {**ON, **MIX},
         "cutmix": {**OFF, **CUT}, "cutmix+ses": {**ON, **CUT}},
        {"cutmix+ses": RESNET18_9}, baseline="none"),
    "ses_vit": Row(
        "Exp 14", VIT,
        {"vit_s4": {**OFF, "model.name": VIT_S}, "vit_s4+ses": {**ON, "model.name": VIT_S},
         "vit_t4": {**OFF, "model.name": VIT_T}, "vit_t4+ses": {**ON, "model.name": VIT_T}},
        {"vit_s4+ses": BLOCKS, "vit_t4+ses": BLOCKS}, baseline="vit_s4"),
    "ses_vit_augmentation": Row(
        "Exp 15", VIT,
        {"ra": {**OFF, **RA}, "ra+ses": {**ON, **RA}, "ra+mixup": {**OFF, **RA, **MIX},
         "ra+mixup+ses": {**ON, **RA, **MIX}, "ra+cutmix": {**OFF, **RA, **CUT}, "ra+cutmix+ses": {**ON, **RA, **CUT}},
        {"ra+ses": BLOCKS}, baseline="ra"),
    "ses_beta_schedules": Row(
        "Exp 16", BATCH512,
        {"baseline": OFF, "fixed 0.7": {**ON, "ses.beta_schedule": "fixed", "ses.beta": 0.7},
         "linear 0.3-0.9": {**ON, "ses.beta_schedule": "linear", "ses.beta_start": 0.3, "ses.beta_end": 0.9},
         "cosine 0.3-0.9": {**ON, "ses.beta_schedule": "cosine", "ses.beta_start": 0.3, "ses.beta_end": 0.9},
         "reverse 0.9-0.3": {**ON, "ses.beta_schedule": "reverse", "ses.beta_start": 0.3, "ses.beta_end": 0.9},
         "step 0.3-0.7-0.9": {**ON, "ses.beta_schedule": "step", "ses.beta_steps": (0.3, 0.7, 0.9)}},
        {"step 0.3-0.7-0.9": RESNET18_9}),
    "ses_vit_beta_sweep": Row(
        "Exp 17a", VIT,
        {"baseline": OFF, **{f"beta={b}": {**ON, "ses.beta": b, "ses.lam": 0.01} for b in (0.3, 0.5, 0.7, 0.9)}},
        {"beta=0.5": BLOCKS}),
    "ses_vit_layers": Row(
        "Exp 17b", VIT,
        {"baseline": OFF, "layers=first:4": {**ON, "ses.layers": "first:4", "ses.beta": 0.7},
         "layers=all": {**ON, "ses.layers": "all", "ses.beta": 0.7},
         "layers=last:4": {**ON, "ses.layers": "last:4", "ses.beta": 0.7}},
        {"layers=first:4": BLOCKS[:4], "layers=all": BLOCKS, "layers=last:4": BLOCKS[8:]}),
    "ses_vit_attention": Row(
        "Exp 18", {**VIT, "ses.beta": 0.5},  # the seed's Exp 18 script: beta=0.5
        {"baseline": OFF,
         "block last:4": {**ON, "ses.layers": "last:4", "ses.targets": ("block",)},
         "attn_out last:4": {**ON, "ses.layers": "last:4", "ses.targets": ("attn_out",)},
         "attn_weights last:4": {**ON, "ses.layers": "last:4", "ses.targets": ("attn_weights",)},
         "attn_weights all": {**ON, "ses.layers": "all", "ses.targets": ("attn_weights",)},
         "dual last:4": {**ON, "ses.layers": "last:4", "ses.targets": ("block", "attn_weights")},
         "triple last:4": {**ON, "ses.layers": "last:4", "ses.targets": ("block", "attn_out", "attn_weights")}},
        {"block last:4": BLOCKS[8:], "attn_out last:4": [f"{b}.attn" for b in BLOCKS[8:]],
         "attn_weights last:4": [weights(b) for b in BLOCKS[8:]], "attn_weights all": [weights(b) for b in BLOCKS],
         "dual last:4": [n for b in BLOCKS[8:] for n in (weights(b), b)],
         "triple last:4": [n for b in BLOCKS[8:] for n in (weights(b), f"{b}.attn", b)]}),
}

LOCAL_DATA = {"mnist5k", "digits"}  # embedded: nothing to download
LOCAL_TRIALS = 14  # ses_vit_attention: 7 configurations x 2 seeds; the others 12 or fewer


def test_every_seed_001_study_of_this_table_is_registered():
    missing = set(STUDIES) - set(registry.study_names())
    assert not missing, f"not in studies/catalog: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_full_profile_is_the_seeds_setup(name):
    row, module = STUDIES[name], registry.load(name)
    assert module.SEED == "001" and module.EXPERIMENT == row.experiment and module.DESCRIPTION
    study = _built(name, "full")
    base = flatten(resolve(study.base))
    wrong = {k: (base[k], v) for k, v in row.column.items() if base[k] != v}
    assert not wrong, f"{name}: key: (study, seed) {wrong}"
    assert (study.search, study.asha, study.baseline, study.gpus_per_trial) == ("grid", None, row.baseline, 1.0)
    assert study.space["seed"] == Grid((0, 1, 2))


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_full_profile_runs_the_seeds_configurations(name):
    row, study = STUDIES[name], _built(name, "full")
    variants = _variants(study)
    assert list(variants) == list(row.configurations)  # the seed table's rows, in its order
    assert study.total_trials() == len(row.configurations) * 3
    for variant, expected in row.configurations.items():
        cfg = _config(study, variants[variant])
        wrong = {k: (cfg[k], v) for k, v in expected.items() if cfg[k] != v}
        assert not wrong, f"{name} {variant}: key: (study, seed) {wrong}"


@pytest.mark.parametrize("name", sorted(n for n, row in STUDIES.items() if row.hooks))
def test_full_profile_hooks_the_seeds_layers(name):
    row, study = STUDIES[name], _built(name, "full")
    variants = _variants(study)
    image_size = 64 if study.base.data.name == "tiny_imagenet" else 32
    for variant, expected in row.hooks.items():
        cfg = apply_overrides(study.base, variants[variant])
        assert _captured(cfg, 3, image_size) == expected, f"{name} {variant}"


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_local_profile_is_small_and_keeps_the_configurations(name):
    full, study = _built(name, "full"), _built(name, "local")
    assert study.base.data.name in LOCAL_DATA and study.gpus_per_trial == 0.0 and study.base.epochs <= 4
    assert study.space["seed"] == Grid((0, 1)) and study.total_trials() <= LOCAL_TRIALS
    assert (study.asha, study.baseline) == (None, full.baseline)
    variants = _variants(study)
    assert list(variants) == list(_variants(full))
    in_chans, image_size = 1, (28 if study.base.data.name == "mnist5k" else 8)
    for overrides in variants.values():  # every configuration's hooks resolve on the local model
        cfg = apply_overrides(study.base, overrides)
        if cfg.ses.enabled:
            assert _captured(cfg, in_chans, image_size)
