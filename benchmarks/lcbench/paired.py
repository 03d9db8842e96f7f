"""Paired over instances: a study's default search against every other method, at each budget point;
`python -m benchmarks.lcbench.paired OUT.json` prints them for a finished run's `--json` file.

Each instance's regret is first averaged over its repetitions (the repetitions are not independent of the instance),
then per other method: the mean ± sd (ddof=1) of (default − other), how many instances the default has the lower
regret on, and the two-sided Wilcoxon signed-rank p-value (scipy; instances where the two tie are dropped, as
scipy's default does). A mean rank says who leads; this says whether the lead is more than the instances' noise.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from scipy import stats

DEFAULT = "hpstudy-tpe-asha"  # what `search="tpe"` with `asha=Asha()` gives


def per_instance(records: Sequence[dict[str, Any]], method: str, instances: Sequence[str], i: int) -> np.ndarray:
    """`method`'s regret at budget point `i` on each instance, averaged over its repetitions."""
    return np.array([np.mean([r["regret"][i] for r in records if r["method"] == method and r["instance"] == inst])
                     for inst in instances])


def wilcoxon_p(diff: np.ndarray) -> float:
    """Two-sided signed-rank p of `diff` against 0; NaN when every difference is 0 (or there are none)."""
    if not np.any(diff != 0):
        return math.nan
    return float(stats.wilcoxon(diff).pvalue)


def paired(records: Sequence[dict[str, Any]], methods: Sequence[str], instances: Sequence[str],
           n_points: int, default: str = DEFAULT) -> dict[str, Any]:
    """{other method: {"mean", "sd", "wins", "n", "p"} lists, one entry per budget point}; {} without `default`."""
    if default not in methods:
        return {}
    out: dict[str, Any] = {}
    for other in methods:
        if other == default:
            continue
        cells: dict[str, list] = {"mean": [], "sd": [], "wins": [], "n": [], "p": []}
        for i in range(n_points):
            diff = per_instance(records, default, instances, i) - per_instance(records, other, instances, i)
            cells["mean"].append(float(diff.mean()))
            cells["sd"].append(float(diff.std(ddof=1)) if len(diff) > 1 else math.nan)
            cells["wins"].append(int((diff < 0).sum()))
            cells["n"].append(len(diff))
            cells["p"].append(wilcoxon_p(diff))
        out[other] = cells
    return out


def _p(p: float) -> str:
    return "—" if math.isnan(p) else f"{p:.2g}"


def table(pairs: dict[str, Any], labels: dict[str, str], fractions: Sequence[float],
          shown: Sequence[int]) -> str:
    """Markdown: a row per other method, (mean ± sd, wins, p) at each budget point in `shown` (indices)."""
    head = ["default minus"]
    for i in shown:
        head += [f"at {fractions[i]:.0%}: mean ± sd", "wins", "p"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for other, c in pairs.items():
        cells = [labels.get(other, other)]
        for i in shown:
            cells += [f"{c['mean'][i]:+.3f} ± {c['sd'][i]:.3f}", f"{c['wins'][i]}/{c['n'][i]}", _p(c["p"][i])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


HALVES = (("all", "all instances"), ("tuning", "tuning half (17 lowest task ids)"), ("held_out", "held-out half"))


def halves(records: Sequence[dict[str, Any]], methods: Sequence[str], instances: Sequence[str], n_points: int,
           tuning: set[str] | None) -> dict[str, Any]:
    """`paired` over all `instances` and over each half of them by `tuning` (the 17 lowest of LCBench's 34 task
    ids; None: all only). A half the run has no instance of is None."""
    parts = {"all": list(instances)}
    if tuning is not None:
        parts |= {"tuning": [i for i in instances if i in tuning], "held_out": [i for i in instances if i not in tuning]}
    return {key: paired(records, methods, part, n_points) if part else None for key, part in parts.items()}


def report(result: dict[str, Any], shown: Sequence[int] = (1, 2)) -> str:
    """The paired tables of a benchmark result (its `paired`, else computed from its runs)."""
    labels = {m: s["label"] for m, s in result["all"].items()}
    instances = result["instances"]
    tuning = set(sorted(instances, key=int)[:17]) if len(instances) == 34 else None  # a run on all 34: its halves
    pairs = result.get("paired") or halves(result["runs"], list(result["all"]), instances, len(result["fractions"]),
                                           tuning)
    out = [f"paired over instances (regret averaged over repetitions first), {DEFAULT} minus each other method; "
           f"wins: instances where it has the lower regret; p: Wilcoxon signed-rank, two-sided"]
    for key, name in HALVES:
        if pairs.get(key):
            out += ["", f"{name}:", "", table(pairs[key], labels, result["fractions"], shown)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_file():
        print(f"usage: python -m benchmarks.lcbench.paired OUT.json (a `python -m benchmarks.lcbench --json` file); "
              f"got {' '.join(args) or 'nothing'}", file=sys.stderr)
        return 2
    print(report(json.loads(Path(args[0]).read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
