"""A study on a Ray cluster of two hosts, as users run one: two network namespaces joined by a veth pair, each
its own address (198.51.100.1 and .2, a documentation range; nothing else is contacted), `ray start --head` in one
and `ray start --address` in the other with token authentication on, the study sent with `ray job submit
--working-dir .`. Trials run on both hosts; every Ray process of the worker host is killed mid-trial (the host is
lost); its trial continues on the head from its checkpoint in the shared `--storage`; the study exits 0 with every
epoch in MLflow once. Root and `ip netns` needed, else skipped (slow: 1 to 1½ min on 2 cores).

The hosts share this machine's file system, so each Ray gets its own `--temp-dir` and `--storage` is one folder.
`ray stop` is never used: it stops every Ray process of the machine, in any namespace; a host's processes are
found, and killed, by their network namespace.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.studies.conftest import study_runs

REPO = Path(__file__).resolve().parents[3]
RAY = Path(sys.executable).with_name("ray")  # the venv's: the hosts run this checkout's pinned Ray
ADDRESS = {"head": "198.51.100.1", "worker": "198.51.100.2"}  # RFC 5737 TEST-NET-2, never a real host's
GCS_PORT, DASHBOARD_PORT = 6379, 8265
EPOCHS = 4
CHECKPOINTED = "Checkpoint successfully created at:"  # Ray Train's line, in the trial process's log
STUDY_S = 480  # the study's time box: the test fails, and cleans up, past it


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if shutil.which("ip") is None:
        return "needs iproute2's `ip`"
    probe = f"hp2h-probe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], check=False)
    return None


class Hosts:
    """Two network namespaces on one veth pair, each a host with its own address; run commands in either, and
    find or kill every process in one (a host's processes are exactly those in its namespace)."""

    def __init__(self) -> None:
        tag = f"{os.getpid() % 100_000}"
        self.ns = {"head": f"hp2h{tag}h", "worker": f"hp2h{tag}w"}

    def __enter__(self) -> Hosts:
        veth = [f"hp{self.ns['head'][4:]}", f"hp{self.ns['worker'][4:]}"]  # interface names: 15 characters at most
        steps = [["ip", "netns", "add", self.ns["head"]], ["ip", "netns", "add", self.ns["worker"]],
                 ["ip", "link", "add", veth[0], "type", "veth", "peer", "name", veth[1]]]
        for host, dev in zip(("head", "worker"), veth):
            ns = self.ns[host]
            steps += [["ip", "link", "set", dev, "netns", ns],
                      ["ip", "-n", ns, "addr", "add", f"{ADDRESS[host]}/24", "dev", dev],
                      ["ip", "-n", ns, "link", "set", dev, "up"], ["ip", "-n", ns, "link", "set", "lo", "up"]]
        try:
            for step in steps:
                subprocess.run(step, check=True, capture_output=True, text=True)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for host in ("worker", "head"):
            self.kill(host)
            subprocess.run(["ip", "netns", "del", self.ns[host]], check=False, capture_output=True)

    def cmd(self, host: str, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns[host], *argv]

    def pids(self, host: str, title: bytes = b"") -> list[int]:
        """The processes in `host`'s namespace (whose command line starts with `title`)."""
        try:
            inode = os.stat(f"/run/netns/{self.ns[host]}").st_ino
        except FileNotFoundError:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if (entry.name.isdigit() and os.stat(entry / "ns" / "net").st_ino == inode
                        and (entry / "cmdline").read_bytes().startswith(title)):
                    found.append(int(entry.name))
            except OSError:  # gone meanwhile, or a kernel thread
                continue
        return found

    def kill(self, host: str, wait_s: float = 20.0) -> None:
        """SIGKILL every process of `host`, until none is left: the host is lost."""
        deadline = time.monotonic() + wait_s
        while (pids := self.pids(host)) and time.monotonic() < deadline:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)


def _env(home: Path, token: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_ADDRESS", "RAY_AUTH"))}
    env.update(PATH=f"{RAY.parent}{os.pathsep}{env.get('PATH', '')}", HOME=str(home), PYTHONUNBUFFERED="1",
               RAY_USAGE_STATS_ENABLED="0")
    if token is not None:  # what each host and the user's shell set: the cluster's one token
        env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token)
    return env


def _start(hosts: Hosts, tmp: Path, env: dict[str, str]) -> None:
    common = ["--num-cpus", "1", "--object-store-memory", str(256 * 2**20), "--disable-usage-stats"]
    head = [str(RAY), "start", "--head", "--node-ip-address", ADDRESS["head"], "--port", str(GCS_PORT),
            "--resources", json.dumps({"hpstudy_driver": 10_000}), "--include-dashboard", "true",
            "--dashboard-host", ADDRESS["head"], "--dashboard-port", str(DASHBOARD_PORT),
            "--temp-dir", str(tmp / "h"), *common]
    worker = [str(RAY), "start", "--address", f"{ADDRESS['head']}:{GCS_PORT}", "--node-ip-address",
              ADDRESS["worker"], "--temp-dir", str(tmp / "w"), *common]
    for host, argv in (("head", head), ("worker", worker)):
        done = subprocess.run(hosts.cmd(host, argv), env=env, capture_output=True, text=True, timeout=180,
                              check=False)
        assert done.returncode == 0, f"ray start on the {host}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    deadline = time.monotonic() + 120
    status = ""
    while "/2.0 CPU" not in status and time.monotonic() < deadline:  # both hosts' CPUs: the worker has joined
        status = subprocess.run(hosts.cmd("head", [str(RAY), "status", "--address",
                                                   f"{ADDRESS['head']}:{GCS_PORT}"]),
                                env=env, capture_output=True, text=True, timeout=60, check=False).stdout
    assert "/2.0 CPU" in status, status


