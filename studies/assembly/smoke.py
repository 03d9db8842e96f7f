"""`--smoke`: a study's full profile rehearsed on CPU in seconds, shrunk only in sizes (the idea of Ray examples'
`--smoke-test` and big_vision's `runlocal`): same model, data reader, SES hooks, schedule type, recipe, robustness
and precision logic, on a few dozen generated images in the dataset's on-disk layout, 2 epochs, 1 seed.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from hpstudy.schema import tags
from search_spaces import Grid
from studies.study import Confirm, Study, StudyError
from studies.trial_config import kind
from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides
from trainables.data.synthetic import WRITERS, write_dataset

EPOCHS = 2
BATCH = 8  # at most: a few optimizer steps per epoch on the generated images
EVAL_BATCH = 32
ROB_IMAGES = 16
LR_RANGE_STEPS = 10  # at most: a study's own LR range test (Study.lr_range_steps), its fewest allowed
SEARCH_TRIALS = 2  # a search keeps at most this many trials (a grid keeps every configuration)
NOTES_TAG = tags.NOTES  # what a rehearsal resolved differently from the profile it rehearses


def data_root(cfg: TrainConfig | dict, runs_dir: Path) -> Path | None:
    """Where `write_data` puts the generated copy of `cfg.data.name` (None for the embedded sets, and for a training
    function, which reads its own): `--dry-run` shows it without writing it."""
    if kind(cfg).own:
        return None
    return runs_dir / "smoke_data" / cfg.data.name if cfg.data.name in WRITERS else None


def write_data(cfg: TrainConfig, runs_dir: Path) -> Path | None:
    """Fresh generated data for `cfg.data.name` under runs_dir/smoke_data/ (None for the embedded sets)."""
    root = data_root(cfg, runs_dir)
    if root is None:
        return None
    shutil.rmtree(root, ignore_errors=True)
    return write_dataset(cfg.data.name, root)


def _cpu_settings(cfg: TrainConfig) -> tuple[dict[str, str], list[str]]:
    """Overrides for GPU-only settings, resolved the documented way, and a note for each one."""
    overrides, notes = {}, []
    if cfg.precision in ("bf16", "fp16"):
        overrides["precision"] = "fp32"
        notes.append(f"precision={cfg.precision} ran as fp32: it is a GPU setting, and --smoke runs on CPU "
                     "(precision=auto resolves to fp32 there too)")
    if cfg.device == "cuda":
        overrides["device"] = "cpu"
        notes.append("device=cuda ran on cpu: --smoke runs on CPU")
    return overrides, notes


def shrink_config(cfg: TrainConfig, data_root: Path | None) -> tuple[TrainConfig, list[str]]:
    """`cfg` shrunk to a rehearsal's sizes on `data_root` (None: its embedded data), and a note per GPU setting
    resolved for the CPU. Idempotent: shrinking a shrunk config changes nothing."""
    overrides: dict[str, object] = {
        "epochs": EPOCHS, "data.batch_size": min(cfg.data.batch_size, BATCH),
        "data.eval_batch_size": min(cfg.data.eval_batch_size, EVAL_BATCH), "data.num_workers": 0,
        "data.limit_train": 0, "rob.max_images": min(cfg.rob.max_images or ROB_IMAGES, ROB_IMAGES),
    }
    if data_root is not None:
        overrides["data.root"] = str(data_root)
    cpu, notes = _cpu_settings(cfg)
    return apply_overrides(cfg, {**overrides, **cpu}), notes


def pretrain_root(pretrain: TrainConfig, base: TrainConfig, data_root: Path | None) -> Path | None:
    """Where the pretraining's generated data is: the trials' when it reads their dataset, else its sibling under
    runs_dir/smoke_data/ (`write_data` writes both); None for an embedded dataset."""
    if pretrain.data.name not in WRITERS:
        return None
    if pretrain.data.name == base.data.name:
        return data_root
    if data_root is None:  # the trials' data is embedded, so the smoke data folder is not known here
        raise StudyError(f"--smoke: the pretraining reads {pretrain.data.name} and the trials embedded "
                         f"{base.data.name}; a rehearsal generates files for the trials' dataset only")
    return data_root.parent / pretrain.data.name


def write_pretrain_data(pretrain: TrainConfig | None, base: TrainConfig, runs_dir: Path) -> None:
    """Generated data for a pretraining that reads another dataset than the trials (see `pretrain_root`)."""
    if pretrain is not None and pretrain.data.name != base.data.name:
        write_data(pretrain, runs_dir)


def shrink(study: Study, data_root: Path | None) -> Study:
    """The smoke study of `study`, the full profile's; what it resolved differently is in tags[NOTES_TAG]. Its
    pretraining (if any) is shrunk alike, and its LR range test to LR_RANGE_STEPS. A training function's defaults
    are its own: only an `epochs` default is shrunk (the rest is the function's to decide)."""
    if kind(study.base).own:
        base, notes = dict(study.base), []
        if isinstance(base.get("epochs"), int):
            base["epochs"] = min(base["epochs"], EPOCHS)
        else:
            notes.append("the training function's defaults name no epochs: it trains as long as it does")
    else:
        base, notes = shrink_config(study.base, data_root)
    pretrain = study.pretrain
    if pretrain is not None:
        pretrain, pretrain_notes = shrink_config(pretrain, pretrain_root(pretrain, study.base, data_root))
        notes += [f"pretraining: {n}" for n in pretrain_notes]
    space = {k: Grid(v.values[:1]) if k == "seed" and isinstance(v, Grid) else v for k, v in study.space.items()}
    if study.replication is not None:  # a rehearsal trains each configuration once
        space, notes = {**space, "seed": Grid((0,))}, [*notes, "seed 0 only, not sequential replication"]
    return replace(
        study, profile="smoke", base=base, space=space, pretrain=pretrain, replication=None,
        confirm=Confirm(top=1, seeds=2) if study.confirm else None,
        lr_range_steps=min(study.lr_range_steps, LR_RANGE_STEPS),
        num_samples=1 if study.search == "grid" else min(study.num_samples, SEARCH_TRIALS),
        asha=replace(study.asha, grace_period=1) if study.asha else None,
        gpus_per_trial=0.0, cpus_per_trial=1.0, tags={**study.tags, **({NOTES_TAG: "; ".join(notes)} if notes else {})},
    )
