"""The report says how the test split was used, and shows it: a sweep's test table, a search's selected figure."""

from __future__ import annotations

from analysis import build_report, load_trials


def _with_test(frame, offset: float):
    out = frame.copy()
    out["test/acc"] = out["val/acc"] - offset
    out.attrs = {**frame.attrs, "protocol": "Decisions use only val/acc; test measured once at the end.",
                 "notes": "precision=fp16 ran as fp32"}
    return out


def test_a_sweep_shows_its_test_table_and_its_protocol(trials):
    report = build_report(_with_test(trials, 0.01), baseline="baseline")
    assert "test/acc" in report.metrics
    assert report.test_summary().startswith("| config | n | test/acc (%) |")
    text = report.markdown()
    assert "Protocol: Decisions use only val/acc; test measured once at the end." in text
    assert "Note: precision=fp16 ran as fp32" in text and text.index("Protocol:") < text.index("## Overview")


def test_a_search_shows_the_test_figure_of_what_it_selected(store):
    frame = load_trials("lr_search", tracking_uri=store.uri)
    report = build_report(_with_test(frame, 0.05), metrics=["val/acc", "test/acc"], mode="max")
    assert report.configs[0] == "optim.lr=0.1"  # best val/acc first: the selection
    assert report.test_summary() == "selected on val/acc: optim.lr=0.1: test/acc 65.00% (n=1)"


def test_no_test_split_measured_no_test_summary(trials):
    assert build_report(trials, baseline="baseline").test_summary() is None
