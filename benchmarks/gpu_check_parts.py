"""The four parts of the GPU check, each a function of its sizes returning table rows: the precisions, SES's step
time, the trainer against a plain loop, the `gpu`-marked tests. The trainer, torch, timm and torchvision only."""

from __future__ import annotations

import dataclasses
import math
import traceback
from dataclasses import dataclass
from pathlib import Path

import torch

from benchmarks import gpu_check_plain, gpu_check_tests, gpu_check_trainer
from benchmarks.gpu_check_ses import Timing, measure
from benchmarks.ses_overhead import Bench
from trainables.optim.precision import build_precision, resolve_precision

PRECISIONS = ("fp32", "bf16", "fp16")
LOSS_TOLERANCE = 0.10  # bf16's and fp16's last train/loss within 10% of fp32's (the data's floor is ~1.7 nats)
ACC_TOLERANCE = 0.05  # and their val/acc within 5 points of fp32's
SES_GOAL = 1.05  # SES step time / baseline at every_k=1
EPOCHS = 2


@dataclass(frozen=True)
class Row:
    part: str
    run: str
    figure: str
    peak_mb: str  # the device's peak allocated memory (CPU: the process's peak RSS)
    check: str
    ok: bool = True  # False fails the check (exit 1); a missed performance goal is a finding, not a failure


def failed(part: str, run: str, error: Exception) -> Row:
    """The row of a run that raised (its traceback goes to stderr): the other runs' figures are kept."""
    traceback.print_exc()
    first = (str(error).splitlines() or [""])[0][:200]
    return Row(part, run, f"{type(error).__name__}: {first}", "-", "FAIL: raised", ok=False)


@dataclass(frozen=True)
class Sizes:
    """How big each part runs: the GPU's, or `--cpu-dry`'s few seconds on CPU."""

    train_images: int
    test_images: int
    model: str  # the trainer's and the plain loop's model
    precision_batch: int
    precision_limit: int  # data.limit_train of the precision runs (0: every training image)
    tolerance: bool  # check bf16's and fp16's figures against fp32's (a dry run's handful of images cannot)
    speed_batch: int
    workers: int  # the plain loop's DataLoader workers
    compile_backend: str  # torch.compile's backend for the compiled rows
    ses: tuple[tuple[Bench, int], ...]  # (model, batch)
    ses_image: int
    timing: Timing


def trainer_overrides(root: Path, sizes: Sizes, *, precision: str, batch: int, device: torch.device) -> dict:
    return {"epochs": EPOCHS, "seed": 0, "precision": precision, "device": device.type, "data.name": "cifar100",
            "data.root": str(root), "data.batch_size": batch, "model.name": sizes.model, "eval.test": "off"}


def _mb(value: float) -> str:
    return f"{value:,.0f}"


def precision_check(last: dict[str, float], ref: dict[str, float] | None, tolerance: bool) -> tuple[str, bool]:
    if not all(math.isfinite(last.get(k, math.nan)) for k in ("train/loss", "val/loss")):
        return f"FAIL: a loss is not finite ({last.get('train/loss')}, {last.get('val/loss')})", False
    if ref is None:
        return "ok: losses finite (the reference)", True
    if not tolerance:
        return "ok: losses finite (tolerance not checked on a dry run's few images)", True
    rel = last["train/loss"] / ref["train/loss"] - 1
    acc = last["val/acc"] - ref["val/acc"]
    ok = abs(rel) <= LOSS_TOLERANCE and abs(acc) <= ACC_TOLERANCE
    verdict = "ok" if ok else "FAIL"
    return (f"{verdict}: finite; train/loss {rel:+.1%} of fp32's (<= {LOSS_TOLERANCE:.0%}), val/acc "
            f"{acc * 100:+.1f} pt (<= {ACC_TOLERANCE * 100:.0f})"), ok


def precisions(root: Path, sizes: Sizes, device: torch.device) -> list[Row]:
    rows, ref = [], None
    for name in PRECISIONS:
        label = "fp16 + GradScaler" if name == "fp16" else name
        run = f"{sizes.model}, {label}, {EPOCHS} epochs, B={sizes.precision_batch}"
        overrides = trainer_overrides(root, sizes, precision=name, batch=sizes.precision_batch, device=device)
        try:
            epochs = gpu_check_trainer.train({**overrides, "data.limit_train": sizes.precision_limit})
        except Exception as error:  # noqa: BLE001 - one precision's failure is a finding; the others still run
            rows.append(failed("precision", run, error))
            continue
        first, last = epochs[0], epochs[-1]
        check, ok = precision_check(last, ref, sizes.tolerance)
        ref = ref or last
        rows.append(Row("precision", run,
                        f"train/loss {first['train/loss']:.3f} -> {last['train/loss']:.3f}, val/loss "
                        f"{last['val/loss']:.3f}, val/acc {last['val/acc']:.1%}, "
                        f"{last['sys/samples_per_s']:,.0f} samples/s", _mb(last["sys/peak_mem_mb"]), check, ok))
    return rows


