"""SES corruption robustness on CIFAR-10 (seed 001, Exp 3 single-seed, Exp 5 three seeds): baseline vs beta=0.7."""

from __future__ import annotations

from search_spaces import Variants
from studies.catalog._ses_setups import BASELINE, BETA, cifar_resnet18, local, local_cnn, paired_sweep, ses_on
from studies.study import Study

DESCRIPTION = "SES robustness: ResNet-18 CIFAR-10, baseline vs SES beta=0.7, rob/acc, 3 seeds (seed 001 Exp 3/5)"
SEED = "001"
EXPERIMENT = "Exp 3/5"

FULL = cifar_resnet18("cifar10")  # rob/acc at the end: the seed's "Rob" (its corruption set: _ses_setups)
LOCAL = local_cnn(FULL)
VARIANTS = Variants((BASELINE, ses_on(f"beta={BETA}", beta=BETA)))


def get_study(profile: str) -> Study:
    study = paired_sweep(profile, FULL, VARIANTS)
    if profile == "local":  # embedded MNIST on 2 CPU cores, in minutes
        study = local(study, LOCAL)
    return study
