"""Seed 002's question on a model of one's own: do the uncertainty weights' log-variance bounds (the seed's +-5,
which diverged, vs its fix, +-2) change how three loss terms train? Micro-batch 2 x 8 accumulation as the seed ran,
the memory-growth and collapse monitors armed; 3 seeds each.

hpstudy run study_dual.py   (8x8 digits, embedded: auto picks full, 40 epochs; 3 min 12 s on 2 CPU cores)
"""

from hpstudy import DataConfig, Grid, ModelConfig, MonitorConfig, OptimConfig, Study, TaskConfig, TrainConfig, Variants

DESCRIPTION = "a two-branch model of one's own, three uncertainty-weighted losses, bounds +-5 vs +-2"


def get_study(profile):
    base = TrainConfig(
        epochs=4 if profile == "local" else 40,
        task=TaskConfig(module="dual_branch:DualBranchTask"),
        model=ModelConfig(drop_rate=0.1),
        data=DataConfig(name="digits", batch_size=2, eval_batch_size=256),
        accum_steps=8,  # 16 images an optimizer step, as the seed's 2 x 8
        optim=OptimConfig(name="adamw", lr=2e-3, weight_decay=0.01, grad_clip=1.0),
        loss_weighting="uncertainty",
        monitor=MonitorConfig(memory_growth_mb=64.0, collapse_epochs=3, collapse_ratio=0.5),
    )
    space = {"variant": Variants(({"name": "seed +-5", "log_var_bounds": (-5.0, 5.0)},
                                 {"name": "fix +-2", "log_var_bounds": (-2.0, 2.0)})),
             "seed": Grid((0, 1, 2))}
    return Study(profile=profile, base=base, space=space, baseline="seed +-5")
