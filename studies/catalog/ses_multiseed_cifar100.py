"""SES on CIFAR-100, three seeds (seed 001, Exp 6): ResNet-18, baseline vs SES beta=0.7, accuracy, gap, robustness."""

from __future__ import annotations

from search_spaces import Variants
from studies.catalog._ses_setups import BASELINE, BETA, cifar_resnet18, local, local_cnn, paired_sweep, ses_on
from studies.study import Study

DESCRIPTION = "SES multi-seed: ResNet-18 CIFAR-100, baseline vs SES beta=0.7, acc/gap/rob, 3 seeds (seed 001 Exp 6)"
SEED = "001"
EXPERIMENT = "Exp 6"

FULL = cifar_resnet18("cifar100")
LOCAL = local_cnn(FULL)
VARIANTS = Variants((BASELINE, ses_on(f"beta={BETA}", beta=BETA)))


def get_study(profile: str) -> Study:
    study = paired_sweep(profile, FULL, VARIANTS)
    if profile == "local":  # embedded MNIST on 2 CPU cores, in minutes
        study = local(study, LOCAL)
    return study
