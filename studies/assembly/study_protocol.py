"""The honest protocol of a study: what it selects on, when it measures the test split, and one sentence that says
so on the study's MLflow run and at the head of its report.

A search (TPE, random, or ASHA stopping trials) decides on val/* only and measures the test split once per trial,
at its end. A sweep that reproduces a paper may train on the whole training set (data.val_fraction=0): its metric
becomes the test split's, measured every epoch, and nothing in it decides on that.
"""

from __future__ import annotations

from dataclasses import replace

from hpstudy.schema.errors import BadInput
from hpstudy.schema.metrics import on_split, split_of
from studies.study import Study
from studies.trial_config import kind
from trainables.defaults import resolve
from trainables.protocol import has_val, when_tested

OWNED_KEYS = ("checkpoint.metric", "checkpoint.mode")  # follow the study's metric; not for --set


class ProtocolError(BadInput):
    """A study whose settings would decide on the test set; the message is one line."""


def decides(study: Study) -> bool:
    """Does the study choose among trials while it runs (a searcher, or ASHA stopping some)?"""
    return study.search != "grid" or study.asha is not None


def apply_protocol(study: Study) -> Study:
    """`study` with its metric and best-weights criterion fitted to its base config's splits, or ProtocolError. A
    training function's splits are its own: only its metric is checked (a search never selects on test/*)."""
    if kind(study.base).own:
        _no_test_decisions(study)
        return study
    cfg = resolve(study.base)
    if not has_val(cfg):
        if decides(study):
            raise ProtocolError(f"data.val_fraction=0: study {study.name} selects among trials ({study.search} search"
                                f"{', ASHA' if study.asha else ''}) on {study.metric}, and without a validation "
                                "split it would select on the test set; keep data.val_fraction > 0")
        if split_of(study.metric) == "val":
            study = replace(study, metric=on_split(study.metric, "test"))
    elif decides(study) and when_tested(cfg) == "every_epoch":
        raise ProtocolError(f"eval.test=every_epoch: study {study.name} selects among trials, so it measures the "
                            "test split once per trial, at its end (eval.test=end), where no decision can see it")
    _no_test_decisions(study)
    checkpoint = replace(study.base.checkpoint, metric=study.metric, mode=study.mode)
    return replace(study, base=replace(study.base, checkpoint=checkpoint))


def _no_test_decisions(study: Study) -> None:
    if decides(study) and split_of(study.metric) == "test":
        raise ProtocolError(f"study {study.name}: metric {study.metric!r} would select on the test set; "
                            "a search decides on val/*")


def describe(study: Study) -> str:
    """One sentence: what is selected on, and how the test split is used (the report's header line)."""
    if kind(study.base).own:
        return (f"Decisions (search, early stopping) use {study.metric} as the study's training function reports "
                "it: which data it holds out for it, and when it measures a test split, are that function's own.")
    cfg = resolve(study.base)
    if not has_val(cfg):
        return ("No validation split (data.val_fraction=0): every trial trains on the whole training set and the "
                "test split is measured every epoch, as a paper's scripts do; nothing in the study decides on it, "
                "but choosing a configuration from these test numbers would.")
    held_out = (f"a validation split ({cfg.data.val_fraction:.0%} of the training set, split_seed "
                f"{cfg.data.split_seed}) held out for {study.metric}")
    if cfg.eval.test == "off":
        return f"Decisions use {held_out}; the test split is not measured."
    weights = {"last": "its last epoch's weights", "best": f"its best-{study.metric} epoch's weights",
               "both": f"its best-{study.metric} and its last epoch's weights"}[cfg.checkpoint.keep]
    when = ("every epoch" if cfg.eval.test == "every_epoch" else f"once per trial, at its end, on {weights}")
    return (f"Decisions (search, early stopping, best weights) use only {held_out}; the test split is measured "
            f"{when} and is never used for a decision.")
