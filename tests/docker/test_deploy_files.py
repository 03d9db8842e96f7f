"""The cluster files: docker/cluster.yaml against Ray's own schema and validator, the KubeRay manifests against the
RayCluster and RayJob CRDs (tests/docker/crds/, from KubeRay; see SOURCE), and what hpstudy needs of both."""

from __future__ import annotations

import ast
import copy
import gzip
import json
import re
import shlex
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
import yaml

from studies import registry
from studies.tune.storage import SCHEMES

ROOT = Path(__file__).resolve().parents[2]
KUBERAY = ROOT / "docker" / "kuberay"
CRDS = Path(__file__).parent / "crds"
DRIVER = "hpstudy_driver"  # studies.tune.cluster.DRIVER_RESOURCE; not imported: it imports Ray (seconds)


def pinned_ray() -> str:
    return re.search(r"^ray==(\S+)$", (ROOT / "constraints.txt").read_text(), re.MULTILINE).group(1)


def manifest(name: str) -> dict:
    return yaml.safe_load((KUBERAY / name).read_text())


# --- the cluster launcher (ray up) -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def launcher() -> dict:
    return yaml.safe_load((ROOT / "docker" / "cluster.yaml").read_text())


def test_cluster_yaml_passes_rays_schema_and_validator(launcher):
    jsonschema.validate(launcher, json.loads((files("ray.autoscaler") / "ray-schema.json").read_text()))
    from ray.autoscaler._private.util import prepare_config, validate_config
    validate_config(prepare_config(copy.deepcopy(launcher)))  # what `ray up` runs before it touches the cloud


def test_the_head_runs_no_trials_and_declares_the_driver_resource(launcher):
    head = launcher["available_node_types"][launcher["head_node_type"]]["resources"]
    assert head.get("CPU") == 0 and head.get(DRIVER, 0) >= 1, head


def test_a_worker_type_brings_gpus_from_the_start(launcher):
    workers = [t for name, t in launcher["available_node_types"].items() if name != launcher["head_node_type"]]
    gpu = [t for t in workers if t["resources"].get("GPU", 0) >= 1]
    # the study sizes its concurrency (and picks its profile) from the GPUs present when it starts
    assert gpu and all(t["min_workers"] >= 1 for t in gpu), workers


def test_every_node_installs_the_synced_project_from_constraints_and_checks_its_ray(launcher):
    assert launcher["file_mounts"] == {"~/hpstudy": "."}
    setup = launcher["setup_commands"]
    assert "pip install --no-cache-dir -c ~/hpstudy/constraints.txt ~/hpstudy" in setup
    assert any("ray==" in c and "ray.__version__" in c for c in setup), setup


@pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync not installed")
def test_the_synced_checkout_keeps_every_package_file(launcher, tmp_path):
    """file_mounts go through rsync with each rsync_exclude as --exclude: an unanchored `data` would drop
    trainables/data/. A dry run with the same excludes lists what would reach the nodes."""
    excludes = [arg for pattern in launcher["rsync_exclude"] for arg in ("--exclude", pattern)]
    done = subprocess.run(["rsync", "-an", "--out-format=%n", *excludes, f"{ROOT}/", f"{tmp_path}/"], check=True,
                          capture_output=True, text=True, timeout=60)
    synced = set(done.stdout.split())
    wanted = {str(p.relative_to(ROOT)) for pkg in ("hpstudy", "search_spaces", "trainables", "studies", "analysis")
              for p in (ROOT / pkg).rglob("*.py")}
    assert wanted <= synced, sorted(wanted - synced)[:5]
    assert not any(name.startswith((".venv/", ".git/", "hpstudy_runs/")) for name in synced)


def test_the_head_starts_the_dashboard_and_the_nodes_run_the_project_images(launcher):
    start = " ".join(launcher["head_start_ray_commands"])
    assert "--include-dashboard=true" in start and "--head" in start
    assert launcher["docker"]["head_image"].endswith("/hpstudy:cpu")
    assert launcher["docker"]["worker_image"].endswith("/hpstudy:gpu")


# --- KubeRay ------------------------------------------------------------------------------------------------------

