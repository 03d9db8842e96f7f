"""The sweep that chose the default search runs the variants it names on the tuning half only, and refuses others."""

import pytest

from benchmarks.lcbench import default_sweep
from benchmarks.lcbench.__main__ import SURROGATE


def test_an_unknown_variant_is_one_line_and_exit_2(capsys):
    assert default_sweep.main(["--variants", "before,nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "'before,nope'" in err and len(err.splitlines()) == 1


def test_the_variants_include_the_default_before_and_today(monkeypatch):
    from benchmarks.lcbench.ours import StudySearch

    assert default_sweep.VARIANTS["before"][:2] == ({"multivariate": True, "group": True},
                                                    {"grace_period": 1, "reduction_factor": 2})
    today = default_sweep.make("indep-startup30-g4-eta3", seed=0, workers=4)
    default = StudySearch(today.study, workers=4)  # what tuner._searcher builds for Asha() on 52 epochs
    mine, theirs = today.searcher._sampler, default.searcher._sampler
    assert (mine._n_startup_trials, mine._multivariate, mine._constant_liar) == (
        theirs._n_startup_trials, theirs._multivariate, theirs._constant_liar)


@pytest.mark.slow  # 17 tiny searches: ~15 s on 2 cores
def test_a_tiny_sweep_prints_one_row_per_variant(capsys):
    pytest.importorskip("onnxruntime")
    if not (SURROGATE / "model.onnx").is_file():
        pytest.skip(f"no LCBench surrogate at {SURROGATE}")
    assert default_sweep.main(["--repetitions", "1", "--budget", "1", "--cores", "1", "--variants",
                               "before,random-asha"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| before") or
            line.startswith("| random-asha")]
    assert len(rows) == 2
