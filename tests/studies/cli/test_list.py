"""`--list`: every study once, grouped under the seed note it reproduces (SEED, EXPERIMENT beside DESCRIPTION),
in experiment order, the rest under "other"; a malformed SEED is one line naming the file."""

from __future__ import annotations

from types import ModuleType

import pytest

from studies import registry
from studies.cli.main import main


def _fake(name: str, **constants) -> ModuleType:
    module = ModuleType(f"studies.catalog.{name}")
    module.get_study = lambda profile: None
    module.DESCRIPTION = f"what {name} does"
    for key, value in constants.items():
        setattr(module, key, value)
    return module


@pytest.fixture
def catalogue(monkeypatch):
    """Replace the catalogue with fake modules: `catalogue(mod, ...)`."""
    def install(*modules: ModuleType) -> None:
        by_name = {m.__name__.rsplit(".", 1)[-1]: m for m in modules}
        monkeypatch.setattr(registry, "study_names", lambda: sorted(by_name))
        monkeypatch.setattr(registry, "load", lambda name: by_name[name])

    return install


def _listing(capsys) -> tuple[int, str, str]:
    code = main(["--list"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_every_study_is_listed_once_under_its_seed(capsys):
    code, out, err = _listing(capsys)
    assert code == 0, err
    names = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    assert sorted(names) == registry.study_names()
    groups = out.split("\n", 1)[1]
    assert out.startswith("seed 000 (ResNet Strikes Back fixes):") and out.rstrip().split("\n")[-2] == "other:"
    assert out.index("seed 000") < out.index("seed 001 (SES):") < out.index("seed 003")
    seed_001 = groups.split("seed 003")[0]
    assert "ses_beta_sweep" in seed_001 and "Exp 2" in seed_001.split("ses_beta_sweep")[1].splitlines()[0]
    assert "seg_lr_warmup_dropout" in out.split("seed 003 (segmentation recipe):")[1].split("other:")[0]
    assert "lr_warmup_dropout" in out.split("other:")[1]


def test_groups_in_seed_then_experiment_order_and_others_last(catalogue, capsys):
    catalogue(_fake("b_ten", SEED="001", EXPERIMENT="Exp 10"), _fake("a_two", SEED="001", EXPERIMENT="Exp 2"),
              _fake("c_vit", SEED="002", EXPERIMENT="Exp 1"), _fake("d_free"), _fake("e_new", SEED="042"))
    code, out, err = _listing(capsys)
    assert code == 0, err
    assert [line.split()[:2] for line in out.splitlines()] == [
        ["seed", "001"], ["a_two", "Exp"], ["b_ten", "Exp"], ["seed", "002"], ["c_vit", "Exp"],
        ["seed", "042:"], ["e_new", "-"], ["other:"], ["d_free", "-"]]
    assert "  a_two   Exp 2   what a_two does" in out  # name, experiment, description in aligned columns
    assert "seed 002 (ViT training stability):" in out


@pytest.mark.parametrize("constants, named", [
    ({"SEED": 1}, "SEED names a seed note by its number"),
    ({"SEED": "1"}, "got '1'"),
    ({"EXPERIMENT": "Exp 3"}, "EXPERIMENT"),  # an experiment of no seed note
])
def test_a_malformed_seed_is_one_line_naming_the_file(catalogue, capsys, constants, named):
    catalogue(_fake("bad_study", **constants))
    code, _, err = _listing(capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "studies/catalog/bad_study.py" in err and named in err
