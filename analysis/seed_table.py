"""The seed note's result table of one SES study: configuration | Acc | Gap | Rob | Δ Acc | Δ Rob | Time/ep.

Pure computation on `analysis.load.load_trials`' frame, with the test gap `analysis.paper_runs.with_test_gap` adds;
every column follows the study's lead metric (val/fscore -> test/fscore) and keeps the study's metric table for the
units. `analysis.paper_doc` renders it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.load import metric_table_of
from analysis.stats import holm
from analysis.tables import multiseed_table, natural_key, paired_columns, paired_values
from hpstudy.schema.metrics import MetricTable
from hpstudy.schema.params import RUN_SPECIFIC

TIME = "sys/epoch_s/mean"  # a trial's mean epoch wall time: training + evaluation, robustness excluded
SES_SWITCH = "param.ses.enabled"
COUNTED = ("completed",)  # trials a cell counts; the others show as (+k) next to n
# (column, Keys attribute): the columns that hold a mean ± std over seeds; Δ is taken of the first and third
MEASURED = (("Acc", "acc"), ("Gap", "gap"), ("Rob", "rob"), ("Time/ep", "time"))
PAIRED = (("Δ Acc", "acc"), ("Δ Rob", "rob"))


@dataclass(frozen=True)
class Keys:
    """The metric keys behind the columns, from the study's lead metric: val/acc -> test/acc, train/acc, ..."""

    lead: str  # what the study selected on, e.g. val/acc
    acc: str  # test/<leaf>: the configuration's figure (measured once, never selected on)
    train: str  # train/<leaf>
    gap: str  # gap/train_test_<leaf>: train/<leaf> of the tested epoch - test/<leaf>
    rob: str  # rob/<leaf>: the same metric on corrupted images
    time: str = TIME

    @classmethod
    def of(cls, lead: str) -> Keys:
        leaf = lead.split("/", 1)[-1]
        return cls(lead, f"test/{leaf}", f"train/{leaf}", f"gap/train_test_{leaf}", f"rob/{leaf}")


@dataclass
class SeedTable:
    """`rows` (index: config, in table order): `vs` (the config its Δ pairs with), per measured key `<attr>`,
    `<attr>/std`, `<attr>/n`; per paired key `d_<attr>`, `/low`, `/high`, `/p`, `/p_holm` (Holm over the table's
    configs with a p), `/pairs`, `/flag`, `/sd` (of the per-seed differences) and `/mde` (the smallest true Δ the
    paired t-test over `/pairs` detects: alpha 0.05, power 0.8; analysis.stats.mde); `time/rel`."""

    rows: pd.DataFrame
    keys: Keys
    baseline: str | None
    metric_table: MetricTable  # the study's: the columns' units
    missing: dict[str, str] = field(default_factory=dict)  # column -> why it holds no number

    @property
    def n(self) -> list[int]:
        """The distinct counts of seeds per configuration behind the Acc column."""
        return sorted({int(v) for v in self.rows["acc/n"]}) if "acc/n" in self.rows else []


def _logged(trials: pd.DataFrame, key: str) -> bool:
    return key in trials.columns and bool(trials[key].notna().any())


def _signature(row: pd.Series) -> tuple:
    return tuple((k, None if pd.isna(v) else str(v)) for k, v in row.items())


def twins(trials: pd.DataFrame) -> dict[str, str]:
    """SES-on config -> its SES-off twin: the one config with SES off and every other param equal (Exp 12/14/15
    compare `mixup+ses` with `mixup`; in a β sweep every SES config's twin is the baseline)."""
    if SES_SWITCH not in trials:
        return {}
    keys = [c for c in trials.columns if c.startswith("param.") and not c.startswith("param.ses.")
            and c[len("param."):] not in RUN_SPECIFIC]
    labels = trials["config"].astype(str)
    first = trials.groupby(labels, sort=False)[keys].first()
    on = {c: bool(v) for c, v in trials.groupby(labels, sort=False)[SES_SWITCH].first().fillna(False).items()}
    out = {}
    for config in (c for c, ses in on.items() if ses):
        found = [o for o, ses in on.items() if not ses and _signature(first.loc[o]) == _signature(first.loc[config])]
        if len(found) == 1:
            out[config] = found[0]
    return out


def references(trials: pd.DataFrame, baseline: str | None) -> dict[str, str | None]:
    """config -> the config its Δ is paired against: its SES-off twin where it has one, else the study's baseline;
    None for the baseline itself, and for every config of a study without one."""
    configs = [str(c) for c in dict.fromkeys(trials["config"])]
    if baseline is None or baseline not in configs:
        return {c: None for c in configs}
    pairs = twins(trials)
    return {c: None if c == baseline else pairs.get(c, baseline) for c in configs}


