"""The LCBench benchmark's figures as markdown tables: all instances, then the tuning and held-out halves."""

from __future__ import annotations

from typing import Any


def _cells(values: list[float], digits: int) -> str:
    return " | ".join(f"{v:.{digits}f}" for v in values)


def table(summary: dict[str, Any], fractions: list[float]) -> str:
    pts = [f"{f:.0%}" for f in fractions]
    head = (["method"] + [f"regret {p}" for p in pts] + [f"rank {p}" for p in pts] + [f"test acc {pts[-1]}"]
            + [f"HV {p}" for p in pts])
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for m, s in summary.items():
        hv = _cells(s["hypervolume"], 3) if s["objectives"] == 2 else " | ".join("" for _ in fractions)
        lines.append(f"| {s['label']} | {_cells(s['regret'], 3)} | {_cells(s['rank'], 2)} | {s['test_acc'][-1]:.2f} | "
                     f"{hv} |")
    return "\n".join(lines)


def report(result: dict[str, Any]) -> str:
    fr = result["fractions"]
    out = [f"LCBench (YAHPO Gym surrogate): {len(result['instances'])} instances x {result['repetitions']} "
           f"repetitions, {result['budget_epochs']} epochs per search, {result['workers']} asynchronous workers; "
           f"regret 0 = best, 1 = median of 10,000 full-fidelity configurations; rank among these methods (1 = best); "
           f"test acc = test balanced accuracy (%) of the configuration selected on validation; HV = hypervolume of "
           f"(regret, seconds / the sample's median) below (1, 1), two-objective searches only",
           "", table(result["all"], fr)]
    for key, name in (("tuning", "tuning half (17 lowest task ids)"), ("held_out", "held-out half")):
        if result.get(key):
            out += ["", f"{name}:", "", table(result[key], fr)]
    out += ["", f"wall time {result['wall_s']:.0f} s on {result['cores']} cores"]
    return "\n".join(out)
