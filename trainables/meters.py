"""Epoch means kept as device tensors (no host sync per step) and memory figures for `sys/*` metrics."""

from __future__ import annotations

import resource

import torch


class Means:
    """Running sums on the device; `result()` reads them all back in one transfer."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._sums: dict[str, torch.Tensor] = {}
        self._counts: dict[str, int] = {}

    def add(self, key: str, total: torch.Tensor, count: int) -> None:
        total = total.detach().float().to(self.device)
        self._sums[key] = self._sums[key] + total if key in self._sums else total
        self._counts[key] = self._counts.get(key, 0) + count

    def count(self, key: str) -> int:
        return self._counts.get(key, 0)

    def result(self) -> dict[str, float]:
        if not self._sums:
            return {}
        values = torch.stack(list(self._sums.values())).tolist()
        return {k: v / self._counts[k] for k, v in zip(self._sums, values)}


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_mb(device: torch.device) -> float:
    """CUDA: peak allocated this epoch. CPU: the process's peak resident set so far (Linux reports KiB)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
