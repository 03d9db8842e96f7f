"""Seed 000's restart: continue from the epoch-124 checkpoint with the fixed recipe, at the LR a range test on
those weights picks, under a fresh cosine to eta_min 1e-5 over the remaining 476 epochs.

The checkpoint is the study's pretraining (Study.pretrain, run once before the trials): the seed's broken recipe
(rsb_fixes_ablation.SEED_RECIPE, without the EMA it did not have) for 124 epochs of what was to be a 600-epoch
cosine: sched.name=cosine_restarts with t0=600 is that cosine, cut where the run stops (it never reaches its
restart). Its floor, 1e-6, is the one the note calls problematic; the original LR is not in the note (0.1 at batch
256, as in rsb_fixes_ablation). `--set init.checkpoint=PATH` starts from your own checkpoint instead (say, the
seed's real epoch-124 state.pt) and skips the pretraining.

The trials continue it (init.mode=continue, init.keep=model,ema): the model's weights, and its EMA where the
checkpoint has one (the pretraining has none, so the EMA starts from the loaded weights, as the seed's did at the
restart); not the optimizer's momentum nor the schedule, which starts anew at step 0. The recipe is the seed's
corrected one (rsb_fixes_ablation.ALL_FIXES, EMA 0.9999 evaluated), cosine over 476 epochs to eta_min 1e-5.

The LR range test is the study's own (lr_range_steps), not a `--lr-range` to remember: the seed's 2e-4 is what a
range test on *its* epoch-124 weights picked, and this study's pretraining gives other weights, so the pick must be
made on them; a plain run would otherwise train at an LR chosen for another model. It runs after the pretraining,
from its checkpoint, on unmixed batches; `--lr-range N` changes its length and `--set optim.lr=X` replaces it.
One configuration, 3 seeds (data order and augmentation; all start from the one pretraining).
"""

from __future__ import annotations

from dataclasses import replace

from search_spaces import Grid
from studies.catalog.rsb_fixes_ablation import ALL_FIXES, LOCAL_SEEDS, METRIC, SEED_RECIPE, SEEDS
from studies.study import Study
from trainables.config import DataConfig, EMAConfig, InitConfig, ModelConfig, ScheduleConfig, TrainConfig
from trainables.config.overrides import apply_overrides

DESCRIPTION = ("ResNet Strikes Back restart: pretrain the seed's recipe to epoch 124, LR range test, then the fixed "
               "recipe under a fresh cosine to 1e-5 over the remaining 476 epochs (seed 000)")
SEED = "000"
EXPERIMENT = "restart at epoch 124"

TOTAL_EPOCHS, RESTART_EPOCH = 600, 124
SEED_LR = 2e-4  # the seed's range-test pick at epoch 124: shown by --dry-run, replaced by this study's own pick
LR_RANGE_STEPS = 200  # trainables.optim.lr_range's default sweep, 1e-5 -> 10

PRETRAIN = replace(
    SEED_RECIPE, epochs=RESTART_EPOCH, ema=EMAConfig(),  # the seed's first run had no EMA
    sched=ScheduleConfig(name="cosine_restarts", t0=TOTAL_EPOCHS, eta_min=1e-6),  # a 600-epoch cosine, cut at 124
)

RESTART = replace(
    apply_overrides(SEED_RECIPE, ALL_FIXES), epochs=TOTAL_EPOCHS - RESTART_EPOCH,  # cosine_t_max 476
    optim=replace(apply_overrides(SEED_RECIPE, ALL_FIXES).optim, lr=SEED_LR),
    sched=ScheduleConfig(name="cosine", eta_min=1e-5),  # "10x higher than problematic 1e-6"
    init=InitConfig(mode="continue", keep=("model", "ema")),
)


def _local(cfg: TrainConfig, epochs: int) -> TrainConfig:
    """Embedded MNIST with small_cnn; the EMA (where on) with timm's warmup at 0.99, as rsb_fixes_ablation's."""
    ema = replace(cfg.ema, decay=0.99, warmup=True) if cfg.ema.enabled else cfg.ema
    return replace(cfg, epochs=epochs, data=DataConfig(name="mnist5k", batch_size=128),
                   model=ModelConfig(name="small_cnn"), ema=ema)


# Local: 2 epochs of a 10-epoch cosine, then 3 epochs from them; a 50-step range test.
LOCAL_PRETRAIN = replace(_local(PRETRAIN, 2), sched=replace(PRETRAIN.sched, t0=10))
LOCAL_RESTART = _local(RESTART, 3)


def get_study(profile: str) -> Study:
    study = Study(
        profile=profile, base=RESTART, space={"seed": Grid(SEEDS)}, search="grid", metric=METRIC, mode="max",
        asha=None, pretrain=PRETRAIN, lr_range_steps=LR_RANGE_STEPS, gpus_per_trial=1.0, cpus_per_trial=8.0,
    )
    if profile == "local":  # embedded MNIST on 2 CPU cores
        study = replace(study, base=LOCAL_RESTART, pretrain=LOCAL_PRETRAIN, space={"seed": Grid(LOCAL_SEEDS)},
                        lr_range_steps=50, gpus_per_trial=0.0, cpus_per_trial=1.0)
    return study
