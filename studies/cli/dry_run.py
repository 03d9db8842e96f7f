"""`--dry-run`: the trials a study would run (configuration x seed, each with the config it trains with), computed
from the built study alone, so nothing starts: no Ray, no MLflow, no data read or written.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, replace
from typing import Any

from search_spaces import Grid, Variants, to_overrides
from studies.assembly import pretrain, smoke
from studies.assembly.profiles import data_line, gpu_shortfall, missing_data
from studies.assembly.study_protocol import describe
from studies.cli.plan import Chosen, Plan
from studies.study import SEED_KEY, Study
from studies.trial_config import kind
from trainables.config.overrides import flatten
from trainables.defaults import resolve


@dataclass(frozen=True)
class PlannedTrial:
    number: int  # 1-based, in the order Tune generates the grid
    variant: str | None  # the Variants name; None when the study has no variants
    params: dict[str, Any]  # what the space sets for this trial, seed aside
    seed: int
    config: dict[str, Any]  # flattened, 'auto' values resolved: what the trial trains with


def resolved(study: Study, trial_config: dict[str, Any]) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    """(variant, space overrides, flattened resolved config) of one trial config, as the trial log records it."""
    name, overrides = to_overrides(trial_config)
    config = kind(study.base)
    return name, overrides, config.flat(config.resolved(study.base, overrides))


def _flat_base(study: Study) -> dict[str, Any]:
    config = kind(study.base)
    return config.flat(config.resolved(study.base, {}))


def grid_trials(study: Study) -> list[PlannedTrial]:
    """Every trial of a grid study, in the order Tune generates them (studies.tune.tuner): seed by seed, every
    configuration's first seed, then every one's second, ...; within a round, grid keys sorted, the first varying
    fastest; all of it once per num_samples."""
    seeds = study.replicates()
    space = {k: v for k, v in study.space.items() if not (seeds and k == SEED_KEY)}  # the seed Grid: the rounds
    keys = sorted(k for k, v in space.items() if isinstance(v, (Grid, Variants)))
    values = {k: v.configs if isinstance(v, Variants) else v.values for k, v in space.items() if k in keys}
    fixed = {k: v for k, v in space.items() if k not in keys}
    trials = []
    for _ in range(study.num_samples):
        for own in [{SEED_KEY: s} for s in seeds] or [{}]:
            for point in itertools.product(*(values[k] for k in reversed(keys))):
                name, overrides, config = resolved(study, {**fixed, **dict(zip(reversed(keys), point)), **own})
                params = {k: v for k, v in overrides.items() if k != SEED_KEY}
                trials.append(PlannedTrial(len(trials) + 1, name, params, config.get(SEED_KEY, 0), config))
    return trials


def _seeds(study: Study) -> tuple[int, ...]:
    """The seeds its trials train with: the replicates, else the space's or the base config's one seed."""
    fixed = study.space.get(SEED_KEY, kind(study.base).seed(study.base))
    return study.replicates() or ((fixed,) if isinstance(fixed, int) else ())


def _configurations(study: Study) -> int:
    return study.total_trials() // len(study.replicates() or (0,))


def _fmt(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


def first_wave(study: Study) -> Study:
    """A study replicated sequentially, as its first wave trains it (every configuration, the minimum's seeds)."""
    if study.replication is None or study.search != "grid":
        return study
    from studies.cli.waves import variants, wave_study

    names = [c["name"] for c in variants(study).configs]
    return wave_study(study, names, tuple(range(study.replication.minimum)))


def _summary(study: Study) -> str:
    """'grid search: 5 configurations x 3 seeds (0, 1, 2) = 15 trials; selects on ...; no ASHA ...'."""
    if study.replication is not None and study.search == "grid":
        p, first = study.replication, first_wave(study)
        configs = _configurations(first)
        return (f"grid search: {configs} configurations, replicated sequentially against {study.baseline}: "
                f"seeds {', '.join(map(str, first.replicates()))} first (the trials below), then {p.wave} more at a "
                f"time for the configurations not yet decided better, worse or equivalent within {p.delta:g}, up "
                f"to {p.maximum} (alpha {p.alpha:g}) = {configs * p.minimum} to {configs * p.maximum} trials; "
                f"selects on {study.metric} ({study.mode}); no ASHA: every trial runs all its epochs")
    seeds = _seeds(study)
    repeats = study.num_samples if study.search == "grid" else 1
    configs = f"{_configurations(study) // repeats} configurations" + (f" x {repeats} repeats" if repeats > 1 else "")
    if study.search != "grid":
        configs += " sampled while it runs"
    replicas = (f"{len(seeds)} seed{'s' * (len(seeds) > 1)} ({', '.join(map(str, seeds))})" if seeds
                else "a seed it samples")
    if study.asha is None:
        asha = "no ASHA: every trial runs all its epochs"
    else:
        g, r = study.asha.grace(kind(study.base).epochs(study.base)), study.asha.reduction_factor
        which = "multi-objective ASHA" if study.objectives else "ASHA"
        asha = (f"{which} (grace {g} epoch{'s' * (g != 1)}, keeps 1/{r} per rung; each seed's trial is stopped on "
                "its own)")
    if study.objectives:
        goal = ", ".join(f"{m} ({d})" for m, d in study.objectives)
        sampler = ("random" if study.search == "random" else
                   {"tpe": "multi-objective TPE", "nsga2": "NSGA-II"}[study.sampler])
        selects = f"searches the front of {goal} ({sampler})"
    else:
        selects = f"selects on {study.metric} ({study.mode})"
    line = f"{study.search} search: {configs} x {replicas} = {study.total_trials()} trials; {selects}; {asha}"
    if study.confirm is not None:
        c, p = study.confirm, study.replication
        seeds = (f"seeds in waves ({p.minimum} to {p.maximum}) until each comparison is decided" if p is not None
                 else f"{c.seeds} fresh seeds")
        line += (f"; then its best {c.top} configuration{'s' * (c.top > 1)} and the base config ('baseline') are "
                 f"retrained on {seeds}, paired: the report leads with that table")
    return line


def text(study: Study, header: str) -> str:
    """For a person: the base config once, then each trial with what differs from it."""
    base = _flat_base(study)
    lines = [header, _summary(study), f"protocol: {describe(study)}"]
    if study.search != "grid":
        lines.append(f"{study.search} samples each configuration while the study runs, so none is shown here; "
                     "each is trained once per seed. The space it samples:")
        lines += [f"  {k} ~ {v!r}" for k, v in sorted(study.space.items()) if k != SEED_KEY]
        lines += ["every trial's config is this base with its sampled values and its seed applied:"]
        return "\n".join(lines + [f"  {k}={_fmt(v)}" for k, v in base.items()] + _pretrain_lines(study, base))
    lines += ["every trial's config is this base with its own lines below (what its space sets) applied:"]
    lines += [f"  {k}={_fmt(v)}" for k, v in base.items()]
    lines += _pretrain_lines(study, base)
    for t in grid_trials(first_wave(study)):
        label = f"variant {t.variant}, " if t.variant else ""
        lines.append(f"trial {t.number}: {label}seed {t.seed}")
        own = {**t.params, SEED_KEY: t.seed}  # what the space sets, shown even where it equals the base
        lines += [f"  {k}={_fmt(v)}" for k, v in t.config.items() if k in own or base.get(k) != v]
    return "\n".join(lines)


def _pretrain_lines(study: Study, base: dict[str, Any]) -> list[str]:
    """The pretraining's config, as the lines where it differs from the trials' base (init.* aside)."""
    if study.pretrain is None:
        return []
    own = flatten(resolve(study.pretrain))
    lines = ["pretraining (once, before the trials, on one trial's resources; every trial starts from its final "
             "checkpoint): the base above with these lines applied:"]
    return lines + [f"  {k}={_fmt(v)}" for k, v in own.items() if base.get(k) != v and not k.startswith("init.")]


def _pretrain_json(study: Study) -> dict[str, Any]:
    if study.pretrain is None:
        return {}
    return {"pretrain": flatten(resolve(study.pretrain))}


def to_json(study: Study) -> str:
    """A grid: a list of {trial, variant, params, seed, config}. A search, whose configurations are sampled while it
    runs: an object with its space, seeds and trial count, and `"sampled": true`."""
    if study.search == "grid":
        # A study with a pretraining: each trial carries it (the same config), so the list keeps its shape.
        out: Any = [{"trial": t.number, "variant": t.variant, "params": t.params, "seed": t.seed, "config": t.config,
                     **_pretrain_json(study)} for t in grid_trials(first_wave(study))]
    else:
        out = {"study": study.name, "profile": study.profile, "search": study.search, "sampled": True,
               "configurations": _configurations(study), "seeds": list(_seeds(study)),
               "trials": study.total_trials(), "metric": study.metric, "mode": study.mode,
               "space": {k: repr(v) for k, v in sorted(study.space.items()) if k != SEED_KEY},
               "base": _flat_base(study), **_pretrain_json(study)}
    return json.dumps(out, indent=2, default=str)


def show(plan: Plan, *, as_json: bool = False) -> str:
    """What `--dry-run` prints: the study of the profile a run would choose (`--profile full`: that one, even where
    it cannot run here), with what would differ at run time as notes."""
    notes = []
    if plan.requested == "full":
        chosen = Chosen("full", "asked for with --profile full", plan.studies["full"])
    else:
        chosen = plan.choose(0 if plan.requested == "smoke" else _local_gpus())  # as a run on this machine would
    study = chosen.study
    if chosen.profile == "smoke":
        if smoke.data_root(study.base, plan.runs_dir) is not None:  # a dataset the rehearsal generates files for
            notes.append(f"data.root: generated when the study runs, under {study.base.data.root}")
        notes += [study.tags[smoke.NOTES_TAG]] if smoke.NOTES_TAG in study.tags else []
    else:
        cannot = missing_data(study.base) or (gpu_shortfall(study.gpus_per_trial, _local_gpus())
                                              if chosen.profile == "full" else None)
        notes += [f"this machine cannot run it: {cannot}"] if cannot else []
    notes += pretrain.replaced_steps(study, plan.sets, plan.lr_range)
    steps = pretrain.lr_range_steps(study, plan.sets, plan.lr_range)
    if pretrain.replaced_by(study) is not None:
        study = replace(study, pretrain=None)  # not run: the trials start from the user's checkpoint
    elif study.pretrain is not None:
        planned = pretrain.folder(plan.runs_dir, "<parent run id>") / "state.pt"
        keep = f", init.keep={','.join(study.base.init.keep)}" if study.base.init.mode == "continue" else ""
        notes.append(f"pretraining: {study.pretrain.epochs} epochs, once, before the trials; every trial starts "
                     f"from its checkpoint, {planned} (init.mode={study.base.init.mode}{keep})")
        study = pretrain.start_from(study, str(planned))  # shown as the trials will have it
    if steps:
        where = "--lr-range" if plan.lr_range is not None else "the study's own LR range test,"
        notes.append(f"{where} {steps} steps{' from the pretraining' if study.pretrain else ''}: every trial trains "
                     f"at the optim.lr it picks when the study runs (shown: the study's own, {study.base.optim.lr:g})")
    if as_json:
        return to_json(study)
    header = [f"hpstudy: {plan.name}, profile {chosen.profile} ({chosen.why}); data: {data_line(study.base)}",
              "dry run: nothing is started, no data read or written", *(f"note: {n}" for n in notes)]
    return text(study, "\n".join(header))


def _local_gpus() -> int:
    import torch  # imported already by the config checks; Ray counts the same devices on this machine

    return torch.cuda.device_count()
