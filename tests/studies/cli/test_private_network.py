"""`--private-network`: a local study re-run in a network namespace of its own, so that no port Ray opens is
reachable from another host; what needs another host is refused with one line, exit 2."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from hpstudy.schema.errors import BadInput
from studies.cli import private_network
from studies.cli.main import main

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("address, uri, storage, named", [
    ("ray://head:10001", None, None, "--address ray://head:10001"),
    (None, "http://127.0.0.1:5000", None, "--tracking-uri http://127.0.0.1:5000"),
    (None, None, "s3://bucket/runs", "--storage s3://bucket/runs"),
])
def test_what_needs_another_host_is_refused_naming_it(address, uri, storage, named):
    with pytest.raises(BadInput, match="needs one") as err:
        private_network.check(address, uri, storage)
    assert named in str(err.value) and "\n" not in str(err.value)


def test_a_local_study_passes_the_check_where_namespaces_work():
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("no unshare or ip here")
    try:
        private_network.check(None, "sqlite:///x/mlflow.db", "/tmp/storage")
    except BadInput as err:  # a machine that refuses user namespaces says so in one line
        assert "refuses a network namespace" in str(err)


def test_main_in_a_callers_process_is_not_replaced(tmp_path, capsys):
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("no unshare or ip here")
    code = main(["lr_warmup_dropout", "--profile", "local", "--private-network", "--runs-dir", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --private-network:") and "\n" not in err


def test_the_command_runs_the_same_arguments_after_bringing_loopback_up():
    cmd = private_network.command(["ses_beta_sweep", "--seeds", "0"])
    assert cmd[:4] == ["unshare", "--net", "--map-root-user", "sh"]
    assert "ip link set lo up" in cmd[5] and cmd[-5:] == ["-m", "studies.run", "ses_beta_sweep", "--seeds", "0"]


def _listening(pids: set[int]) -> list[tuple[int, str]]:
    """(pid, address) of every socket listening in this network namespace that belongs to one of `pids`."""
    out = []
    for conn in psutil.net_connections(kind="inet"):
        if conn.status == psutil.CONN_LISTEN and conn.pid in pids:
            out.append((conn.pid, f"{conn.laddr.ip}:{conn.laddr.port}"))
    return out


def _tree(pid: int) -> dict[int, str]:
    try:
        root = psutil.Process(pid)
        return {p.pid: p.name() for p in [root, *root.children(recursive=True)]}
    except psutil.NoSuchProcess:
        return {}


def test_the_socket_check_sees_a_listener_of_a_process_tree():
    # what the study's test below asserts is absent, found where it is present
    child = subprocess.Popen([sys.executable, "-c", "import socket, time; s = socket.socket(); "
                              "s.bind(('0.0.0.0', 0)); s.listen(); time.sleep(30)"])
    try:
        for _ in range(50):
            if _listening(set(_tree(child.pid))):
                break
            time.sleep(0.1)
        assert [pid for pid, _ in _listening(set(_tree(child.pid)))] == [child.pid]
    finally:
        child.kill()


@pytest.mark.slow  # a real local study (~1 min on 2 cores)
def test_a_private_network_study_listens_on_nothing_outside_and_completes(tmp_path):
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("no unshare or ip here")
    cmd = [sys.executable, "-m", "studies.run", "lr_warmup_dropout", "--profile", "local", "--num-samples", "1",
           "--set", "epochs=1", "--private-network"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen, found = set(), []
    while proc.poll() is None:
        tree = _tree(proc.pid)
        seen |= set(tree.values())
        found += _listening(set(tree))
        time.sleep(0.5)
    out, err = proc.communicate()
    assert proc.returncode == 0, out[-2000:] + err[-3000:]
    assert {"raylet", "gcs_server"} & seen, f"Ray never seen running: {sorted(seen)}"
    assert found == [], f"listening outside the study's namespace: {found}"
    assert (tmp_path / "hpstudy_runs" / "mlflow.db").is_file()


@pytest.mark.slow  # a real local study interrupted and resumed, both in a namespace of their own (~45 s on 2 cores)
def test_a_private_network_study_interrupted_resumes_with_the_flag(tmp_path):
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("no unshare or ip here")
    from tests.studies.conftest import cli, store, study_runs

    args = ["lr_warmup_dropout", "--profile", "local", "--num-samples", "2", "--set", "epochs=3",
            "--set", "data.limit_train=512", "-v", "--private-network"]
    out = tmp_path / "out.txt"
    with open(out, "w") as o:  # Ctrl-C to the terminal's process group once a trial has reported an epoch
        proc = subprocess.Popen([sys.executable, "-m", "studies.run", *args], cwd=tmp_path, stdout=o,
                                stderr=subprocess.PIPE, text=True, start_new_session=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
        deadline = time.time() + 300
        while "epoch 1/3" not in out.read_text() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=180)
    assert proc.returncode == 130, err[-3000:]
    assert "--resume" in err

    resumed = cli(["lr_warmup_dropout", "--resume", "-v", "--private-network"], tmp_path)  # the settings it saved
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    client = store(tmp_path)
    parents, trials = study_runs(client, "lr_warmup_dropout")
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert len(trials) == 2 and all(t.info.status == "FINISHED" for t in trials), "none left RUNNING, none twice"
    for trial in trials:  # ASHA may stop one after an epoch: whatever it ran, each epoch once, in order
        steps = [m.step for m in client.get_metric_history(trial.info.run_id, "val/acc")]
        assert steps == list(range(1, len(steps) + 1)) and steps, steps
