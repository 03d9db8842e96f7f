"""The reference each instance's regret is measured against: the validation accuracy at the last epoch of a fixed,
seeded sample of configurations, reduced to its best and its median and cached as JSON (a rerun reads it)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from benchmarks.lcbench.yahpo_surrogate import EPOCHS, Surrogate

SAMPLE = 10_000  # configurations per instance, each at full fidelity
SEED = 20240  # the sample's seed: the same sample for every method, run and machine


@dataclass(frozen=True)
class Reference:
    best: float  # the sample's best validation accuracy at EPOCHS, percent: regret 0
    median: float  # its median: regret 1
    median_time: float  # its median seconds to train EPOCHS epochs: the hypervolume's reference in time
    size: int
    seed: int


def compute(surrogate: Surrogate, instance: str, size: int = SAMPLE, seed: int = SEED) -> Reference:
    rng = np.random.default_rng([seed, int(instance)])
    configs = surrogate.sample(rng, size)
    final = surrogate.curves(instance, configs, epochs=(EPOCHS,))
    val = final.val_acc[:, 0]
    return Reference(best=float(val.max()), median=float(np.median(val)),
                     median_time=float(np.median(final.time[:, 0])), size=size, seed=seed)


def load_or_compute(surrogate: Surrogate, instances: list[str], cache: Path, size: int = SAMPLE,
                    seed: int = SEED) -> dict[str, Reference]:
    """Each instance's Reference, from `cache` where it holds one of this size and seed, computed (and added) else."""
    stored = json.loads(cache.read_text()) if cache.is_file() else {}
    out, new = {}, False
    for instance in instances:
        ref = stored.get(instance)
        if ref is None or ref["size"] != size or ref["seed"] != seed:
            stored[instance], new = asdict(compute(surrogate, instance, size, seed)), True
        out[instance] = Reference(**stored[instance])
    if new:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(stored, indent=1, sort_keys=True))
    return out
