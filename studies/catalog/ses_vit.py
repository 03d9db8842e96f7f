"""SES on Vision Transformers (seed 001, Exp 14): ViT-S/4 and ViT-T/4 on CIFAR-100, each without and with SES."""

from __future__ import annotations

from studies.catalog._ses_setups import VIT_S, VIT_T, local, local_vit, paired_sweep, vit4, with_and_without_ses
from studies.study import Study

DESCRIPTION = "SES on ViT: {ViT-S/4, ViT-T/4} x {baseline, SES beta=0.7, 12 blocks}, CIFAR-100 (seed 001 Exp 14)"
SEED = "001"
EXPERIMENT = "Exp 14"

# Each model's SES delta is against its own baseline (vit_s4+ses - vit_s4, vit_t4+ses - vit_t4).
FULL = vit4(VIT_S)  # column "ViT (Exp 14)"
LOCAL = local_vit(FULL)  # both models run, on 640 digits
VARIANTS = with_and_without_ses({"vit_s4": {"model.name": VIT_S}, "vit_t4": {"model.name": VIT_T}})


def get_study(profile: str) -> Study:
    study = paired_sweep(profile, FULL, VARIANTS, baseline="vit_s4")
    if profile == "local":  # embedded 8x8 digits on 2 CPU cores, in minutes
        study = local(study, LOCAL)
    return study