def ordered_configs(trials: pd.DataFrame, baseline: str | None) -> list[str]:
    """The baseline and its SES twins first, then each other config followed by its twins; each group in natural
    order of the labels (as `multiseed_table`): none, none+ses, mixup, mixup+ses reads as the seed's tables."""
    pairs = twins(trials)

    def key(config: str) -> tuple:
        anchor = pairs.get(config, config)
        return anchor != baseline, natural_key(anchor), config != anchor, natural_key(config)

    return sorted((str(c) for c in dict.fromkeys(trials["config"])), key=key)


def _counted(trials: pd.DataFrame, key: str, config: str) -> pd.DataFrame:
    rows = trials[(trials["config"].astype(str) == config) & trials["status"].isin(COUNTED) & trials[key].notna()]
    return pd.DataFrame({"seed": rows["seed"], "value": rows[key]})


def paired_delta(trials: pd.DataFrame, key: str, config: str, ref: str) -> dict[str, object]:
    """Mean of the per-seed differences config - ref over the seeds both have; CI (bootstrap BCa) and p (paired t)
    only where `tables.pairing_flag` finds nothing that makes them meaningless (it names it in `flag`); the sd of
    those differences and the MDE at their number wherever 2 seeds pair (`tables.paired_columns`)."""
    mine, theirs = _counted(trials, key, config), _counted(trials, key, ref)
    pairs, _ = paired_values(mine, theirs)
    test = paired_columns(mine, theirs)
    return {"": float((pairs["x"] - pairs["y"]).mean()) if len(pairs) else np.nan, "low": test["delta_ci_low"],
            "high": test["delta_ci_high"], "p": test["p"], "pairs": len(pairs), "flag": test["flag"],
            "sd": test["sd_delta"], "mde": test["mde"]}


def _why_missing(trials: pd.DataFrame, keys: Keys, attr: str) -> str:
    key = getattr(keys, attr)
    if attr == "rob" and "param.rob.enabled" in trials and not trials["param.rob.enabled"].fillna(False).any():
        return "robustness not measured: rob.enabled is off in this study"
    if attr == "gap":
        absent = [k for k in (keys.train, keys.acc) if not _logged(trials, k)]
        return f"no {' and no '.join(absent) or key} logged, so no train - test gap"
    if attr == "acc":
        return f"{key} not logged: the study measured no test split (eval.test)"
    return f"{key} not logged"


def seed_table(trials: pd.DataFrame, lead: str = "val/acc", baseline: str | None = None,
               metric_table: MetricTable | None = None) -> SeedTable:
    """The table of one study invocation's trials; `baseline` (the study's hpstudy.baseline) anchors every Δ;
    `metric_table`: the study's (default: the one `load_trials` attached to `trials`)."""
    keys = Keys.of(lead)
    configs = ordered_configs(trials, baseline)
    refs = references(trials, baseline)
    rows = pd.DataFrame({"vs": [refs[c] for c in configs]}, index=pd.Index(configs, name="config"), dtype=object)
    missing: dict[str, str] = {}
    for column, attr in MEASURED:
        key = getattr(keys, attr)
        if not _logged(trials, key):
            missing[column] = _why_missing(trials, keys, attr)
            continue
        table = multiseed_table(trials, key, statuses=COUNTED)
        table.index = table.index.map(str)
        rows[attr], rows[f"{attr}/std"] = table["mean"].reindex(configs), table["std"].reindex(configs)
        rows[f"{attr}/n"], rows[f"{attr}/other"] = table["n"].reindex(configs), table["n_other"].reindex(configs)
    for column, attr in PAIRED:
        if column[2:] in missing:
            missing[column] = missing[column[2:]]
            continue
        for config in configs:
            if refs[config] is not None:
                for part, value in paired_delta(trials, getattr(keys, attr), config, refs[config]).items():
                    rows.loc[config, f"d_{attr}/{part}".rstrip("/")] = value
        if f"d_{attr}/p" in rows:  # the family: this column's configs with a p
            rows[f"d_{attr}/p_holm"] = holm(rows[f"d_{attr}/p"].astype(float))
    if "time" in rows and baseline is not None:
        rows["time/rel"] = [rows.loc[c, "time"] / rows.loc[refs[c], "time"] - 1 if refs[c] else np.nan
                            for c in configs]
    return SeedTable(rows=rows, keys=keys, baseline=baseline, metric_table=metric_table or metric_table_of(trials),
                     missing=missing)
