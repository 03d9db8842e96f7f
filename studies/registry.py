"""The module path is the registry: study NAME is `studies/catalog/NAME.py`, exposing `get_study(profile)` and
`DESCRIPTION` (and, for a study from a seed note, `SEED = "001"` and `EXPERIMENT = "Exp 2"`); the module's name is
the study's name, so adding a study is adding a file."""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from types import ModuleType

from schema.errors import BadInput
from studies import catalog

# The researchers' notes in ../shared/seeds/NNN_*.txt, by what each is about: `--list` groups studies under them.
SEED_NOTES = {
    "000": "ResNet Strikes Back fixes",
    "001": "SES",
    "002": "ViT training stability",
    "003": "segmentation recipe",
    "004": "warm-start fine-tuning",
}
OTHER = "other"  # the group of studies that reproduce no seed note


class CatalogueError(BadInput):
    """A study name the catalogue does not have, or a catalogue file that does not declare a study."""


def study_names() -> list[str]:
    """Every module of the catalogue; `_`-prefixed ones are shared pieces that study files import."""
    return sorted(m.name for m in pkgutil.iter_modules(catalog.__path__) if not m.name.startswith("_"))


def load(name: str) -> ModuleType:
    if name not in study_names():
        raise CatalogueError(f"unknown study {name!r}; available: {', '.join(study_names())}")
    module = importlib.import_module(f"{catalog.__name__}.{name}")
    if not callable(getattr(module, "get_study", None)):
        raise CatalogueError(f"studies/catalog/{name}.py has no get_study(profile); every catalogue module is a study "
                       "(shared pieces go in a _-prefixed module)")
    return module


@dataclass(frozen=True)
class Entry:
    name: str
    seed: str | None  # the seed note it reproduces, "001"; None: none
    experiment: str  # which of the note's experiments, "Exp 2"; "" when the note names none
    description: str


def entry(name: str) -> Entry:
    """Study `name`'s catalogue line, its SEED/EXPERIMENT checked where they are declared."""
    module = load(name)
    seed, experiment = getattr(module, "SEED", None), getattr(module, "EXPERIMENT", "")
    if seed is not None and not (isinstance(seed, str) and re.fullmatch(r"\d{3}", seed)):
        raise CatalogueError(f"studies/catalog/{name}.py: SEED names a seed note by its number, like '001', but got "
                       f"{seed!r}")
    if not isinstance(experiment, str) or (experiment and seed is None):
        raise CatalogueError(f"studies/catalog/{name}.py: EXPERIMENT is a string naming an experiment of its SEED note, "
                       f"but got {experiment!r} with SEED={seed!r}")
    return Entry(name, seed, experiment, getattr(module, "DESCRIPTION", ""))


def _in_order(text: str) -> list:
    """'Exp 10' after 'Exp 2': numbers compared as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def groups() -> list[tuple[str, list[Entry]]]:
    """(heading, entries) per seed note in number order, each in experiment order, then the other studies."""
    entries = [entry(n) for n in study_names()]
    seeds = sorted({e.seed for e in entries if e.seed})
    out = []
    for seed in seeds:
        title = f"seed {seed}" + (f" ({SEED_NOTES[seed]})" if seed in SEED_NOTES else "")
        out.append((title, sorted((e for e in entries if e.seed == seed),
                                  key=lambda e: (_in_order(e.experiment), e.name))))
    others = [e for e in entries if not e.seed]
    return out + ([(OTHER, others)] if others else [])


def listing() -> str:
    """`--list`: a heading per seed note, then a line per study: name, experiment, description."""
    rows = groups()
    name_w = max(len(e.name) for _, es in rows for e in es)
    exp_w = max([len(e.experiment) for _, es in rows for e in es] + [1])
    lines = []
    for heading, entries in rows:
        lines.append(f"{heading}:")
        lines += [f"  {e.name:{name_w}s}  {e.experiment or '-':{exp_w}s}  {e.description}" for e in entries]
    return "\n".join(lines)


def describe() -> list[tuple[str, str]]:
    return [(n, getattr(load(n), "DESCRIPTION", "")) for n in study_names()]
