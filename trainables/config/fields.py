"""Typed, frozen configuration of one training run.

Every field has a default with its unit or reason; `trainables.config.overrides` is the one strict way to change them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trainables.config.overrides import OPEN

PATH = "path"  # field metadata key: the value is a filesystem path, made absolute in the driver (trainables.config.paths)


def path(default: str = "") -> Any:
    """A str field holding a path: a trial runs in Ray's folder, so the driver resolves it against the user's."""
    return field(default=default, metadata={PATH: True})


@dataclass(frozen=True)
class DataConfig:
    name: str = "mnist5k"  # mnist5k | digits | cifar10 | cifar100 | tiny_imagenet | imagefolder (labels);
    # mnist_seg | segfolder (masks): the task's data_kind decides which; toy2d | breast_cancer (vectors)
    root: str = path()  # on-disk root for cifar10/cifar100/tiny_imagenet/imagefolder; nothing is ever downloaded
    val_fraction: float = 0.1  # share of the training set held out for validation; 0 = none (test every epoch)
    split_seed: int = 0  # fixes the train/val split independently of the run seed
    batch_size: int = 128  # per optimizer step, per worker
    eval_batch_size: int = 512  # evaluation only; no gradients are kept
    augment: bool = True  # random crop with padding (+ horizontal flip where labels allow it)
    num_workers: int = 0  # DataLoader processes; 0 keeps loading in the training process
    limit_train: int = 0  # use only the first N training images (0 = all); for smoke runs
    image_size: int = 0  # imagefolder, segfolder: resize every image (masks: nearest) to this square size (0: imagefolder 32, segfolder as stored); others keep their own size


@dataclass(frozen=True)
class ModelConfig:
    name: str = "small_cnn"  # classification: small_cnn, wrn28_10, toy_mlp / tabular_mlp (vectors) or a timm
    # model name (resnet18, vit_small_patch16_224, ...); segmentation: small_unet or a segmentation-models-pytorch
    # architecture (Unet, FPN, DeepLabV3Plus, ...)
    encoder: str = "resnet18"  # segmentation-models-pytorch architectures only: the encoder (smp or 'tu-<timm>')
    drop_rate: float = 0.0  # dropout before the classifier (timm's drop_rate); wrn28_10: inside every residual
    # block, between its two convs (Zagoruyko & Komodakis; 0.3 in their CIFAR runs); tabular_mlp: after every
    # hidden layer
    small_input: bool = True  # adapt to 32x32-class images: 3x3 stride-1 ResNet stem, no max-pool; ViT patch 4
    # (wrn28_10 is a 32x32 network already and requires it)
    spectral_norm: bool = False  # torch's spectral_norm parametrization on the weight of every conv and linear
    # module, the classifier head included (seed 001 Exp 8: every weight layer bounded, as in Miyato et al. 2018;
    # BN's free scales keep the logit scale learnable); classification models only, not with grad_checkpointing
    fake_quant: bool = False  # quantization-aware training of every linear layer (quant_bits): weights per output
    # channel, symmetric; input activations per row, asymmetric, dynamic (trainables.models.quant); vector MLPs only
    quant_bits: int = 8  # fake_quant: bits of weights and activations, 2..8 (seed 004's QKeras model: 4)


@dataclass(frozen=True)
class OptimConfig:
    name: str = "sgd"  # sgd | adamw
    lr: float = 0.1  # peak learning rate, reached after warmup
    momentum: float = 0.9  # SGD only
    nesterov: bool = False  # SGD only
    weight_decay: float = 5e-4  # on conv/linear weights; on norm and bias parameters too only with decay_norm_bias
    decay_norm_bias: bool = False  # also decay norm scales/shifts and biases (1-D parameters); seed 000's ablation
    grad_clip: float = -1.0  # max global gradient norm; 0 = off; -1 = auto: 1.0 for ViT + AdamW (seed 001 bug 12), else off


@dataclass(frozen=True)
class ScheduleConfig:
    name: str = "cosine"  # cosine | cosine_restarts | multistep | poly | constant (after warmup)
    warmup_epochs: float = 0.0  # linear warmup length; fractions of an epoch allowed
    warmup_start_factor: float = 0.0  # warmup starts at lr * this factor
    eta_min: float = 0.0  # cosine, cosine_restarts and poly floor, absolute LR
    milestones: tuple[int, ...] = (20, 35, 45)  # multistep: epochs at which LR is multiplied by gamma
    gamma: float = 0.1  # multistep decay factor
    power: float = 1.0  # poly: eta_min + (lr - eta_min) * (1 - progress) ** power
    t0: int = 30  # cosine_restarts: epochs of the first cycle after warmup (seed 003's T_0)
    t_mult: int = 2  # cosine_restarts: each cycle is this many times longer than the last (seed 003's T_mult)


@dataclass(frozen=True)
class SESConfig:
    enabled: bool = False  # Spectral Entropy Shaping regularizer on hooked layers
    lam: float = 0.01  # lambda: weight of the penalty in the loss
    beta: float = 0.7  # target entropy as a fraction of log d (fixed schedule)
    beta_schedule: str = "fixed"  # fixed | linear | cosine | reverse | step
    beta_start: float = 0.3  # linear/cosine go start -> end; reverse goes end -> start
    beta_end: float = 0.9
    beta_steps: tuple[float, ...] = (0.3, 0.7, 0.9)  # step: equal shares of training at each value
    layers: str = "all"  # all | first:K | last:K | comma-separated module names
    targets: tuple[str, ...] = ("block",)  # ViT: block | attn_out | attn_weights (any combination; seed 001 Exp 18)
    every_k: int = 1  # compute the penalty every k optimizer steps (seed 001 Exp 10: k=10 is ~free)
    on_unreachable: str = "clamp"  # beta*log d > log(min(d, B-1)): clamp target to that max | error


@dataclass(frozen=True)
class RecipeConfig:
    """ResNet-Strikes-Back parts (seed 000): mixing, soft targets, label smoothing, RandAugment."""

    mixup_alpha: float = 0.0  # 0 = off; mixing trains against soft targets (unless mix_target=hard)
    cutmix_alpha: float = 0.0  # 0 = off
    mix_target: str = "soft"  # soft: lam-weighted targets + soft-target CE | hard: seed 000's bug, kept to
    # measure it: mixed images trained against their own unmixed labels with plain CE (needs mixing on)
    mix_prob: float = 1.0  # share of batches that get mixed when either alpha > 0
    switch_prob: float = 0.5  # mixup vs cutmix when both are on
    label_smoothing: float = 0.0  # folded into the soft targets when mixing, else plain CE smoothing
    randaugment_n: int = 0  # RandAugment ops per image; 0 = off
    randaugment_m: int = 9  # RandAugment magnitude on timm's scale: m/10 of each op's maximum; > 10 saturates


@dataclass(frozen=True)
class EMAConfig:
    enabled: bool = False  # evaluate an exponential moving average of the weights too (val/acc_ema)
    decay: float = 0.9999
    warmup: bool = True  # timm's decay warmup: early steps average faster so the EMA is useful from epoch 1


@dataclass(frozen=True)
class InitConfig:
    """Start from a checkpoint: `continue` keeps chosen state under a new schedule; `warm` copies matching weights."""

    checkpoint: str = path()  # a state.pt (or its folder); empty = train from scratch
    mode: str = "continue"  # continue | warm
    keep: tuple[str, ...] = ("model", "ema", "optimizer")  # continue: which state to take over
    allow_partial: bool = False  # warm: accept layers that could not be copied (the coverage report is logged)
    # warm: layers left as initialized on purpose (a tensor's name, prefixes stripped, or a module path: "fc" leaves
    # fc.weight and fc.bias), to measure what a skipped layer costs (seed 004's silently skipped output layer);
    # they make the copy partial, so they need init.allow_partial=true
    skip: tuple[str, ...] = ()


@dataclass(frozen=True)
class RobustnessConfig:
    enabled: bool = False  # rob/acc on corrupted validation images (CIFAR-10-C constants)
    every: int = 0  # also every N epochs; 0 = at the end only
    corruptions: tuple[str, ...] = ()  # empty = every implemented corruption
    severities: tuple[int, ...] = (1, 2, 3, 4, 5)
    max_images: int = 1000  # validation images used (the first N), bounds the evaluation time


@dataclass(frozen=True)
class MonitorConfig:
    """Pathology monitors: each stops the trial with a labelled reason instead of failing silently."""

    patience: int = 0  # early_stopped after this many epochs without a val/acc gain > min_delta; 0 = off
    min_delta: float = 0.0
    collapse_epochs: int = 3  # collapsed: val/acc at chance, or below collapse_ratio * best, this many epochs; 0 = off
    collapse_ratio: float = 0.5
    memory_growth_mb: float = 0.0  # memory_growth: peak memory grew by more than this per epoch, 3 epochs running; 0 = off
    oom_retry: bool = False  # on OOM, retry once with half the batch and twice the accumulation


@dataclass(frozen=True)
class EvalConfig:
    """When the test split is measured. Decisions (ASHA, the searcher, early stopping, best weights) use val/*."""

    test: str = "auto"  # auto | end | every_epoch | off; auto: every_epoch without a validation split, else end
    # end: once, after the last epoch, on the weights `checkpoint.keep` names (test/*, test/epoch)
    jacobian: bool = False  # κ(J) of the input->logit Jacobian per evaluated input, mean and median
    # (<split>/jacobian_kappa, <split>/jacobian_kappa_median); vector inputs only (data.name=toy2d)


@dataclass(frozen=True)
class CheckpointConfig:
    """Which weights a trial keeps (and evaluates on the test split at its end); the resume state is always kept."""

    keep: str = "last"  # last | best | both: tested at the end; best: the epoch of the best `metric`; both: test/*
    # on the best weights and test/*_last on the last ones
    metric: str = "auto"  # what "best" means; auto: val/<the task's lead metric>; studies.run sets the study's
    mode: str = "auto"  # max | min | auto: the lead metric's direction


@dataclass(frozen=True)
class TaskConfig:
    """What is trained and how it is scored (trainables.tasks): a registered task, or one of your own."""

    name: str = "classification"  # classification | segmentation
    module: str = ""  # a Task subclass of your own, 'package.module:Class' (imported where trials run); wins over name
    dice_weight: float = 1.0  # segmentation: loss = cross-entropy + dice_weight * Dice loss
    # A task of your own's options, (name, value) pairs sorted by name: `--set task.options.gamma=1.5`, or a search
    # space key `task.options.gamma`. The task declares each with its default (`Task.options`) and refuses others.
    options: tuple[tuple[str, Any], ...] = field(default=(), metadata={OPEN: True})


@dataclass(frozen=True)
class DistConfig:
    """Data-parallel training, N workers with DDP (resources.workers; trainables.distributed). data.batch_size is
    each worker's batch, so the global batch is N x data.batch_size; with one worker nothing here applies."""

    sync_bn: bool = False  # BatchNorm statistics over the global batch (torch's SyncBatchNorm, CUDA only); off: each
    # worker normalises its own batch, as the seed's per-GPU BatchNorm did


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 5
    seed: int = 0  # model init, data order and augmentation
    precision: str = "auto"  # auto (bf16 if supported, else fp16+scaler on CUDA, fp32 on CPU) | bf16 | fp16 | fp32
    device: str = "auto"  # auto | cpu | cuda
    num_threads: int = 0  # torch intra-op threads; 0 leaves torch's default
    accum_steps: int = 1  # micro-batches per optimizer step: effective batch = data.batch_size * accum_steps
    grad_checkpointing: bool = False  # recompute activations in backward (timm models that support it)
    loss_weighting: str = "fixed"  # fixed: task + SES penalty | uncertainty: learned weights (Kendall et al. 2018)
    log_var_bounds: tuple[float, ...] = (-2.0, 2.0)  # uncertainty: bounds of each log-variance (seed 002: +-5 diverged)
    task: TaskConfig = field(default_factory=TaskConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    sched: ScheduleConfig = field(default_factory=ScheduleConfig)
    ses: SESConfig = field(default_factory=SESConfig)
    recipe: RecipeConfig = field(default_factory=RecipeConfig)
    ema: EMAConfig = field(default_factory=EMAConfig)
    init: InitConfig = field(default_factory=InitConfig)
    rob: RobustnessConfig = field(default_factory=RobustnessConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    dist: DistConfig = field(default_factory=DistConfig)
