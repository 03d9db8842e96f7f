"""benchmarks.tpe_scale at a size that runs in seconds: its table, with both samplers proposing the same."""

from benchmarks import tpe_scale


def test_a_small_run_prints_both_samplers_and_their_proposals_agree(capsys):
    assert tpe_scale.main(["--trials", "120", "--asks", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["trials", "optuna", "ms/ask"]
    rows = [line.split() for line in lines[1:]]
    assert [int(r[0]) for r in rows] == [12, 30, 60, 120]
    assert all(r[-1] == "True" for r in rows)
