"""ViT training stability (seed 002): uncertainty-weighted losses with log-variances bounded at +-5 (the seed's,
which diverged) vs +-2 (its fix), at batch 2 x 8 accumulation with checkpointing, memory and collapse monitors on.

What differs from the seed, and why:
- Model: the seed's dual cross-attention ViT (12 self-attention blocks plus global-local and pair-wise
  cross-attention branches, one loss each: w1, w2, w3) is not in timm. The closest timm has is a plain ViT with 12
  self-attention blocks, `vit_base_patch16_224` at 224x224 (patch 16: 196 tokens), one head. The classification
  task therefore returns one loss term, and the uncertainty weighting weights that term (plus the SES penalty when
  `--set ses.enabled=true`): the seed's three-term balance cannot be reproduced without its branches.
- Weights: trained from scratch (trainables never downloads weights); the seed's 91.4% "per paper" is a pretrained
  backbone's figure and is not a target here. What the study measures is whether a run stays stable: its stop
  reasons (memory_growth, collapsed, diverged), loss_weight/* and loss_log_var/* per epoch, val/acc and test/acc.
- Not given by the seed, chosen here: AdamW with DeiT's recipe (lr 5e-4 x batch / 512 at the effective batch of
  16, weight decay 0.05, 5 warmup epochs then cosine), precision auto (the seed's 15 GB GPU), CUB-200-2011 as an
  image folder under data/cub (train/<class>/, test/<class>/ from its train_test_split.txt), crop + flip.
- The seed's other fix, detaching the attention maps it kept, has no counterpart: timm's ViT keeps none. The
  memory-growth monitor is what would catch such a leak.

Not settled: whether the two bounds can differ at all here. With one term, s goes to log L, inside +-2 until the
train CE falls below e^-2 = 0.135; and the log-variances follow the model's LR schedule, so under AdamW each s moves
at most ~lr a step: ~0.6 over the 37,500 steps at lr 1.56e-5, never reaching a bound. A null result would say that,
not that the bounds do not matter; the seed's LR is unknown. Locally (4 epochs) both configurations trained
identically (s reached 0.07): the local profile checks the pieces run together, not the bounds.
"""

from __future__ import annotations

from dataclasses import replace

from search_spaces import Variants
from studies.catalog._ses_setups import VIT_T, local, local_vit, paired_sweep
from studies.study import Study
from trainables.config import DataConfig, ModelConfig, MonitorConfig, OptimConfig, ScheduleConfig, TrainConfig

DESCRIPTION = "ViT stability: uncertainty loss weights bounded +-5 vs +-2, batch 2 x 8 accumulation, checkpointing"
SEED = "002"
EXPERIMENT = "quick fix V2"  # the note's fixes: bounds, accumulation, checkpointing

MICRO_BATCH, ACCUM = 2, 8  # "batch_size: int = 2, gradient_accumulation_steps: int = 8": 16 images a step
VIT_B = "vit_base_patch16_224"

FULL = TrainConfig(
    epochs=100,  # "Target Performance (100 epochs)"
    precision="auto",
    accum_steps=ACCUM,
    grad_checkpointing=True,  # "use_gradient_checkpointing: bool = True"
    loss_weighting="uncertainty",
    log_var_bounds=(-2.0, 2.0),  # the fix; each configuration sets its own
    data=DataConfig(name="imagefolder", root="data/cub", batch_size=MICRO_BATCH, image_size=224),
    model=ModelConfig(name=VIT_B, small_input=False),  # timm's patch 16 at 224x224
    optim=OptimConfig(name="adamw", lr=5e-4 * MICRO_BATCH * ACCUM / 512, weight_decay=0.05),  # grad_clip auto: 1.0
    sched=ScheduleConfig(name="cosine", warmup_epochs=5.0, warmup_start_factor=0.0, eta_min=0.0),
    # The seed's leak took peak memory from ~14 GB to 15.67 GB by epoch 16, ~110 MB an epoch: 64 MB a epoch for 3
    # epochs running stops it there. Collapse: its 8.19% -> 1.05% fell below half the best within 3 epochs.
    monitor=MonitorConfig(memory_growth_mb=64.0, collapse_epochs=3, collapse_ratio=0.5),
)

VARIANTS = Variants((
    {"name": "log_var=+-5", "log_var_bounds": (-5.0, 5.0)},  # the seed's first run, which diverged
    {"name": "log_var=+-2", "log_var_bounds": (-2.0, 2.0)},  # "Fix 2: Tighten Uncertainty Bounds"
))

# ViT-T/4 on 320 of scikit-learn's 8x8 digits (the SES ViT locals take 640: at batch 2 a trial took ~130 s on one
# loaded core with them), still at batch 2 x 8 with checkpointing; the full LR is for 100 epochs and learns nothing
# in 4: the seed-001 ViT locals' 1e-3.
LOCAL = local_vit(FULL, VIT_T, limit_train=320)
LOCAL = replace(LOCAL, data=replace(LOCAL.data, batch_size=MICRO_BATCH), optim=replace(LOCAL.optim, lr=1e-3))


def get_study(profile: str) -> Study:
    study = paired_sweep(profile, FULL, VARIANTS, baseline="log_var=+-5")
    if profile == "local":  # embedded 8x8 digits on 2 CPU cores, in minutes
        study = local(study, LOCAL)
    return study
