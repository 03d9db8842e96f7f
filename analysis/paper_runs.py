"""Which runs the paper reports: the SES studies found in the store (parent runs tagged with seed note 001), and of
each the latest finished parent run, its trials loaded with the study's metric table.

Everything is read from MLflow: a study's name, experiment and description are its parent runs' tags
(hpstudy.schema.tags.SEED_NOTE, EXPERIMENT, DESCRIPTION, which the study runner writes), so a study never run, or only run
before the runner wrote them, is not known here: the paper lists the studies found in the store, not the catalogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from mlflow.entities import Run, ViewType
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from analysis.formats import metric_direction
from analysis.load import AnalysisError, all_pages, load_history, load_trials, metric_table_of
from analysis.seed_table import Keys
from hpstudy.schema import statuses
from hpstudy.schema import tags as T
from hpstudy.schema.metrics import METRICS, MetricTable
from hpstudy.schema.params import STUDY_PREFIX

SES_SEED = "001"  # the seed note of the SES project
SMOKE = "smoke"  # a rehearsal on generated data: never a paper's number unless asked for


@dataclass(frozen=True)
class CatalogueEntry:
    """One SES study as its newest tagged parent run names it, as `python -m studies.run --list` shows it."""

    name: str  # the study, as run (its MLflow experiment)
    experiment: str  # which of the seed note's experiments, "Exp 2"; "" when it names none
    description: str = ""


@dataclass
class StudyRun:
    """One SES study found in the store: its latest finished parent run and trials, or why it has none (`missing`)."""

    entry: CatalogueEntry
    parents: list[Run] = field(default_factory=list)  # its parent runs tagged with the seed note, newest first
    parent: Run | None = None
    trials: pd.DataFrame | None = None
    lead: str = "val/acc"  # the study's metric (parent param study.metric): the columns follow its leaf
    metric_table: MetricTable = METRICS  # the study's: its task's own metrics' units and directions included
    missing: str = ""  # "" when run
    skipped: list[str] = field(default_factory=list)  # newer parent runs not used: "<run id> (<why>)"

    @property
    def profile(self) -> str:
        return self.parent.data.tags.get(T.PROFILE, "?") if self.parent is not None else ""


def _in_order(text: str) -> list:
    """'Exp 10' after 'Exp 2': numbers compared as numbers (as `--list` orders them)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def ses_studies(client: MlflowClient) -> list[StudyRun]:
    """Every study with a parent run tagged with the SES seed note, its tagged parents newest first, in `--list`'s
    order: by experiment ("Exp 2" before "Exp 10"), then by name. Named and labelled by its newest such run."""
    experiments = {e.experiment_id: e.name for e in all_pages(client.search_experiments)}
    if not experiments:
        return []
    tagged = all_pages(client.search_runs, experiment_ids=list(experiments),
                       filter_string=f"tags.`{T.ROLE}` = '{T.ROLE_STUDY}' AND tags.`{T.SEED_NOTE}` = '{SES_SEED}'",
                       run_view_type=ViewType.ACTIVE_ONLY, order_by=["attributes.start_time DESC"])
    by_experiment: dict[str, list[Run]] = {}
    for run in tagged:
        by_experiment.setdefault(run.info.experiment_id, []).append(run)
    out = []
    for exp_id, parents in by_experiment.items():
        tags = parents[0].data.tags
        name = tags.get(T.STUDY) or experiments[exp_id]
        out.append(StudyRun(CatalogueEntry(name, tags.get(T.EXPERIMENT, ""), tags.get(T.DESCRIPTION, "")), parents))
    return sorted(out, key=lambda r: (_in_order(r.entry.experiment), r.entry.name))


def latest_finished(parents: list[Run], profile: str | None) -> tuple[Run | None, list[str], str]:
    """(the newest completed parent of `profile`, or of any profile but smoke; newer ones passed over; why none)."""
    skipped = []
    for run in parents:
        tags = run.data.tags
        status, prof = tags.get(T.STATUS) or statuses.from_mlflow(run.info.status), tags.get(T.PROFILE)
        if (prof != profile) if profile else prof == SMOKE:
            continue  # another profile's runs are not "newer runs of this one"
        if status != statuses.COMPLETED:
            skipped.append(f"{run.info.run_id} ({status})")
            continue
        return run, skipped, ""
    kinds = "" if profile is None else f" of profile {profile}"
    why = f"no finished run{kinds}" + (f"; unfinished: {', '.join(skipped)}" if skipped else "")
    if not parents:
        why = "no parent run"
    elif profile is None and all(r.data.tags.get(T.PROFILE) == SMOKE for r in parents):
        why = "only --smoke rehearsals (give --profile smoke to report them)"
    return None, skipped, why


def with_test_gap(trials: pd.DataFrame, keys: Keys, tracking_uri: str | None,
                  metric_table: MetricTable) -> pd.DataFrame:
    """`keys.gap` per trial: train/<leaf> of the epoch whose weights test/<leaf> measured (test/epoch; the last
    epoch without it) minus test/<leaf>, sign-flipped for a metric where lower is better (in the study's
    `metric_table`). Kept as logged where the trainer logs it (no validation split: the test split is the epoch's
    split)."""
    if keys.gap in trials or not {keys.train, keys.acc} <= set(trials.columns):
        return trials
    out = trials.copy()
    gap = out[keys.train] - out[keys.acc]
    if "test/epoch" in out and out["test/epoch"].notna().any():
        tested = out[out["test/epoch"].notna()]
        history = load_history(list(tested["run_id"]), keys.train, tracking_uri=tracking_uri)
        at = history.set_index(["run_id", "step"])["value"]
        for i, row in tested.iterrows():
            train = at.get((row["run_id"], int(row["test/epoch"])), np.nan)
            gap.loc[i] = train - row[keys.acc]
    out[keys.gap] = -gap if metric_direction(keys.lead, metric_table) == "min" else gap
    return out


def _lead(parent: Run) -> str:
    return parent.data.params.get(f"{STUDY_PREFIX}metric") or "val/acc"


def collect(tracking_uri: str, profile: str | None = None) -> list[StudyRun]:
    """Every SES study found in the store, with its latest finished run's trials where it has one."""
    try:
        client = MlflowClient(tracking_uri=tracking_uri)
        client.search_experiments(max_results=1)
    except (MlflowException, OSError, ValueError) as err:
        raise AnalysisError(f"cannot read the MLflow store {tracking_uri}: {str(err).splitlines()[0]}") from None
    out = ses_studies(client)
    for run in out:
        run.parent, run.skipped, run.missing = latest_finished(run.parents, profile)
        if run.parent is not None:
            run.lead = _lead(run.parent)
            trials = load_trials(parent_run_id=run.parent.info.run_id, tracking_uri=tracking_uri)
            run.metric_table = metric_table_of(trials)
            run.trials = with_test_gap(trials, Keys.of(run.lead), tracking_uri, run.metric_table)
    return out
