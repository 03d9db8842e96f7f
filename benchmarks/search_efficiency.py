"""What a search costs to find a good configuration: `python -m benchmarks.search_efficiency [--quick]`.

(a) The local profile of `lr_warmup_dropout` (small CNN, embedded MNIST): every configuration of a discrete space
(optim.lr x model.drop_rate x sched.warmup_epochs) is trained once with the real loop, its val/acc recorded each
epoch (cached in --cache, so a rerun replays). Grid, random, TPE and TPE + ASHA then search that space through the
project's Tune adapter, trials replaying the recorded curves; printed: epochs spent until a trial's val/acc is
within 0.5 pp of the grid's best, over --seeds search seeds (median [min–max]).
(b) A ZDT1-shaped problem in two variables (a known front, hypervolume 2/3 below (1, 1)) with epochs as fidelity:
random, MO-TPE, MO-TPE + MO-ASHA and single-objective TPE + ASHA on the objectives' mean; printed: the hypervolume
of everything reported within each epoch budget, as a fraction of the front's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from benchmarks import search_figures as F
from benchmarks.search_replay import ZDT1_FRONT_HV, ClosedFormZDT1, Replay, curve_key, run_search

STUDY = "lr_warmup_dropout"  # its local profile: the base config, ASHA's grace period and reduction factor
TOLERANCE = 0.005  # "within 0.5 pp of the grid's best" val/acc: 2 of the 400 validation images
LOOSE = 0.01  # a second column, within 1 pp: how far the searches get when 0.5 pp is a coin toss
TRAIN_SEED = 0  # every configuration of the table is trained once, with this seed
ZDT_OBJECTIVES = (("val/f1", "min"), ("val/f2", "min"))
ZDT_REFERENCE = (1.0, 1.0)  # hypervolume's reference point; the front's hypervolume below it is 2/3
ZDT_ASHA = (1, 3)  # (grace period, reduction factor), as ses_search's local profile: rungs at 1, 3, 9 epochs


@dataclass(frozen=True)
class Size:
    space: dict[str, tuple]  # the table's discrete space
    epochs: int | None  # None: the study's local epochs
    seeds: int  # search seeds of each search
    zdt_epochs: int
    zdt_full: int  # configurations random and MO-TPE train (to zdt_epochs each)
    budgets: tuple[int, ...]  # epochs at which (b) reads the hypervolume


FULL = Size(space={"optim.lr": (0.001, 0.003, 0.01, 0.03, 0.1, 0.3), "model.drop_rate": (0.0, 0.1, 0.2, 0.3),
                   "sched.warmup_epochs": (0, 1)},
            epochs=None, seeds=5, zdt_epochs=9, zdt_full=40, budgets=(45, 90, 180, 360))
QUICK = Size(space={"optim.lr": (0.01, 0.1), "model.drop_rate": (0.0, 0.2), "sched.warmup_epochs": (0,)},
             epochs=2, seeds=2, zdt_epochs=3, zdt_full=6, budgets=(6, 18))


# --- (a) the table of recorded curves --------------------------------------------------------------------------

def local_study():
    from studies import registry
    from studies.assembly.assemble import build_study

    return build_study(registry.load(STUDY), "local", {}, None)


def _train_one(job: tuple[Any, dict[str, Any]]) -> list[float]:
    base, overrides = job
    from trainables.config.overrides import apply_overrides
    from trainables.loop import run

    accs: list[float] = []

    class Sink:
        def restore(self):
            return None

        def report(self, metrics, state):
            if "val/acc" in metrics:
                accs.append(float(metrics["val/acc"]))

    run(apply_overrides(base, {**overrides, "num_threads": 1, "seed": TRAIN_SEED}), Sink())
    return accs


def configurations(space: dict[str, tuple]) -> list[dict[str, Any]]:
    """Every point of the space, the first key varying slowest."""
    points: list[dict[str, Any]] = [{}]
    for key, values in space.items():
        points = [{**p, key: v} for p in points for v in values]
    return points


def record_curves(space: dict[str, tuple], epochs: int, cores: int) -> dict[str, Any]:
    base = replace(local_study().base, epochs=epochs)
    points = configurations(space)
    start = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(cores) as pool:
        curves = pool.map(_train_one, [(base, p) for p in points], chunksize=1)
    return {"study": STUDY, "profile": "local", "epochs": epochs, "train_seed": TRAIN_SEED, "space": space,
            "curves": {curve_key(p, list(space)): c for p, c in zip(points, curves)},
            "train_s": round(time.monotonic() - start, 1), "cores": cores, "recorded": time.strftime("%Y-%m-%d")}


def load_or_record(path: Path, space: dict[str, tuple], epochs: int, cores: int) -> dict[str, Any]:
    if path.exists():
        table = json.loads(path.read_text())
        if table["space"] != {k: list(v) for k, v in space.items()} or table["epochs"] != epochs:
            raise SystemExit(f"error: --cache {path} holds another space or epoch count ({table['epochs']} epochs, "
                             f"{table['space']}); give another --cache or delete it")
        return table
    print(f"recording {len(configurations(space))} configurations x {epochs} epochs of {STUDY} (local) on "
          f"{cores} cores, once", file=sys.stderr, flush=True)
    table = record_curves(space, epochs, cores)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(table, indent=1))
    return json.loads(path.read_text())


# --- (a) the searches ------------------------------------------------------------------------------------------

def table_studies(space: dict[str, tuple], epochs: int, seed: int, cpus: float) -> dict[str, Any]:
    """Grid, random, TPE and TPE + ASHA on the table's space, as Study objects the Tune adapter runs. Random and
    TPE may sample as many configurations as the grid has (with repeats: they sample with replacement), TPE + ASHA
    twice as many (its trials mostly stop early)."""
    from search_spaces import Choice, Grid
    from studies.study import Study

    local = local_study()
    base = replace(local.base, epochs=epochs)
    n = len(configurations(space))
    choice = {k: Choice(tuple(v)) for k, v in space.items()}
    common = dict(profile="local", base=base, name="search_efficiency", search_seed=seed, cpus_per_trial=cpus)
    return {
        "grid": Study(space={k: Grid(tuple(v)) for k, v in space.items()}, search="grid", **common),
        "random": Study(space=choice, search="random", num_samples=n, **common),
        "TPE": Study(space=choice, search="tpe", num_samples=n, **common),
        "TPE+ASHA": Study(space=choice, search="tpe", num_samples=2 * n, asha=local.asha, **common),
    }


def part_a(table: dict[str, Any], seeds: int, cluster, cpus: float) -> dict[str, Any]:
    space, epochs = {k: tuple(v) for k, v in table["space"].items()}, table["epochs"]
    replay = Replay(table["curves"], tuple(space))
    grid_best = max(v for c in table["curves"].values() for v in c)
    target = grid_best - TOLERANCE
    spent: dict[str, list[int | None]] = {}
    loose: dict[str, list[int | None]] = {}
    total: dict[str, list[int]] = {}
    for seed in range(seeds):
        for method, study in table_studies(space, epochs, seed, cpus).items():
            if method == "grid" and seed > 0:  # the grid has no seed: one run
                continue
            log = run_search(study, replay, cluster, f"table-{len(total.get(method, []))}")
            spent.setdefault(method, []).append(F.epochs_to_target(log, "val/acc", target))
            loose.setdefault(method, []).append(F.epochs_to_target(log, "val/acc", grid_best - LOOSE))
            total.setdefault(method, []).append(len(log))
            print(f"(a) {method} seed {seed}: {spent[method][-1]} epochs to target, {len(log)} spent in all",
                  file=sys.stderr, flush=True)
    return {"grid_best": grid_best, "target": target, "grid_epochs": len(table["curves"]) * epochs,
            "spent": spent, "loose": loose, "total": total}


# --- (b) the closed-form multi-objective problem ---------------------------------------------------------------

def zdt_studies(size: Size, seed: int, cpus: float) -> dict[str, Any]:
    from search_spaces import Uniform
    from studies.study import Asha, Study
    from trainables.config import TrainConfig

    asha = Asha(grace_period=ZDT_ASHA[0], reduction_factor=ZDT_ASHA[1])
    many = 4 * size.zdt_full  # an early-stopped trial costs ~2.3 of 9 epochs: enough of them to spend the budgets
    common = dict(profile="local", base=TrainConfig(epochs=size.zdt_epochs), name="search_efficiency",
                  space={"x1": Uniform(0.0, 1.0), "x2": Uniform(0.0, 1.0)}, search_seed=seed, cpus_per_trial=cpus)
    return {
        "random": Study(search="random", objectives=ZDT_OBJECTIVES, num_samples=size.zdt_full, **common),
        "MO-TPE": Study(search="tpe", objectives=ZDT_OBJECTIVES, num_samples=size.zdt_full, **common),
        "MO-TPE+MO-ASHA": Study(search="tpe", objectives=ZDT_OBJECTIVES, num_samples=many, asha=asha, **common),
        "TPE+ASHA on (f1+f2)/2": Study(search="tpe", metric="val/sum", mode="min", num_samples=many, asha=asha,
                                       **common),
    }


def part_b(size: Size, cluster, cpus: float) -> dict[str, list[list[float]]]:
    fractions: dict[str, list[list[float]]] = {}
    for seed in range(size.seeds):
        for k, (method, study) in enumerate(zdt_studies(size, seed, cpus).items()):
            log = run_search(study, ClosedFormZDT1(), cluster, f"zdt-{k}-{seed}")
            hv = F.hypervolume_at(log, ZDT_OBJECTIVES, ZDT_REFERENCE, size.budgets)
            fractions.setdefault(method, []).append([h / ZDT1_FRONT_HV for h in hv])
            print(f"(b) {method} seed {seed}: {len(log)} epochs, hypervolume {hv[-1]:.3f}", file=sys.stderr,
                  flush=True)
    return fractions


# --- printing --------------------------------------------------------------------------------------------------

def table_a(a: dict[str, Any]) -> str:
    lines = ["| search | epochs to within 0.5 pp, median [min–max] | / the full grid's epochs | to within 1 pp | "
             "epochs spent in all |", "|---|---:|---:|---:|---:|"]
    for method, spent in a["spent"].items():
        ratio = [None if s is None else s / a["grid_epochs"] for s in spent]
        lines.append(f"| {method} | {F.spread(spent)} | {F.spread(ratio, 2)} | {F.spread(a['loose'][method])} | "
                     f"{F.spread(a['total'][method])} |")
    return "\n".join(lines)


def table_b(b: dict[str, list[list[float]]], budgets: tuple[int, ...]) -> str:
    lines = ["| search | " + " | ".join(f"{e} epochs" for e in budgets) + " |", "|---|" + "---:|" * len(budgets)]
    for method, runs in b.items():
        cells = [F.spread([run[i] for run in runs], 3) for i in range(len(budgets))]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a tiny space, 2 epochs, 2 seeds: a minute once cached")
    p.add_argument("--cache", type=Path, help="the recorded curves (JSON; default: hpstudy_runs/search_efficiency/"
                                              "curves[_quick].json); recorded there if missing")
    p.add_argument("--seeds", type=int, help="search seeds of each search (default 5; --quick 2)")
    p.add_argument("--concurrency", type=int, default=2, help="trials at once, as a local study on 2 cores")
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="processes recording the curves")
    args = p.parse_args(argv)
    size = QUICK if args.quick else FULL
    size = replace(size, seeds=size.seeds if args.seeds is None else args.seeds)
    if size.seeds < 1 or args.concurrency < 1 or args.cores < 1:
        print(f"error: --seeds, --concurrency and --cores must be >= 1, but got ({args.seeds=}, "
              f"{args.concurrency=}, {args.cores=})", file=sys.stderr)
        return 2
    cache = args.cache or Path("hpstudy_runs/search_efficiency") / f"curves{'_quick' if args.quick else ''}.json"
    table = load_or_record(cache, size.space, size.epochs or local_study().base.epochs, args.cores)

    from studies.tune import cluster as ray_cluster

    start = time.monotonic()
    cluster = ray_cluster.connect(None, worker_groups=False)
    try:
        cpus = cluster.cpus / args.concurrency
        a = part_a(table, size.seeds, cluster, cpus)
        b = part_b(size, cluster, cpus)
    finally:
        ray_cluster.shutdown()
    print(f"(a) {STUDY}, local profile: {len(table['curves'])} configurations x {table['epochs']} epochs (recorded "
          f"once, seed {table['train_seed']}, {table['recorded']}); grid's best val/acc {a['grid_best']:.4f}, "
          f"target >= {a['target']:.4f}; {size.seeds} search seeds, {args.concurrency} trials at once")
    print(table_a(a))
    print(f"\n(b) ZDT1-shaped, 2 variables, {size.zdt_epochs} epochs as fidelity: hypervolume below {ZDT_REFERENCE} of "
          f"every point reported within the budget / the front's ({ZDT1_FRONT_HV:.4f}); {size.seeds} search seeds")
    print(table_b(b, size.budgets))
    print(f"\nsearches: {time.monotonic() - start:.0f} s on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