def strict(schema: dict) -> dict:
    """The CRD schema as the API server applies it under kubectl's default --validate=strict: an object's unknown
    fields are errors (jsonschema alone would let a misspelt field through), unless the schema keeps them."""
    if isinstance(schema, dict):
        schema = {k: strict(v) for k, v in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema \
                and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        schema = [strict(v) for v in schema]
    return schema


def crd_validator(kind: str) -> jsonschema.Draft7Validator:
    schema = json.loads(gzip.decompress((CRDS / f"{kind.lower()}.v1.schema.json.gz").read_bytes()))
    return jsonschema.Draft7Validator(strict(schema))


def errors(kind: str, doc: dict) -> list[str]:
    return [f"{'.'.join(map(str, e.path))}: {e.message}" for e in crd_validator(kind).iter_errors(doc)]


@pytest.mark.parametrize(("name", "kind"), [("raycluster.yaml", "RayCluster"), ("rayjob.yaml", "RayJob")])
def test_the_manifest_matches_kuberays_crd(name, kind):
    doc = manifest(name)
    assert (doc["apiVersion"], doc["kind"]) == ("ray.io/v1", kind)
    assert errors(kind, doc) == []


def test_the_crd_check_catches_a_misspelt_field():
    doc = manifest("raycluster.yaml")
    doc["spec"]["headGroupSpec"]["rayStartParam"] = doc["spec"]["headGroupSpec"].pop("rayStartParams")
    assert any("rayStartParam" in e for e in errors("RayCluster", doc))


def test_the_rayjob_builds_the_raycluster():
    assert manifest("rayjob.yaml")["spec"]["rayClusterSpec"] == manifest("raycluster.yaml")["spec"]


@pytest.fixture(scope="module")
def cluster() -> dict:
    return manifest("raycluster.yaml")["spec"]


def containers(group: dict) -> list[dict]:
    return group["template"]["spec"]["containers"]


def test_rayversion_is_the_pinned_ray(cluster):
    assert cluster["rayVersion"] == pinned_ray()


def test_the_head_declares_the_driver_resource_and_keeps_the_dashboard(cluster):
    params = cluster["headGroupSpec"]["rayStartParams"]
    resources = json.loads(params["resources"].strip("'\"` ").replace('\\"', '"'))  # as KubeRay unquotes it
    assert resources.get(DRIVER, 0) >= 1 and params.get("num-cpus") == "0", params
    assert params.get("include-dashboard", "true") == "true"


def test_each_worker_group_requests_gpus_and_starts_with_them(cluster):
    for group in cluster["workerGroupSpecs"]:
        limits = containers(group)[0]["resources"]["limits"]
        assert int(limits.get("nvidia.com/gpu", 0)) >= 1, group["groupName"]
        assert group["minReplicas"] >= 1 and group["replicas"] >= group["minReplicas"], group["groupName"]


def test_the_pods_run_the_project_images_as_non_root(cluster):
    assert containers(cluster["headGroupSpec"])[0]["image"].endswith("/hpstudy:cpu")
    for group in [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]:
        assert group["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert all(containers(g)[0]["image"].endswith("/hpstudy:gpu") for g in cluster["workerGroupSpecs"])


def shared_mounts(group: dict, claim: str) -> set[str]:
    """Where `group`'s Ray container mounts the PersistentVolumeClaim `claim`."""
    volumes = {v["name"] for v in group["template"]["spec"]["volumes"] if v.get("persistentVolumeClaim",
                                                                                  {}).get("claimName") == claim}
    return {m["mountPath"] for m in containers(group)[0].get("volumeMounts", []) if m["name"] in volumes}


def entrypoint() -> list[str]:
    return shlex.split(manifest("rayjob.yaml")["spec"]["entrypoint"])


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_the_rayjob_runs_a_study_on_the_cluster_with_its_results_on_shared_storage(cluster):
    argv = entrypoint()
    assert argv[:3] == ["python", "-m", "studies.run"] and argv[3] in registry.study_names(), argv
    assert option(argv, "--address") == "auto"  # without it hpstudy would start a Ray of its own
    pvc = yaml.safe_load((KUBERAY / "shared-volume.yaml").read_text())
    assert pvc["kind"] == "PersistentVolumeClaim" and "ReadWriteMany" in pvc["spec"]["accessModes"]
    everywhere = set.intersection(*(shared_mounts(g, pvc["metadata"]["name"])
                                    for g in [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]))
    assert everywhere, "the head and every worker group must mount the shared volume"

    def on_shared(path: str) -> bool:
        return any(Path(path).is_relative_to(m) for m in everywhere)

    storage = option(argv, "--storage")  # checkpoints: every node writes and reads them
    assert on_shared(storage) or storage.split("://")[0] in set(SCHEMES) - {"file"}, storage
    # the driver's MLflow store and resume state; relative would land in the job's temporary working dir
    assert on_shared(option(argv, "--runs-dir"))


def hpstudy_env_keys() -> set[str]:
    """The env vars hpstudy passes to ray.init (studies/tune/cluster.py's `_ENV`), read from the source: importing
    studies.tune.tuner imports Ray Tune."""
    tree = ast.parse((ROOT / "studies" / "tune" / "cluster.py").read_text())
    (value,) = [n.value for n in tree.body if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "_ENV"]
    return set(ast.literal_eval(value))


def test_the_rayjob_runtime_env_merges_with_hpstudys_and_gives_sigterm_time():
    env = yaml.safe_load(manifest("rayjob.yaml")["spec"]["runtimeEnvYAML"])["env_vars"]
    assert not set(env) & hpstudy_env_keys(), "Ray refuses a job whose env_vars repeat a key of ray.init's"
    assert int(env["RAY_JOB_STOP_WAIT_TIME_S"]) >= 30  # time to save the study's state after `ray job stop`


@pytest.mark.slow
def test_the_rayjob_entrypoint_is_a_valid_study_command(tmp_path):
    """The entrypoint through the real CLI as a dry run (~15 s: it builds the study; starts no Ray, reads no data)."""
    argv = entrypoint()
    done = subprocess.run([sys.executable, *argv[1:], "--dry-run"], cwd=tmp_path, check=False, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
