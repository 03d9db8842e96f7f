"""SES on a large CNN (seed 001, Exp 13): WideResNet-28-10 on CIFAR-100, baseline vs SES on its 13 hook points.

Local: small_cnn on embedded MNIST, as the other CNN studies' locals, because WRN-28-10 (36.5M parameters, ~5 GFLOPs
an image) cannot train an epoch in minutes on 2 CPU cores; the local run checks the study, not WRN's numbers.
"""

from __future__ import annotations

from search_spaces import Variants
from studies.catalog._ses_setups import BASELINE, BETA, local, local_cnn, paired_sweep, ses_on, wrn28_10_batch512
from studies.study import Study

DESCRIPTION = "SES on WRN-28-10: CIFAR-100, batch 512, baseline vs SES beta=0.7 on 13 hooks (seed 001 Exp 13)"
SEED = "001"
EXPERIMENT = "Exp 13"

# The seed gives one number per arm for Exp 13 (no spread: one run each, next to Exp 12 on the second T4); 3 seeds
# here, as its later studies. Its dropout is not given: 0.0 (_ses_setups.wrn28_10_batch512 says why).
FULL = wrn28_10_batch512("cifar100")
LOCAL = local_cnn(FULL)  # ses.layers=all: small_cnn's 4 blocks
VARIANTS = Variants((BASELINE, ses_on(f"beta={BETA}", beta=BETA, layers="all")))


def get_study(profile: str) -> Study:
    study = paired_sweep(profile, FULL, VARIANTS)
    if profile == "local":  # embedded MNIST on 2 CPU cores, in minutes
        study = local(study, LOCAL)
    return study
