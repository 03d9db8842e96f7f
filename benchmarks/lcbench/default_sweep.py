"""How the default search was chosen: variants of TPE + ASHA on LCBench's tuning half (the 17 lowest task ids) only.
`python -m benchmarks.lcbench.default_sweep [--repetitions 2] [--budget 100] [--cores 2] [--variants a,b]` prints each
variant's mean normalized regret at 10%, 30% and 100% of the budget (docs/research/lcbench.md, "The default").

Each variant is a study's own searcher (`HonestOptunaSearch`) with the TPE settings named and a study's ASHA, driven
by `ours.StudySearch` on the simulated clock like `hpstudy-tpe-asha`."""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from typing import Any

import numpy as np

# name -> (TPESampler keywords, Asha keywords, search); the first is the default until 2026-12-07, the last today's
VARIANTS: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "before": ({"multivariate": True, "group": True}, {"grace_period": 1, "reduction_factor": 2}, "tpe"),
    "random-asha": ({}, {"grace_period": 1, "reduction_factor": 2}, "random"),
    "random-asha-g4-eta3": ({}, {"grace_period": 4, "reduction_factor": 3}, "random"),
    "joint-eta3": ({"multivariate": True}, {"grace_period": 1, "reduction_factor": 3}, "tpe"),
    "joint-startup30": ({"multivariate": True, "n_startup_trials": 30}, {"grace_period": 1, "reduction_factor": 2}, "tpe"),
    "joint-no-liar": ({"multivariate": True, "constant_liar": False}, {"grace_period": 1, "reduction_factor": 2}, "tpe"),
    "indep": ({"multivariate": False}, {"grace_period": 1, "reduction_factor": 2}, "tpe"),
    "indep-startup30": ({"multivariate": False, "n_startup_trials": 30}, {"grace_period": 1, "reduction_factor": 2},
                        "tpe"),
    "indep-startup50": ({"multivariate": False, "n_startup_trials": 50}, {"grace_period": 1, "reduction_factor": 2},
                        "tpe"),
    "indep-eta3": ({"multivariate": False}, {"grace_period": 1, "reduction_factor": 3}, "tpe"),
    "indep-startup30-g2": ({"multivariate": False, "n_startup_trials": 30}, {"grace_period": 2, "reduction_factor": 2},
                           "tpe"),
    "indep-startup30-g4-eta2": ({"multivariate": False, "n_startup_trials": 30},
                                {"grace_period": 4, "reduction_factor": 2}, "tpe"),
    "indep-g4-eta3": ({"multivariate": False}, {"grace_period": 4, "reduction_factor": 3}, "tpe"),
    "joint-startup30-g4-eta3": ({"multivariate": True, "n_startup_trials": 30},
                                {"grace_period": 4, "reduction_factor": 3}, "tpe"),
    "indep-startup30-g3-eta3": ({"multivariate": False, "n_startup_trials": 30},
                                {"grace_period": 3, "reduction_factor": 3}, "tpe"),
    "indep-startup30-g8-eta3": ({"multivariate": False, "n_startup_trials": 30},
                                {"grace_period": 8, "reduction_factor": 3}, "tpe"),
    "indep-startup30-g4-eta3": ({"multivariate": False, "n_startup_trials": 30},
                                {"grace_period": 4, "reduction_factor": 3}, "tpe"),
}


def make(name: str, seed: int, workers: int):
    from benchmarks.lcbench.ours import StudySearch, study, tpe_search
    from studies.study import Asha

    tpe, asha, search = VARIANTS[name]
    if search == "random":
        return StudySearch(study(search, asha=Asha(**asha), seed=seed), workers=workers)
    return tpe_search(tpe, Asha(**asha), seed=seed, workers=workers)


def _register() -> None:
    from benchmarks.lcbench import lcbench_run as R

    for name in VARIANTS:
        R.METHODS.setdefault(f"sweep:{name}", R.MethodSpec(name, lambda seed, workers, n=name: make(n, seed, workers)))


def _init(folder: str) -> None:
    from benchmarks.lcbench import lcbench_run as R

    _register()
    R._init(folder)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.lcbench import lcbench_run as R
    from benchmarks.lcbench.__main__ import CACHE, SURROGATE, pick_instances
    from benchmarks.lcbench.ref_sample import load_or_compute
    from benchmarks.lcbench.yahpo_surrogate import EPOCHS, MissingSurrogate, Surrogate

    p = argparse.ArgumentParser(prog="python -m benchmarks.lcbench.default_sweep", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--surrogate", default=SURROGATE)
    p.add_argument("--repetitions", type=int, default=2)
    p.add_argument("--budget", type=int, default=100, help="epochs per search, in units of 52")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"of: {', '.join(VARIANTS)}")
    args = p.parse_args(argv)
    names = [v for v in args.variants.split(",") if v]
    if min(args.repetitions, args.budget, args.cores) < 1 or set(names) - set(VARIANTS) or not names:
        print(f"error: --repetitions, --budget, --cores >= 1 and --variants of {', '.join(VARIANTS)}, but got "
              f"({args.repetitions}, {args.budget}, {args.cores}, {args.variants!r})", file=sys.stderr)
        return 2
    try:
        surrogate = Surrogate(args.surrogate)
    except MissingSurrogate as e:
        print(f"error: {e.args[0]}", file=sys.stderr)
        return 2
    _register()
    instances = pick_instances("tuning", surrogate.instances)  # never the held-out half
    refs = load_or_compute(surrogate, instances, CACHE / "reference.json")
    methods = [f"sweep:{n}" for n in names]
    jobs = [R.Job(i, r, m, 4, args.budget * EPOCHS) for i in instances for r in range(args.repetitions) for m in methods]
    try:
        if args.cores == 1:
            R._init(str(args.surrogate))
            records = [R.run_job(j, refs) for j in jobs]
        else:
            with multiprocessing.get_context("spawn").Pool(args.cores, initializer=_init,
                                                           initargs=(str(args.surrogate),)) as pool:
                records = pool.map(R._run, [(j, refs) for j in jobs], chunksize=1)
    finally:  # the benchmark's own method list stays as it was in this process
        for m in [f"sweep:{n}" for n in VARIANTS]:
            R.METHODS.pop(m, None)
    print("| variant (TPE; ASHA) | regret 10% | regret 30% | regret 100% | trials |\n|---|---:|---:|---:|---:|")
    for n, m in zip(names, methods):
        mine = [r for r in records if r["method"] == m]
        regret = [np.mean([r["regret"][i] for r in mine]) for i in range(3)]
        print(f"| {n} | " + " | ".join(f"{x:.3f}" for x in regret) + f" | {np.mean([r['trials'] for r in mine]):.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
