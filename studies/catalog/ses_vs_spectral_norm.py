"""SES against spectral normalization (seed 001, Exp 8): ResNet-18 on CIFAR-100, baseline, spectral norm, SES."""

from __future__ import annotations

from search_spaces import Variants
from studies.catalog._ses_setups import BASELINE, BETA, cifar_resnet18, local, local_cnn, paired_sweep, ses_on
from studies.study import Study

DESCRIPTION = "SES vs spectral norm: ResNet-18 CIFAR-100, baseline / spectral norm / SES beta=0.7 (seed 001 Exp 8)"
SEED = "001"
EXPERIMENT = "Exp 8"

# Spectral norm is torch's parametrization on every conv and linear weight, the head included (seed bug 5: on the
# modules themselves); the seed does not say which layers it normalized nor its power iterations: all, torch's 1.
# It is not combined with SES here: the seed compares the two regularizers, each alone, against one baseline.
SPECTRAL_NORM = {"name": "spectral_norm", "ses.enabled": False, "model.spectral_norm": True}

FULL = cifar_resnet18("cifar100")  # column "CIFAR (Exp 1-10)", with its robustness ("+0.55pp rob")
LOCAL = local_cnn(FULL)  # small_cnn with spectral norm on its 4 convs and head
VARIANTS = Variants((BASELINE, SPECTRAL_NORM, ses_on(f"beta={BETA}", beta=BETA)))


def get_study(profile: str) -> Study:
    study = paired_sweep(profile, FULL, VARIANTS)
    if profile == "local":  # embedded MNIST on 2 CPU cores, in minutes
        study = local(study, LOCAL)
    return study
