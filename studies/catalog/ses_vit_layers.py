"""ViT layer-hooking ablation (seed 001, Exp 17b): ViT-S/4, CIFAR-100, baseline vs SES on first 4, all 12, last 4."""

from __future__ import annotations

from search_spaces import Variants
from studies.catalog._ses_setups import BASELINE, BETA, local, local_vit, paired_sweep, ses_on, vit4
from studies.study import Study

DESCRIPTION = "ViT layer ablation: ViT-S/4 CIFAR-100, baseline vs SES on first 4/all 12/last 4 (seed 001 Exp 17b)"
SEED = "001"
EXPERIMENT = "Exp 17b"

# beta=0.7: All-12 is Exp 14's run, and Exp 18's notes give Last-4 at beta=0.7; First-4 is taken at the same beta.
LAYERS = ("first:4", "all", "last:4")  # blocks 0-3, 0-11, 8-11

FULL = vit4()  # column "ViT Abl (Exp 17)"
LOCAL = local_vit(FULL)  # ViT-T/4 stands in for ViT-S/4 (12 blocks too)
VARIANTS = Variants((BASELINE, *(ses_on(f"layers={spec}", layers=spec, beta=BETA) for spec in LAYERS)))


def get_study(profile: str) -> Study:
    study = paired_sweep(profile, FULL, VARIANTS)
    if profile == "local":  # embedded 8x8 digits on 2 CPU cores, in minutes
        study = local(study, LOCAL)
    return study
