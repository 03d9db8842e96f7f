"""SES with ViT and augmentation (seed 001, Exp 15): ViT-S/4, CIFAR-100, {RA, RA+Mixup, RA+CutMix} x {baseline, SES}."""

from __future__ import annotations

from studies.catalog._ses_setups import CUTMIX, MIXUP, local, local_vit, paired_sweep, vit4, with_and_without_ses
from studies.study import Study

DESCRIPTION = "SES + ViT-S/4 + augmentation: {RA, RA+Mixup, RA+CutMix} x {baseline, SES}, CIFAR-100 (seed 001 Exp 15)"
SEED = "001"
EXPERIMENT = "Exp 15"

# RA(n=2, m=9) on top of crop + flip. Ambiguous: n=2, m=9 are torchvision's RandAugment() defaults, whose m counts
# 31 bins (m=9: 0.3 of each op's maximum) over 14 ops with Identity; ours is timm's scale (m=9: 0.9 of the maximum)
# and op set (15 ops, with Invert and SolarizeAdd). The seed does not say which; this takes its numbers on our
# scale. torchvision's strength would be about recipe.randaugment_m=3 (with timm's ops).
RA = {"recipe.randaugment_n": 2, "recipe.randaugment_m": 9}

FULL = vit4()  # column "ViT+Aug (Exp 15)": ViT-S/4
LOCAL = local_vit(FULL)  # ViT-T/4 stands in for ViT-S/4 (a seventh of the compute)
VARIANTS = with_and_without_ses({"ra": RA, "ra+mixup": {**RA, **MIXUP}, "ra+cutmix": {**RA, **CUTMIX}})


def get_study(profile: str) -> Study:
    study = paired_sweep(profile, FULL, VARIANTS, baseline="ra")
    if profile == "local":  # embedded 8x8 digits on 2 CPU cores, in minutes
        study = local(study, LOCAL)
    return study
