"""SES spaces: the seed-001 beta sweep as named variants (a baseline with SES off, then one variant per beta), and
the conditional space a TPE search of SES samples from."""

from __future__ import annotations

from typing import Any

from search_spaces.conditional import Conditional
from search_spaces.distributions import Choice, LogUniform, Uniform, Variants


def ses_beta_variants(betas: tuple[float, ...], lam: float) -> Variants:
    """Baseline (SES off) plus `beta=<b>` for each b, all at the same lambda."""
    variants = [{"name": "baseline", "ses.enabled": False}]
    variants += [{"name": f"beta={b}", "ses.enabled": True, "ses.beta": b, "ses.lam": lam} for b in betas]
    return Variants(tuple(variants))


def ses_beta_schedule_space(*, lam: tuple[float, float] = (1e-3, 1e-1)) -> dict[str, Any]:
    """SES on or off; when on, its lambda and a beta schedule, each schedule with only the endpoints it uses
    (trainables.config.SESConfig: linear/cosine/reverse go between beta_start and beta_end, step through beta_steps)."""
    endpoints = {"ses.beta_start": Uniform(0.1, 0.5), "ses.beta_end": Uniform(0.5, 0.95)}
    return {"ses.enabled": Conditional({False: {}, True: {
        "ses.lam": LogUniform(*lam),
        "ses.beta_schedule": Conditional({
            "fixed": {"ses.beta": Uniform(0.3, 0.95)},
            "linear": endpoints, "cosine": endpoints, "reverse": endpoints,
            "step": {"ses.beta_steps": Choice(((0.3, 0.7, 0.9), (0.5, 0.9), (0.9, 0.5)))},
        }),
    }})}
