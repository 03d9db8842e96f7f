"""One GPU check of the trainer, without Ray, Optuna or MLflow: `bash benchmarks/gpu_check.sh [--json OUT]`.

On one GPU, in minutes, one Markdown table with the device named: a 2-epoch ResNet-18 run on generated CIFAR-100
in fp32, bf16 and fp16 + GradScaler (losses finite, bf16's and fp16's within a stated tolerance of fp32's); SES step
time / baseline for ResNet-18 B=256 (9 hooks) and ViT-S/4 B=512 (12 blocks) at every_k = 1 and 10; the trainer's
training samples/s / a plain PyTorch + timm loop's (DataLoader workers), eager and with torch.compile; the peak
memory of each; the `gpu`-marked tests. Without a GPU it says so and exits 0; `--cpu-dry` runs it tiny on CPU.
Exit 1 when a check fails (a loss not finite or out of tolerance, a test failed, a part raised); a missed
performance goal is reported in the table, not failed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks import gpu_check_data
from benchmarks.gpu_check_parts import PARTS, Row, Sizes, as_dict, failed, run_part
from benchmarks.gpu_check_ses import Timing
from benchmarks.ses_overhead import BENCHES, Bench, device_name
from trainables.config import OptimConfig
from trainables.loop import release_memory

GPU = Sizes(train_images=50_000, test_images=10_000, model="resnet18", precision_batch=128, precision_limit=0,
            tolerance=True, speed_batch=256, workers=min(8, max(1, (os.cpu_count() or 2) - 2)),
            compile_backend="inductor", ses=((BENCHES["resnet18"], 256), (BENCHES["vit_small"], 512)), ses_image=32,
            timing=Timing(warmup=10, steps=100, block=10))
# --cpu-dry: every code path in seconds, on small models (ViT-Ti keeps ViT-S's 12 blocks) and 8x8 SES inputs
VIT_TINY = Bench("vit_tiny_patch16_224", OptimConfig(name="adamw", lr=1e-3, weight_decay=0.05), 1.0)
DRY = Sizes(train_images=160, test_images=16, model="small_cnn", precision_batch=32, precision_limit=64,
            tolerance=False, speed_batch=32, workers=2, compile_backend="eager",
            ses=((Bench("small_cnn", OptimConfig(name="sgd", lr=0.1), 0.0), 4), (VIT_TINY, 4)), ses_image=8,
            timing=Timing(warmup=1, steps=10, block=10))
DRY_LABEL = "CPU dry run: the code path on tiny sizes, not a GPU figure"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # bad input: one line, exit 2
        self.exit(2, f"error: {message}\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = _Parser(prog="python -m benchmarks.gpu_check", description=__doc__.splitlines()[0])
    p.add_argument("--cpu-dry", action="store_true", help=DRY_LABEL)
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the table's rows, and the device, as JSON")
    p.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts, from {', '.join(PARTS)}")
    args = p.parse_args(argv)
    if unknown := [x for x in args.only.split(",") if x not in PARTS]:
        p.error(f"--only: unknown parts {unknown}; valid: {', '.join(PARTS)}")
    if args.json is not None and not args.json.parent.is_dir():
        p.error(f"--json: the folder {str(args.json.parent)!r} does not exist")
    return args


def header(device: torch.device, dry: bool) -> str:
    import timm
    import torchvision

    where = f"{device_name(device)}" + (f" ({DRY_LABEL})" if dry else "")
    return (f"GPU check on {where}; torch {torch.__version__} (CUDA {torch.version.cuda}), timm {timm.__version__}, "
            f"torchvision {torchvision.__version__}; {os.cpu_count()} CPU cores; {datetime.date.today()}")


def table(rows: list[Row]) -> str:
    lines = ["| part | run | figure | peak MB | check |", "|---|---|---|---:|---|"]
    lines += [f"| {r.part} | {r.run} | {r.figure} | {r.peak_mb} | {r.check} |" for r in rows]
    return "\n".join(lines)


def run(parts: list[str], sizes: Sizes, device: torch.device) -> tuple[list[Row], dict[str, float]]:
    """Every part's rows (a part that raises: one failed row, its traceback on stderr) and its seconds."""
    rows, seconds = [], {}
    with tempfile.TemporaryDirectory(prefix="gpu_check_") as tmp:
        root = gpu_check_data.write(Path(tmp), train=sizes.train_images, test=sizes.test_images)
        for part in parts:
            t0 = time.perf_counter()
            try:
                rows += run_part(part, root, sizes, device)
            except Exception as error:  # noqa: BLE001 - one part's bug must not lose the others' figures
                rows.append(failed(part, "-", error))
            seconds[part] = time.perf_counter() - t0
            release_memory()
            print(f"{part}: {seconds[part]:.0f} s", file=sys.stderr, flush=True)
    return rows, seconds


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.cpu_dry and not torch.cuda.is_available():
        print("no GPU is available (torch.cuda.is_available() is False): on one this prints the precisions, SES's "
              "step time, the trainer against a plain loop and the gpu-marked tests; --cpu-dry runs it tiny on CPU")
        return 0
    device = torch.device("cpu" if args.cpu_dry else "cuda")
    if args.cpu_dry:
        torch.set_num_threads(1)  # tiny models gain nothing from more, and a shared CI machine's other jobs cost less
    t0 = time.perf_counter()
    rows, seconds = run(args.only.split(","), DRY if args.cpu_dry else GPU, device)
    total = time.perf_counter() - t0
    head = header(device, args.cpu_dry)
    print(head)
    print()
    print(table(rows))
    print()
    print(f"{total:.0f} s in all ({', '.join(f'{k} {v:.0f} s' for k, v in seconds.items())}); peak MB: the device's "
          f"peak allocated memory (CPU: the process's peak RSS); trainer / plain loop: the trainer's MB / the loop's")
    failed = [f"{r.part}: {r.run}" for r in rows if not r.ok]
    if args.json is not None:
        args.json.write_text(json.dumps({"header": head, "device": device_name(device), "dry": args.cpu_dry,
                                         "torch": torch.__version__, "seconds": seconds, "total_s": total,
                                         "rows": [as_dict(r) for r in rows], "failed": failed}, indent=1))
    if failed:
        print(f"checks failed: {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
