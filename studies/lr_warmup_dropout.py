"""Seed 003's search: Optuna TPE with ASHA over learning rate (log), warmup epochs, dropout and weight decay."""

from __future__ import annotations

from search_spaces import lr_warmup_dropout_space
from studies.study import Asha, Study
from trainables.config import DataConfig, ModelConfig, OptimConfig, ScheduleConfig, TrainConfig

DESCRIPTION = "TPE + ASHA search over LR (log), warmup epochs, dropout and weight decay (seed 003)"

FULL = TrainConfig(
    epochs=50,
    data=DataConfig(name="cifar100", root="data", batch_size=256),
    model=ModelConfig(name="resnet18", small_input=True),
    optim=OptimConfig(name="sgd", momentum=0.9),
    sched=ScheduleConfig(name="cosine", eta_min=1e-5),
)

LOCAL = TrainConfig(
    epochs=4,
    data=DataConfig(name="mnist5k", batch_size=128),
    model=ModelConfig(name="small_cnn"),
    optim=OptimConfig(name="sgd", momentum=0.9),
    sched=ScheduleConfig(name="cosine"),
)


def get_study(profile: str) -> Study:
    full = profile == "full"
    return Study(
        name="lr_warmup_dropout",
        profile=profile,
        base=FULL if full else LOCAL,
        space=lr_warmup_dropout_space(lr=(1e-3, 0.5), max_warmup_epochs=5 if full else 1),
        search="tpe",
        num_samples=40 if full else 8,
        asha=Asha(grace_period=5 if full else 1, reduction_factor=2),
        gpus_per_trial=1.0 if full else 0.0,
        cpus_per_trial=4.0 if full else 1.0,
    )
