"""What the platform costs on top of training: `python -m benchmarks.platform_overhead [--study ses_beta_sweep]`.

The study's local trials (its grid: configurations x seeds), run three ways, alternated `--repeats` times:
- hpstudy: `python -m studies.run STUDY --profile local` (Ray Tune, Ray Train, MLflow, the report);
- tune: a plain Ray Tune function trainable calling the same loop (`trainables.loop.run`), one CPU per trial,
  checkpointing each epoch through Tune, no MLflow;
- no-ray: the same loop in a pool of one process per core, checkpointing each epoch to disk.
For each: the study phase's wall-clock (first trial start -> last trial end) / (sum of epoch times / cores); CLI
start -> first trial; trial start -> its first epoch (the median: the epoch's end minus its sys/epoch_s);
the gap between a trial's end and the next trial's start on its slot (the median); the CPU seconds every process
of the run used (every descendant's own user + system time, sampled from /proc: the figure a shared machine's
load cannot inflate).

Each way runs in a child process whose descendants this process adopts (Linux's child subreaper), so the CPU
seconds count Ray's workers too, after the raylet that started them is gone. One run prints every figure; the machine's noise hits the three alike only
when they alternate, so compare ratios within one run.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Self

WAYS = ("hpstudy", "tune", "no-ray")
PR_SET_CHILD_SUBREAPER = 36


# --- the trials, as the study defines them (shared by the tune and no-ray ways) -------------------------------

def planned(study_name: str) -> list[dict[str, Any]]:
    """Each local trial's flattened, resolved config, in the order hpstudy's grid runs them."""
    from studies import registry
    from studies.assembly.assemble import runnable
    from studies.cli.dry_run import grid_trials

    study = runnable(registry.load(study_name), "local", {})
    if study.search != "grid":
        raise SystemExit(f"error: {study_name} is a {study.search} search; the benchmark needs a grid study")
    return [t.config for t in grid_trials(study)]


class _Events:
    """A trial's timeline, one JSON line per event, in its own file (trials write at once)."""

    def __init__(self, out: Path, index: int) -> None:
        self.path = out / f"trial_{index:03d}.jsonl"
        self.index = index
        self.write("start")

    def write(self, kind: str, **fields: Any) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps({"trial": self.index, "kind": kind, "t": time.time(), **fields}) + "\n")


def _train(config: dict[str, Any], events: _Events, sink_report) -> None:
    from trainables.config import TrainConfig
    from trainables.config.overrides import apply_overrides
    from trainables.loop import run

    class Sink:
        def restore(self):
            return None

        def report(self, metrics, state):
            sink_report(metrics, state)
            if "sys/epoch_s" in metrics:
                events.write("epoch", epoch=metrics["epoch"], epoch_s=metrics["sys/epoch_s"])

    run(apply_overrides(TrainConfig(), config), Sink())
    events.write("end")


def _no_ray_trial(job: tuple[dict[str, Any], str, int]) -> None:
    config, out, index = job
    from trainables.checkpointing import checkpoint

    events = _Events(Path(out), index)
    directory = Path(out) / f"ckpt_{index:03d}"
    directory.mkdir(parents=True, exist_ok=True)

    def report(metrics, state):
        if state is not None:
            checkpoint.save(state, directory)

    _train(config, events, report)


def _child_no_ray(study: str, out: Path, cores: int) -> None:
    import multiprocessing

    configs = planned(study)
    with multiprocessing.get_context("spawn").Pool(cores, maxtasksperchild=None) as pool:
        pool.map(_no_ray_trial, [(c, str(out), i) for i, c in enumerate(configs)], chunksize=1)


