"""How many trials a cluster holds at once, counted the way Ray's scheduler counts: no Ray imported, so Study
validation and the dry run can use it; `studies.tune.tuner.max_concurrent` is this on a live cluster's totals.

Ray keeps every resource in fixed point (ray._raylet.RESOURCE_UNIT_SCALING = 10_000 units per CPU or GPU, a request
truncated to them: 0.33336 GPU holds 0.3333) and a GPU is a unit instance: a fractional request must fit in one
GPU's remainder, so 2 GPUs hold 4 trials of 0.4 GPU, not 5, and a request above 1 must be whole. Python's float
floor division gets these wrong (1 // 0.1 == 9.0, 2 // 0.4 == 4.0 but 3 // 0.4 == 7.0).
"""

from __future__ import annotations

RESOURCE_UNIT = 10_000  # Ray's units per CPU/GPU (ray._raylet.RESOURCE_UNIT_SCALING; tests/studies/tune/test_packing.py)


def units(quantity: float) -> int:
    """`quantity` CPUs or GPUs in Ray's fixed point: truncated, as Ray's FixedPoint(double) does."""
    return int(quantity * RESOURCE_UNIT)


def gpu_request_error(gpus: float) -> str | None:
    """Why Ray refuses `gpus` (>= 0) per worker, in one line (its own words where it has them), or None."""
    if 0 < gpus and units(gpus) == 0:
        return f"gpus_per_trial={gpus:g} is below Ray's precision of {1 / RESOURCE_UNIT:g} GPU"
    if gpus > 1 and gpus != int(gpus):  # ray.remote(num_gpus=1.5): "GPU resource quantities >1 must be whole numbers"
        return (f"gpus_per_trial={gpus:g} is neither a share of one GPU (<= 1) nor whole GPUs, and Ray refuses it "
                "(\"GPU resource quantities >1 must be whole numbers\")")
    return None


def trials_per_gpu(gpus_per_trial: float) -> int:
    """Workers of `gpus_per_trial` (0 < g <= 1) that one GPU holds at once: floor(1 / g) in Ray's units."""
    if not 0 < gpus_per_trial <= 1:
        raise ValueError(f"`0 < gpus_per_trial <= 1` must hold, but got ({gpus_per_trial=})")
    return RESOURCE_UNIT // units(gpus_per_trial)


def concurrency(*, cpus: float, gpus: float, cpus_per_worker: float, gpus_per_worker: float, workers: int = 1) -> int:
    """Trials of `workers` workers, each holding `cpus_per_worker` CPUs and `gpus_per_worker` GPUs, that `cpus` CPUs
    and `gpus` GPUs hold at once (one node's worth; a worker group's workers may share a GPU). At least 1: a trial
    that fits nowhere still queues, and Ray names what it lacks."""
    by_cpu = units(cpus) // (units(cpus_per_worker) * workers)
    if not gpus_per_worker:
        return max(1, by_cpu)
    if gpus_per_worker <= 1:
        slots = int(gpus) * trials_per_gpu(gpus_per_worker)  # worker slots: each fits in one GPU's remainder
    else:
        slots = int(gpus) // int(gpus_per_worker)
    return max(1, min(by_cpu, slots // workers))
