"""Seed 004's study: a float pretraining, then warm-started fine-tuning (float and int8 QAT) under the aggressive
vs the conservative polynomial decay, on breast cancer; built and checked, never trained here."""

from __future__ import annotations

from typing import Any

import torch

from search_spaces import Grid, Variants
from search_spaces.distributions import NAME_KEY
from studies import registry
from studies.assembly.assemble import build_study
from studies.study import Study
from trainables.checkpointing.warm_start import apply_init
from trainables.config.overrides import apply_overrides, flatten
from trainables.data import build_data
from trainables.defaults import resolve
from trainables.tasks import build_task
from trainables.validate import validate

NAME = "warmstart_finetune"

COMMON = {"data.name": "breast_cancer", "model.name": "tabular_mlp", "data.augment": False, "epochs": 50,
          "optim.name": "adamw", "optim.weight_decay": 0.0}
QUANT = {"model.fake_quant": True, "model.quant_bits": 4}  # the seed's 4-bit model
AGGRESSIVE = {"optim.lr": 1e-3, "sched.eta_min": 1e-4, "optim.grad_clip": 0.0}
CONSERVATIVE = {"optim.lr": 5e-4, "sched.eta_min": 1e-5, "optim.grad_clip": 1.0}
SEED_TABLE = {  # the seed's "Fixes Applied": the original, the first attempt (partial warm start), the fix; between
    # them the first attempt with the warm start fixed; the float arms beside them
    "quant original": {**QUANT, "optim.lr": 1e-3, "optim.grad_clip": 0.0},
    "quant aggressive partial": {**QUANT, **AGGRESSIVE},
    "quant aggressive": {**QUANT, **AGGRESSIVE},
    "quant conservative": {**QUANT, **CONSERVATIVE},
    "float aggressive": {"model.fake_quant": False, **AGGRESSIVE},
    "float conservative": {"model.fake_quant": False, **CONSERVATIVE},
}


def _built(profile: str) -> Study:
    return build_study(registry.load(NAME), profile, {}, None)


def _variants(study: Study) -> dict[str, dict[str, Any]]:
    space = study.space["variant"]
    assert isinstance(space, Variants)
    return {c[NAME_KEY]: {k: v for k, v in c.items() if k != NAME_KEY} for c in space.configs}


def test_registered_under_seed_004():
    module = registry.load(NAME)
    assert module.SEED == "004" and module.DESCRIPTION and module.EXPERIMENT
    assert registry.entry(NAME).seed == "004"


def test_pretrains_a_float_model_from_scratch():
    pretrain = _built("full").pretrain
    flat = flatten(resolve(pretrain))
    wrong = {k: (flat[k], v) for k, v in {**COMMON, "model.fake_quant": False, "init.checkpoint": "",
                                          "sched.name": "constant", "optim.lr": 1e-3}.items() if flat[k] != v}
    assert not wrong, wrong
    validate(pretrain)


def test_fine_tunes_every_arm_with_a_warm_start_that_fails_on_a_skipped_layer():
    study = _built("full")
    assert (study.search, study.asha, study.baseline, study.metric, study.mode) == (
        "grid", None, "quant original", "val/acc", "max")
    assert study.space["seed"] == Grid((0, 1, 2)) and study.total_trials() == 18
    variants = _variants(study)
    assert list(variants) == list(SEED_TABLE)
    for name, expected in SEED_TABLE.items():
        cfg = apply_overrides(study.base, variants[name])
        validate(cfg)
        flat = flatten(resolve(cfg))
        schedule = ({"sched.name": "constant", "init.checkpoint": ""} if name == "quant original" else
                    {"sched.name": "poly", "sched.power": 2.0, "init.mode": "warm"})
        partial = {"init.allow_partial": True, "init.skip": ("fc",)} if name.endswith("partial") else \
            {"init.allow_partial": False, "init.skip": ()}
        want = {**COMMON, **expected, **schedule, **partial}
        wrong = {k: (flat[k], v) for k, v in want.items() if flat[k] != v}
        assert not wrong, f"{name}: {wrong}"


def test_local_is_full():
    full, local = _built("full"), _built("local")
    assert (local.base, local.pretrain, local.space) == (full.base, full.pretrain, full.space)


def test_every_warm_arm_copies_all_of_the_pretrained_model_but_the_one_that_skips_its_output(tmp_path):
    """The seed's bug would show here: a quantized model naming a layer differently fails its warm start. The arm
    that reproduces the bug leaves the output layer (fc) as initialized, by name, and says so."""
    study = _built("full")
    data = build_data(study.pretrain.data, seed=0)
    task = build_task(study.pretrain.task)
    torch.save(task.build_model(study.pretrain.model, data, grad_checkpointing=False).state_dict(),
               tmp_path / "pretrained.pt")
    for name, overrides in _variants(study).items():
        if name == "quant original":  # from scratch: nothing to copy
            assert apply_overrides(study.base, overrides).init.checkpoint == ""
            continue
        cfg = apply_overrides(study.base, {**overrides, "init.checkpoint": str(tmp_path / "pretrained.pt")})
        model = task.build_model(cfg.model, data, grad_checkpointing=False)
        before = model.fc.weight.detach().clone()
        report = apply_init(cfg.init, model, torch.optim.SGD(model.parameters(), lr=0.1))
        if name.endswith("partial"):
            assert report.left_out == ["fc.weight", "fc.bias"] and not report.complete
            assert torch.equal(model.fc.weight, before) and "1 left out" not in report.summary()
            assert "2 left out by init.skip" in report.summary()
        else:
            assert report.complete and "fc.weight" in report.copied, f"{name}: {report.summary()}"
