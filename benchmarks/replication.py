"""Sequential replication, proven by simulation: thousands of simulated comparisons through the decision code a
study runs (`analysis.sequential.judge`), against fixed-n paired t-tests on the same draws. No training.

    python -m benchmarks.replication            # 4,000 comparisons per scenario, ~1 minute on 2 cores
    python -m benchmarks.replication --quick    # 500, seconds
    python -m benchmarks.replication --json OUT

Each simulated comparison draws a configuration's and its reference's value per seed, correlated by ρ (seeds
shared), with normal or heavy-tailed (Student t, 3 df, scaled to unit variance) noise; the true difference is
`effect` paired SDs. Every design sees the same draws. Printed per noise: the rate of false *better*/*worse*
decisions under the null (cumulative, at every look: it must stay ≤ α), the chance of deciding *better* (power) and
the expected seed-runs per comparison at each effect; then the goal: ≥ 40% fewer seed-runs than fixed n = 10 at an
effect of one paired SD with the error rate held, met or missed by how much, and the fixed n that matches the
sequential design's power there (equal error rates on both sides).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from analysis.sequential import BETTER, EQUIVALENT, OPEN, WORSE, judge
from hpstudy.schema.replication_policy import Replication

EFFECTS = (0.0, 0.5, 1.0, 2.0)  # true mean difference, in paired SDs
FIXED = (3, 5, 10)
NOISES = ("normal", "heavy-tailed")
GOAL = 0.40  # fewer seed-runs than fixed n = 10 at one paired SD
RHO = 0.5  # correlation of a configuration's and its reference's value on one seed


@dataclass(frozen=True)
class Row:
    design: str
    noise: str
    effect: float
    false_rate_by_look: list[float]  # null only: P(a better/worse decision by look k); [] for fixed n
    false_rate: float  # P(better or worse) under the null; P(worse) or P(equivalent) when effect >= delta
    power: float  # P(better)
    equivalent: float  # P(equivalent)
    seed_runs: float  # mean pairs trained per comparison
    matched_n: int = 0  # sequential only: the smallest fixed n as powerful on the same draws (0: none up to 3x max)


def draws(noise: str, effect: float, sims: int, n: int, rho: float, rng: np.random.Generator) -> np.ndarray:
    """(sims, n) paired differences config - reference with mean `effect` in units of their own SD."""
    if noise == "normal":
        z = rng.standard_normal((2, sims, n))
    else:
        z = rng.standard_t(3, (2, sims, n)) / math.sqrt(3.0)  # unit variance
    reference = z[0]
    config = rho * z[0] + math.sqrt(1 - rho**2) * z[1]
    d = config - reference  # SD sqrt(2 (1 - rho))
    return d / math.sqrt(2 * (1 - rho)) + effect


def sequential(d: np.ndarray, policy: Replication) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(verdicts, pairs, look index) of each row of `d`, judged look by look until decided."""
    looks = policy.looks()
    verdicts, pairs, at = [], [], []
    for row in d:
        for i, n in enumerate(looks):
            decision = judge(row[:n], policy)
            if decision.verdict != OPEN:
                break
        verdicts.append(decision.verdict)
        pairs.append(decision.n)
        at.append(i)
    return np.array(verdicts), np.array(pairs), np.array(at)


def fixed(d: np.ndarray, n: int, alpha: float) -> np.ndarray:
    """Verdicts of a two-sided paired t-test on the first n pairs: better, worse or undecided."""
    test = stats.ttest_1samp(d[:, :n], 0.0, axis=1)
    return np.where(test.pvalue < alpha, np.where(test.statistic > 0, BETTER, WORSE), "undecided")


def scenario(policy: Replication, noise: str, effect: float, sims: int, rho: float, seed: int) -> list[Row]:
    rng = np.random.default_rng(seed)
    d = draws(noise, effect, sims, 3 * max(policy.maximum, *FIXED), rho, rng)
    rows = []
    verdicts, pairs, at = sequential(d, policy)
    wrong = _wrong(verdicts, effect, policy.delta)
    by_look = [float(np.mean(wrong & (at <= i))) for i in range(len(policy.looks()))] if effect == 0 else []
    power = float(np.mean(verdicts == BETTER))
    match = next((n for n in range(2, d.shape[1] + 1) if np.mean(fixed(d, n, policy.alpha) == BETTER) >= power), 0)
    rows.append(Row(_name(policy), noise, effect, by_look, float(wrong.mean()), power,
                    float(np.mean(verdicts == EQUIVALENT)), float(pairs.mean()), match if effect else 0))
    for n in FIXED:
        v = fixed(d, n, policy.alpha)
        rows.append(Row(f"fixed n={n}", noise, effect, [], float(_wrong(v, effect, policy.delta).mean()),
                        float(np.mean(v == BETTER)), 0.0, float(n)))
    return rows


def _wrong(verdicts: np.ndarray, effect: float, delta: float) -> np.ndarray:
    """Decisions the truth contradicts: better/worse under the null; worse, or equivalent beyond δ, otherwise."""
    if effect == 0:
        return (verdicts == BETTER) | (verdicts == WORSE)
    return (verdicts == WORSE) | ((verdicts == EQUIVALENT) & (abs(effect) >= delta))


