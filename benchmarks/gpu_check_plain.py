"""The yardstick for the trainer's throughput: a minimal plain PyTorch + timm training loop, as a user writes one.

A Dataset of uint8 images, torchvision's per-image crop/flip/normalize in DataLoader workers (pinned memory,
persistent workers), `torch.autocast`, a GradScaler for fp16, SGD, cross-entropy. The model is built by
`trainables.models.by_name` so that it is the very network the trainer trains (timm's ResNet-18 with the 32x32 stem):
only the loop differs. No validation: the figure is training samples/s per epoch, as the trainer's
`sys/samples_per_s`.
"""

from __future__ import annotations

import time
from contextlib import nullcontext

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

from trainables.config import ModelConfig
from trainables.data.sources import CIFAR100, CIFAR100_STATS, read_cifar
from trainables.models.by_name import build_model
from trainables.watch.meters import peak_memory_mb, reset_peak_memory

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class Images(Dataset):
    """uint8 (N, 3, 32, 32) images and their labels, each transformed on its own in a worker."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        self.images, self.labels = images, labels
        mean, std = CIFAR100_STATS
        self.transform = v2.Compose([v2.RandomCrop(32, padding=4), v2.RandomHorizontalFlip(),
                                     v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)])

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.transform(self.images[i]), self.labels[i]


def train(root: str, *, model: str, batch: int, precision: str, epochs: int, workers: int, limit: int,
          device: torch.device, compile_backend: str | None = None, seed: int = 0) -> list[dict[str, float]]:
    """Train `model` on the first `limit` training images under `root`; per epoch: samples/s, peak MB, loss."""
    torch.manual_seed(seed)
    raw = read_cifar(CIFAR100, root, "train")
    images, labels = torch.from_numpy(raw.images[:limit]), torch.from_numpy(raw.labels[:limit])
    loader = DataLoader(Images(images, labels), batch_size=batch, shuffle=True, drop_last=True, num_workers=workers,
                        pin_memory=device.type == "cuda", persistent_workers=workers > 0)
    net = build_model(ModelConfig(name=model), num_classes=len(raw.classes), in_chans=3, image_size=32).to(device)
    step_net = torch.compile(net, backend=compile_backend) if compile_backend else net
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    autocast = (torch.autocast(device.type, dtype=DTYPES[precision]) if precision in DTYPES else nullcontext())
    out = []
    for epoch in range(epochs):
        net.train()
        reset_peak_memory(device)
        loss_sum, samples = torch.zeros((), device=device), 0
        t0 = time.perf_counter()
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with autocast:
                loss = F.cross_entropy(step_net(x), y)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            loss_sum += loss.detach() * len(y)
            samples += len(y)
        mean_loss = (loss_sum / samples).item()  # syncs the device: the epoch's work is all in the time
        seconds = time.perf_counter() - t0
        out.append({"epoch": epoch + 1, "train/loss": mean_loss, "sys/samples_per_s": samples / seconds,
                    "sys/peak_mem_mb": peak_memory_mb(device)})
    if compile_backend:
        torch._dynamo.reset()
    return out