def ses(sizes: Sizes, device: torch.device) -> list[Row]:
    precision = build_precision("auto", device)
    rows = []
    for bench, batch in sizes.ses:
        try:
            hooks, variants = measure(bench, (1, 10), batch=batch, image=sizes.ses_image, timing=sizes.timing,
                                      device=device, precision=precision)
        except Exception as error:  # noqa: BLE001 - e.g. out of memory: the other model's rows still stand
            rows.append(failed("SES", f"{bench.model} B={batch}, {precision.name}", error))
            continue
        for v in variants:
            what = f"{bench.model} B={batch}, {hooks} SES hooks, {precision.name}, {v['variant']}"
            if v is variants[0]:
                rows.append(Row("SES", what, f"{v['ms_per_step']:.1f} ms/step", _mb(v["peak_mb"]), "baseline"))
                continue
            goal = ""
            if v["variant"] == "every_k=1":
                goal = f"goal <= {SES_GOAL}: {'met' if v['ratio'] <= SES_GOAL else 'missed'}"
            rows.append(Row("SES", what, f"{v['ratio']:.3f} x baseline ({v['ms_per_step']:.1f} ms/step)",
                            _mb(v["peak_mb"]), goal or "-"))
    return rows


def speed(root: Path, sizes: Sizes, device: torch.device) -> list[Row]:
    precision = resolve_precision("auto", device)
    limit = sizes.train_images - round(sizes.train_images * 0.1)  # the trainer's training split (val_fraction 0.1)
    rows = []
    for backend in (None, sizes.compile_backend):
        mode = f"torch.compile ({backend})" if backend else "eager"
        run = f"{sizes.model} B={sizes.speed_batch}, {precision}, {mode}, epoch {EPOCHS} of {EPOCHS}"
        try:  # torch.compile needs a compiler toolchain: without one the eager row still stands
            overrides = trainer_overrides(root, sizes, precision=precision, batch=sizes.speed_batch, device=device)
            ours = gpu_check_trainer.train(overrides, compile_backend=backend)[-1]
            plain = gpu_check_plain.train(str(root), model=sizes.model, batch=sizes.speed_batch,
                                          precision=precision, epochs=EPOCHS, workers=sizes.workers, limit=limit,
                                          device=device, compile_backend=backend)[-1]
        except Exception as error:  # noqa: BLE001
            rows.append(failed("trainer / plain loop", run, error))
            continue
        ratio = ours["sys/samples_per_s"] / plain["sys/samples_per_s"]
        rows.append(Row("trainer / plain loop", run,
                        f"{ratio:.2f} x ({ours['sys/samples_per_s']:,.0f} vs {plain['sys/samples_per_s']:,.0f} "
                        f"samples/s; plain: {sizes.workers} DataLoader workers)",
                        f"{_mb(ours['sys/peak_mem_mb'])} / {_mb(plain['sys/peak_mem_mb'])}",
                        "trainer at least as fast" if ratio >= 1 else "trainer slower: the next thing to fix"))
    return rows


def gpu_tests(device: torch.device) -> list[Row]:
    files = gpu_check_tests.marked_files()
    counts, status = gpu_check_tests.run(files)
    ok = gpu_check_tests.verdict(counts, status, need_pass=device.type == "cuda")
    figure = ", ".join(f"{n} {k}" for k, n in counts.items()) or f"pytest exit status {status}"
    return [Row("tests", f"pytest -m gpu ({len(files)} files)", figure, "-", "ok" if ok else "FAIL", ok)]


PARTS = ("precision", "ses", "speed", "tests")


def run_part(name: str, root: Path, sizes: Sizes, device: torch.device) -> list[Row]:
    table = {"precision": lambda: precisions(root, sizes, device), "ses": lambda: ses(sizes, device),
             "speed": lambda: speed(root, sizes, device), "tests": lambda: gpu_tests(device)}
    return table[name]()


def as_dict(row: Row) -> dict:
    return dataclasses.asdict(row)
