"""SES spaces: the seed-001 beta sweep as named variants (a baseline with SES off, then one variant per beta)."""

from __future__ import annotations

from search_spaces.params import Variants


def ses_beta_variants(betas: tuple[float, ...], lam: float) -> Variants:
    """Baseline (SES off) plus `beta=<b>` for each b, all at the same lambda."""
    variants = [{"name": "baseline", "ses.enabled": False}]
    variants += [{"name": f"beta={b}", "ses.enabled": True, "ses.beta": b, "ses.lam": lam} for b in betas]
    return Variants(tuple(variants))