def _mid_trial(hosts: Hosts, temp_dir: Path) -> bool:
    """A trial runs on the worker host and has checkpointed an epoch, with two or more to go. Read from that host's
    own Ray log (Ray Train's "Checkpoint successfully created" line): the job's log stream reaches the submitter in
    bursts, seconds late."""
    for pid in hosts.pids("worker", b"ray::ImplicitFunc.train"):
        lines = [line for log in temp_dir.glob(f"session_*/logs/worker-*-{pid}.*")
                 for line in log.read_text(errors="replace").splitlines() if CHECKPOINTED in line]
        if lines and (m := re.search(r"checkpoint_(\d+)\)", lines[-1])) and int(m.group(1)) + 1 <= EPOCHS - 2:
            return True
    return False


@pytest.mark.slow
def test_a_submitted_study_on_two_hosts_survives_losing_one():
    if (why := _why_not()) is not None:  # asked here, not at collection: it adds (and deletes) a namespace
        pytest.skip(why)
    tmp = Path(tempfile.mkdtemp(prefix="hp2h", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    token = secrets.token_hex(16)
    env = _env(tmp / "home", token)
    (tmp / "home").mkdir()
    address = f"http://{ADDRESS['head']}:{DASHBOARD_PORT}"
    submit = [str(RAY), "job", "submit", "--address", address, "--working-dir", ".", "--",
              "python", "-m", "studies.run", "ses_beta_sweep", "--seeds", "0", "-v", "--address", "auto",
              "--storage", str(tmp / "shared"), "--runs-dir", str(tmp / "runs"),
              "--set", "data.limit_train=1024", "--set", f"epochs={EPOCHS}"]
    out = tmp / "out.txt"
    seen: dict[str, set[int]] = {"head": set(), "worker": set()}
    killed, code = False, None
    t0 = time.monotonic()
    try:
        with Hosts() as hosts:
            _start(hosts, tmp, env)
            for wrong in (None, secrets.token_hex(16)):  # the job server refuses a missing or a wrong token
                refused = subprocess.run(hosts.cmd("head", [str(RAY), "job", "list", "--address", address]),
                                         env=_env(tmp / "home", wrong), capture_output=True, text=True, timeout=60,
                                         check=False)
                said = refused.stdout + refused.stderr
                assert refused.returncode != 0 and "AuthenticationError" in said, said[-1000:]
            with open(out, "w") as o:
                proc = subprocess.Popen(hosts.cmd("head", submit), cwd=REPO, env=env, stdout=o,
                                        stderr=subprocess.STDOUT)
                deadline = time.monotonic() + STUDY_S
                while proc.poll() is None and time.monotonic() < deadline:
                    for host in ("head",) if killed else ("head", "worker"):
                        seen[host] |= set(hosts.pids(host, b"ray::ImplicitFunc.train"))
                    if not killed and _mid_trial(hosts, tmp / "w"):  # lose the worker host
                        hosts.kill("worker")
                        killed = True
                    time.sleep(0.2)
                if proc.poll() is None:
                    proc.kill()
                code = proc.wait(timeout=60)
    finally:
        text = out.read_text() if out.exists() else ""
        runs = tmp / "runs"
        kept = tmp.with_name(tmp.name + "-runs")
        if runs.exists():
            shutil.move(runs, kept)  # the store outlives the cleanup, for the checks below
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"two hosts: {time.monotonic() - t0:.0f} s from the namespaces to the job's end and cleanup")
    try:
        _check(text, code, killed, seen, kept)
    finally:
        shutil.rmtree(kept, ignore_errors=True)


def _check(text: str, code: int | None, killed: bool, seen: dict[str, set[int]], runs: Path) -> None:
    from mlflow.tracking import MlflowClient

    assert killed and code == 0, text[-4000:]
    assert "succeeded" in text, text[-2000:]
    assert seen["head"] and seen["worker"], f"trials ran on both hosts: {seen}"
    assert ": retried after epoch " in text, text[-4000:]
    client = MlflowClient(tracking_uri=f"sqlite:///{runs / 'mlflow.db'}")
    _, trials = study_runs(client, "ses_beta_sweep")
    assert len(trials) == 5 and {t.data.tags["hpstudy.status"] for t in trials} == {"completed"}
    assert sum(t.data.tags.get("hpstudy.retries") == "1" for t in trials) == 1
    for trial in trials:  # the retried trial continued from its checkpoint: a restart would log epoch 1 twice
        steps = [m.step for m in client.get_metric_history(trial.info.run_id, "val/acc")]
        assert steps == list(range(1, EPOCHS + 1)), (trial.data.tags["hpstudy.config_name"], steps)
