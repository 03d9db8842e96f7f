"""Our search through a real Ray Tune run decides as it does on the simulated clock (one worker), and the comparison
names the first decision that differs."""

import pytest

from benchmarks.lcbench.__main__ import SURROGATE
from benchmarks.lcbench.through_tune import Decision, first_difference

RUN = [Decision({"learning_rate": 1e-3, "num_layers": 2}, 52), Decision({"learning_rate": 2e-3, "num_layers": 1}, 1)]


def test_identical_decisions_have_no_difference():
    assert first_difference(RUN, [Decision(dict(d.config), d.epochs) for d in RUN]) is None


def test_the_first_differing_decision_is_named():
    other = [RUN[0], Decision({"learning_rate": 2e-3, "num_layers": 1}, 2)]
    assert first_difference(RUN, other) == "trial 1: 1 epochs (simulated) vs 2 (Tune)"
    moved = [Decision({"learning_rate": 1e-3 * (1 + 1e-6), "num_layers": 2}, 52), RUN[1]]
    assert first_difference(RUN, moved).startswith("trial 0: learning_rate")
    assert first_difference(RUN, RUN[:1]) == "2 trials (simulated) vs 1 (Tune)"


@pytest.mark.slow  # ~25 s on 2 cores, most of it Ray's start and the imports
def test_tpe_asha_through_tune_makes_the_simulated_decisions(monkeypatch):
    pytest.importorskip("onnxruntime")
    if not (SURROGATE / "model.onnx").is_file():
        pytest.skip(f"no LCBench surrogate at {SURROGATE}")
    import ray

    from benchmarks.lcbench.through_tune import simulated, through_tune

    monkeypatch.setenv("RAY_AIR_NEW_OUTPUT", "0")  # verbose=0 then prints nothing
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    try:
        args = dict(seed=0, budget=3)  # 156 epochs: trials stopped by ASHA, one run to 52, one cut by the budget
        sim = simulated(str(SURROGATE), "3945", "hpstudy-tpe-asha", **args)
        tuned = through_tune(str(SURROGATE), "3945", "hpstudy-tpe-asha", **args)
    finally:
        if started:
            ray.shutdown()
    assert first_difference(sim, tuned) is None
    assert sum(d.epochs for d in tuned) == 3 * 52
    assert any(d.epochs < 52 for d in sim[:-1]) and any(d.epochs == 52 for d in sim)
