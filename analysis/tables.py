"""Multi-seed summary of a study's trials: n, mean, std and 95% CI per config, and a paired comparison to a baseline.

Works on the frame `analysis.load.load_trials` returns; `analysis.formats` turns the result into Markdown or LaTeX.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import pandas as pd

from analysis.load import RUN_SPECIFIC, TRIAL_COLUMNS, AnalysisError
from analysis.stats import (
    MIN_PAIRS,
    MIN_SEEDS,
    N_RESAMPLES,
    difference_sd,
    holm,
    mde,
    mean_cis,
    paired_comparison,
    variance_ratio,
)

_NUMBER = re.compile(r"(\d+(?:\.\d+)?(?:[eE]-?\d+)?)")
# Columns a baseline comparison adds; NaN (flag says why) where a paired test would mean nothing. p_holm: p adjusted
# over the table's tests (Holm); sd_delta: sd of the per-seed differences (ddof=1); mde: the smallest true Δ the
# paired t-test over n_pairs detects (alpha 0.05, power 0.8; analysis.stats.mde), both from the seeds both have.
PAIRED_COLUMNS = ("n_pairs", "t", "p", "p_holm", "delta_ci_low", "delta_ci_high", "d_z", "sd_delta", "mde",
                  "var_ratio", "flag")


def natural_key(label: str) -> tuple:
    # "beta=0.05" < "beta=0.3" < "beta=1.0", which plain string order gets wrong; split() alternates text, number.
    parts = _NUMBER.split(label)
    return tuple(float(p) if i % 2 else p for i, p in enumerate(parts))


def metric_columns(trials: pd.DataFrame) -> list[str]:
    """Columns of a trials frame that hold metrics (everything but the fixed columns and `param.*`)."""
    return [c for c in trials.columns if c not in TRIAL_COLUMNS and not c.startswith("param.")]


def check_metric(trials: pd.DataFrame, metric: str) -> None:
    if metric not in trials.columns:
        raise AnalysisError(f"no metric {metric!r}; metric columns: {', '.join(metric_columns(trials)) or '(none)'}")


def multiseed_table(
    trials: pd.DataFrame,
    metric: str = "val/acc",
    baseline: str | None = None,
    statuses: Iterable[str] = ("completed",),
    *,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> pd.DataFrame:
    """Per config (index): n, n_other, mean, std (ddof=1), 95% t-interval `ci_low`/`ci_high` of the mean.

    `n` counts trials whose status is in `statuses` and that have a value for `metric`; `n_other` counts the
    rest of that config's trials, so a config's failures stay visible. Configs with n=0 keep a row (mean NaN).
    With a `baseline`: `delta` (difference of means) and PAIRED_COLUMNS, the paired test over the seeds both
    configs have (see `paired_columns`). Rows: the baseline first, then configs in natural order of their labels.
    `attrs` records metric, statuses and baseline for the formatters.
    """
    statuses = (statuses,) if isinstance(statuses, str) else tuple(statuses)
    check_metric(trials, metric)
    configs = list(dict.fromkeys(trials["config"]))
    if baseline is not None and baseline not in configs:
        raise AnalysisError(f"no baseline config {baseline!r}; configs: {', '.join(map(str, configs)) or '(none)'}")

    counted = trials["status"].isin(statuses) & trials[metric].notna()
    values = trials[metric].where(counted)  # NaN outside `counted`, so mean/std/count skip it
    grouped = values.groupby(trials["config"], sort=False)
    table = pd.DataFrame(
        {
            "n": grouped.count(),
            "n_other": (~counted).groupby(trials["config"], sort=False).sum(),
            "mean": grouped.mean(),
            "std": grouped.std(ddof=1),
        }
    ).astype({"n": "int64", "n_other": "int64"})
    table.index.name = "config"
    table["ci_low"], table["ci_high"] = mean_cis(table["mean"], table["std"], table["n"])

    rest = sorted((c for c in configs if c != baseline), key=lambda c: natural_key(str(c)))
    table = table.loc[([baseline] if baseline is not None else []) + rest]
    if baseline is not None:
        table["delta"] = table["mean"] - table.loc[baseline, "mean"]
        kept = trials[counted].assign(value=values[counted])
        table = pd.concat([table, _paired_frame(kept, list(table.index), baseline, n_resamples, seed)], axis=1)
    decided = "decision" in trials and trials["decision"].notna().any()
    if decided and trials.attrs.get("study_metric") in (None, metric):  # sequential replication's, on this metric
        first = trials.dropna(subset=["decision"]).groupby("config", sort=False)["decision"].first()
        table["decision"] = [first.get(c, "—" if c == baseline else "") for c in table.index]
    table.attrs = {"metric": metric, "statuses": statuses, "baseline": baseline}
    return table


def _paired_frame(kept: pd.DataFrame, configs: list, baseline: str, n_resamples: int, seed: int) -> pd.DataFrame:
    """PAIRED_COLUMNS per config from the counted trials (`value` = the metric); the baseline's row empty."""
    seeds = kept["seed"] if "seed" in kept else pd.Series(pd.NA, index=kept.index, dtype="Int64")
    frame = pd.DataFrame({"config": kept["config"], "seed": seeds, "value": kept["value"]})
    by_config = {c: g[["seed", "value"]] for c, g in frame.groupby("config", sort=False)}
    empty = frame.iloc[:0][["seed", "value"]]
    base = by_config.get(baseline, empty)
    rows = [{} if c == baseline else paired_columns(by_config.get(c, empty), base, n_resamples=n_resamples, seed=seed)
            for c in configs]
    paired = pd.DataFrame(rows, index=pd.Index(configs, name="config"), columns=list(PAIRED_COLUMNS))
    paired["n_pairs"] = paired["n_pairs"].astype("Int64")
    paired["flag"] = paired["flag"].fillna("")
    paired = paired.astype({c: float for c in PAIRED_COLUMNS[1:-1]})
    paired["p_holm"] = holm(paired["p"])  # the family: this table's configs with a p (the baseline's is NaN)
    return paired


