"""SES on a toy 2-D problem (seed 001, Exp 4): κ(J) of the input-output Jacobian of a small MLP, baseline vs SES.

The seed reports κ(J) 57.3 -> 23.4 (2.45x lower with SES); its toy data, network and statistic (mean or median)
are not given: two moons (toy2d), 3 x 64 ReLU (toy_mlp), both mean and median logged (docs in trainables.watch.jacobian).
"""

from __future__ import annotations

from dataclasses import replace

from search_spaces import Variants
from studies.catalog._ses_setups import BASELINE, BETA, local, paired_sweep, ses_on, toy_2d
from studies.study import Study

DESCRIPTION = "SES on toy 2-D: kappa(J) of a 3x64 MLP on two moons, baseline vs SES beta=0.7 (seed 001 Exp 4)"
SEED = "001"
EXPERIMENT = "Exp 4"

# The study's metric is κ itself, lower is better: the report's table is then the seed's Exp 4 figure
# (val/jacobian_kappa, with test/jacobian_kappa measured once at the end); val/acc, test/acc follow it.
METRIC, MODE = "val/jacobian_kappa", "min"

FULL = toy_2d()
# The full profile already runs in seconds per trial on one CPU core (1,440 points, 250 SGD steps): local is the
# same config, only on 2 seeds; no GPU is asked for in either, a toy MLP gains nothing from one.
LOCAL = FULL
VARIANTS = Variants((BASELINE, ses_on(f"beta={BETA}", beta=BETA)))


def get_study(profile: str) -> Study:
    study = replace(paired_sweep(profile, FULL, VARIANTS), metric=METRIC, mode=MODE, gpus_per_trial=0.0,
                    cpus_per_trial=1.0)
    if profile == "local":  # the same toy on 2 CPU cores, 2 seeds
        study = local(study, LOCAL)
    return study
