"""The figures of each SES study under the names seed 001 gives them (`02_beta_sweep.png`, `14_periodic_ses.png`),
or `NN_<study>.png` (NN its experiment's number) where the seed names none, and the function that draws each.

The seed's figures that span two studies (Exp 17's `21_vit_ablations.png`, `21c_*`, `21d_*` join 17a and 17b) are
analysis.paper_cross's. Not drawn as the seed drew it: Exp 4's `04_toy_2d.png` shows the toy's decision field, which
MLflow does not hold (drawn here as bars of its metrics).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from analysis.curves import corruption_columns, plot_learning_curves, plot_robustness
from analysis.formats import metric_direction
from analysis.load import load_history
from analysis.paper_doc import Figure
from analysis.paper_plots import plot_bars, plot_delta
from analysis.pareto import pareto_table
from analysis.plots import plot_pareto, plot_vs_param
from analysis.seed_table import COUNTED, TIME, SeedTable
from analysis.tables import multiseed_table, swept_params

# experiment -> (file, what it shows, configs it is restricted to by label prefix or None), in the seed's order
FIGURES: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    "1": (("01_baseline_vs_ses.png", "curves", None),),
    "2": (("02_beta_sweep.png", "vs_param", None),),
    "3": (("03_corruption_robustness.png", "corruption", None),),
    "4": (("04_toy_2d.png", "bars", None),),
    "5": (("06_multiseed_cifar10.png", "bars", None),),
    "6": (("10_multiseed_cifar100.png", "bars", None),),
    "7": (("08_lambda_ablation.png", "vs_param", None),),
    "8": (("11_sn_cifar100.png", "bars", None), ("11c_sn_cifar100_percorruption.png", "corruption", None)),
    "9": (("12_layer_ablation.png", "bars", None),),
    "10": (("14_periodic_ses.png", "pareto", None),),
    "11": (("15_resnet50_tinyimagenet.png", "bars", None),
           ("15c_resnet50_tinyimagenet_percorruption.png", "corruption", None)),
    "12": (("17_augmentation.png", "bars", None), ("17c_augmentation_percorruption.png", "corruption", None)),
    "13": (("16_wideresnet.png", "bars", None), ("16b_wideresnet_curves.png", "curves", None),
           ("16c_wideresnet_percorruption.png", "corruption", None)),
    "14": (("18_vit_comparison.png", "bars", None), ("18a_vit_small_bars.png", "bars", "vit_s4"),
           ("18b_vit_tiny_bars.png", "bars", "vit_t4")),
    "15": (("19_vit_augmentation.png", "bars", None), ("19b_vit_augmentation_curves.png", "curves", None),
           ("19c_vit_augmentation_percorruption.png", "corruption", None)),
    "16": (("20_adaptive_beta.png", "bars", None), ("20b_adaptive_beta_curves.png", "curves", None),
           ("20c_adaptive_beta_percorruption.png", "corruption", None), ("20d_adaptive_beta_delta.png", "delta", None)),
    "17a": (("21a_vit_beta_sweep.png", "vs_param", None),),
    "17b": (("21b_vit_layer_ablation.png", "bars", None),),
    "18": (("22_vit_attention_ses.png", "bars", None), ("22b_vit_attention_curves.png", "curves", None),
           ("22c_vit_attention_delta.png", "delta", None), ("22d_vit_attention_percorruption.png", "corruption", None)),
}
CURVE_KEYS = ("train/loss",)  # after the study's lead metric: the panels of a curves figure


def experiment_ids(experiment: str) -> list[str]:
    """"Exp 3/5" -> ["3", "5"]; "Exp 17a" -> ["17a"]."""
    return re.findall(r"\d+[a-z]?", experiment)


def owners(studies: list[tuple[str, str]]) -> dict[str, str]:
    """experiment id -> the study whose figures carry that experiment's seed names, from (study, experiment) pairs:
    of the studies reproducing it, the one reproducing fewest experiments (the first on a tie). `ses_search`
    ("Exp 2/7/9/10/16 as one search") must not write `02_beta_sweep.png` over `ses_beta_sweep`'s."""
    out: dict[str, tuple[int, str]] = {}
    for study, experiment in studies:
        ids = experiment_ids(experiment)
        for i in ids:
            if i not in out or len(ids) < out[i][0]:
                out[i] = (len(ids), study)
    return {i: study for i, (_, study) in out.items()}


