"""`python -m analysis.power STUDY --delta 0.5`: how many seeds a claimed Δ needs, from the study's measured paired sd.

`--sd X` alone is the bare calculation, no store. Δ and sd are in the unit the tables show differences in (pp for an
accuracy); bad input is one `error: ...` line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.formats import markdown_table, metric_unit
from analysis.load import AnalysisError, find_study_run, load_trials, metric_table_of
from analysis.report import EXIT_BAD_INPUT, check_store
from analysis.report_content import default_metrics
from analysis.stats import ALPHA, MIN_PAIRS, POWER, check_levels, mde, no_mde_reason, paired_power, seeds_needed
from analysis.tables import check_metric, multiseed_table
from hpstudy.schema.errors import BadInput
from hpstudy.schema.locations import RUNS_DIR, default_tracking_uri
from hpstudy.schema.params import STUDY_PREFIX
from hpstudy.schema.tags import BASELINE

PLAN_COLUMNS = ("n_pairs", "sd_delta", "mde", "power_now", "seeds_needed", "why")


@dataclass(frozen=True)
class Levels:
    """The test the seeds are counted for: two-sided paired t at `alpha`, detecting Δ with probability `power`."""

    alpha: float = ALPHA
    power: float = POWER

    def __post_init__(self) -> None:
        check_levels(self.alpha, self.power)


def check_delta(delta: float) -> None:
    if not (math.isfinite(delta) and delta > 0):
        raise BadInput(f"delta (--delta) must be a positive number, the true difference to detect; got {delta}")


def plan_row(delta: float, sd: float, n: int, levels: Levels) -> dict[str, object]:
    """PLAN_COLUMNS for one paired sd measured over n pairs (n = 0: no measurement); delta and sd in one unit."""
    out = {"n_pairs": n, "sd_delta": sd, "mde": mde(sd, n, levels.alpha, levels.power), "power_now": math.nan,
           "seeds_needed": pd.NA, "why": no_mde_reason(sd, n)}
    if out["why"]:  # no spread measured, or none at all: nothing to plan against
        return out
    out["power_now"] = paired_power(delta / sd, n, levels.alpha)
    try:
        out["seeds_needed"] = seeds_needed(delta, sd, levels.alpha, levels.power)
    except BadInput as err:  # more than MAX_SEEDS: say so in this config's row
        out["why"] = str(err)
        return out
    if out["seeds_needed"] < MIN_PAIRS:
        out["why"] = f"the tables give a p from {MIN_PAIRS} pairs"
    return out


def plan(trials: pd.DataFrame, metric: str, baseline: str, delta: float, levels: Levels = Levels()) -> pd.DataFrame:
    """Per non-baseline config (index), PLAN_COLUMNS from `multiseed_table`'s pairing: n_pairs, sd_delta and mde as
    the tables have them, the power those pairs have for a true `delta`, the pairs `delta` needs; `delta`, sd_delta
    and mde in the metric's logged unit (a fraction for an accuracy)."""
    check_delta(delta)
    table = multiseed_table(trials, metric, baseline=baseline)
    rows = {c: plan_row(delta, float(r["sd_delta"]), 0 if pd.isna(r["n_pairs"]) else int(r["n_pairs"]), levels)
            for c, r in table.drop(index=baseline).iterrows()}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=list(PLAN_COLUMNS))
    out.index.name = "config"
    out["seeds_needed"] = out["seeds_needed"].astype("Int64")
    for config, flag in table["flag"].drop(index=baseline).items():
        if flag:  # the tables show no p for it: say why here too
            out.loc[config, "why"] = "; ".join(filter(None, [out.loc[config, "why"], f"the tables' flag: {flag}"]))
    return out


def lead_metric(parent, trials: pd.DataFrame) -> str:
    """The study's metric (its parent run's study.metric param), else the report's lead: the first of
    analysis.report_content.DEFAULT_METRICS that was logged."""
    metric = parent.data.params.get(f"{STUDY_PREFIX}metric")
    if metric:
        return metric
    logged = default_metrics(trials)
    if not logged:
        raise AnalysisError("this study logged none of the report's default metrics; give --metric")
    return logged[0]


def _sig(x: float) -> str:
    return "—" if pd.isna(x) else f"{x:.3g}"