def _seed_list(seeds) -> str:
    return ", ".join(str(s) for s in sorted(seeds))


def pairing_flag(seeds: pd.Series, base_seeds: pd.Series) -> tuple[list, str]:
    """(seeds both have, flag): the flag names what makes a paired test meaningless, "" when nothing does."""
    if seeds.isna().any() or base_seeds.isna().any():
        return [], "seeds unknown"
    repeated = set(seeds[seeds.duplicated()]) | set(base_seeds[base_seeds.duplicated()])
    if repeated:  # two trials with one seed: which one pairs with the baseline's is arbitrary
        return [], f"repeated seeds: {_seed_list(repeated)}"
    here, there = set(seeds), set(base_seeds)
    common = sorted(here & there)
    flags = []
    if len(common) < MIN_PAIRS:
        flags.append(f"n<{MIN_PAIRS}")
    if here != there:
        unmatched = [f"{_seed_list(here - there)} here"] if here - there else []
        unmatched += [f"{_seed_list(there - here)} in baseline"] if there - here else []
        flags.append("unpaired seeds: " + ", ".join(unmatched))
    return common, "; ".join(flags)


def paired_values(config: pd.DataFrame, base: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """(the config's `x` and the baseline's `y` per seed both have, indexed by seed; `pairing_flag`'s flag) from
    frames of seed, value."""
    common, flag = pairing_flag(config["seed"], base["seed"])
    pairs = pd.DataFrame({"x": config.set_index("seed").loc[common, "value"],
                          "y": base.set_index("seed").loc[common, "value"]}, index=pd.Index(common, name="seed"))
    return pairs.astype(float), flag


def paired_columns(config: pd.DataFrame, base: pd.DataFrame, *, n_resamples: int = N_RESAMPLES,
                   seed: int = 0) -> dict:
    """PAIRED_COLUMNS for one config (frames of seed, value) against the baseline's trials; `p_holm` is the
    table's to fill. sd_delta and mde stand wherever 2 seeds pair, flag or not: what the seeds so far can detect."""
    pairs, flag = paired_values(config, base)
    x, y = pairs["x"].to_numpy(), pairs["y"].to_numpy()
    out = dict.fromkeys(PAIRED_COLUMNS, math.nan)
    out.update(n_pairs=len(pairs), flag=flag, var_ratio=variance_ratio(config["value"], base["value"]))
    if len(pairs) >= MIN_SEEDS:
        sd = difference_sd(x, y)
        out.update(sd_delta=sd, mde=mde(sd, len(pairs)))
    if flag:
        return out
    res = paired_comparison(x, y, n_resamples=n_resamples, seed=seed)
    out.update(t=res.t, p=res.p, delta_ci_low=res.ci_low, delta_ci_high=res.ci_high, d_z=res.d_z)
    return out


def sort_best_first(table: pd.DataFrame, mode: str = "max") -> pd.DataFrame:
    """A search's table: best mean first, configs without a value last (the baseline, if any, stays on top)."""
    baseline = table.attrs.get("baseline")
    head = table.loc[[baseline]] if baseline is not None else table.iloc[:0]
    rest = table.drop(index=head.index).sort_values("mean", ascending=mode == "min", na_position="last",
                                                   kind="stable")
    out = pd.concat([head, rest])
    out.attrs = table.attrs
    return out


def summary_long(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per-metric tables stacked into one tidy frame (config, metric, stats...): the CSV a plotting script reads."""
    parts = [t.reset_index().assign(metric=m) for m, t in tables.items()]
    if not parts:
        return pd.DataFrame()
    long = pd.concat(parts, ignore_index=True)
    return long[["config", "metric", *[c for c in long.columns if c not in ("config", "metric")]]]



def swept_params(trials: pd.DataFrame, baseline: str | None = None) -> dict[str, pd.Series]:
    """Numeric params that are constant within each config and differ between the non-baseline configs:
    {param key: value per config}. The baseline is left out: its value of a swept key (β with SES off) is moot."""
    rows = trials[trials["config"] != baseline]
    out = {}
    for column in (c for c in rows.columns if c.startswith("param.")):
        key, values = column[len("param."):], rows[column]
        if key in RUN_SPECIFIC or not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        per_config = values.groupby(rows["config"], sort=False)
        if (per_config.nunique(dropna=False) == 1).all() and per_config.first().nunique() > 1:
            out[key] = per_config.first()
    return out
