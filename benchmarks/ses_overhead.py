"""Step time of SES against the same model without it: `python -m benchmarks.ses_overhead [--device cuda]`.

Full training steps (forward, SES penalty, backward, clipping, optimizer) on a fixed synthetic batch, variants
interleaved in blocks so drift (clocks, other jobs) hits all of them alike; prints ms/step and SES/baseline.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import platform
import time
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from trainables.config import ModelConfig, OptimConfig, SESConfig
from trainables.models.by_name import build_model
from trainables.optim.grad_step import GradStep
from trainables.optim.optimizers import build_optimizer
from trainables.optim.precision import Precision, build_precision, resolve_device
from trainables.ses import build_ses

NUM_CLASSES, IMAGE = 100, 32  # CIFAR-100 shapes, as seed 001's timing figures
EVERY_K = (1, 10)
CYCLE = 10  # timed steps per variant must be a multiple of this, so every_k=10 gets exactly 1 SES step in 10


@dataclasses.dataclass(frozen=True)
class Bench:
    """One model as seed 001 trained it: ResNet-18 with SGD, ViT-S/4 with AdamW and clipping at 1.0 (bug 12)."""

    model: str
    optim: OptimConfig
    grad_clip: float


BENCHES = {
    "resnet18": Bench("resnet18", OptimConfig(name="sgd", lr=0.1), 0.0),  # 8 blocks + global_pool = 9 hooks
    "vit_small": Bench("vit_small_patch16_224", OptimConfig(name="adamw", lr=1e-3, weight_decay=0.05), 1.0),
}


class Variant:
    """A model copy with its optimizer and SES object (NoSES for the baseline), and its own step counter."""

    def __init__(self, name: str, model: nn.Module, bench: Bench, ses_cfg: SESConfig) -> None:
        self.name, self.model, self.bench = name, model, bench
        self.optimizer = build_optimizer(model, bench.optim)
        self.ses = build_ses(model, ses_cfg, total_steps=1_000_000)
        self.step, self.block_ms = 0, []


def train_step(v: Variant, x: torch.Tensor, y: torch.Tensor, precision: Precision, grad_step: GradStep) -> None:
    """The step of trainables.step.train_one_epoch, without the LR schedule and metric sums."""
    v.ses.begin_step(v.step)
    with precision.autocast():
        loss = F.cross_entropy(v.model(x), y)
    penalty, _ = v.ses.penalty(v.step)
    v.optimizer.zero_grad(set_to_none=True)
    grad_step(loss + penalty, v.optimizer, v.model.parameters())
    v.step += 1


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"CPU {cpu}, {torch.get_num_threads()} threads"


def measure(bench: Bench, args, device: torch.device, precision: Precision) -> tuple[list[Variant], int]:
    torch.manual_seed(0)
    grad_step = GradStep(precision.scaler, clip_grad=bench.grad_clip)
    base = build_model(ModelConfig(name=bench.model), num_classes=NUM_CLASSES, in_chans=3, image_size=IMAGE)
    base = base.to(device).train()
    targets = tuple(args.vit_targets.split(",")) if bench.model.startswith("vit") else ("block",)
    ses_on = SESConfig(enabled=True, layers="all", targets=targets)
    variants = [Variant("baseline", base, bench, SESConfig(enabled=False))]
    variants += [Variant(f"ses every_k={k}", copy.deepcopy(base), bench, dataclasses.replace(ses_on, every_k=k))
                 for k in EVERY_K]
    hooks = len(variants[1].ses.layer_names)
    x = torch.randn(args.batch, 3, IMAGE, IMAGE, device=device)
    y = torch.randint(0, NUM_CLASSES, (args.batch,), device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # unreachable-target clamping at small batches
        for v in variants:
            for _ in range(args.warmup):
                train_step(v, x, y, precision, grad_step)
            v.step = 0  # timed steps start on an SES step, so every_k=10 gets exactly its share
        for r in range(args.steps // args.block):
            for v in variants[r % 3:] + variants[: r % 3]:  # rotate who goes first
                sync(device)
                t0 = time.perf_counter()
                for _ in range(args.block):
                    train_step(v, x, y, precision, grad_step)
                sync(device)
                v.block_ms.append((time.perf_counter() - t0) * 1e3 / args.block)
    for v in variants:
        v.ses.close()
    return variants, hooks


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.ses_overhead", description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--precision", default="auto", help="auto (bf16/fp16 on CUDA, fp32 on CPU) | bf16 | fp16 | fp32")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=100, help=f"timed steps per variant, a multiple of {CYCLE}")
    p.add_argument("--block", type=int, default=10, help="steps per timed block; variants alternate between blocks")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps per variant first")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads; 0 keeps torch's default")
    p.add_argument("--models", default="resnet18,vit_small", help=f"comma-separated, from {', '.join(BENCHES)}")
    p.add_argument("--vit-targets", default="block", help="ses.targets for the ViT: block,attn_out,attn_weights")
    args = p.parse_args(argv)
    if args.block < 1 or args.steps < CYCLE or args.steps % CYCLE or args.steps % args.block:
        p.error(f"--steps must be a multiple of {CYCLE} and of --block >= 1, but got ({args.steps=}, {args.block=})")
    if args.batch < 2 or args.warmup < 0:
        p.error(f"need --batch >= 2 and --warmup >= 0, but got ({args.batch=}, {args.warmup=})")
    if unknown := [m for m in args.models.split(",") if m not in BENCHES]:
        p.error(f"unknown --models {unknown}; valid: {', '.join(BENCHES)}")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    precision = build_precision(args.precision, device)
    print(f"SES overhead on {device_name(device)}; torch {torch.__version__}, precision {precision.name}, "
          f"batch {args.batch} x 3x{IMAGE}x{IMAGE}, {NUM_CLASSES} classes, synthetic data; {args.warmup} warm-up + "
          f"{args.steps} timed steps per variant, interleaved in blocks of {args.block}")
    print(f"{'model':<22}{'hooks':>6}  {'variant':<17}{'ms/step':>10}{'min..max block':>20}{'SES/baseline':>14}")
    for name in args.models.split(","):
        variants, hooks = measure(BENCHES[name], args, device, precision)
        base = sum(variants[0].block_ms) / len(variants[0].block_ms)
        for v in variants:
            mean = sum(v.block_ms) / len(v.block_ms)
            spread = f"{min(v.block_ms):.1f}..{max(v.block_ms):.1f}"
            print(f"{BENCHES[name].model:<22}{hooks:>6}  {v.name:<17}{mean:>10.1f}{spread:>20}{mean / base:>14.3f}")
        del variants
        if device.type == "cuda":
            torch.cuda.empty_cache()  # seed 001 bug 2: free one model before the next


if __name__ == "__main__":
    main()
