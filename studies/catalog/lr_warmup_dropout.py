"""Seed 003's search: Optuna TPE with ASHA over learning rate (log), warmup epochs, dropout and weight decay."""

from __future__ import annotations

from dataclasses import replace

from search_spaces import lr_warmup_dropout_space
from studies.study import Asha, Study
from trainables.config import DataConfig, ModelConfig, OptimConfig, ScheduleConfig, TrainConfig

DESCRIPTION = "TPE + ASHA over LR (log), warmup epochs, dropout, weight decay: seed 003's search on classification"
# No SEED: seed 003's search applied to CIFAR-100 classification, which no seed note ran (--list: "other").

FULL = TrainConfig(
    epochs=50,
    data=DataConfig(name="cifar100", root="data", batch_size=256),
    model=ModelConfig(name="resnet18", small_input=True),
    optim=OptimConfig(name="sgd", momentum=0.9),
    sched=ScheduleConfig(name="cosine", eta_min=1e-5),
)

LOCAL = replace(FULL, epochs=4, data=DataConfig(name="mnist5k", batch_size=128), model=ModelConfig(name="small_cnn"),
                sched=ScheduleConfig(name="cosine"))


def get_study(profile: str) -> Study:
    study = Study(
        profile=profile, base=FULL, space=lr_warmup_dropout_space(lr=(1e-3, 0.5), max_warmup_epochs=5),
        search="tpe", num_samples=40, asha=Asha(grace_period=5, reduction_factor=2),
        gpus_per_trial=1.0, cpus_per_trial=4.0,
    )
    if profile == "local":  # embedded MNIST on 2 CPU cores, in minutes: the same search, shrunk in one block
        study = replace(study, base=LOCAL, space=lr_warmup_dropout_space(lr=(1e-3, 0.5), max_warmup_epochs=1),
                        num_samples=8, asha=Asha(grace_period=1, reduction_factor=2), gpus_per_trial=0.0,
                        cpus_per_trial=1.0)
    return study
