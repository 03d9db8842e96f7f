"""The module path is the registry: study NAME is `studies/catalog/NAME.py`, exposing `get_study(profile)` and
`DESCRIPTION` (and, for a study from a seed note, `SEED = "001"` and `EXPERIMENT = "Exp 2"`); the module's name is
the study's name, so adding a study is adding a file. A study file of one's own, anywhere, is given by its path
(`python -m studies.run path/to/my_study.py`): its name is the file's stem and its folder's modules import."""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from hpstudy.schema.errors import BadInput
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


def is_path(target: str) -> bool:
    """Does `target` name a study file (`my_study.py`, `dir/my_study`) rather than a catalogue study?"""
    return target.endswith(".py") or os.sep in target or (os.altsep is not None and os.altsep in target)


def study_name(target: str) -> str:
    """The study's name: a catalogue name as given, a study file's stem."""
    return Path(target).stem if is_path(target) else target


def load(target: str) -> ModuleType:
    """The module of catalogue study `target`, or of the study file at path `target`."""
    if is_path(target):
        module = _load_file(Path(target))
        where = module.__file__
    else:
        if target not in study_names():
            raise CatalogueError(f"unknown study {target!r}; available: {', '.join(study_names())} (or give the "
                                 "path of a study file of your own, e.g. ./my_study.py)")
        module = importlib.import_module(f"{catalog.__name__}.{target}")
        where = f"studies/catalog/{target}.py"
    if not callable(getattr(module, "get_study", None)):
        raise CatalogueError(f"{where} has no get_study(profile); a study file defines one, returning a Study "
                             "(shared pieces of the catalogue go in a _-prefixed module)")
    return module


def _load_file(path: Path) -> ModuleType:
    """Import a study file as the module named by its stem, its folder first on the path (so its sibling modules
    import, here and, through `code_dir`, in the trials)."""
    path = path.expanduser().resolve()
    if not path.is_file():
        raise CatalogueError(f"study file {path}: no such file; give a path to a .py file that defines "
                             "get_study(profile), or a catalogue name (python -m studies.run --list)")
    name = path.stem
    if not name.isidentifier():
        raise CatalogueError(f"study file {path}: {name!r} is not a Python module name (letters, digits, _); "
                             "rename the file")
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__file__", None) != str(path):
        raise CatalogueError(f"study file {path}: its name {name!r} is already the module "
                             f"{getattr(loaded, '__file__', None) or name} here; rename the file")
    if loaded is not None:
        return loaded
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001 -- the user's file: any error in it is bad input, in one line
        del sys.modules[name]
        what = f"line {err.lineno}: {err.msg}" if isinstance(err, SyntaxError) else str(err)
        raise CatalogueError(f"study file {path}: {type(err).__name__}: {what}") from None
    return module


def code_dir(target: str) -> Path | None:
    """The folder a study file's trials need on their path (its own modules), or None for a catalogue study."""
    return Path(target).expanduser().resolve().parent if is_path(target) else None


@dataclass(frozen=True)
class Entry:
    name: str
    seed: str | None  # the seed note it reproduces, "001"; None: none
    experiment: str  # which of the note's experiments, "Exp 2"; "" when the note names none
    description: str


def entry(target: str) -> Entry:
    """Study `target`'s catalogue line, its SEED/EXPERIMENT checked where they are declared."""
    module, name = load(target), study_name(target)
    seed, experiment = getattr(module, "SEED", None), getattr(module, "EXPERIMENT", "")
    if seed is not None and not (isinstance(seed, str) and re.fullmatch(r"\d{3}", seed)):
        raise CatalogueError(f"{_where(module, name)}: SEED names a seed note by its number, like '001', but got "
                       f"{seed!r}")
    if not isinstance(experiment, str) or (experiment and seed is None):
        raise CatalogueError(f"{_where(module, name)}: EXPERIMENT is a string naming an experiment of its SEED note, "
                       f"but got {experiment!r} with SEED={seed!r}")
    return Entry(name, seed, experiment, getattr(module, "DESCRIPTION", ""))


def _where(module: ModuleType, name: str) -> str:
    return getattr(module, "__file__", None) or f"studies/catalog/{name}.py"


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
