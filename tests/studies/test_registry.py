"""The catalogue's modules are the studies: each has `get_study`, its name is the module's, and nothing else is."""

from __future__ import annotations

from dataclasses import replace
from types import ModuleType

import pytest

from studies import registry
from studies.assembly.assemble import UsageError, build_study


def test_the_registry_is_the_catalogue_and_only_it():
    names = registry.study_names()
    assert {"lr_warmup_dropout", "ses_beta_sweep", "seg_lr_warmup_dropout"} <= set(names)
    assert not {"tune", "run", "build", "study", "tracking"} & set(names)  # the machinery is not in the catalogue


@pytest.mark.parametrize("name", registry.study_names())
def test_every_study_builds_both_profiles_and_is_named_after_its_module(name):
    module = registry.load(name)
    assert module.DESCRIPTION
    for profile in ("local", "full"):
        assert build_study(module, profile, {}, None).name == name


def test_a_study_file_naming_another_study_is_refused():
    stale = ModuleType("studies.catalog.copy_of_sweep")  # a file copied from another study, its name= left as is
    stale.get_study = lambda profile: replace(registry.load("ses_beta_sweep").get_study(profile), name="ses_beta_sweep")
    with pytest.raises(UsageError, match="copy_of_sweep.*names itself 'ses_beta_sweep'"):
        build_study(stale, "local", {}, None)


def test_an_unknown_study_lists_the_catalogue():
    with pytest.raises(registry.CatalogueError, match="available: .*lr_warmup_dropout"):
        registry.load("no_such_study")
