"""How a study file becomes the study that runs: the profile's study, the user's `--set` applied, every path made
absolute in the driver, its protocol fitted, and every value its space can give checked before Ray starts.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from hpstudy.schema.errors import BadInput
from search_spaces import Choice, Conditional, Grid, IntRange, LogUniform, Uniform, Variants, walk
from search_spaces.distributions import NAME_KEY
from studies.assembly import pretrain, smoke
from studies.assembly.seeds import AUTO, with_replication, with_seeds
from studies.assembly.study_protocol import OWNED_KEYS, apply_protocol
from studies.study import SEED_KEY, Confirm, Study, follows_task
from studies.trial_config import kind
from trainables.config import TrainConfig
from trainables.config.overrides import ConfigError
from trainables.config.paths import absolute, path_keys
from trainables.validate import validate

PATH_KEYS = frozenset(path_keys(TrainConfig()))  # config keys whose values are paths (trainables.config.paths)


class UsageError(BadInput):
    """Bad input: printed as one line, exit code 2."""


def swept_keys(study: Study) -> set[str]:
    keys = set()
    for key, value, _ in walk(study.space):  # a conditional's sub-spaces too
        if isinstance(value, Variants):
            keys |= {k for c in value.configs for k in c if k != "name"}
        else:
            keys.add(key)
    return keys


def absolute_sets(sets: dict[str, str]) -> dict[str, str]:
    """`--set` values of path keys made absolute against this folder."""
    return {k: absolute(v) if k in PATH_KEYS else v for k, v in sets.items()}


def _absolute_space(space: dict[str, Any]) -> dict[str, Any]:
    """A space whose path values (a grid of data roots, say) are absolute, like the base config's."""
    def fix(key: str, value: Any) -> Any:
        return absolute(value) if key in PATH_KEYS and isinstance(value, str) else value

    out = {}
    for key, value in space.items():
        if isinstance(value, Variants):
            value = Variants(tuple({k: fix(k, v) for k, v in c.items()} for c in value.configs))
        elif isinstance(value, (Grid, Choice)):
            value = type(value)(tuple(fix(key, v) for v in value.values))
        out[key] = fix(key, value)
    return out


def runnable(module, profile: str, sets: dict[str, str], *, num_samples: int | None = None,
             seeds: tuple[int, ...] | str | None = None, runs_dir: Path | None = None, workers: int | None = None,
             replication: str | None = None, confirm: int | None = None) -> Study:
    """The study a run of `profile` trains and a dry run shows, built once: `build_study`'s, its pretraining given
    the user's settings too, a torch thread per reserved CPU, and `workers` Train workers per trial (None: the
    study's own). A rehearsal (smoke) reads generated data under `runs_dir`."""
    study = pretrain.fit(build_study(module, profile, sets, num_samples, seeds=seeds, runs_dir=runs_dir,
                                     replication=replication, confirm=confirm), sets)
    if workers is not None:
        study = replace(study, workers_per_trial=workers)
    return with_threads(study)


def with_threads(study: Study) -> Study:
    """What each Train worker is given (a torch thread per reserved CPU) unless the config says, set on the base
    so the params a trial logs, and a dry run shows, are the config it trains with."""
    threads = max(1, int(study.cpus_per_trial))
    if study.pretrain is not None and not study.pretrain.num_threads:  # it runs on one trial's resources
        study = replace(study, pretrain=replace(study.pretrain, num_threads=threads))
    if kind(study.base).own or study.base.num_threads:  # a function's trial gets its threads from its handle
        return study
    return replace(study, base=replace(study.base, num_threads=threads))


