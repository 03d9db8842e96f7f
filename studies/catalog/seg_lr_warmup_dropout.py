"""Seed 003's segmentation search: TPE + ASHA over LR (log), warmup, dropout, weight decay and the Dice weight,
selected on val/fscore with early-stopping patience; the report shows train and val F-score and their gap."""

from __future__ import annotations

from dataclasses import replace

from search_spaces import seg_lr_warmup_dropout_space
from studies.study import Asha, Study
from trainables.config import (
    DataConfig,
    ModelConfig,
    MonitorConfig,
    OptimConfig,
    ScheduleConfig,
    TaskConfig,
    TrainConfig,
)

DESCRIPTION = "TPE + ASHA over LR, warmup, dropout, weight decay, Dice weight; val F-score (seed 003 segmentation)"
SEED = "003"
EXPERIMENT = "recipe search"  # the note's one run: LR, warmup, dropout, Dice weight

# Seed 003: MicroSegFormer, AdamW at 8e-4 with 5 warmup epochs, cosine decay, dropout 0.15, weight decay 1e-4,
# CE + 1.5 x Dice, GPU (Kornia) augmentation, early-stopping patience 30, best val F-score at epoch 113 of 143.
FULL = TrainConfig(
    epochs=150,
    precision="auto",
    task=TaskConfig(name="segmentation", dice_weight=1.5),
    data=DataConfig(name="segfolder", root="data/segmentation", batch_size=16, eval_batch_size=32),
    model=ModelConfig(name="Segformer", encoder="mit_b0", drop_rate=0.15),  # smp's SegFormer, its smallest encoder
    optim=OptimConfig(name="adamw", lr=8e-4, weight_decay=1e-4),
    sched=ScheduleConfig(name="cosine", warmup_epochs=5, eta_min=1e-6),
    monitor=MonitorConfig(patience=30),
    checkpoint=replace(TrainConfig().checkpoint, keep="best"),  # the seed tested its best-val checkpoint
)

# Embedded MNIST made a segmentation set (digit pixels labelled with their class): minutes on 2 CPU cores.
LOCAL = replace(
    FULL, epochs=4, precision="auto",
    data=DataConfig(name="mnist_seg", batch_size=64, limit_train=2000),  # ~12 s an epoch on one core
    model=ModelConfig(name="small_unet", drop_rate=0.15),
    optim=OptimConfig(name="adamw", lr=3e-3, weight_decay=1e-4),
    sched=ScheduleConfig(name="cosine", warmup_epochs=1),
    monitor=MonitorConfig(patience=2),
)


def get_study(profile: str) -> Study:
    study = Study(
        profile=profile, base=FULL,
        space=seg_lr_warmup_dropout_space(lr=(1e-4, 3e-3), max_warmup_epochs=10),
        search="tpe", num_samples=40, asha=Asha(grace_period=10, reduction_factor=2),
        gpus_per_trial=1.0, cpus_per_trial=4.0,
    )
    if profile == "local":  # the same search, shrunk in one block
        study = replace(study, base=LOCAL, space=seg_lr_warmup_dropout_space(lr=(3e-4, 1e-2), max_warmup_epochs=1),
                        num_samples=8, asha=Asha(grace_period=2, reduction_factor=2), gpus_per_trial=0.0,
                        cpus_per_trial=1.0)
    return study