def _child_tune(study: str, out: Path, cores: int) -> None:
    import ray
    from ray import tune

    configs = planned(study)
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)

    def trainable(config: dict[str, Any]) -> None:
        from trainables.checkpointing import checkpoint

        events = _Events(out, config["index"])

        def report(metrics, state):
            if state is None:
                tune.report(metrics)
                return
            with tempfile.TemporaryDirectory() as directory:
                checkpoint.save(state, directory)
                tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(directory))

        _train(configs[config["index"]], events, report)

    tuner = tune.Tuner(
        tune.with_resources(trainable, {"cpu": 1}),
        param_space={"index": tune.grid_search(list(range(len(configs))))},
        tune_config=tune.TuneConfig(max_concurrent_trials=cores),
        run_config=tune.RunConfig(storage_path=str(out / "ray"), name="plain", verbose=0,
                                  checkpoint_config=tune.CheckpointConfig(num_to_keep=1)),
    )
    tuner.fit()
    ray.shutdown()


# --- measuring one way -----------------------------------------------------------------------------------------

def _adopt_orphans() -> None:
    """Descendants whose parent exits before them (Ray's workers when the raylet goes) become our children, so
    their CPU time is counted when we reap them."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def _reap_all(deadline_s: float = 60.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.2)


class _TreeCPU:
    """CPU seconds of every descendant of this process, sampled from /proc every `interval_s`: each process's own
    user + system time (not its children's, which would count a reaped child twice) at its last sighting. A process
    that lives less than one interval can be missed; Ray's processes live for seconds at least."""

    def __init__(self, interval_s: float = 0.2) -> None:
        self.interval_s, self.seen = interval_s, {}  # pid -> CPU seconds at its last sighting
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def total_s(self) -> float:
        return sum(self.seen.values())

    def _poll(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def _sample(self) -> None:
        parents, times = {}, {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
            parents[int(entry.name)] = int(fields[1])
            times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / self._tick  # utime + stime
        me = os.getpid()
        for pid, t in times.items():
            ancestor, hops = parents.get(pid), 0
            while ancestor not in (None, 0, 1, me) and hops < 64:
                ancestor, hops = parents.get(ancestor), hops + 1
            if ancestor == me:
                self.seen[pid] = max(self.seen.get(pid, 0.0), t)


def _timelines_from_events(out: Path) -> list[dict[str, Any]]:
    trials = []
    for path in sorted(out.glob("trial_*.jsonl")):
        events = [json.loads(line) for line in path.read_text().splitlines()]
        start = min(e["t"] for e in events if e["kind"] == "start")
        epochs = [e for e in events if e["kind"] == "epoch"]
        ends = [e["t"] for e in events if e["kind"] == "end"]
        trials.append({"start": start, "end": ends[-1] if ends else epochs[-1]["t"],
                       "epochs": [(e["t"], e["epoch_s"]) for e in sorted(epochs, key=lambda e: e["epoch"])]})
    return trials


def _timelines_from_mlflow(runs_dir: Path, study: str) -> list[dict[str, Any]]:
    from mlflow.tracking import MlflowClient

    from hpstudy.schema import tags as T
    from hpstudy.schema.locations import default_tracking_uri

    client = MlflowClient(default_tracking_uri(runs_dir))
    experiment = client.get_experiment_by_name(study)
    runs = client.search_runs([experiment.experiment_id], f"tags.`{T.ROLE}` = '{T.ROLE_TRIAL}'", max_results=10_000)
    trials = []
    for run in runs:
        history = {m.step: m for m in client.get_metric_history(run.info.run_id, "sys/epoch_s")}
        trials.append({"start": run.info.start_time / 1000, "end": run.info.end_time / 1000,
                       "epochs": [(history[s].timestamp / 1000, history[s].value) for s in sorted(history)]})
    return trials


def _figures(trials: list[dict[str, Any]], cli_start: float, cores: int, cpu_s: float) -> dict[str, float]:
    first, last = min(t["start"] for t in trials), max(t["end"] for t in trials)
    epoch_total = sum(s for t in trials for _, s in t["epochs"])
    to_first_epoch = [t["epochs"][0][0] - t["epochs"][0][1] - t["start"] for t in trials if t["epochs"]]
    ends = sorted(t["end"] for t in trials)
    gaps = []
    for t in sorted(trials, key=lambda t: t["start"])[cores:]:  # every trial after the first wave takes a freed slot
        freed = [e for e in ends if e <= t["start"] + 0.5]
        if freed:
            gaps.append(max(0.0, t["start"] - max(freed)))
    return {"trials": len(trials), "study_phase_s": last - first, "epoch_s_total": epoch_total,
            "ratio": (last - first) / (epoch_total / cores), "cli_to_first_trial_s": first - cli_start,
            "trial_to_first_epoch_s": statistics.median(to_first_epoch), "trial_to_first_epoch_max_s": max(to_first_epoch),
            "gap_between_trials_s": statistics.median(gaps) if gaps else float("nan"), "cpu_s": cpu_s}


def measure(way: str, study: str, cores: int, work: Path) -> dict[str, float]:
    out = work / way
    out.mkdir(parents=True)
    cli_start = time.time()
    if way == "hpstudy":
        cmd = [sys.executable, "-m", "studies.run", study, "--profile", "local", "--runs-dir", str(out / "runs")]
    else:
        cmd = [sys.executable, "-m", "benchmarks.platform_overhead", "--child", way, "--study", study,
               "--out", str(out), "--cores", str(cores)]
    with _TreeCPU() as cpu:
        done = subprocess.run(cmd, cwd=out, capture_output=True, text=True, check=False)
        _reap_all()
    if done.returncode != 0:
        raise SystemExit(f"error: the {way} run exited {done.returncode}:\n{done.stderr[-2000:]}")
    cpu_s = cpu.total_s()
    trials = _timelines_from_mlflow(out / "runs", study) if way == "hpstudy" else _timelines_from_events(out)
    return _figures(trials, cli_start, cores, cpu_s)


def _table(rows: list[tuple[str, dict[str, float]]]) -> str:
    cols = [("ratio", "study phase / (Σ epoch / cores)", "{:.2f}"), ("study_phase_s", "study phase s", "{:.0f}"),
            ("cli_to_first_trial_s", "CLI → 1st trial s", "{:.1f}"),
            ("trial_to_first_epoch_s", "trial → 1st epoch s (median)", "{:.1f}"),
            ("trial_to_first_epoch_max_s", "(max: a new process)", "{:.1f}"),
            ("gap_between_trials_s", "gap between trials s (median)", "{:.1f}"), ("cpu_s", "CPU-s, all processes", "{:.0f}"),
            ("epoch_s_total", "Σ epoch s", "{:.0f}")]
    lines = ["| way | " + " | ".join(c[1] for c in cols) + " |", "|---|" + "---:|" * len(cols)]
    for way, fig in rows:
        lines.append(f"| {way} | " + " | ".join(c[2].format(fig[c[0]]) for c in cols) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--study", default="ses_beta_sweep")
    p.add_argument("--ways", default=",".join(WAYS), help=f"comma-separated, of {', '.join(WAYS)}")
    p.add_argument("--repeats", type=int, default=1, help="rounds of the ways, alternated")
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="trials at once (one CPU each)")
    p.add_argument("--child", choices=WAYS[1:], help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        (_child_tune if args.child == "tune" else _child_no_ray)(args.study, args.out, args.cores)
        return 0
    ways = [w.strip() for w in args.ways.split(",") if w.strip()]
    unknown = [w for w in ways if w not in WAYS]
    if unknown or args.repeats < 1:
        print(f"error: --ways {args.ways!r}: expected some of {', '.join(WAYS)}; --repeats >= 1", file=sys.stderr)
        return 2
    _adopt_orphans()
    rows = []
    with tempfile.TemporaryDirectory(prefix="platform_overhead_") as tmp:
        for r in range(args.repeats):
            for way in ways:
                fig = measure(way, args.study, args.cores, Path(tmp) / f"round{r}")
                rows.append((way if args.repeats == 1 else f"{way} #{r + 1}", fig))
                print(f"{rows[-1][0]}: ratio {fig['ratio']:.2f}, {fig['trials']} trials, {fig['cpu_s']:.0f} CPU-s",
                      file=sys.stderr, flush=True)
    print(f"{args.study}, local profile, {args.cores} trials at once on {os.cpu_count()} cores")
    print(_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