def build_study(module, profile: str, sets: dict[str, str], num_samples: int | None,
                smoke_data: Path | None = None, *, seeds: tuple[int, ...] | str | None = None,
                runs_dir: Path | None = None, replication: str | None = None, confirm: int | None = None) -> Study:
    """The study of `profile` (smoke: the full one, shrunk, on generated data at `smoke_data`, or the folder
    `runs_dir` gives it) with `sets` applied, trained once per seed in `seeds` (None: the study's own; AUTO: in
    waves under its replication policy, with `replication`'s overrides, studies.assembly.seeds), every path
    made absolute against this folder (trials run in Ray's), and its metric fitted to its protocol
    (studies.assembly.study_protocol)."""
    study = module.get_study("full" if profile == "smoke" else profile)
    name = (getattr(module, "__name__", None) or getattr(study, "name", "")).rsplit(".", 1)[-1]
    where = getattr(module, "__file__", None) or f"studies/catalog/{name}.py"
    if not isinstance(study, Study):
        raise UsageError(f"{where}: get_study({'full' if profile == 'smoke' else profile!r}) returned a "
                         f"{type(study).__name__}, expected a studies.study.Study (from hpstudy import Study)")
    if study.name and study.name != name:  # e.g. a file copied from another study: it would log into that one
        raise UsageError(f"{where} names itself {study.name!r}; a study is named by its file, so drop name=")
    study = replace(study, name=name)
    if seeds is not None and SEED_KEY in sets:
        raise UsageError(f"--set {SEED_KEY}={sets[SEED_KEY]} and --seeds both choose the seed; give only --seeds")
    swept = swept_keys(study) & set(sets)
    if swept == {SEED_KEY}:
        raise UsageError(f"--set {SEED_KEY}: this study trains each configuration once per seed; "
                         "give its seeds with --seeds, e.g. --seeds 0,1,2,3,4")
    if swept:
        raise UsageError(f"--set {', '.join(sorted(swept))}: this study varies it; choose another study or edit its "
                         f"file{' (and its seeds with --seeds)' if SEED_KEY in swept else ''}")
    if confirm is not None:
        if confirm < 1 or study.search == "grid":
            raise UsageError(f"--confirm {confirm}: expected an integer >= 1 and a search (tpe or random) to confirm; "
                             f"study {study.name} is a {study.search} search")
        study = replace(study, confirm=Confirm(top=confirm, seeds=study.confirm.seeds if study.confirm else 3))
    if seeds == AUTO or (replication and seeds is None):
        study = with_replication(study, replication)
    elif seeds is not None:
        if replication:
            raise UsageError(f"--replication {replication}: sequential replication chooses its seeds; drop --seeds "
                             f"{','.join(map(str, seeds))} or use --seeds auto")
        study = with_seeds(study, seeds)
    owned = set(OWNED_KEYS) & set(sets)
    if owned:
        raise UsageError(f"--set {', '.join(sorted(owned))}: follows the study's metric ({study.metric}, "
                         f"{study.mode}); choose the weights with checkpoint.keep=last|best|both")
    derived, config = follows_task(study), kind(study.base)
    study = replace(study, base=config.absolute(config.apply(study.base, sets)),
                    space=study.space if config.own else _absolute_space(study.space))
    if derived:  # e.g. --set task.module=mine:Seg: the study optimizes that task's lead metric
        study = replace(study, metric="", mode="")
    if profile == "smoke":
        if smoke_data is None and runs_dir is not None:
            smoke_data = smoke.data_root(study.base, runs_dir)
        study = smoke.shrink(study, smoke_data)
    if num_samples is not None:
        if num_samples < 1:
            raise UsageError(f"--num-samples must be >= 1, got {num_samples}")
        study = replace(study, num_samples=num_samples)
    study = apply_protocol(study)
    check_space(study)
    return study


def _candidates(key: str, value: Any) -> list[dict[str, Any]]:
    """Override sets that together cover every value `value` can give `key`: each grid point or variant, a
    range's two ends."""
    if isinstance(value, Variants):
        return [{k: v for k, v in c.items() if k != NAME_KEY} for c in value.configs]
    if isinstance(value, (Grid, Choice)):
        return [{key: v} for v in value.values]
    if isinstance(value, (LogUniform, Uniform, IntRange)):
        return [{key: value.low}, {key: value.high}]
    if isinstance(value, Conditional):  # each option, alone and with every candidate of its own sub-space
        out = []
        for option, sub in value.options.items():
            out.append({key: option})
            out += [{key: option, **c} for k, v in sub.items() for c in _candidates(k, v)]
        return out
    return [{key: value}]


def check_space(study: Study) -> None:
    """Every value the space can give a trial, validated with the base config (ses.beta in Uniform(0.5, 1.5) fails
    here, not in a trial), naming the space's key. The base config first, so its own errors read as they are. A
    training function's defaults: every value typed by its default (what the function checks is its own)."""
    config = kind(study.base)
    check = (lambda cfg: None) if config.own else partial(validate, check_data=False)
    check(study.base)
    for key, value in study.space.items():
        for overrides in _candidates(key, value):
            try:
                check(config.apply(study.base, overrides))
            except ConfigError as err:
                raise UsageError(f"study {study.name}, search space {key!r}: {err}") from None
