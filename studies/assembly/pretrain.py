"""A study's pretraining (`Study.pretrain`) as the study that runs sees it: the user's settings applied, whether it
runs or a user's checkpoint replaces it, and every trial starting from its checkpoint. Also which of the steps before
the trials (pretraining, LR range test) a user's settings replace. Running it is `studies.cli.before_trials`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from studies.study import Study


def folder(runs_dir: Path, parent_run_id: str) -> Path:
    """Where the pretraining of one study run keeps its checkpoint and history."""
    return runs_dir / "pretrain" / parent_run_id


def fit(study: Study, sets: dict[str, str]) -> Study:
    """`study` (as studies.assembly.assemble built it) whose pretraining has the user's `--set` too, but init.* (the
    trials' init.checkpoint is the pretraining's; a user's replaces it), its paths absolute as the trials' are, and,
    in a rehearsal, its sizes shrunk after the sets, as the trials' are."""
    if study.pretrain is None:
        return study
    from studies.assembly import smoke  # imported here: smoke's imports need no pretraining
    from trainables.config.overrides import apply_overrides
    from trainables.config.paths import absolute_paths

    cfg = absolute_paths(apply_overrides(study.pretrain, {k: v for k, v in sets.items() if not k.startswith("init.")}))
    if study.profile == "smoke":
        root = study.pretrain.data.root  # shrink already put the rehearsal's data there
        cfg, _ = smoke.shrink_config(cfg, Path(root) if root else None)
    return replace(study, pretrain=cfg)


def replaced_by(study: Study) -> str | None:
    """The init.checkpoint that replaces the study's pretraining (a user's --set), or None: it runs."""
    if study.pretrain is None or not study.base.init.checkpoint:
        return None
    return study.base.init.checkpoint


def runs(study: Study) -> bool:
    """Does the study train a pretraining before its trials (it has one, and no user's checkpoint replaces it)?"""
    return study.pretrain is not None and replaced_by(study) is None


def start_from(study: Study, checkpoint: str) -> Study:
    """`study` whose every trial starts from `checkpoint` (an absolute path), with the base's init.mode/keep."""
    return replace(study, base=replace(study.base, init=replace(study.base.init, checkpoint=checkpoint)))


def lr_range_steps(study: Study, sets: dict[str, str], flag: int | None) -> int:
    """The LR range test's steps: --lr-range's, else the study's own unless the user's --set optim.lr chose it."""
    if flag is not None:
        return flag
    return 0 if "optim.lr" in sets else study.lr_range_steps


def replaced_steps(study: Study, sets: dict[str, str], flag: int | None) -> list[str]:
    """A line for each step of the study that the user's settings replace, so it is not run."""
    notes = []
    checkpoint = replaced_by(study)
    if checkpoint is not None:
        notes.append(f"init.checkpoint={checkpoint} replaces the study's pretraining, which is not run; every "
                     f"trial starts from that checkpoint (init.mode={study.base.init.mode})")
    if study.lr_range_steps and flag is None and "optim.lr" in sets:
        notes.append(f"optim.lr={sets['optim.lr']} replaces the study's LR range test, which is not run")
    return notes
