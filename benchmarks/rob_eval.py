"""Cost of one robustness evaluation: `python -m benchmarks.rob_eval [--images 1000] [--device cpu] [--threads N]`.

Times evaluate_robustness over every corruption x 5 severities with small_cnn on synthetic 32x32 RGB images, then
splits it into each corruption's own time (5 severities) and the model's forward passes.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from trainables.config import ModelConfig
from trainables.models.by_name import build_model
from trainables.robustness import CORRUPTIONS, SEVERITIES, corrupt, evaluate_robustness


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=512)  # DataConfig.eval_batch_size's default
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads; 0 keeps the default")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (args.images, 3, 32, 32), generator=gen).float().div(255).to(device)
    y = torch.randint(0, 10, (args.images,), generator=gen).to(device)
    batches = [(x[i:i + args.batch], y[i:i + args.batch]) for i in range(0, args.images, args.batch)]
    model = build_model(ModelConfig(), num_classes=10, in_chans=3, image_size=32).to(device).eval()
    names = list(CORRUPTIONS)
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} "
          f"threads, {device}: {args.images} images x {len(names)} corruptions x {len(SEVERITIES)} severities")

    _sync(device)
    t0 = time.perf_counter()
    evaluate_robustness(model, batches, lambda v: (v - 0.5) / 0.25, corruptions=names, severities=SEVERITIES)
    total = time.perf_counter() - t0
    print(f"evaluate_robustness: {total:.1f} s")

    for name in names:
        _sync(device)
        t0 = time.perf_counter()
        for s in SEVERITIES:
            for xb, _ in batches:
                corrupt(xb, name, s, gen)
        _sync(device)
        print(f"  {name:18s} {time.perf_counter() - t0:6.2f} s")
    with torch.no_grad():
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(len(names) * len(SEVERITIES)):
            for xb, _ in batches:
                model(xb)
        _sync(device)
    print(f"  {'small_cnn forward':18s} {time.perf_counter() - t0:6.2f} s ({len(names) * len(SEVERITIES)} passes)")


if __name__ == "__main__":
    main()
