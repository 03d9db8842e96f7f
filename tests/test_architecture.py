"""The rooms of the code and their one-way arrows (docs/architecture.md), read from every module's imports: a
module imports only the rooms its own may see; Ray and MLflow only inside their rooms; no two modules share a name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("hpstudy", "search_spaces", "trainables", "analysis", "studies", "benchmarks")
STUDIES_BASE = {"studies.study", "studies.registry", "studies.packing", "studies.trial_config", "studies.catalog"}

# room -> the rooms it may import (besides itself). The first matching room, longest first, owns a module.
ALLOWED: dict[str, set[str]] = {
    "hpstudy.schema": set(),
    "search_spaces": {"hpstudy.schema"},
    "trainables": {"hpstudy.schema"},
    "analysis": {"hpstudy.schema"},
    "studies.study": {"hpstudy.schema", "search_spaces", "trainables", "studies.packing", "studies.trial_config"},
    "studies.trial_config": {"hpstudy.schema", "trainables"},
    "studies.packing": set(),
    "studies.registry": {"hpstudy.schema", "studies.catalog"},
    "studies.catalog": {"hpstudy.schema", "search_spaces", "trainables", "studies.study"},
    "studies.assembly": {"hpstudy.schema", "search_spaces", "trainables", *STUDIES_BASE},
    "studies.search": set(),  # pure rules: plain numbers in, verdicts out
    "studies.tune": {"hpstudy.schema", "search_spaces", "trainables", "studies.search", *STUDIES_BASE},
    "studies.tracking": {"hpstudy.schema", "search_spaces", "trainables", "analysis", *STUDIES_BASE},
    "studies.cli": {"hpstudy.schema", "search_spaces", "trainables", "analysis", "studies.assembly", "studies.search",
                    "studies.tune", "studies.tracking", *STUDIES_BASE},
    "studies": {"studies.cli"},  # studies/run.py and __main__.py: the command's entry, handing over to the CLI
    "hpstudy": {"hpstudy.schema", "search_spaces", "trainables", "studies"},  # the public API, imported lazily
    "benchmarks": {"hpstudy.schema", "search_spaces", "trainables", "analysis", "studies"},
}
RAY_ROOMS = ("studies/tune/", "trainables/ray_train.py", "benchmarks/")
MLFLOW_ROOMS = ("studies/tracking/", "analysis/", "benchmarks/")


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"), path


def _imports(path: Path) -> Iterator[str]:
    """Every module name an import statement of `path` names (top-level or inside a function)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            submodules = [f"{node.module}.{alias.name}" for alias in node.names
                          if _is_module(f"{node.module}.{alias.name}")]
            yield from submodules  # `from studies import registry` imports studies.registry, not studies' own code
            if len(submodules) < len(node.names):
                yield node.module


def room(module: str) -> str | None:
    """The room owning `module`: the longest ALLOWED key that is it or a package above it."""
    keys = [k for k in ALLOWED if module == k or module.startswith(k + ".")]
    return max(keys, key=len) if keys else None


def allowed(own: str, target: str) -> bool:
    """May room `own` import room `target` (itself, a room it lists, or a room inside one it lists)?"""
    return target == own or any(target == a or target.startswith(a + ".") for a in ALLOWED[own])


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


MODULES = list(_modules())


@pytest.mark.parametrize("module,path", MODULES, ids=[m for m, _ in MODULES])
def test_every_import_points_the_allowed_way(module, path):
    own = room(module)
    assert own is not None, f"{module} is in no room of ALLOWED: give its room a line (and docs/architecture.md)"
    wrong = sorted({f"{name} (room {room(name)})" for name in _imports(path)
                    if name.split(".")[0] in PACKAGES and _is_module(name)
                    and room(name) is not None and not allowed(own, room(name))})
    assert not wrong, f"{module} (room {own}) imports {', '.join(wrong)}; allowed: {sorted(ALLOWED[own])}"


@pytest.mark.parametrize("library,rooms", [("ray", RAY_ROOMS), ("mlflow", MLFLOW_ROOMS)])
def test_ray_and_mlflow_are_imported_only_in_their_rooms(library, rooms):
    outside = [str(path.relative_to(ROOT)) for _, path in MODULES
               if not str(path.relative_to(ROOT)).startswith(rooms)
               and any(name.split(".")[0] == library for name in _imports(path))]
    assert not outside, f"{library} imported outside {', '.join(rooms)}: {outside}"


def test_no_two_modules_share_a_name():
    seen: dict[str, list[str]] = {}
    for module, path in MODULES:
        if path.name not in ("__init__.py", "__main__.py") and ".catalog." not in module:
            seen.setdefault(path.name, []).append(module)
    assert {n: ms for n, ms in seen.items() if len(ms) > 1} == {}


def test_the_checker_sees_a_wrong_arrow(tmp_path):
    """The rule can fail: an analysis module importing studies is a wrong arrow."""
    bad = tmp_path / "bad.py"
    bad.write_text("from studies.registry import load\n")
    names = [n for n in _imports(bad) if _is_module(n)]
    assert names == ["studies.registry"] and not allowed("analysis", room(names[0]))
    assert allowed("benchmarks", "studies.tune") and not allowed("studies.tune", "studies.cli")
