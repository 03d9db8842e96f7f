"""SES with Mixup and CutMix (seed 001, Exp 12): ResNet-18 on CIFAR-100, {none, mixup, cutmix} x {baseline, SES}."""

from __future__ import annotations

from studies.catalog._ses_setups import (
    CUTMIX,
    MIXUP,
    local,
    local_cnn,
    paired_sweep,
    resnet18_batch512,
    with_and_without_ses,
)
from studies.study import Study

DESCRIPTION = "SES + Mixup/CutMix: ResNet-18 CIFAR-100, {none,mixup,cutmix} x {baseline,SES} (seed 001 Exp 12)"
SEED = "001"
EXPERIMENT = "Exp 12"

# Mixing alphas and probability are not in the seed (MIXUP, CUTMIX in _ses_setups say what is chosen). Each arm's
# SES delta is against its own `name` (none+ses - none, mixup+ses - mixup, ...); the study's baseline is `none`.
FULL = resnet18_batch512("cifar100")  # column "Dual-GPU (Exp 12-13)"
LOCAL = local_cnn(FULL)
VARIANTS = with_and_without_ses({"none": {}, "mixup": MIXUP, "cutmix": CUTMIX})


def get_study(profile: str) -> Study:
    study = paired_sweep(profile, FULL, VARIANTS, baseline="none")
    if profile == "local":  # embedded MNIST on 2 CPU cores, in minutes
        study = local(study, LOCAL)
    return study
