"""Seed 003's recipe search on a segmentation model and masks of one's own: TPE + ASHA over LR, warmup, dropout and
the Dice weight, 3 seeds each, selected on val/fscore.

python make_data.py data && hpstudy run study_seg.py --set data.root=data
"""

from hpstudy import (
    Asha,
    DataConfig,
    Grid,
    IntRange,
    LogUniform,
    OptimConfig,
    ScheduleConfig,
    Study,
    TaskConfig,
    TrainConfig,
    Uniform,
)

DESCRIPTION = "seed 003's recipe search on a micro SegFormer of one's own, masks in a layout of one's own"


def get_study(profile):
    base = TrainConfig(
        epochs=6,
        task=TaskConfig(module="micro_seg:MicroSegTask"),
        data=DataConfig(name="task", root="data", batch_size=16, eval_batch_size=64),
        optim=OptimConfig(name="adamw", lr=2e-3, weight_decay=0.01),
        sched=ScheduleConfig(warmup_epochs=1),
    )
    space = {"optim.lr": LogUniform(3e-4, 1e-2), "sched.warmup_epochs": IntRange(0, 2),
             "model.drop_rate": Uniform(0.0, 0.3), "task.dice_weight": Uniform(0.0, 2.0), "seed": Grid((0, 1, 2))}
    return Study(profile=profile, base=base, space=space, search="tpe", num_samples=4,
                 asha=Asha(grace_period=2, reduction_factor=2), metric="val/fscore")
