"""SES on ResNet-50, Tiny-ImageNet (seed 001, Exp 11): 200 classes at 64x64, baseline vs SES on layer4 + pool."""

from __future__ import annotations

from search_spaces import Variants
from studies.catalog._ses_setups import BASELINE, BETA, local, local_cnn, paired_sweep, ses_on, tiny_imagenet_resnet50
from studies.study import Study

DESCRIPTION = "SES ResNet-50 Tiny-ImageNet: baseline vs SES (4 hooks: layer4 + pool), 3 seeds (seed 001 Exp 11)"
SEED = "001"
EXPERIMENT = "Exp 11"

# ses.layers=last:4 (in the column): layer4.0, layer4.1, layer4.2, global_pool. The seed ran one seed; 3 here, as it
# planned ("Multi-seed Tiny-ImageNet (3 seed)"). Tiny-ImageNet's labelled val/ is the test split.
FULL = tiny_imagenet_resnet50()
LOCAL = local_cnn(FULL)  # small_cnn's last:4 is all four of its blocks
VARIANTS = Variants((BASELINE, ses_on(f"beta={BETA}", beta=BETA)))


def get_study(profile: str) -> Study:
    study = paired_sweep(profile, FULL, VARIANTS)
    if profile == "local":  # embedded MNIST on 2 CPU cores, in minutes
        study = local(study, LOCAL)
    return study
