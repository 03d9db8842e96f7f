"""The seed's figures that span two studies: Exp 17's `21_vit_ablations.png` (every configuration as bars),
`21c_vit_ablations_curves.png` (their curves) and `21d_vit_ablations_percorruption.png`, which join the ViT β sweep
(Exp 17a, `ses_vit_beta_sweep`) and the layer ablation (Exp 17b, `ses_vit_layers`).

Seed 001 ran Exp 17 as one script of six configurations; the catalogue runs its halves as two studies, each with its
own baseline. The figures keep both halves' configurations, each labelled by its half ("17a: beta=0.5"), both
baselines included; the first half's baseline is the reference colour. They are drawn only from runs of one profile
with one lead metric that both halves' tasks measure alike (one direction, one unit): otherwise the reason stands in
the document in the figure's place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.paper_doc import FIGURE_DIR, Figure, Section
from analysis.paper_figures import NotDrawn, draw_each, experiment_ids
from analysis.paper_runs import StudyRun
from analysis.seed_table import Keys, seed_table

# experiment ids (their configurations shown in this order) -> the seed's figures joining them, as
# analysis.paper_figures.draw takes them: (file, kind, only)
CROSS: dict[tuple[str, ...], tuple[tuple[str, str, None], ...]] = {
    ("17a", "17b"): (("21_vit_ablations.png", "bars", None), ("21c_vit_ablations_curves.png", "curves", None),
                     ("21d_vit_ablations_percorruption.png", "corruption", None)),
}


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
            f"Exp {i} ({studies[i].entry.name}: {studies[i].missing})" if i in studies
            else f"Exp {i} (no study of it in the store)" for i in missing))
    profiles = {i: s.run.profile for i, s in have.items()}
    if len(set(profiles.values())) > 1:
        raise NotDrawn("their latest runs are of different profiles: "
                       + ", ".join(f"Exp {i} {p}" for i, p in profiles.items()) + " (give --profile)")
    leads = {i: s.run.lead for i, s in have.items()}
    if len(set(leads.values())) > 1:
        raise NotDrawn("their studies select on different metrics: "
                       + ", ".join(f"Exp {i} {lead}" for i, lead in leads.items()))
    keys = Keys.of(next(iter(leads.values())))
    for key in (keys.lead, keys.acc, keys.rob):
        rows = {i: s.run.metric_table.find(key) for i, s in have.items()}
        if len({(r.direction, r.unit) if r else None for r in rows.values()}) > 1:
            raise NotDrawn(f"their tasks measure {key} differently: " + ", ".join(
                f"Exp {i} {r.direction or 'no direction'} in {r.unit}" if r else f"Exp {i} unknown"
                for i, r in rows.items()))
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
    groups = []
    for experiments, figures in CROSS.items():
        try:
            halves = _halves(sections, runs, experiments)
        except NotDrawn as why:
            groups.append(CrossFigures(_group_title(experiments, None), "",
                                       [Figure(name, drawn=False, why=str(why)) for name, _, _ in figures]))
            continue
        trials, baseline = joined_trials(halves)
        first = next(iter(halves.values())).run
        table = seed_table(trials, first.lead, baseline, first.metric_table)  # one table: the halves agree
        n = ", ".join(map(str, table.n))
        title = f"{_group_title(experiments, halves)} (profile {first.profile}, n = {n} seeds)"
        note = (f"Seed 001 ran Exp {_number(experiments)} as one script; "
                "here its halves are two studies, each with its own baseline: every configuration is named by "
                "its half, parent runs " + ", ".join(f"`{s.run.parent.info.run_id}` (Exp {i})"
                                                     for i, s in halves.items()) + f", profile `{first.profile}`.")
        groups.append(CrossFigures(title, note, draw_each(figures, trials, table, out / FIGURE_DIR, title,
                                                          tracking_uri, _group_title(experiments, halves))))
    return groups
