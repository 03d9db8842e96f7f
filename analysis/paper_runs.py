"""Which run of each SES catalogue study the paper reports: the latest finished parent run of each, its trials loaded.

The catalogue (studies.registry) says which studies exist; everything else is read from MLflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from mlflow.entities import Run, ViewType
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from analysis.formats import metric_direction
from analysis.load import AnalysisError, load_history, load_trials
from analysis.seed_table import Keys
from schema import statuses
from schema import tags as T
from schema.params import STUDY_PREFIX
from studies import registry

SES_SEED = "001"  # the seed note of the SES project
SMOKE = "smoke"  # a rehearsal on generated data: never a paper's number unless asked for


@dataclass
class StudyRun:
    """One catalogue study: its latest finished parent run and trials, or why it has none (`missing`)."""

    entry: registry.Entry
    parent: Run | None = None
    trials: pd.DataFrame | None = None
    lead: str = "val/acc"  # the study's metric (parent param study.metric): the columns follow its leaf
    missing: str = ""  # "" when run
    skipped: list[str] = field(default_factory=list)  # newer parent runs not used: "<run id> (<why>)"

    @property
    def profile(self) -> str:
        return self.parent.data.tags.get(T.PROFILE, "?") if self.parent is not None else ""


def ses_entries() -> list[registry.Entry]:
    """The catalogue's SES studies in experiment order (`--list`'s order)."""
    return [e for _, entries in registry.groups() for e in entries if e.seed == SES_SEED]


def _parents(client: MlflowClient, study: str) -> list[Run]:
    exp = client.get_experiment_by_name(study)
    if exp is None:
        return []
    return list(client.search_runs([exp.experiment_id], f"tags.`{T.ROLE}` = '{T.ROLE_STUDY}'",
                                   ViewType.ACTIVE_ONLY, 1000, ["attributes.start_time DESC"]))


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
        why = "not run yet"
    elif profile is None and all(r.data.tags.get(T.PROFILE) == SMOKE for r in parents):
        why = "only --smoke rehearsals (give --profile smoke to report them)"
    return None, skipped, why


def with_test_gap(trials: pd.DataFrame, keys: Keys, tracking_uri: str | None) -> pd.DataFrame:
    """`keys.gap` per trial: train/<leaf> of the epoch whose weights test/<leaf> measured (test/epoch; the last
    epoch without it) minus test/<leaf>, sign-flipped for a metric where lower is better. Kept as logged where the
    trainer logs it (no validation split: the test split is the epoch's split)."""
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
    out[keys.gap] = -gap if metric_direction(keys.lead) == "min" else gap
    return out


def _lead(parent: Run) -> str:
    return parent.data.params.get(f"{STUDY_PREFIX}metric") or "val/acc"


def collect(tracking_uri: str, profile: str | None = None) -> list[StudyRun]:
    """Every SES catalogue study, with its latest finished run's trials where it has one."""
    try:
        client = MlflowClient(tracking_uri=tracking_uri)
        client.search_experiments(max_results=1)
    except (MlflowException, OSError, ValueError) as err:
        raise AnalysisError(f"cannot read the MLflow store {tracking_uri}: {str(err).splitlines()[0]}") from None
    out = []
    for entry in ses_entries():
        parent, skipped, why = latest_finished(_parents(client, entry.name), profile)
        run = StudyRun(entry, parent=parent, missing=why, skipped=skipped)
        if parent is not None:
            run.lead = _lead(parent)
            trials = load_trials(parent_run_id=parent.info.run_id, tracking_uri=tracking_uri)
            run.trials = with_test_gap(trials, Keys.of(run.lead), tracking_uri)
        out.append(run)
    return out
