"""Epoch means kept as device tensors (no host sync per step) and memory figures for `sys/*` metrics."""

from __future__ import annotations

import os
import resource
import time

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


def rss_mb() -> float:
    """The process's resident memory now (Linux: /proc/self/statm), or its lifetime peak where that is unreadable."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ProcessMeter:
    """What the trial's process used since the last `read` (or its creation): CPU cores (CPU seconds of every thread
    per wall second), resident memory now; on CUDA the device's utilisation (NVML, where torch can read it) and the
    memory torch's caching allocator holds. The system metrics a researcher packing trials onto nodes reads."""

    def __init__(self) -> None:
        self._cpu, self._wall = time.process_time(), time.perf_counter()

    def read(self, device: torch.device) -> dict[str, float]:
        cpu, wall = time.process_time(), time.perf_counter()
        out = {"sys/cpu_cores": (cpu - self._cpu) / max(wall - self._wall, 1e-9), "sys/rss_mb": rss_mb()}
        self._cpu, self._wall = cpu, wall
        if device.type == "cuda":
            out["sys/gpu_mem_reserved_mb"] = torch.cuda.memory_reserved(device) / 2**20
            try:
                out["sys/gpu_util_pct"] = float(torch.cuda.utilization(device))
            except Exception:  # noqa: BLE001 -- no NVML (pynvml) here: the figure is left out, training goes on
                pass
        return out
