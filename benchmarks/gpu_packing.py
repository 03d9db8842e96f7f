"""Trials packed on one GPU: `python -m benchmarks.gpu_packing [--trials-per-gpu 1 2 4] [--seconds S] [--cpu-fake]`.

For each K, K trials of the study's local profile (its model and data, `trainables.loop.run` on cuda) run at once
through hpstudy's Tune adapter (`studies.tune.tuner.run_tuner`) with gpus_per_trial = 1/K, so Ray packs them on one GPU,
and the machine's CPUs split evenly (cpus_per_trial = cores / K, torch threads = cores // K, at least 1). The K
trials wait at a barrier until all have started, then train for --seconds (3 epochs at least); their first epoch
(CUDA start-up, cuDNN autotuning) is dropped. Printed per K: the trainer's own `sys/samples_per_s` (training phase),
the median over a trial's epochs, per trial (mean) and summed over the K (aggregate); the aggregate's ratio to K=1's,
measured in the same run; each trial's peak `sys/peak_mem_mb` (torch.cuda.max_memory_allocated: without the
~0.5 GB CUDA context every trial's process also holds); the overlap of the K trials' measured epochs; the GPU's name.
Without a GPU it says so and exits 0; --cpu-fake runs the same path on CPU under one fake Ray GPU, on a tiny budget:
a check of the code path, not a GPU figure.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from studies import packing

STUDY = "lr_warmup_dropout"  # its local profile: small_cnn on embedded MNIST-5k, batch 128
MEASURED_FROM = 2  # epochs before this one are warm-up (CUDA context, cuDNN autotuning, allocator growth)
MIN_EPOCHS = 3  # a trial trains past --seconds until it has this many: two measured epochs at least
BARRIER_S = 300.0  # trials whose siblings never start (too few CPUs) give up waiting after this
EPOCHS_CAP = 100_000  # the loop's epoch count; the sink ends each trial after --seconds long before it
FAKE_LABEL = "CPU, fake GPU: not a GPU figure"
FAKE_OVERRIDES = {"data.limit_train": 512}  # --cpu-fake: a few steps an epoch, so the path runs in seconds


@dataclass(frozen=True)
class Budget:
    k: int  # trials on the one GPU at once
    gpus: float  # gpus_per_trial
    cpus: float  # cpus_per_trial, Ray's share of the cores
    threads: int  # torch threads of each trial


def budget(k: int, cores: int) -> Budget:
    """K trials' shares of one GPU and `cores` CPUs, checked to pack K at once as hpstudy counts them."""
    if k < 1:
        raise ValueError(f"`trials per GPU >= 1` must hold, but got ({k=})")
    gpus = 1 / k
    cpus = packing.units(cores / k) / packing.RESOURCE_UNIT  # truncated to Ray's units: K of them fit in `cores`
    if (why := packing.gpu_request_error(gpus)) is not None:
        raise ValueError(f"{k} trials per GPU: {why}")
    at_once = packing.concurrency(cpus=cores, gpus=1, cpus_per_worker=cpus, gpus_per_worker=gpus)
    if packing.trials_per_gpu(gpus) != k or at_once != k:
        raise ValueError(f"{k} trials of {gpus:g} GPU and {cpus:g} CPU do not fit at once on 1 GPU, {cores} CPUs")
    return Budget(k=k, gpus=gpus, cpus=cpus, threads=max(1, cores // k))


def summarize(trials: list[dict[str, Any]]) -> dict[str, float]:
    """Per-K figures from each trial's epochs ({'samples_per_s', 'peak_mem_mb', 'end'}, in order), warm-up dropped.

    `overlap` is the time all K trials' measured epochs ran together over the longest trial's: near 1, the sum is
    what K trials at once train; well below 1 (trials that could not start together), it overstates that.
    """
    measured = [t["epochs"][MEASURED_FROM - 1:] for t in trials]
    per_trial = [statistics.median(e["samples_per_s"] for e in m) for m in measured]
    windows = [(t["epochs"][MEASURED_FROM - 2]["end"], t["epochs"][-1]["end"]) for t in trials]
    together = min(end for _, end in windows) - max(start for start, _ in windows)
    return {"aggregate": sum(per_trial), "per_trial": statistics.mean(per_trial),
            "peak_mb": max(e["peak_mem_mb"] for t in trials for e in t["epochs"]),
            "epochs": min(len(m) for m in measured),
            "overlap": max(0.0, together) / max(end - start for start, end in windows)}


def with_ratios(rows: list[tuple[Budget, dict[str, float]]]) -> list[tuple[Budget, dict[str, float]]]:
    """Each K's aggregate over K=1's, from the same run (NaN without a K=1 row)."""
    one = next((fig["aggregate"] for b, fig in rows if b.k == 1), float("nan"))
    return [(b, {**fig, "ratio": fig["aggregate"] / one}) for b, fig in rows]


def table(rows: list[tuple[Budget, dict[str, float]]], memory: str) -> str:
    cols = [("aggregate", "samples/s, all trials", "{:.0f}"), ("per_trial", "samples/s per trial", "{:.0f}"),
            ("ratio", "aggregate / K=1's", "{:.2f}"), ("peak_mb", f"peak MB per trial ({memory})", "{:.0f}"),
            ("epochs", "epochs measured", "{:.0f}"), ("overlap", "overlap", "{:.2f}")]
    lines = ["| trials per GPU | GPU share | CPUs per trial (threads) | " + " | ".join(c[1] for c in cols) + " |",
             "|---:|---:|---:|" + "---:|" * len(cols)]
    for b, fig in rows:
        lines.append(f"| {b.k} | {b.gpus:.4g} | {b.cpus:g} ({b.threads}) | "
                     + " | ".join(c[2].format(fig[c[0]]) for c in cols) + " |")
    return "\n".join(lines)


class _Enough(Exception):
    """The loop has no time budget: the sink ends a trial with this once its seconds are spent."""


def make_trial(out: Path, base, b: Budget, seconds: float):
    """A Tune function trainable: wait for the K siblings, train `base` until `seconds` pass, write its epochs."""
    def trial(config: dict[str, Any]) -> None:
        import ray
        from ray import tune

        from trainables.config.overrides import apply_overrides
        from trainables.loop import run

        index, epochs = config["trial"], []
        (out / f"start_{index}").touch()
        waited = time.monotonic()
        while len(list(out.glob("start_*"))) < b.k and time.monotonic() < waited + BARRIER_S:
            time.sleep(0.05)
        start = time.monotonic()

        class Sink:
            def restore(self):
                return None

            def report(self, metrics, state):
                epochs.append({"samples_per_s": metrics["sys/samples_per_s"], "peak_mem_mb": metrics["sys/peak_mem_mb"],
                               "end": time.time()})
                tune.report({k: v for k, v in metrics.items() if isinstance(v, (int, float))})
                if len(epochs) >= MIN_EPOCHS and time.monotonic() - start >= seconds:
                    raise _Enough

        cfg = apply_overrides(base, {"epochs": EPOCHS_CAP, "num_threads": b.threads})
        try:
            run(cfg, Sink())
        except _Enough:
            pass
        cuda = cfg.device == "cuda"
        record = {"epochs": epochs, "gpu_ids": [str(i) for i in ray.get_gpu_ids()], "threads": torch.get_num_threads(),
                  "device": torch.cuda.get_device_name() if cuda else "cpu"}
        (out / f"trial_{index}.json").write_text(json.dumps(record))

    return trial


def measure(b: Budget, study, seconds: float, work: Path, cluster) -> list[dict[str, Any]]:
    from search_spaces import Grid
    from studies.tune.tuner import TrialEvents, TrialFn, run_tuner

    out = work / f"k{b.k}"
    out.mkdir(parents=True)
    packed = replace(study, name=f"gpu_packing_k{b.k}", space={"trial": Grid(tuple(range(b.k)))}, search="grid",
                     num_samples=1, asha=None, cpus_per_trial=b.cpus, gpus_per_trial=b.gpus)

    def noop(*args: Any) -> None:
        pass

    fn = TrialFn(make_trial(out, study.base, b, seconds), resources={"cpu": b.cpus, "gpu": b.gpus})
    run_tuner(packed, fn, cluster=cluster, storage=str(work / "ray"), name=packed.name,
              events=TrialEvents(noop, noop, noop), resume=False)
    trials = [json.loads(p.read_text()) for p in sorted(out.glob("trial_*.json"))]
    if len(trials) != b.k:
        raise SystemExit(f"error: {len(trials)} of {b.k} trials packed at K={b.k} finished (Tune's errors are above)")
    return trials


def local_study(name: str, device: str, fake: bool):
    from studies import registry
    from studies.assembly.assemble import build_study
    from trainables.config.overrides import apply_overrides

    study = build_study(registry.load(name), "local", {}, None)
    return replace(study, base=apply_overrides(study.base, {"device": device, **(FAKE_OVERRIDES if fake else {})}))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials-per-gpu", type=int, nargs="+", default=[1, 2, 4], metavar="K")
    p.add_argument("--seconds", type=float, help="training time of each trial after the barrier (GPU 30, fake 1)")
    p.add_argument("--study", default=STUDY, help="whose local profile the trials train")
    p.add_argument("--cpu-fake", action="store_true", help=f"the same path on CPU under a fake Ray GPU ({FAKE_LABEL})")
    args = p.parse_args(argv)
    cores = os.cpu_count() or 1
    try:
        budgets = [budget(k, cores) for k in args.trials_per_gpu]
    except ValueError as err:
        print(f"error: --trials-per-gpu: {err}", file=sys.stderr)
        return 2
    fake = args.cpu_fake  # on CPU even beside a GPU: the check of the code path
    if not torch.cuda.is_available() and not fake:
        print(f"no GPU is available (torch.cuda.is_available() is False): on one it would measure training "
              f"samples/s (aggregate, per trial, ratio to K=1) and peak memory of K = "
              f"{', '.join(map(str, args.trials_per_gpu))} {args.study} local trials packed on one GPU "
              f"(gpus_per_trial 1/K); --cpu-fake runs the code path on CPU")
        return 0
    seconds = args.seconds if args.seconds is not None else (1.0 if fake else 30.0)
    study = local_study(args.study, "cpu" if fake else "cuda", fake)

    import ray

    from studies.tune.cluster import Cluster

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # Tune's new output engine prints its box even at verbose=0
    ray.init(num_cpus=cores, num_gpus=1, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    cluster = Cluster(cpus=float(cores), gpus=1.0, has_driver_resource=False)
    rows, devices = [], set()
    try:
        with tempfile.TemporaryDirectory(prefix="gpu_packing_") as tmp:
            for b in budgets:
                trials = measure(b, study, seconds, Path(tmp), cluster)
                devices.update(t["device"] for t in trials)
                rows.append((b, summarize(trials)))
                print(f"K={b.k}: {rows[-1][1]['aggregate']:.0f} samples/s in all", file=sys.stderr, flush=True)
    finally:
        ray.shutdown()
    where = FAKE_LABEL if fake else f"GPU {', '.join(sorted(devices))}"
    base = study.base
    print(f"{args.study}, local profile ({base.model.name}, {base.data.name}, batch {base.data.batch_size}), "
          f"{seconds:g} s of training per trial ({MIN_EPOCHS} epochs at least); {where}; "
          f"{cores} CPUs split evenly over the K trials")
    print(table(with_ratios(rows), "RSS, CPU" if fake else "CUDA max allocated"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
