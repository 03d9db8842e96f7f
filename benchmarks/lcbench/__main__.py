"""Searches against each other on YAHPO Gym's LCBench surrogate: `python -m benchmarks.lcbench [--quick] [--json OUT]`.

Every method gets the same epoch budget and the same number of asynchronous workers on a clock driven by the
surrogate's seconds, on each instance x repetition; printed per method: the mean normalized regret of the best
validation accuracy found (0 = the best of a seeded sample of 10,000 full-fidelity configurations per instance, 1 =
its median) at 10%, 30% and 100% of the budget, the mean rank over instances at each, the test (balanced) accuracy of
the configuration each would select on validation, and the hypervolume of (regret, seconds) for the two-objective
searches. The tuning half (the 17 lowest task ids) and the held-out half are shown apart.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

SURROGATE = Path(__file__).resolve().parents[2].parent / "shared/benchmarks/yahpo_lcbench"  # ../shared of a checkout
CACHE = Path("hpstudy_runs/lcbench")  # the reference sample's figures (reference.json)
EPOCH_BUDGET = 100  # x 52 epochs per instance and repetition: 100 full trainings' worth
WORKERS = 4  # asynchronous workers every method gets
REPETITIONS = 10
QUICK = {"instances": "3945,7593", "repetitions": 2, "budget": 30}  # budget: x 52 epochs; 2 cores, a few minutes
DEFAULT_METHODS = ("random,hpstudy-tpe-asha,hpstudy-tpe-asha-before,hpstudy-random-asha,hpstudy-motpe-moasha,"
                   "optuna-tpe-hyperband,"
                   "synetune-asha,synetune-bohb,synetune-moasha")  # lcbench_run.DEFAULT_METHODS (a test checks)
ALL_METHODS = ("random, hpstudy-tpe-asha, hpstudy-random-asha, hpstudy-gp, hpstudy-tpe-asha-before, "
               "hpstudy-motpe-moasha, optuna-tpe-hyperband, optuna-tpe-sha, optuna-gp, synetune-asha, synetune-bohb, "
               "synetune-moasha")  # lcbench_run's


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.lcbench", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--surrogate", type=Path, default=SURROGATE, help="folder of YAHPO Gym's lcbench files "
                   "(model.onnx, encoding.json, config_space.json)")
    p.add_argument("--instances", default="all", help="OpenML task ids, comma-separated; 'all' (34), 'tuning' (the 17 "
                   "lowest ids) or 'held-out' (the other 17)")
    p.add_argument("--repetitions", type=int, default=REPETITIONS, help="searches per instance and method (seeds 0..)")
    p.add_argument("--budget", type=int, default=EPOCH_BUDGET, help="epochs per search, in units of 52 epochs")
    p.add_argument("--workers", type=int, default=WORKERS, help="asynchronous workers per search")
    p.add_argument("--methods", default=DEFAULT_METHODS, help=f"comma-separated, of: {ALL_METHODS}")
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="processes running searches")
    p.add_argument("--cache", type=Path, default=CACHE, help="folder of the reference sample's cached figures")
    p.add_argument("--json", type=Path, help="write every figure and run there")
    p.add_argument("--quick", action="store_true", help=f"a first look and CI: {QUICK['instances']}, "
                   f"{QUICK['repetitions']} repetitions, budget {QUICK['budget']} x 52 epochs (overrides those)")
    args = p.parse_args(argv)
    if args.quick:
        args.instances, args.repetitions, args.budget = QUICK["instances"], QUICK["repetitions"], QUICK["budget"]
    return args


def pick_instances(spec: str, available: tuple[str, ...]) -> list[str]:
    ordered = sorted(available, key=int)
    halves = {"all": ordered, "tuning": ordered[:17], "held-out": ordered[17:]}
    if spec in halves:
        return halves[spec]
    chosen = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in available]
    if unknown or not chosen:
        raise ValueError(f"--instances: unknown {unknown or spec!r}; valid: all, tuning, held-out or "
                         f"{', '.join(ordered)}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if min(args.repetitions, args.budget, args.workers, args.cores) < 1:
        print(f"error: --repetitions, --budget, --workers and --cores must be >= 1, but got ({args.repetitions=}, "
              f"{args.budget=}, {args.workers=}, {args.cores=})", file=sys.stderr)
        return 2
    from benchmarks.lcbench import lcbench_run as R
    from benchmarks.lcbench import lcbench_table as T
    from benchmarks.lcbench import paired
    from benchmarks.lcbench.ref_sample import load_or_compute
    from benchmarks.lcbench.yahpo_surrogate import EPOCHS, MissingSurrogate, Surrogate

    try:
        surrogate = Surrogate(args.surrogate)
        instances = pick_instances(args.instances, surrogate.instances)
        methods = [m.strip() for m in args.methods.split(",") if m.strip()]
        for m in methods:
            R.method(m)
    except (MissingSurrogate, ValueError, KeyError) as e:
        print(f"error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    start = time.monotonic()
    refs = load_or_compute(surrogate, instances, args.cache / "reference.json")
    budget = args.budget * EPOCHS
    jobs = [R.Job(i, r, m, args.workers, budget) for i in instances for r in range(args.repetitions) for m in methods]
    print(f"{len(jobs)} searches ({len(instances)} instances x {args.repetitions} repetitions x {len(methods)} "
          f"methods), {budget} epochs each, {args.workers} workers, on {args.cores} cores", file=sys.stderr, flush=True)
    done = []

    def progress(record):
        done.append(record)
        print(f"[{len(done)}/{len(jobs)}] {record['instance']} rep {record['repetition']} {record['method']}: regret "
              f"{record['regret'][-1]:.3f}, {record['trials']} trials, {record['cpu_s']:.0f} s", file=sys.stderr,
              flush=True)

    records = R.run_all(jobs, refs, args.surrogate, args.cores, progress)
    wall = time.monotonic() - start
    tuning, held_out = pick_instances("tuning", surrogate.instances), pick_instances("held-out", surrogate.instances)
    result = {
        "command": "python -m benchmarks.lcbench " + " ".join(sys.argv[1:] if argv is None else argv),
        "date": time.strftime("%Y-%m-%d"), "wall_s": round(wall, 1), "cores": args.cores,
        "instances": instances, "repetitions": args.repetitions, "budget_epochs": budget, "workers": args.workers,
        "fractions": list(R.regret.FRACTIONS), "reference": {i: vars(refs[i]) for i in instances},
        "all": R.summarize(records, methods, instances),
        "tuning": R.summarize(records, methods, [i for i in instances if i in tuning]) if set(instances) & set(
            tuning) else None,
        "held_out": R.summarize(records, methods, [i for i in instances if i in held_out]) if set(instances) & set(
            held_out) else None,
        "paired": paired.halves(records, methods, instances, len(R.regret.FRACTIONS), set(tuning)),
        "runs": records,
    }
    print(T.report(result))
    print("\n" + paired.report(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
