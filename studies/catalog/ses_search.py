"""SES searched on three objectives at once: accuracy, corruption robustness and epoch time, by Optuna's
multi-objective TPE with multi-objective successive halving (studies.tune.mo_asha) stopping the dominated trials early.

The space is conditional: a beta schedule's endpoints exist only for the schedules that use them (fixed: beta;
linear/cosine/reverse: beta_start and beta_end; step: its steps), so a trial logs only the parameters that applied.
Seed 001 reported the trade-off by hand ("lambda=0.001 -> best acc, lambda=0.05 -> best rob"; "k=10: +0.86pp acc,
+0.96pp rob, only 19% overhead"); this study searches for its front.
"""

from __future__ import annotations

from dataclasses import replace

from search_spaces import Choice, Conditional, LogUniform, Uniform
from studies.catalog._ses_setups import cifar_resnet18, local_cnn
from studies.study import Asha, Study

DESCRIPTION = "SES multi-objective search: acc, rob, epoch time; MO-TPE + MO successive halving"
SEED = "001"
EXPERIMENT = "Exp 2/7/9/10/16 as one search"

OBJECTIVES = (("val/acc", "max"), ("rob/acc", "max"), ("sys/epoch_s", "min"))
_CIFAR = cifar_resnet18("cifar100")  # seed 001's CIFAR column: ResNet-18, SGD 0.1, 50 epochs, MultiStep, 9 hooks
# The scheduler ranks trials at every rung on all three objectives, so rob/acc is measured every epoch: on 2,000
# images of the split in full (every corruption, severities 1-5), on 200 at severity 3 locally (_ses_setups).
FULL = replace(_CIFAR, ses=replace(_CIFAR.ses, enabled=True), rob=replace(_CIFAR.rob, every=1, max_images=2000))
LOCAL = local_cnn(FULL)


def space(layers: tuple[str, ...]) -> dict:
    endpoints = {"ses.beta_start": Uniform(0.1, 0.5), "ses.beta_end": Uniform(0.5, 0.95)}
    return {
        "ses.lam": LogUniform(1e-3, 1e-1),
        "ses.beta_schedule": Conditional({
            "fixed": {"ses.beta": Uniform(0.3, 0.95)},
            "linear": endpoints, "cosine": endpoints, "reverse": endpoints,
            "step": {"ses.beta_steps": Choice(((0.3, 0.7, 0.9), (0.5, 0.9), (0.9, 0.5)))},
        }),
        "ses.layers": Choice(layers),
        "ses.every_k": Choice((1, 3, 5, 10)),  # seed 001 Exp 10's values
    }


def get_study(profile: str) -> Study:
    study = Study(
        profile=profile, base=FULL, space=space(("all", "first:3", "last:3")),  # ResNet-18's 9 hooks: Exp 9's sets
        search="tpe", objectives=OBJECTIVES, num_samples=60, asha=Asha(grace_period=5, reduction_factor=3),
        gpus_per_trial=1.0, cpus_per_trial=4.0,
    )
    if profile == "local":  # embedded MNIST on 2 CPU cores, shrunk in one block
        study = replace(study, base=LOCAL, space=space(("all", "first:2", "last:2")), num_samples=12,
                        asha=Asha(grace_period=1, reduction_factor=3), gpus_per_trial=0.0, cpus_per_trial=1.0)
    return study