def figures_of(study: str, experiment: str, owned: dict[str, str]) -> tuple[tuple[str, str, str | None], ...]:
    """The study's figures: those the seed names for each experiment the study owns (`owners`: Exp 3/5's study
    draws 03_* and 06_*), else one bar chart `NN_<study>.png`."""
    ids = experiment_ids(experiment)
    named = tuple(f for i in ids if i in FIGURES and owned.get(i) == study for f in FIGURES[i])
    if named:
        return named
    number = int(re.match(r"\d+", ids[0]).group()) if ids else 0
    return ((f"{number:02d}_{study}.png", "bars", None),)


class NotDrawn(Exception):
    """A figure the study's data cannot support; the message says what is missing."""


def _configs(table: SeedTable, only: str | None) -> list[str]:
    configs = [str(c) for c in table.rows.index]
    return [c for c in configs if c.startswith(only)] if only else configs


def draw(kind: str, only: str | None, trials, table: SeedTable, path: Path, title: str,
         tracking_uri: str | None) -> Path:
    """Draw one figure of `kind` to `path`; NotDrawn when the study did not log what it needs."""
    configs, keys, baseline = _configs(table, only), table.keys, table.baseline
    counted = trials[trials["status"].isin(COUNTED)]
    if not configs:
        raise NotDrawn(f"no configuration starts with {only!r}")
    if kind == "vs_param":
        swept = swept_params(trials, baseline)
        if len(swept) != 1 or keys.acc not in trials:
            kind = "bars"  # one swept param draws as a curve; none or several as bars
        else:
            (param, values), = swept.items()
            return plot_vs_param(trials, multiseed_table(trials, keys.acc, baseline=baseline), values, param, path,
                                 metric_table=table.metric_table)
    if kind == "bars":
        if baseline is None:  # a search: most of its configurations were stopped early, without a test figure
            shown = set(counted["config"].astype(str))
            configs = [c for c in configs if c in shown]
            if len(configs) < 2:
                raise NotDrawn(f"a search, and {len(configs)} of its {len(table.rows)} configurations completed "
                               "(the rest were stopped early, without a test figure); its Pareto front and "
                               "hypervolume are in the study's own report (its parent run's report/ artifacts; "
                               "python -m analysis.report rebuilds it)")
        return plot_bars(trials, table, configs, path, title)
    if kind == "delta":
        return plot_delta(table, path, title)
    if kind == "corruption":
        columns = corruption_columns(trials)
        if not columns:
            raise NotDrawn("no per-corruption robustness (rob/acc/<corruption>) was logged")
        return plot_robustness(trials, configs, columns, path, baseline, COUNTED)
    if kind == "pareto":
        if TIME not in trials or keys.acc not in trials:
            raise NotDrawn(f"needs {keys.acc} and {TIME}")
        front = pareto_table(trials, [(keys.acc, metric_direction(keys.acc, table.metric_table) or "max"),
                                      (TIME, "min")], COUNTED)
        return plot_pareto(front, path, title, baseline, configs, metric_table=table.metric_table)
    if kind == "curves":
        shown = [k for k in (keys.lead, *CURVE_KEYS) if k in trials]
        if not shown:
            raise NotDrawn(f"neither {keys.lead} nor train/loss was logged")
        runs = counted[counted["config"].astype(str).isin(configs)]["run_id"]
        history = load_history(list(runs), shown, tracking_uri=tracking_uri)
        return plot_learning_curves(history, counted, configs, shown, path, baseline, title,
                                    metric_table=table.metric_table)
    raise KeyError(f"unknown figure kind {kind!r}; known: vs_param, bars, delta, corruption, pareto, curves")


def draw_each(figures, trials, table: SeedTable, folder: Path, title: str, tracking_uri: str | None,
              who: str) -> list[Figure]:
    """Each of `figures` ((file, kind, only) triples) drawn into `folder`, or the reason it is not; a figure never
    costs the tables (an unexpected error is also a warning line on stderr naming `who`)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, kind, only in figures:
        try:
            draw(kind, only, trials, table, folder / name, title, tracking_uri)
            out.append(Figure(name, drawn=True))
        except NotDrawn as why:
            out.append(Figure(name, drawn=False, why=str(why)))
        except Exception as err:  # noqa: BLE001 -- said in the document and on stderr, the tables still stand
            print(f"warning: {name} ({who}) not drawn: {type(err).__name__}: {err}", file=sys.stderr)
            out.append(Figure(name, drawn=False, why=f"{type(err).__name__}: {err}"))
    return out

