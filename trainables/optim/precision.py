"""Mixed precision chosen once per run: bf16 autocast where supported, fp16 with a gradient scaler where not, fp32.

The loop gets an `autocast()` context factory and a `GradScaler` that is a no-op unless fp16 is in use.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Callable, ContextManager

import torch

PRECISIONS = ("auto", "bf16", "fp16", "fp32")


@dataclass(frozen=True)
class Precision:
    name: str  # the resolved one: bf16 | fp16 | fp32
    autocast: Callable[[], ContextManager]
    scaler: torch.amp.GradScaler  # enabled only for fp16, whose small range needs loss scaling


def resolve_precision(name: str, device: torch.device) -> str:
    if name not in PRECISIONS:
        raise ValueError(f"unknown precision {name!r}; valid: {', '.join(PRECISIONS)}")
    if name != "auto":
        return name
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"  # e.g. T4 has no bf16 (seed 001 bug 10)
    # CPU autocast to bf16 is slower than fp32 on CPUs without bf16 units, which most CI/laptop CPUs are.
    return "fp32"


def build_precision(name: str, device: torch.device) -> Precision:
    resolved = resolve_precision(name, device)
    scaler = torch.amp.GradScaler(device.type, enabled=resolved == "fp16")
    if resolved == "fp32":
        return Precision(resolved, nullcontext, scaler)
    dtype = torch.bfloat16 if resolved == "bf16" else torch.float16
    return Precision(resolved, partial(torch.autocast, device_type=device.type, dtype=dtype), scaler)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {name!r}; valid: auto, cpu, cuda")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device=cuda but torch sees no CUDA device")
    return torch.device(name)
