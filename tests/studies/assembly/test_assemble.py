"""A study file becomes the study that runs: paths absolute, every value its space can give checked up front."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from search_spaces import Grid, Uniform, Variants
from studies.assembly.assemble import UsageError, build_study, check_space
from studies.catalog import ses_beta_sweep


def _module(study):
    return SimpleNamespace(get_study=lambda profile: replace(study, profile=profile))


def test_paths_in_the_base_and_the_space_are_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ckpt.pt").write_bytes(b"")  # validation checks that it exists
    study = replace(ses_beta_sweep.get_study("local"), space={"data.root": Grid(("a", "/abs/b"))})
    built = build_study(_module(study), "local", {"data.name": "cifar10", "init.checkpoint": "ckpt.pt"}, None)
    assert built.base.data.root == "" and built.base.init.checkpoint == str(tmp_path / "ckpt.pt")
    assert built.space["data.root"] == Grid((str(tmp_path / "a"), "/abs/b"))


@pytest.mark.parametrize("space, named", [
    ({"ses.beta": Uniform(0.5, 1.5)}, "'ses.beta': ses.beta: expected 0 < value <= 1"),
    ({"variant": Variants(({"name": "ok", "ses.lam": 0.1}, {"name": "bad", "ses.lam": -1.0}))}, "ses.lam"),
    ({"optim.momentum": Grid((0.9, 1.0))}, "optim.momentum"),
])
def test_a_value_the_space_can_give_outside_its_meaning_is_refused(space, named):
    with pytest.raises(UsageError, match="search space") as err:
        check_space(replace(ses_beta_sweep.get_study("local"), space=space))
    assert named in str(err.value)


def test_the_shipped_spaces_pass():
    check_space(ses_beta_sweep.get_study("full"))
