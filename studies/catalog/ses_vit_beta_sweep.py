"""ViT beta sweep (seed 001, Exp 17a): ViT-S/4 on CIFAR-100, baseline vs beta in {0.3, 0.5, 0.7, 0.9}, all 12 blocks."""

from __future__ import annotations

from search_spaces import ses_beta_variants
from studies.catalog._ses_setups import LAMBDA, local, local_vit, paired_sweep, vit4
from studies.study import Study

DESCRIPTION = "ViT beta sweep: ViT-S/4 CIFAR-100, baseline vs beta in {0.3,0.5,0.7,0.9}, 12 blocks (seed 001 Exp 17a)"
SEED = "001"
EXPERIMENT = "Exp 17a"

BETAS = (0.3, 0.5, 0.7, 0.9)  # 0.7 on all 12 is Exp 14's ViT-S SES run, rerun here on the same seeds

FULL = vit4()  # column "ViT Abl (Exp 17)": ViT-S/4, ses.layers=all
LOCAL = local_vit(FULL)  # ViT-T/4 stands in for ViT-S/4 (a seventh of the compute)
VARIANTS = ses_beta_variants(BETAS, LAMBDA)


def get_study(profile: str) -> Study:
    study = paired_sweep(profile, FULL, VARIANTS)
    if profile == "local":  # embedded 8x8 digits on 2 CPU cores, in minutes
        study = local(study, LOCAL)
    return study
