"""The one progress line: counts, elapsed, ETA and the best so far; rewritten in place on a terminal, a plain line
per trial end (and at most every `every_s` otherwise) into a file."""

from __future__ import annotations

import io

from studies.tracking.progress import Progress, duration, progress_line


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_the_line_says_counts_times_and_the_best_so_far():
    line = progress_line(done=3, running=2, total=10, elapsed_s=250, eta_s=580, metric="val/acc", best=0.91234,
                         best_label="lr=0.01 seed=0")
    assert line == ("trials 3/10 done, 2 running, 5 queued | 4m10s elapsed, ETA 9m40s | "
                    "best val/acc 0.9123 (lr=0.01 seed=0)")
    assert progress_line(done=0, running=0, total=4, elapsed_s=5, eta_s=None, metric="val/loss").endswith(
        "ETA ? | best val/loss —")
    assert [duration(s) for s in (0.4, 59, 61, 3600 * 2 + 245, None)] == ["0s", "59s", "1m01s", "2h04m", "?"]


def test_into_a_file_one_line_per_trial_end_and_between_them_at_most_every_every_s():
    out, clock = io.StringIO(), Clock()
    p = Progress(total=3, metric="val/loss", mode="min", stream=out, tty=False, every_s=30, clock=clock)
    p.started("a")  # the first line comes at once
    p.started("b")
    clock.t = 10
    p.result("a", 0.5, "a seed=0")  # 10 s after the last line: not yet
    clock.t = 40
    p.result("b", 0.4, "b seed=0")  # 30 s on: a line
    clock.t = 50
    p.ended("a")  # a trial's end: always a line
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in out.getvalue()
    assert lines[0].startswith("trials 0/3 done, 1 running, 2 queued | 0s elapsed, ETA ?")
    assert lines[1].endswith("best val/loss 0.4 (b seed=0)")  # min: the lower
    assert lines[2] == "trials 1/3 done, 1 running, 1 queued | 50s elapsed, ETA 1m40s | best val/loss 0.4 (b seed=0)"


def test_on_a_terminal_the_line_is_rewritten_and_other_lines_go_above_it():
    out = io.StringIO()
    p = Progress(total=2, metric="val/acc", mode="max", stream=out, tty=True, clock=Clock())
    p.started("a")
    p.print("  [a] x seed=0: failed (RuntimeError: boom)")
    p.close()
    text = out.getvalue()
    assert text.startswith("\r\x1b[Ktrials 0/2 done, 1 running")
    assert "\r\x1b[K  [a] x seed=0: failed (RuntimeError: boom)\n\r\x1b[Ktrials 0/2" in text and text.endswith("\n")


def test_a_resumed_study_starts_from_its_earlier_counts_and_best():
    out = io.StringIO()
    p = Progress(total=10, metric="val/acc", mode="max", done=4, best=(0.8, "a seed=0"), stream=out, tty=False)
    p.result("t9", 0.7, "b seed=0")
    assert p.done == 4 and p.best() == (0.8, "a seed=0") and p.eta_s() is None


def test_what_it_holds_per_trial_ends_with_the_trial_and_the_best_stays_right():
    # A 10,000-trial study: a result must cost the same at the end as at the start (it once scanned every trial's
    # latest value), and an ended trial's best still counts.
    p = Progress(total=1000, metric="val/loss", mode="min", stream=io.StringIO(), tty=False, every_s=1e9,
                 best=(0.5, "earlier"))
    for i in range(1000):
        p.started(f"t{i}")
        p.result(f"t{i}", 1.0 + i / 1000 if i != 700 else 0.25, f"trial {i}")
        p.ended(f"t{i}")
    assert p._latest == {} and p.best() == (0.25, "trial 700")
    p.started("x")
    p.result("x", 0.1, "running")  # a running trial's value counts as it stands
    assert p.best() == (0.1, "running")
    p.result("x", float("nan"), "running")
    p.ended("x")
    assert p.best() == (0.25, "trial 700")  # a non-finite end is no best
