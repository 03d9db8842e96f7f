"""Periodic SES (seed 001, Exp 10): ResNet-18 on CIFAR-100, the penalty every k in {1, 3, 5, 10} steps, vs baseline."""

from __future__ import annotations

from search_spaces import Variants
from studies.catalog._ses_setups import BASELINE, BETA, cifar_resnet18, local, local_cnn, paired_sweep, ses_on
from studies.study import Study

DESCRIPTION = "Periodic SES: ResNet-18 CIFAR-100, baseline vs every_k in {1,3,5,10}, overhead (seed 001 Exp 10)"
SEED = "001"
EXPERIMENT = "Exp 10"

EVERY_K = (1, 3, 5, 10)

# The overhead column is sys/epoch_s (its mean over epochs) against the baseline's: the epoch's training and
# evaluation, robustness excluded; the seed does not say what its Time/ep included. k counts optimizer steps.
# The seed ran one seed; 3 here (its planned multi-seed run).
FULL = cifar_resnet18("cifar100")
LOCAL = local_cnn(FULL)
VARIANTS = Variants((BASELINE, *(ses_on(f"every_k={k}", every_k=k, beta=BETA) for k in EVERY_K)))


def get_study(profile: str) -> Study:
    study = paired_sweep(profile, FULL, VARIANTS)
    if profile == "local":  # embedded MNIST on 2 CPU cores, in minutes
        study = local(study, LOCAL)
    return study
