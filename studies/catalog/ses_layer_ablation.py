"""SES layer-hooking ablation (seed 001, Exp 9): ResNet-18 on CIFAR-10, baseline vs all 9, first 3 and last 3 hooks."""

from __future__ import annotations

from search_spaces import Variants
from studies.catalog._ses_setups import BASELINE, BETA, cifar_resnet18, local, local_cnn, paired_sweep, ses_on
from studies.study import Study

DESCRIPTION = "SES layer ablation: ResNet-18 CIFAR-10, baseline vs hooks all 9 / first 3 / last 3 (seed 001 Exp 9)"
SEED = "001"
EXPERIMENT = "Exp 9"

# "First 3" and "last 3" are read as the first and last three of the 9 hook points in forward order (8 residual
# blocks, then global_pool): first:3 = layer1.0, layer1.1, layer2.0; last:3 = layer4.0, layer4.1, global_pool.
# The seed does not list them; its planned package API (`hook_last_n=3`) counts the same list from its end. Were
# "last 3" meant as blocks only (layer3.1, layer4.0, layer4.1), name them: ses.layers=layer3.1,layer4.0,layer4.1.
LAYERS = ("all", "first:3", "last:3")

FULL = cifar_resnet18("cifar10")
LOCAL = local_cnn(FULL)  # small_cnn has 4 hook points: first:3 = block1-3, last:3 = block2-4
VARIANTS = Variants((BASELINE, *(ses_on(f"layers={spec}", layers=spec, beta=BETA) for spec in LAYERS)))


def get_study(profile: str) -> Study:
    study = paired_sweep(profile, FULL, VARIANTS)
    if profile == "local":  # embedded MNIST on 2 CPU cores, in minutes
        study = local(study, LOCAL)
    return study
