"""SES lambda ablation (seed 001, Exp 7): ResNet-18, baseline vs lambda in {0.001, 0.005, 0.01, 0.05, 0.1}, beta 0.7."""

from __future__ import annotations

from search_spaces import Variants
from studies.catalog._ses_setups import BASELINE, BETA, cifar_resnet18, local, local_cnn, paired_sweep, ses_on
from studies.study import Study

DESCRIPTION = "SES lambda ablation: ResNet-18 CIFAR-10, baseline vs lambda in {0.001..0.1}, beta=0.7 (seed 001 Exp 7)"
SEED = "001"
EXPERIMENT = "Exp 7"

LAMBDAS = (0.001, 0.005, 0.01, 0.05, 0.1)

# The seed names no dataset for Exp 7. CIFAR-10: it sits in the "CIFAR (Exp 1-10)" column, and its figure
# (08_lambda_ablation) was made between 06_multiseed_cifar10 (Exp 5) and 10_multiseed_cifar100 (Exp 6), while the
# study ran CIFAR-10. Nor does it give beta (the column's default, 0.7) or the seeds (3 here).
# `--set data.name=cifar100` runs it on CIFAR-100.
FULL = cifar_resnet18("cifar10")
LOCAL = local_cnn(FULL)
VARIANTS = Variants((BASELINE, *(ses_on(f"lambda={lam}", lam=lam, beta=BETA) for lam in LAMBDAS)))


def get_study(profile: str) -> Study:
    study = paired_sweep(profile, FULL, VARIANTS)
    if profile == "local":  # embedded MNIST on 2 CPU cores, in minutes
        study = local(study, LOCAL)
    return study
