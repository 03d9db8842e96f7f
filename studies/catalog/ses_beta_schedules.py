"""Adaptive beta schedules (seed 001, Exp 16): ResNet-18, CIFAR-100, baseline vs fixed/linear/cosine/reverse/step."""

from __future__ import annotations

from search_spaces import Variants
from studies.catalog._ses_setups import BASELINE, local, local_cnn, paired_sweep, resnet18_batch512, ses_on
from studies.study import Study

DESCRIPTION = "SES beta schedules: ResNet-18 CIFAR-100, baseline vs fixed/linear/cosine/reverse/step (seed 001 Exp 16)"
SEED = "001"
EXPERIMENT = "Exp 16"

# beta moves per optimizer step over all of training (trainables.ses.beta). Not in the seed: whether its ramps
# spanned the whole run or a warmup, and where "Step 0.3->0.7->0.9" switched; here equal thirds of training.
RAMP = {"beta_start": 0.3, "beta_end": 0.9}  # reverse goes end -> start: 0.9 -> 0.3
VARIANTS = Variants((
    BASELINE,
    ses_on("fixed 0.7", beta_schedule="fixed", beta=0.7),
    ses_on("linear 0.3-0.9", beta_schedule="linear", **RAMP),
    ses_on("cosine 0.3-0.9", beta_schedule="cosine", **RAMP),
    ses_on("reverse 0.9-0.3", beta_schedule="reverse", **RAMP),
    ses_on("step 0.3-0.7-0.9", beta_schedule="step", beta_steps=(0.3, 0.7, 0.9)),
))

FULL = resnet18_batch512("cifar100")  # column "β Sched (Exp 16)"
LOCAL = local_cnn(FULL)


def get_study(profile: str) -> Study:
    study = paired_sweep(profile, FULL, VARIANTS)
    if profile == "local":  # embedded MNIST on 2 CPU cores, in minutes
        study = local(study, LOCAL)
    return study
