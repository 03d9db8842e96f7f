"""Fractional GPUs on a fake one-GPU Ray (4 CPUs): `python -m tests.studies.packing_probe OUT CASES_JSON` runs each
case's study through `studies.tune.tuner.run_tuner` and writes what every trial saw to OUT (tests/studies/tune/test_packing.py).

A case is (cpus_per_trial, gpus_per_trial, expected): expected + 1 trials whose first `expected` wait at a barrier
until `expected` have started, so the overlap of their [start, end] is what Ray and Tune let run at once.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import ray
import ray.tune

from search_spaces import Grid
from studies import registry
from studies.tune.cluster import DRIVER_RESOURCE, Cluster
from studies.tune.tuner import TrialEvents, TrialFn, run_tuner

BARRIER_S = 10.0  # a barrier that never fills (fewer run at once than expected) gives up after this
HOLD_S = 0.3  # past the barrier, so a trial that started beside the others overlaps them


def noop(*args: Any) -> None:
    pass


def factory(folder: Path, barrier: int, cpus: float, gpus: float) -> TrialFn:
    def trial(config: dict[str, Any]) -> None:
        start = time.time()
        (folder / f"start_{config['x']}").touch()
        while len(list(folder.glob("start_*"))) < barrier and time.time() < start + BARRIER_S:
            time.sleep(0.05)
        time.sleep(HOLD_S)
        record = {"start": start, "end": time.time(), "gpu_ids": [str(i) for i in ray.get_gpu_ids()],
                  "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
                  "assigned": ray.get_runtime_context().get_assigned_resources()}
        (folder / f"trial_{config['x']}.json").write_text(json.dumps(record))
        ray.tune.report({"val/acc": 0.5, "epoch": 1})

    return TrialFn(trial, resources={"cpu": cpus, "gpu": gpus}, reuse_process=True)


def refusal(gpus: float) -> str:
    """Ray's own words on a task of `gpus` GPUs ('' when it takes it): what Study's validation restates."""
    try:
        ray.remote(num_gpus=gpus)(noop).remote()
    except ValueError as err:
        return "".join(str(a) for a in err.args)
    return ""


def run_case(folder: Path, base, cluster: Cluster, cpus: float, gpus: float, expected: int) -> dict[str, Any]:
    folder.mkdir(parents=True)
    study = replace(base, name=f"packing_{folder.name}", space={"x": Grid(tuple(range(expected + 1)))},
                    cpus_per_trial=cpus, gpus_per_trial=gpus)
    t0 = time.monotonic()
    run_tuner(study, factory(folder, expected, cpus, gpus), cluster=cluster, storage=str(folder.parent / "ray"),
              name=study.name, events=TrialEvents(noop, noop, noop), resume=False)
    trials = [json.loads(p.read_text()) for p in sorted(folder.glob("trial_*.json"))]
    return {"case": [cpus, gpus, expected], "trials": trials, "s": time.monotonic() - t0}


def main(out: Path, cases: list[list[float]]) -> None:
    t_start = time.monotonic()
    ray.init(num_cpus=4, num_gpus=1, resources={DRIVER_RESOURCE: 10_000}, include_dashboard=False,
             log_to_driver=False, logging_level=logging.WARNING)
    res = ray.cluster_resources()
    cluster = Cluster(cpus=res["CPU"], gpus=res["GPU"], has_driver_resource=True)
    base = registry.load("ses_beta_sweep").get_study("local")
    report: dict[str, Any] = {"refusal_1.5": refusal(1.5), "cases": [], "ray_start_s": time.monotonic() - t_start}
    try:
        for i, (cpus, gpus, expected) in enumerate(cases):
            report["cases"].append(run_case(out / f"case_{i}", base, cluster, cpus, gpus, int(expected)))
    finally:
        ray.shutdown()
    (out / "report.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main(Path(sys.argv[1]), json.loads(sys.argv[2]))