def _name(policy: Replication) -> str:
    return f"sequential {policy.minimum}..{policy.maximum} (+{policy.wave})"


def table(rows: list[Row], noise: str) -> str:
    mine = [r for r in rows if r.noise == noise]
    designs = list(dict.fromkeys(r.design for r in mine))
    head = ["design", "false decisions (null)", *[f"P(better) d={e:g}" for e in EFFECTS[1:]],
            *[f"seed-runs d={e:g}" for e in EFFECTS]]
    lines = [f"noise: {noise}", "| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for design in designs:
        cell = {r.effect: r for r in mine if r.design == design}
        lines.append("| " + " | ".join([design, f"{cell[0.0].false_rate:.3f}",
                                         *[f"{cell[e].power:.2f}" for e in EFFECTS[1:]],
                                         *[f"{cell[e].seed_runs:.1f}" for e in EFFECTS]]) + " |")
    return "\n".join(lines)


def goal_lines(rows: list[Row], policy: Replication, slack: float) -> list[str]:
    """`slack`: the Monte Carlo error allowed on the null rate (two standard errors at the simulations run)."""
    out = []
    for noise in NOISES:
        seq = {r.effect: r for r in rows if r.noise == noise and r.design == _name(policy)}
        ten = {r.effect: r for r in rows if r.noise == noise and r.design == "fixed n=10"}
        if not seq:
            continue
        worst = max(seq[0.0].false_rate_by_look)
        saving = 1 - seq[1.0].seed_runs / 10
        verdict = "met" if saving >= GOAL and worst <= policy.alpha + slack else "missed"
        match = seq[1.0].matched_n
        out.append(
            f"{noise}: at one paired SD the sequential design took {seq[1.0].seed_runs:.2f} seed-runs per comparison, "
            f"{saving:.0%} fewer than fixed n=10 (goal {GOAL:.0%}: {verdict}"
            + ("" if verdict == "met" else f", by {GOAL - saving:.0%} of n=10") + "); "
            f"power {seq[1.0].power:.2f} vs {ten[1.0].power:.2f}; null false-decision rate at its worst look "
            f"{worst:.3f} (alpha {policy.alpha}). At equal power on the same draws, fixed n={match} reaches "
            f"{seq[1.0].power:.2f}: the design takes {1 - seq[1.0].seed_runs / match:.0%} fewer seed-runs than it.")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.replication", description=__doc__.split("\n")[0])
    p.add_argument("--sims", type=int, default=4000, help="simulated comparisons per noise and effect")
    p.add_argument("--quick", action="store_true", help="500 comparisons per scenario: a first look, for CI")
    p.add_argument("--minimum", type=int, default=Replication.minimum)
    p.add_argument("--maximum", type=int, default=Replication.maximum)
    p.add_argument("--wave", type=int, default=Replication.wave)
    p.add_argument("--alpha", type=float, default=Replication.alpha)
    p.add_argument("--delta", type=float, default=0.5, help="equivalence margin in paired SDs (default 0.5)")
    p.add_argument("--rho", type=float, default=RHO, help="correlation of paired values on one seed")
    p.add_argument("--json", metavar="OUT", help="write every figure as JSON")
    args = p.parse_args(argv)
    sims = 500 if args.quick else args.sims
    if sims < 10 or not -1 < args.rho < 1:
        print(f"error: --sims {sims} / --rho {args.rho}: expected at least 10 simulations and -1 < rho < 1",
              file=sys.stderr)
        return 2
    try:
        policy = Replication(minimum=args.minimum, maximum=args.maximum, delta=args.delta, alpha=args.alpha,
                             wave=args.wave)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    rows = [row for i, noise in enumerate(NOISES) for j, effect in enumerate(EFFECTS)
            for row in scenario(policy, noise, effect, sims, args.rho, seed=1000 * i + j)]
    se = 2 * math.sqrt(policy.alpha * (1 - policy.alpha) / sims)
    print(f"{sims} simulated comparisons per noise and effect, paired correlation {args.rho}, looks at "
          f"{', '.join(map(str, policy.looks()))} pairs, alpha {policy.alpha}, equivalence margin "
          f"{policy.delta:g} paired SD; Monte Carlo error of a rate near alpha: ±{se:.3f}\n")
    for noise in NOISES:
        print(table(rows, noise) + "\n")
    for noise in NOISES:
        by_look = next(r for r in rows if r.noise == noise and r.effect == 0 and r.false_rate_by_look)
        print(f"{noise}: null false-decision rate by look " + ", ".join(
            f"n={n}: {x:.3f}" for n, x in zip(policy.looks(), by_look.false_rate_by_look)))
    print()
    for line in goal_lines(rows, policy, se):
        print(line)
    print(f"\n{time.perf_counter() - start:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"policy": asdict(policy), "sims": sims, "rho": args.rho, "rows": [asdict(r) for r in rows],
                       "goal": goal_lines(rows, policy, se)}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
