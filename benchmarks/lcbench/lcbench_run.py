"""Every (instance, repetition, method) of a benchmark run on the simulated clock, in worker processes, and their
scores gathered into the table's figures. Methods by name: `METHODS` (its KeyError lists the valid names)."""

from __future__ import annotations

import logging
import multiprocessing
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.lcbench import regret
from benchmarks.lcbench.sim_clock import simulate
from benchmarks.lcbench.yahpo_surrogate import EPOCHS, Surrogate


def _ours(search: str, *, two: bool = False, full_fidelity: bool = False, **asha: int) -> Callable[[int, int], Any]:
    def make(seed: int, workers: int):
        from benchmarks.lcbench.ours import StudySearch, study
        from studies.study import Asha

        return StudySearch(study(search, asha=None if full_fidelity else Asha(**asha), seed=seed, two_objectives=two),
                           workers=workers)
    return make


def _before(seed: int, workers: int):
    from benchmarks.lcbench.ours import before_default

    return before_default(seed, workers)


def _optuna(pruner: str, sampler: str = "tpe") -> Callable[[int, int], Any]:
    def make(seed: int, workers: int):
        from benchmarks.lcbench.peers import OptunaTPE

        return OptunaTPE(seed, pruner, sampler)
    return make


def _syne(name: str) -> Callable[[int, int], Any]:
    def make(seed: int, workers: int):
        from benchmarks.lcbench.peers import SyneTune

        return SyneTune(name, seed)
    return make


def _random(seed: int, workers: int):
    from benchmarks.lcbench.peers import RandomSearch

    return RandomSearch(seed)


@dataclass(frozen=True)
class MethodSpec:
    label: str  # the table's name
    make: Callable[[int, int], Any]  # (seed, workers) -> sim_clock.Method
    objectives: int = 1  # 2: searches (val accuracy, time)


METHODS: dict[str, MethodSpec] = {
    "random": MethodSpec("random search (full fidelity)", _random),
    "hpstudy-tpe-asha": MethodSpec("hpstudy TPE + ASHA (a study's default search)", _ours("tpe")),
    "hpstudy-random-asha": MethodSpec("hpstudy random + ASHA", _ours("random")),
    "hpstudy-gp": MethodSpec("hpstudy GP, full fidelity (search=\"gp\", asha=None)", _ours("gp", full_fidelity=True)),
    "hpstudy-tpe-asha-before": MethodSpec("hpstudy TPE + ASHA, the default until 2026-12-07", _before),
    "hpstudy-motpe-moasha": MethodSpec("hpstudy MO-TPE + MO-ASHA (val acc, time)", _ours("tpe", two=True), 2),
    "optuna-tpe-hyperband": MethodSpec("Optuna 5 TPE + HyperbandPruner", _optuna("hyperband")),
    "optuna-tpe-sha": MethodSpec("Optuna 5 TPE + SuccessiveHalvingPruner", _optuna("sha")),
    "optuna-gp": MethodSpec("Optuna 5 GPSampler (full fidelity)", _optuna("none", "gp")),
    "synetune-asha": MethodSpec("Syne Tune ASHA", _syne("ASHA")),
    "synetune-bohb": MethodSpec("Syne Tune BOHB", _syne("BOHB")),
    "synetune-moasha": MethodSpec("Syne Tune MOASHA (val error, time)", _syne("MOASHA"), 2),
}
DEFAULT_METHODS = ("random", "hpstudy-tpe-asha", "hpstudy-tpe-asha-before", "hpstudy-random-asha",
                   "hpstudy-motpe-moasha", "optuna-tpe-hyperband", "synetune-asha", "synetune-bohb", "synetune-moasha")


def method(name: str) -> MethodSpec:
    try:
        return METHODS[name]
    except KeyError:
        raise KeyError(f"unknown method {name!r}; valid: {', '.join(METHODS)}") from None


@dataclass(frozen=True)
class Job:
    instance: str
    repetition: int  # also the seed: every method's repetition r uses seed r
    method: str
    workers: int
    budget: int  # epochs


_surrogate: Surrogate | None = None  # one per worker process


def _init(folder: str) -> None:
    global _surrogate
    logging.getLogger("syne_tune").setLevel(logging.ERROR)  # its constructor warns about arguments we leave default
    warnings.filterwarnings("ignore", category=FutureWarning)  # Syne Tune's pandas calls, once per search
    _surrogate = Surrogate(folder)


def run_job(job: Job, refs: dict[str, regret.Reference]) -> dict[str, Any]:
    """One search on one instance; its log reduced to the scores at each budget point."""
    import time

    assert _surrogate is not None
    surrogate, instance = _surrogate, job.instance
    np.random.seed(job.repetition)  # Tune's and Syne Tune's samplers draw from numpy's global generator

    def evaluate(config):
        c = surrogate.curves(instance, [config])
        return c.time[0], c.val_acc[0], c.test_acc[0]

    start = time.process_time()
    log = simulate(method(job.method).make(job.repetition, job.workers), evaluate, workers=job.workers,
                   budget=job.budget, max_epochs=EPOCHS)
    return {"instance": instance, "repetition": job.repetition, "method": job.method, "epochs": len(log),
            "trials": len({s.trial for s in log}), "clock_s": log[-1].clock, "cpu_s": time.process_time() - start,
            **regret.scores(log, refs[instance], job.budget)}


def _run(args: tuple[Job, dict]) -> dict[str, Any]:
    return run_job(*args)


def run_all(jobs: Sequence[Job], refs: dict[str, regret.Reference], folder: Path, cores: int,
            progress: Callable[[dict[str, Any]], None] = lambda r: None) -> list[dict[str, Any]]:
    """Every job, on `cores` processes (1: in this one); in the order finished."""
    if cores == 1:
        _init(str(folder))
        out = []
        for job in jobs:
            out.append(run_job(job, refs))
            progress(out[-1])
        return out
    out = []
    with multiprocessing.get_context("spawn").Pool(cores, initializer=_init, initargs=(str(folder),)) as pool:
        for record in pool.imap_unordered(_run, [(job, refs) for job in jobs], chunksize=1):
            out.append(record)
            progress(record)
    return out


def summarize(records: Sequence[dict[str, Any]], methods: Sequence[str], instances: Sequence[str],
              fractions: Sequence[float] = regret.FRACTIONS) -> dict[str, Any]:
    """Per method and budget point: mean regret, test accuracy and hypervolume over instances x repetitions, and the
    mean rank over `instances` of each method's regret (averaged over repetitions first)."""
    out: dict[str, Any] = {m: {"label": method(m).label, "objectives": method(m).objectives} for m in methods}
    for m in methods:
        mine = [r for r in records if r["method"] == m and r["instance"] in instances]
        for key in ("regret", "test_acc", "hypervolume"):
            out[m][key] = [float(np.mean([r[key][i] for r in mine])) for i in range(len(fractions))]
        out[m]["runs"] = len(mine)
        out[m]["epochs"] = sorted({r["epochs"] for r in mine})
    for key, field in (("rank", "regret"), ("hv_rank", "hypervolume")):
        for i in range(len(fractions)):
            per_instance = {m: [float(np.mean([r[field][i] for r in records if r["method"] == m
                                               and r["instance"] == inst])) for inst in instances] for m in methods}
            sign = -1.0 if field == "hypervolume" else 1.0  # a larger hypervolume ranks first
            ranks = regret.mean_ranks({m: [sign * v for v in vs] for m, vs in per_instance.items()})
            for m in methods:
                out[m].setdefault(key, []).append(ranks[m])
    return out