def plan_text(frame: pd.DataFrame, delta: float, scale: float, dunit: str) -> str:
    """The plan as a Markdown table, in the tables' unit of a difference (`scale` x the logged unit)."""
    unit = f" ({dunit})" if dunit else ""
    head = ["config", "pairs now", f"sd of Δ{unit}", f"MDE now{unit}", f"power now for Δ = {delta:g}",
            f"seeds for Δ = {delta:g}", "note"]
    rows = [[str(c), str(r["n_pairs"]), _sig(r["sd_delta"] * scale), _sig(r["mde"] * scale),
             "—" if pd.isna(r["power_now"]) else f"{r['power_now']:.2f}",
             "—" if pd.isna(r["seeds_needed"]) else str(r["seeds_needed"]), r["why"]]
            for c, r in frame.iterrows()]
    return markdown_table(head, rows)


def levels_line(levels: Levels) -> str:
    return (f"two-sided paired t-test at alpha = {levels.alpha:g}, power {levels.power:g}; seeds = pairs: each "
            "seed run for both the config and the baseline")


def study_report(args: argparse.Namespace, levels: Levels) -> str:
    uri = args.tracking_uri or default_tracking_uri(args.runs_dir)
    check_store(uri)
    parent = find_study_run(args.study, tracking_uri=uri)
    trials = load_trials(parent_run_id=parent.info.run_id, tracking_uri=uri)
    metric = args.metric or lead_metric(parent, trials)
    check_metric(trials, metric)
    baseline = args.baseline or trials.attrs.get("baseline")
    if baseline is None:
        raise AnalysisError(f"study {args.study!r} has no baseline ({BASELINE} tag): give --baseline NAME; configs: "
                            + ", ".join(map(str, dict.fromkeys(trials["config"]))))
    scale, _, dunit = metric_unit(metric, metric_table_of(trials))
    frame = plan(trials, metric, baseline, args.delta / scale, levels)
    unit = f" {dunit}" if dunit else f" (in {metric}'s own unit)"
    return "\n".join([
        f"{args.study}, parent run {parent.info.run_id}: {metric} against the baseline `{baseline}`, paired by seed "
        f"(completed trials).",
        f"Δ = {args.delta:g}{unit}, as the tables show differences of {metric}; {levels_line(levels)}.",
        "", plan_text(frame, args.delta, scale, dunit).rstrip()])


def bare_report(delta: float, sd: float, levels: Levels) -> str:
    if not (math.isfinite(sd) and sd > 0):
        raise BadInput(f"--sd must be a positive number (the sd of the per-seed differences), got {sd}")
    n = seeds_needed(delta, sd, levels.alpha, levels.power)
    return (f"Δ = {delta:g} at a paired sd of {sd:g} (one unit for both; effect {delta / sd:.4g} sd): {n} seeds "
            f"(pairs), power {paired_power(delta / sd, n, levels.alpha):.4f}; {levels_line(levels)}.")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m analysis.power", description=__doc__.splitlines()[0])
    p.add_argument("study", nargs="?", help="study name (its most recent invocation); not with --sd")
    p.add_argument("--delta", type=float, required=True,
                   help="the true difference to detect, in the unit the tables show differences in (pp for an "
                        "accuracy)")
    p.add_argument("--sd", type=float, help="a paired sd in the unit of --delta: the calculation alone, no store")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--tracking-uri", help="MLflow store (default: the study runner's, under --runs-dir)")
    where.add_argument("--runs-dir", type=Path, default=RUNS_DIR,
                       help="the runs folder `python -m studies.run` used (default: hpstudy_runs)")
    p.add_argument("--metric", help="default: the study's metric (its study.metric param), else the report's lead")
    p.add_argument("--baseline", help=f"config to pair against (default: the study's {BASELINE} tag)")
    p.add_argument("--alpha", type=float, default=ALPHA, help="two-sided significance level (default: %(default)s)")
    p.add_argument("--power", type=float, default=POWER,
                   help="chance of detecting a true Δ (default: %(default)s)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        levels = Levels(args.alpha, args.power)
        check_delta(args.delta)
        if (args.sd is None) == (args.study is None):
            raise BadInput("give a STUDY (its measured paired sd) or --sd X (a bare calculation), not "
                           + ("both" if args.sd is not None else "neither"))
        text = bare_report(args.delta, args.sd, levels) if args.sd is not None else study_report(args, levels)
    except BadInput as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
