"""docs/reference/*.md are what `python -m studies.cli.reference` generates from the code: the CLI's parser, the
catalogue, the metric tables. A change to any of them without regenerating the pages fails here, saying how."""

from __future__ import annotations

import argparse

import pytest

from studies.cli import reference
from studies.cli.reference import COMMAND, ROOT


@pytest.fixture(scope="module")
def generated() -> dict:
    return reference.pages()


def test_every_reference_page_is_what_the_code_generates(generated):
    stale = [str(path) for path, text in generated.items()
             if not (ROOT / path).is_file() or (ROOT / path).read_text(encoding="utf-8") != text]
    assert not stale, f"{', '.join(stale)} differ from what the code generates; run `{COMMAND}` to regenerate them"


def test_the_cli_page_has_every_option_of_the_parser(generated):
    from studies.cli.main import build_parser

    page = generated[reference.PAGES_DIR / "cli.md"]
    flags = [s for a in build_parser()._actions for s in a.option_strings]
    assert flags and all(f"`{flag}`" in page for flag in flags), [f for f in flags if f"`{f}`" not in page]


def test_the_cli_page_does_not_depend_on_the_terminal(monkeypatch, generated):
    monkeypatch.setenv("COLUMNS", "40")  # argparse's help wraps by it; the page must not
    assert reference.cli_page() == generated[reference.PAGES_DIR / "cli.md"]


def test_the_studies_page_lists_every_study_under_its_group(generated):
    from studies import registry

    page = generated[reference.PAGES_DIR / "studies.md"]
    for heading, entries in registry.groups():
        section = page.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
        assert all(f"| `{e.name}` |" in section for e in entries), heading


def test_the_metrics_page_has_every_built_in_key_and_each_tasks_metrics(generated):
    from hpstudy.schema.metrics import METRICS
    from trainables.config import TaskConfig
    from trainables.tasks import TASKS, task_class

    page = generated[reference.PAGES_DIR / "metrics.md"]
    assert all(f"| `{row.key}` |" in page for row in METRICS.rows)
    for name in TASKS:
        assert all(f"`{spec.name}`" in page for spec in task_class(TaskConfig(name=name)).metrics), name


def test_check_names_the_stale_page_and_exits_1(tmp_path, monkeypatch, capsys, generated):
    for path, text in generated.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    (tmp_path / reference.PAGES_DIR / "metrics.md").write_text("edited by hand\n", encoding="utf-8")
    monkeypatch.setattr(reference, "ROOT", tmp_path)
    monkeypatch.setattr(reference, "pages", lambda: generated)
    assert reference.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "docs/reference/metrics.md differs" in err and COMMAND in err and "cli.md" not in err


def test_a_table_cell_keeps_its_pipes_and_placeholders():
    assert reference._cell("a | b <name> `c<d>`") == "a \\| b &lt;name&gt; `c<d>`"
    action = argparse.ArgumentParser().add_argument("--x", choices=("p", "q"), default="p")
    assert reference._value(action) == "`p` | `q`" and reference._default(action) == "`p`"
