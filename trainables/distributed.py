"""Data-parallel (DDP) training without Ray: which rank this process is, and the few collectives the loop needs.

Ray Train's TorchTrainer (or torchrun) initialises torch.distributed before the loop runs. With one process, or
none initialised, every helper here is the identity, so a single-process run is exactly what it was.

What each rank does (`resources.workers = N`):
- data: `data.batch_size` is the batch of ONE worker. Every rank draws the same permutation of the epoch (run seed,
  epoch) and cuts it into global batches of N x data.batch_size; rank r trains on the r-th slice of each, so N
  workers see, step by step, exactly the samples one worker with a batch N times larger sees
  (trainables.data.batching.Shard). Augmentation draws from a generator of (seed, epoch, rank).
- RNG: numpy's per-epoch stream (mixing's lambdas) is the same on every rank, as for one worker with the global
  batch; torch's global RNG (dropout) is reseeded every epoch from (seed, epoch, rank): ranks draw differently,
  and a resumed epoch draws as the uninterrupted one did.
- gradients: averaged by DistributedDataParallel during backward; parameters outside the model (learned loss
  weights) by `average_gradients`. Weights, and hence the EMA that follows them, stay identical on every rank.
- BatchNorm: each rank normalises its own shard (as the seed's per-GPU BatchNorm did) unless `dist.sync_bn`;
  the running statistics are rank 0's before every forward (DDP) and at every epoch's end (`sync_buffers`).
- metrics: the train means are reduced over the global batch (`global_means`); evaluation runs the full split on
  every rank (no meter needs to know about ranks: AUC and medians do not add up), and rank 0's report is the one
  every rank reports and decides on (`from_rank0`). A non-finite loss on any rank stops all (`first_flagged`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor, nn

_TORCH_STREAM = 0xDD9  # tags each rank's per-epoch torch RNG stream, apart from the data's and numpy's


def world() -> int:
    """Processes training this run together: 1 when torch.distributed is not initialised."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if world() > 1 else 0


def _comm_device() -> torch.device:
    """Where a collective's tensors must live: this rank's GPU for NCCL, the CPU for gloo."""
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def local_device(device: torch.device) -> torch.device:
    """`device`, on CUDA with several ranks pinned to torch's current device: Ray Train sets it per worker (a
    launcher that does not must call torch.cuda.set_device(LOCAL_RANK) before the loop)."""
    if world() == 1 or device.type != "cuda" or device.index is not None:
        return device
    return torch.device("cuda", torch.cuda.current_device())


def sync_batchnorm(model: nn.Module, enabled: bool, device: torch.device) -> nn.Module:
    """`model` with torch's SyncBatchNorm for every BatchNorm when `enabled` and there are several ranks (with one
    it changes nothing). Call it before the optimizer and the EMA are built: it replaces modules."""
    if not enabled or world() == 1:
        return model
    if device.type != "cuda":  # torch's SyncBatchNorm raises on CPU batches in its first training forward
        raise ValueError(f"dist.sync_bn: torch's SyncBatchNorm synchronises CUDA batches only, but this run trains "
                         f"on {device.type}; set dist.sync_bn=false (got True)")
    return nn.SyncBatchNorm.convert_sync_batchnorm(model)


def data_parallel(model: nn.Module, device: torch.device) -> nn.Module:
    """What the training forward calls: `model` itself in one process, else its DistributedDataParallel wrapper.

    The wrapper is used for nothing else: checkpoints, the EMA, evaluation and warm starts see `model`, so state
    dicts carry no `module.` prefix and load into one-worker runs and back.
    """
    if world() == 1:
        return model
    return nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def average_gradients(module: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Average `module`'s gradients over the ranks before each step of `optimizer`: for parameters trained beside
    the DDP-wrapped model, which DDP does not see (the learned loss weights, trainables.optim.uncertainty)."""
    if world() == 1:
        return

    def average(*_: Any) -> None:
        for param in module.parameters():
            if param.grad is not None:
                dist.all_reduce(param.grad)  # gloo has no ReduceOp.AVG
                param.grad.div_(world())

    optimizer.register_step_pre_hook(average)


def seed_rank(seed: int, epoch: int) -> None:
    """With several ranks, torch's global RNG (dropout, ...) from (seed, epoch, rank); one process keeps its own
    stream, which its checkpoints carry."""
    if world() == 1:
        return
    state = np.random.SeedSequence([seed, epoch, rank(), _TORCH_STREAM]).generate_state(1, dtype=np.uint64)[0]
    torch.manual_seed(int(state))


def global_means(values: Mapping[str, tuple[float, int]]) -> dict[str, float]:
    """{key: (this rank's mean, over how many)} -> each key's mean over every rank's samples: the sum of the ranks'
    sums over the sum of their counts, not a mean of means (counts may differ). Every rank passes the same keys,
    in the same order; one all-reduce, in float64."""
    if world() == 1 or not values:
        return {key: mean for key, (mean, _) in values.items()}
    sums = torch.tensor([[mean * n, n] for mean, n in values.values()], dtype=torch.float64, device=_comm_device())
    dist.all_reduce(sums)
    return {key: total / n if n else math.nan for key, (total, n) in zip(values, sums.tolist())}


def total(count: int) -> int:
    """`count` summed over the ranks (samples seen by all of them)."""
    if world() == 1:
        return count
    summed = torch.tensor(count, dtype=torch.int64, device=_comm_device())
    dist.all_reduce(summed)
    return int(summed)


def first_flagged(step: Tensor, value: Tensor) -> tuple[int, float, int]:
    """(step, value, rank) of the earliest `step` >= 0 over the ranks (-1: no rank flagged one; ties go to the
    lowest rank): one all-gather, so every rank sees, and stops on, what any rank saw."""
    if world() == 1:
        flagged = int(step)
        return flagged, float(value) if flagged >= 0 else math.nan, 0
    device = _comm_device()
    mine = torch.stack([step.to(device, torch.float64), value.to(device, torch.float64),
                        torch.tensor(float(rank()), dtype=torch.float64, device=device)])
    rows = [torch.empty_like(mine) for _ in range(world())]
    dist.all_gather(rows, mine)
    flagged = sorted((s, r, v) for s, v, r in (row.tolist() for row in rows) if s >= 0)
    if not flagged:
        return -1, math.nan, 0
    s, r, v = flagged[0]
    return int(s), v, int(r)


def from_rank0(obj: Any) -> Any:
    """Rank 0's `obj` (picklable) on every rank: the one copy of a report that every rank reports and decides on."""
    if world() == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def sync_buffers(*modules: nn.Module | None) -> None:
    """Rank 0's buffers (BatchNorm's running statistics) in each module on every rank, as DDP copies them before
    each forward: without SyncBatchNorm a rank's last step leaves statistics of its own shard. None is skipped."""
    if world() == 1:
        return
    for module in modules:
        for buffer in module.buffers() if module is not None else ():
            dist.broadcast(buffer, src=0)
