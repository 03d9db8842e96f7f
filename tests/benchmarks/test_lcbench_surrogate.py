"""YAHPO Gym's LCBench surrogate read with onnxruntime, and the benchmark's command line around it."""

from pathlib import Path

import numpy as np
import pytest

from benchmarks.lcbench.__main__ import SURROGATE, main

YAHPO_DEFAULT = {"batch_size": 91, "learning_rate": 0.0031622777, "momentum": 0.545, "weight_decay": 0.050005,
                 "num_layers": 3, "max_units": 256, "max_dropout": 0.5}  # config_space.json's defaults


@pytest.fixture(scope="module")
def surrogate():
    pytest.importorskip("onnxruntime")
    if not (SURROGATE / "model.onnx").is_file():
        pytest.skip(f"no LCBench surrogate at {SURROGATE}")
    from benchmarks.lcbench.yahpo_surrogate import Surrogate

    return Surrogate(SURROGATE)


def test_a_known_configuration_gives_a_plausible_learning_curve(surrogate):
    c = surrogate.curves("3945", [YAHPO_DEFAULT])
    val, time = c.val_acc[0], c.time[0]
    assert len(val) == 52 and 30 < val[0] < val[-1] <= 100  # rises from its first epoch, in percent
    assert val[-1] == pytest.approx(93.4, abs=0.5)  # as YAHPO Gym 1.0.2's lcbench model gives it
    assert np.all(np.diff(time)[5:] > 0) and 100 < time[-1] < 300  # cumulative seconds of the real run
    assert 0 < c.test_acc[0, -1] <= 100


def test_a_missing_surrogate_file_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["--surrogate", str(tmp_path), "--quick"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model.onnx" in err


def test_help_names_the_defaults(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps to the terminal's width
    assert e.value.code == 0
    for default in ("(default: 10)", "(default: 100)", "(default: 4)", "(default: all)"):
        assert default in out


def test_a_tiny_run_writes_its_figures(surrogate, tmp_path):
    import json

    out = tmp_path / "out.json"
    assert main(["--instances", "3945", "--repetitions", "1", "--budget", "2", "--cores", "1", "--methods",
                 "random,hpstudy-tpe-asha", "--cache", str(tmp_path), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert {r["epochs"] for r in result["runs"]} == {104}
    assert set(result["all"]) == {"random", "hpstudy-tpe-asha"} and len(result["all"]["random"]["rank"]) == 3
    pairs = result["paired"]  # the default against each other method, over the run's one instance (tuning half)
    assert set(pairs["all"]) == {"random"} and pairs["held_out"] is None and len(pairs["all"]["random"]["p"]) == 3
    assert Path(tmp_path / "reference.json").is_file()
