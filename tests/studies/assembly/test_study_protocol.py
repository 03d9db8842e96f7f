"""What a study may decide on: a search uses val/* only; a sweep without a validation split reports test/*."""

from __future__ import annotations

from dataclasses import replace

import pytest

from studies.assembly.study_protocol import ProtocolError, apply_protocol, describe
from studies.catalog import lr_warmup_dropout, ses_beta_sweep
from trainables.config.overrides import apply_overrides


def _with(study, **sets):
    return replace(study, base=apply_overrides(study.base, sets))


def test_a_sweep_without_a_validation_split_reports_the_test_split():
    study = apply_protocol(_with(ses_beta_sweep.get_study("local"), **{"data.val_fraction": 0.0}))
    assert study.metric == "test/acc" and study.base.checkpoint.metric == "test/acc"
    assert "No validation split" in describe(study) and "every epoch" in describe(study)


def test_a_search_without_a_validation_split_is_refused():
    with pytest.raises(ProtocolError, match="data.val_fraction=0.*select on the test set"):
        apply_protocol(_with(lr_warmup_dropout.get_study("local"), **{"data.val_fraction": 0.0}))


def test_a_search_measures_the_test_split_only_at_the_end():
    with pytest.raises(ProtocolError, match="eval.test=every_epoch"):
        apply_protocol(_with(lr_warmup_dropout.get_study("local"), **{"eval.test": "every_epoch"}))
    with pytest.raises(ProtocolError, match="select on the test set"):
        apply_protocol(replace(lr_warmup_dropout.get_study("local"), metric="test/acc"))


def test_the_best_weights_follow_the_study_metric_and_the_header_says_how_test_is_used():
    study = apply_protocol(_with(lr_warmup_dropout.get_study("local"), **{"checkpoint.keep": "best"}))
    assert (study.metric, study.base.checkpoint.metric, study.base.checkpoint.mode) == ("val/acc", "val/acc", "max")
    text = describe(study)
    assert "10% of the training set" in text and "best-val/acc epoch's weights" in text
    assert "never used for a decision" in text
