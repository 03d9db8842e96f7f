"""`--seeds 0,1,2`: a study's replicates from the command line, as the seed Grid of its space (Study.replicates).

A grid trains every configuration once per seed; a random or TPE search each configuration it samples (studies.tune.tuner).
`--seeds auto` replicates sequentially instead (Study.replication): seeds in waves until each comparison is decided.
"""

from __future__ import annotations

from dataclasses import replace

from hpstudy.schema.errors import BadInput
from hpstudy.schema.replication_policy import Replication, parse_policy
from search_spaces import Grid, Variants
from studies.study import SEED_KEY, Study

MAX_SEED = 2**32 - 1  # numpy's seeds are unsigned 32-bit
EXPECTED = "expected distinct integers >= 0 separated by commas, e.g. --seeds 0,1,2, or auto"
AUTO = "auto"  # --seeds auto: sequential replication under the study's policy (or the default one)


class SeedsError(BadInput):
    """A `--seeds` value that is not a list of distinct seeds; one line, naming the value."""


def parse_seeds(text: str) -> tuple[int, ...] | str:
    """'0,1,2' -> (0, 1, 2), in the order given; 'auto' -> AUTO."""
    items = [item.strip() for item in text.split(",")]
    if AUTO in items:
        if len(items) > 1:
            raise SeedsError(f"--seeds {text!r}: auto chooses the seeds itself, in waves; give auto alone or a list "
                             "of seeds")
        return AUTO
    if not any(items):
        raise SeedsError(f"--seeds {text!r}: no seed given; {EXPECTED}")
    seeds = []
    for item in items:
        if not item:
            raise SeedsError(f"--seeds {text!r}: an empty item between commas; {EXPECTED}")
        try:
            seed = int(item)
        except ValueError:
            raise SeedsError(f"--seeds {text!r}: {item!r} is not an integer; {EXPECTED}") from None
        if not 0 <= seed <= MAX_SEED:
            raise SeedsError(f"--seeds {text!r}: {seed} is {'negative' if seed < 0 else f'above {MAX_SEED}'}; "
                             f"{EXPECTED}")
        if seed in seeds:
            raise SeedsError(f"--seeds {text!r}: {seed} appears more than once; {EXPECTED}")
        seeds.append(seed)
    return tuple(seeds)


def with_seeds(study: Study, seeds: tuple[int, ...]) -> Study:
    """`study` trained once per seed in `seeds`: its seed Grid replaced, or added when its space has none."""
    in_variants = [c["name"] for v in study.space.values() if isinstance(v, Variants) for c in v.configs
                   if SEED_KEY in c]
    if in_variants:
        raise SeedsError(f"--seeds: study {study.name}'s variants {', '.join(in_variants)} set the seed themselves; "
                         "edit its file")
    current = study.space.get(SEED_KEY)
    if current is not None and not isinstance(current, Grid):  # a Choice or range of seeds would be a search
        raise SeedsError(f"--seeds: study {study.name} searches its seed ({current!r}); edit its file")
    return replace(study, space={**study.space, SEED_KEY: Grid(tuple(seeds))}, replication=None)


def with_replication(study: Study, overrides: str | None = None) -> Study:
    """`study` replicated sequentially: its policy (the default one if it declares none) with `overrides`
    ('minimum=5,delta=0.01', --replication) applied, and its seed Grid dropped (the waves choose the seeds)."""
    in_variants = [c["name"] for v in study.space.values() if isinstance(v, Variants) for c in v.configs
                   if SEED_KEY in c]
    if in_variants:
        raise SeedsError(f"--seeds auto: study {study.name}'s variants {', '.join(in_variants)} set the seed "
                         "themselves; edit its file")
    policy = study.replication or Replication()
    if overrides:
        policy = parse_policy(overrides, policy)
    if study.search != "grid":  # a search keeps its own seeds; its confirmation comes in waves
        return replace(study, replication=policy)
    space = {k: v for k, v in study.space.items() if k != SEED_KEY}
    return replace(study, space=space, replication=policy)
