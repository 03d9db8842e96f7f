"""SES training dynamics (seed 001, Exp 1): ResNet-18 on CIFAR-10, baseline vs SES beta=0.7, curves per epoch."""

from __future__ import annotations

from search_spaces import Variants
from studies.catalog._ses_setups import BASELINE, BETA, cifar_resnet18, local, local_cnn, paired_sweep, ses_on
from studies.study import Study

DESCRIPTION = "SES training dynamics: ResNet-18 CIFAR-10, baseline vs SES beta=0.7, per-epoch curves (seed 001 Exp 1)"
SEED = "001"
EXPERIMENT = "Exp 1"

# The seed ran one seed (42) and no robustness evaluation here (Exp 3/5 adds it); 3 seeds, as its later studies.
# The baseline logs no ses/entropy/* curves (SES off computes nothing).
FULL = cifar_resnet18("cifar10", rob=False)
LOCAL = local_cnn(FULL)
VARIANTS = Variants((BASELINE, ses_on(f"beta={BETA}", beta=BETA)))


def get_study(profile: str) -> Study:
    study = paired_sweep(profile, FULL, VARIANTS)
    if profile == "local":  # embedded MNIST on 2 CPU cores, in minutes
        study = local(study, LOCAL)
    return study
