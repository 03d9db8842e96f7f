"""The seed's figures that span two studies: Exp 17's `21_vit_ablations.png` (every configuration as bars),
`21c_vit_ablations_curves.png` (their curves) and `21d_vit_ablations_percorruption.png`, which join the ViT β sweep
(Exp 17a, `ses_vit_beta_sweep`) and the layer ablation (Exp 17b, `ses_vit_layers`).

Seed 001 ran Exp 17 as one script of six configurations; the catalogue runs its halves as two studies, each with its
own baseline. The figures keep both halves' configurations, each labelled by its half ("17a: beta=0.5"), both
baselines included; the first half's baseline is the reference colour. They are drawn only from runs of one profile
with one lead metric: otherwise the reason stands in the document in the figure's place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.paper_doc import FIGURE_DIR, Figure, Section
from analysis.paper_figures import NotDrawn, draw, experiment_ids
from analysis.paper_runs import StudyRun
from analysis.seed_table import seed_table


@dataclass(frozen=True)
class Joined:
    """One seed figure drawn from several experiments' studies."""

    name: str
    kind: str  # as analysis.paper_figures.draw takes it
    experiments: tuple[str, ...]  # experiment ids ("17a"), in the order their configurations are shown


CROSS: tuple[Joined, ...] = (
    Joined("21_vit_ablations.png", "bars", ("17a", "17b")),
    Joined("21c_vit_ablations_curves.png", "curves", ("17a", "17b")),
    Joined("21d_vit_ablations_percorruption.png", "corruption", ("17a", "17b")),
)


@dataclass
class CrossFigures:
    """The document's part for the figures of one group of experiments."""

    title: str
    note: str
    figures: list[Figure] = field(default_factory=list)


def _by_experiment(items, experiments: tuple[str, ...]) -> dict:
    """experiment id -> the first of `items` (sections or study runs) whose study is that experiment."""
    found = {}
    for item in items:
        run = item.run if isinstance(item, Section) else item
        for i in experiment_ids(run.entry.experiment):
            if i in experiments and i not in found:
                found[i] = item
    return found


def _halves(sections: list[Section], runs: list[StudyRun], experiments: tuple[str, ...]) -> dict[str, Section]:
    """experiment id -> its study's section; NotDrawn naming what is missing or what does not match."""
    have = _by_experiment(sections, experiments)
    missing = [i for i in experiments if i not in have]
    if missing:
        studies = _by_experiment(runs, experiments)
        raise NotDrawn("needs a finished run of " + " and ".join(
            f"Exp {i} ({studies[i].entry.name}: {studies[i].missing})" if i in studies else f"Exp {i} (no such study)"
            for i in missing))
    profiles = {i: s.run.profile for i, s in have.items()}
    if len(set(profiles.values())) > 1:
        raise NotDrawn("their latest runs are of different profiles: "
                       + ", ".join(f"Exp {i} {p}" for i, p in profiles.items()) + " (give --profile)")
    leads = {i: s.run.lead for i, s in have.items()}
    if len(set(leads.values())) > 1:
        raise NotDrawn("their studies select on different metrics: "
                       + ", ".join(f"Exp {i} {lead}" for i, lead in leads.items()))
    return have


def joined_trials(halves: dict[str, Section]) -> tuple[pd.DataFrame, str | None]:
    """The halves' trials in one frame, each configuration named "<experiment>: <configuration>"; the baseline."""
    frames = [s.run.trials.assign(config=f"{i}: " + s.run.trials["config"].astype(str)) for i, s in halves.items()]
    first_id, first = next(iter(halves.items()))
    baseline = f"{first_id}: {first.table.baseline}" if first.table.baseline is not None else None
    return pd.concat(frames, ignore_index=True), baseline


def _number(experiments: tuple[str, ...]) -> str:
    """("17a", "17b") -> "17": the seed's experiment the halves come from."""
    return experiments[0].rstrip("abcdefghijklmnopqrstuvwxyz")


def _group_title(experiments: tuple[str, ...], halves: dict[str, Section] | None) -> str:
    names = (" + ".join(s.run.entry.name for s in halves.values()) if halves
             else ", ".join(f"Exp {i}" for i in experiments))
    return f"Exp {_number(experiments)}: {names}"


def cross_figures(sections: list[Section], runs: list[StudyRun], out: Path,
                  tracking_uri: str | None) -> list[CrossFigures]:
    """Each group of joined figures, drawn where its studies have runs that can be joined, else why not."""
    groups: dict[tuple[str, ...], CrossFigures] = {}
    for fig in CROSS:
        try:
            halves = _halves(sections, runs, fig.experiments)
        except NotDrawn as why:
            group = groups.setdefault(fig.experiments, CrossFigures(_group_title(fig.experiments, None), ""))
            group.figures.append(Figure(fig.name, drawn=False, why=str(why)))
            continue
        trials, baseline = joined_trials(halves)
        table = seed_table(trials, next(iter(halves.values())).run.lead, baseline)
        profile = next(iter(halves.values())).run.profile
        n = ", ".join(map(str, table.n))
        title = f"{_group_title(fig.experiments, halves)} (profile {profile}, n = {n} seeds)"
        note = (f"Seed 001 ran Exp {_number(fig.experiments)} as one script; "
                "here its halves are two studies, each with its own baseline: every configuration is named by "
                "its half, parent runs " + ", ".join(f"`{s.run.parent.info.run_id}` (Exp {i})"
                                                     for i, s in halves.items()) + f", profile `{profile}`.")
        group = groups.setdefault(fig.experiments, CrossFigures(title, note))
        group.title, group.note = title, note
        folder = out / FIGURE_DIR
        folder.mkdir(parents=True, exist_ok=True)
        try:
            draw(fig.kind, None, trials, table, folder / fig.name, title, tracking_uri)
            group.figures.append(Figure(fig.name, drawn=True))
        except NotDrawn as why:
            group.figures.append(Figure(fig.name, drawn=False, why=str(why)))
    return list(groups.values())
