"""The platform-overhead benchmark: its figures from known timelines, the trials it plans, the CPU counter, and
bad arguments. The three-way run itself takes minutes (`python -m benchmarks.platform_overhead`)."""

import math
import subprocess
import sys
import time

import pytest

from benchmarks import platform_overhead as po


def _trial(start, epochs, epoch_s=1.0, setup=2.0):
    """A trial starting at `start`, `setup` s before its first epoch, then `epochs` epochs of `epoch_s`."""
    ends = [start + setup + epoch_s * (k + 1) for k in range(epochs)]
    return {"start": start, "end": ends[-1], "epochs": [(t, epoch_s) for t in ends]}


def test_figures_of_two_slots_with_known_gaps():
    # 2 slots: trials 0 and 1 start at 10; trial 2 starts 1 s after trial 0 ends (at 14), trial 3 3 s after 1 ends.
    trials = [_trial(10, 2), _trial(10, 2, setup=5.0), _trial(15, 2), _trial(17, 2)]
    fig = po._figures(trials, cli_start=4.0, cores=2, cpu_s=7.0)
    assert fig["cli_to_first_trial_s"] == 6.0 and fig["trial_to_first_epoch_s"] == 2.0
    assert fig["trial_to_first_epoch_max_s"] == 5.0
    assert fig["epoch_s_total"] == 8.0 and fig["study_phase_s"] == 21 - 10
    # trial 1 ends at 17 (5 s of setup): trial 2 took trial 0's slot (ended 14) 1 s later, trial 3 trial 1's at once
    assert math.isclose(fig["ratio"], 11 / (8 / 2)) and fig["gap_between_trials_s"] == 0.5  # median of 1 and 0
    assert fig["trials"] == 4 and fig["cpu_s"] == 7.0


def test_the_planned_trials_are_the_studys_local_grid():
    configs = po.planned("ses_beta_sweep")
    assert len(configs) == 10  # 5 variants x 2 seeds
    assert {c["seed"] for c in configs} == {0, 1} and all(c["num_threads"] == 1 for c in configs)
    assert {c["ses.enabled"] for c in configs} == {True, False}


def test_the_cpu_counter_sees_a_grandchild():
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass"
    inner = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {busy!r}])"
    with po._TreeCPU(interval_s=0.05) as cpu:
        subprocess.run([sys.executable, "-c", inner], check=True)
        time.sleep(0.1)
    assert cpu.total_s() >= 0.5


@pytest.mark.parametrize("argv", [["--ways", "hpstudy,ray"], ["--repeats", "0"]])
def test_bad_arguments_are_one_line_and_exit_2(argv, capsys):
    assert po.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --ways") and len(err.strip().splitlines()) == 1
