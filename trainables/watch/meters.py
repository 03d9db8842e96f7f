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
    """Start a new peak for this epoch (CUDA: allocator stats; Linux CPU: the process's RSS high-water mark)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return
    try:  # "5" resets VmHWM (Linux >= 4.0); without it a leak only shows once it passes an earlier transient peak
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_memory_mb(device: torch.device) -> float:
    """CUDA: peak allocated since the last reset. CPU: peak resident set since the last reset (VmHWM), or the
    process's lifetime peak where /proc is unavailable."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
