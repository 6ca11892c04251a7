"""The Helm chart in deploy/helm/hubbot, rendered by the real helm: it lints strictly, its schema
refuses typos and wrong types, it refuses several replicas on SQLite, and what it renders for a
production set-up (two replicas, probes, a PodDisruptionBudget, secrets by reference) is accepted by
a real kube-apiserver (server-side dry run, strict field validation, the "restricted" Pod Security
Standard)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.deploy_env import real_helm
from tests.support.kube_control_plane import ControlPlane

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "deploy" / "helm" / "hubbot"
PRODUCTION = ROOT / "deploy" / "helm" / "values-production.example.yaml"

BOT_TOKEN = "xoxb-chart-s3cr3t-bot-token"
SIGNING_SECRET = "chart-s3cr3t-signing"
APP_TOKEN = "xapp-chart-s3cr3t-app-token"
DATABASE_URL = "postgresql://hubbot:db-s3cr3t-password@postgres.example:5432/hubbot"
CHART_MADE_SECRETS = {"slack": {"existingSecret": "", "botToken": BOT_TOKEN, "signingSecret": SIGNING_SECRET},
                      "database": {"existingSecret": "", "url": DATABASE_URL}}

# Value sets a production user would plausibly give, each of which must render and be accepted by the API server.
VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "chart-made secrets": CHART_MADE_SECRETS,
    "socket mode": {"mode": "socket", "slack": {"existingSecret": "", "botToken": BOT_TOKEN, "appToken": APP_TOKEN}},
    "one replica on sqlite": {"replicaCount": 1,
                              "database": {"existingSecret": "", "sqlite": {"existingClaim": "data"}}},
    "min available, spread required": {
        "replicaCount": 3, "podDisruptionBudget": {"minAvailable": 2, "maxUnavailable": None},
        "spread": {"nodes": "required", "zones": "preferred"}},
    "no spread, no annotations, forced budget": {
        "replicaCount": 1, "podDisruptionBudget": {"enabled": True}, "spread": {"nodes": "none"},
        "metrics": {"podAnnotations": False}, "probes": {"startup": {"enabled": False, "periodSeconds": 5,
                                                                     "timeoutSeconds": 3, "failureThreshold": 60}},
        "serviceAccount": {"create": False}},
    "production example": yaml.safe_load(PRODUCTION.read_text()),
}


@pytest.fixture(scope="module")
def helm() -> str:
    return real_helm()


Render = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_helm(helm: str, tmp_path: Path) -> Render:
    """Runs ``helm <args> [-f values]`` with helm's own folders in tmp_path (nothing read from HOME)."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
           **{f"HELM_{kind}_HOME": str(tmp_path / kind.lower()) for kind in ("CACHE", "CONFIG", "DATA")}}

    def run(*args: str, values: dict[str, Any] | None = None, kubeconfig: Path | None = None
            ) -> subprocess.CompletedProcess[str]:
        extra: list[str] = []
        if values is not None:
            file = tmp_path / f"values-{len(list(tmp_path.glob('values-*')))}.yaml"
            file.write_text(yaml.safe_dump(values))
            extra = ["-f", str(file)]
        if kubeconfig is not None:
            extra += ["--kubeconfig", str(kubeconfig)]
        return subprocess.run([helm, *args, *extra], capture_output=True, text=True, env=env, timeout=60, check=False)

    return run


@pytest.fixture
def render(run_helm: Render) -> Callable[..., list[dict[str, Any]]]:
    def objects(values: dict[str, Any] | None = None, release: str = "hubbot") -> list[dict[str, Any]]:
        done = run_helm("template", release, str(CHART), "--namespace", "hubbot", values=values)
        assert done.returncode == 0, done.stderr
        return [o for o in yaml.safe_load_all(done.stdout) if o]

    return objects


def by_kind(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    kinds: dict[str, dict[str, Any]] = {}
    for o in objects:
        assert o["kind"] not in kinds, f"two {o['kind']} objects"
        kinds[o["kind"]] = o
    return kinds


def container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (only,) = by_kind(objects)["Deployment"]["spec"]["template"]["spec"]["containers"]
    return dict(only)


def test_the_chart_lints_strictly_with_defaults_and_with_the_production_example(run_helm: Render) -> None:
    for values in (None, yaml.safe_load(PRODUCTION.read_text())):
        done = run_helm("lint", "--strict", str(CHART), values=values)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "1 chart(s) linted, 0 chart(s) failed" in done.stdout


@pytest.mark.parametrize("name", list(VALUE_SETS))
def test_each_value_set_renders(render: Callable[..., list[dict[str, Any]]], name: str) -> None:
    kinds = by_kind(render(VALUE_SETS[name]))
    assert {"Deployment", "ConfigMap"} <= set(kinds)


def test_the_defaults_run_two_replicas_with_probes_a_budget_and_a_locked_down_pod(
        render: Callable[..., list[dict[str, Any]]]) -> None:
    objects = render()
    kinds = by_kind(objects)
    assert set(kinds) == {"Deployment", "ConfigMap", "Service", "Ingress", "PodDisruptionBudget", "ServiceAccount"}
    deployment = kinds["Deployment"]
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    pod = deployment["spec"]["template"]
    selector = deployment["spec"]["selector"]["matchLabels"]

    budget = kinds["PodDisruptionBudget"]
    assert budget["apiVersion"] == "policy/v1" and budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"] == selector
    assert kinds["Service"]["spec"]["selector"] == selector

    (spread,) = pod["spec"]["topologySpreadConstraints"]
    assert spread["topologyKey"] == "kubernetes.io/hostname" and spread["whenUnsatisfiable"] == "ScheduleAnyway"
    assert spread["labelSelector"]["matchLabels"] == selector

    main = container(objects)
    assert main["ports"] == [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
    assert main["args"][:2] == ["hubbot", "serve"] and main["args"][-1] == "3000"
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert main["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    startup = main["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120  # migrations and a fleet clone fit
    assert main["livenessProbe"]["timeoutSeconds"] >= main["readinessProbe"]["timeoutSeconds"]
    assert main["resources"] == {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}}

    assert pod["spec"]["automountServiceAccountToken"] is False
    assert kinds["ServiceAccount"]["automountServiceAccountToken"] is False
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert main["securityContext"]["readOnlyRootFilesystem"] is True
    assert main["securityContext"]["allowPrivilegeEscalation"] is False
    mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    for path in ("/tmp", "/home/hubbot"):
        assert "emptyDir" in volumes[mounts[path]], path
    env = {e["name"]: e for e in main["env"]}
    for name in ("HUBBOT_REPOSITORY_CACHE", "HUBBOT_DOCS_CACHE"):
        assert env[name]["value"].startswith("/home/hubbot/"), name
    assert env["HUBBOT_SCHEDULER"]["value"] == "true"

    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == "3000"
    assert pod["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"


def test_secrets_are_referenced_and_never_inlined(render: Callable[..., list[dict[str, Any]]]) -> None:
    env = {e["name"]: e for e in container(render())["env"]}
    refs = {name: env[name]["valueFrom"]["secretKeyRef"]
            for name in ("HUBBOT_SLACK_BOT_TOKEN", "HUBBOT_SLACK_SIGNING_SECRET", "HUBBOT_DATABASE_URL")}
    assert refs == {name: {"name": "hubbot-secrets", "key": name} for name in refs}
    assert all("value" not in env[name] for name in refs)

    objects = render(CHART_MADE_SECRETS)
    secret = by_kind(objects)["Secret"]
    assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == {
        "HUBBOT_SLACK_BOT_TOKEN": BOT_TOKEN, "HUBBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "HUBBOT_DATABASE_URL": DATABASE_URL}
    others = yaml.safe_dump_all([o for o in objects if o["kind"] != "Secret"])
    for value in (BOT_TOKEN, SIGNING_SECRET, DATABASE_URL, "s3cr3t"):
        assert value not in others
    env = {e["name"]: e for e in container(objects)["env"]}
    assert env["HUBBOT_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "hubbot-secrets",
                                                                      "key": "HUBBOT_DATABASE_URL"}
    # a changed secret rolls the pods
    assert "checksum/secret" in by_kind(objects)["Deployment"]["spec"]["template"]["metadata"]["annotations"]


def test_socket_mode_has_no_port_service_probes_or_scrape_annotations(
        render: Callable[..., list[dict[str, Any]]]) -> None:
    objects = render(VALUE_SETS["socket mode"])
    kinds = by_kind(objects)
    assert "Service" not in kinds and "Ingress" not in kinds
    main = container(objects)
    assert main["args"] == ["hubbot", "socket"]
    assert not {"ports", "readinessProbe", "livenessProbe", "startupProbe"} & set(main)
    env = {e["name"]: e for e in main["env"]}
    assert env["HUBBOT_SLACK_APP_TOKEN"]["valueFrom"]["secretKeyRef"]["key"] == "HUBBOT_SLACK_APP_TOKEN"
    assert "prometheus.io/scrape" not in kinds["Deployment"]["spec"]["template"]["metadata"]["annotations"]


def test_one_replica_on_sqlite_keeps_its_file_on_a_volume_and_never_overlaps(
        render: Callable[..., list[dict[str, Any]]]) -> None:
    objects = render(VALUE_SETS["one replica on sqlite"])
    kinds = by_kind(objects)
    assert "PodDisruptionBudget" not in kinds
    deployment = kinds["Deployment"]
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    main = container(objects)
    env = {e["name"]: e for e in main["env"]}
    assert env["HUBBOT_DATABASE_URL"]["value"] == "sqlite:////var/lib/hubbot/hubbot.sqlite3"
    mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes[mounts["/var/lib/hubbot"]]["persistentVolumeClaim"] == {"claimName": "data"}


def test_the_budget_and_spread_follow_their_values(render: Callable[..., list[dict[str, Any]]]) -> None:
    kinds = by_kind(render(VALUE_SETS["min available, spread required"]))
    assert kinds["PodDisruptionBudget"]["spec"]["minAvailable"] == 2
    assert "maxUnavailable" not in kinds["PodDisruptionBudget"]["spec"]
    spread = {c["topologyKey"]: c["whenUnsatisfiable"]
              for c in kinds["Deployment"]["spec"]["template"]["spec"]["topologySpreadConstraints"]}
    assert spread == {"kubernetes.io/hostname": "DoNotSchedule", "topology.kubernetes.io/zone": "ScheduleAnyway"}

    kinds = by_kind(render(VALUE_SETS["no spread, no annotations, forced budget"]))
    assert kinds["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
    pod = kinds["Deployment"]["spec"]["template"]
    assert "topologySpreadConstraints" not in pod["spec"] and "startupProbe" not in pod["spec"]["containers"][0]
    assert "prometheus.io/scrape" not in pod["metadata"]["annotations"]
    assert "ServiceAccount" not in kinds and pod["spec"]["serviceAccountName"] == "default"

    assert "PodDisruptionBudget" not in by_kind(render({"podDisruptionBudget": {"enabled": False}}))


def test_the_service_monitor_is_off_by_default_and_scrapes_metrics_when_on(
        render: Callable[..., list[dict[str, Any]]]) -> None:
    assert "ServiceMonitor" not in by_kind(render())
    kinds = by_kind(render(VALUE_SETS["production example"]))
    monitor = kinds["ServiceMonitor"]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= kinds["Service"]["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s",
                                             "scrapeTimeout": "10s"}]


@pytest.mark.parametrize(("values", "message"), [
    ({"replicaCont": 3}, "- (root): Additional property replicaCont is not allowed"),
    ({"probes": {"readines": {}}}, "- probes: Additional property readines is not allowed"),
    ({"database": {"existingSecretkey": "uri"}}, "- database: Additional property existingSecretkey is not allowed"),
    ({"replicaCount": "2"}, "- replicaCount: Invalid type. Expected: integer, given: string"),
    ({"replicaCount": -1}, "- replicaCount: Must be greater than or equal to 0"),
    ({"mode": "websocket"}, "- mode: mode must be one of the following"),
    ({"podDisruptionBudget": {"enabled": "yes"}},
     "- podDisruptionBudget.enabled: podDisruptionBudget.enabled must be one of"),
    ({"spread": {"nodes": "always"}}, "- spread.nodes: spread.nodes must be one of the following"),
    ({"slack": {"botToken": "xoxp-a-user-token"}}, "- slack.botToken: Does not match pattern"),
    ({"database": {"url": "mysql://db/hubbot"}}, "- database.url: Does not match pattern"),
    ({"probes": {"liveness": {"periodSeconds": 0, "timeoutSeconds": 1, "failureThreshold": 1}}},
     "- probes.liveness.periodSeconds: Must be greater than or equal to 1"),
    ({"resources": {"limits": {"memory": "lots"}}}, "- resources.limits.memory: Does not match pattern"),
])
def test_the_schema_refuses_typos_and_wrong_types_with_helms_message(run_helm: Render, values: dict[str, Any],
                                                                    message: str) -> None:
    done = run_helm("template", "hubbot", str(CHART), values=values)
    assert done.returncode != 0
    assert "values don't meet the specifications of the schema(s)" in done.stderr
    assert message in done.stderr, done.stderr


@pytest.mark.parametrize("database", [{"existingSecret": ""},
                                      {"existingSecret": "", "url": "sqlite:////data/hubbot.sqlite3"}])
def test_several_replicas_on_sqlite_are_refused(run_helm: Render, database: dict[str, str]) -> None:
    done = run_helm("template", "hubbot", str(CHART), values={"database": database})
    assert done.returncode != 0
    assert ("replicaCount is 2 but the database is SQLite, which serves one replica only: give a PostgreSQL URL "
            "in a Secret (database.existingSecret and database.existingSecretKey, or database.url), "
            "or set replicaCount to 1") in done.stderr


@pytest.mark.parametrize(("values", "message"), [
    ({"database": {"url": DATABASE_URL}}, "database.url and database.existingSecret are both set"),
    ({"slack": {"existingSecret": ""}}, "Slack credentials are missing"),
    ({"slack": {"existingSecret": "", "botToken": BOT_TOKEN}}, "mode http needs slack.signingSecret"),
    ({"mode": "socket", "slack": {"existingSecret": "", "botToken": BOT_TOKEN}}, "mode socket needs slack.appToken"),
    ({"podDisruptionBudget": {"minAvailable": 1}}, "set one of minAvailable and maxUnavailable"),
    ({"mode": "socket", "metrics": {"serviceMonitor": {"enabled": True}}}, "metrics.serviceMonitor needs mode http"),
])
def test_contradictory_settings_fail_with_a_message(run_helm: Render, values: dict[str, Any], message: str) -> None:
    done = run_helm("template", "hubbot", str(CHART), values=values)
    assert done.returncode != 0 and message in done.stderr, done.stderr


# --- the real API server -------------------------------------------------------------------------

def _create(api: Any, namespace: str, obj: dict[str, Any], *, dry_run: bool = True) -> Any:
    """POST ``obj`` as it is (the dynamic client sends the JSON unchanged) with strict field
    validation, so an unknown or misplaced field is an error rather than a warning, and by default
    as a server-side dry run: validated, admitted and defaulted by the API server, never stored.
    Raises ``ResourceNotFoundError`` when the server does not serve the kind (a CRD not installed)."""
    from kubernetes.dynamic import DynamicClient

    resource = DynamicClient(api).resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    return resource.create(body=obj, namespace=namespace, query_params=[("fieldValidation", "Strict")],
                           **({"dry_run": "All"} if dry_run else {}))


@pytest.fixture
def restricted_namespace(kube_control_plane: ControlPlane, kube_namespace: str) -> Iterator[str]:
    """The test namespace, with the "restricted" Pod Security Standard enforced by the API server."""
    from kubernetes import client

    core = client.CoreV1Api(kube_control_plane.api_client())
    core.patch_namespace(kube_namespace, {"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"}}})
    yield kube_namespace


@pytest.mark.kube
def test_the_api_server_accepts_every_rendered_object(kube_control_plane: ControlPlane, restricted_namespace: str,
                                                      render: Callable[..., list[dict[str, Any]]]) -> None:
    from kubernetes.client.exceptions import ApiException
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    api = kube_control_plane.api_client()
    checked: dict[str, set[str]] = {}
    not_served: set[str] = set()
    for number, (name, values) in enumerate(VALUE_SETS.items()):
        objects = render(values, release=f"hubbot-{number}")  # names of their own in the one namespace
        for obj in objects:
            try:
                _create(api, restricted_namespace, obj)
            except ResourceNotFoundError:
                # ServiceMonitor is a CRD of prometheus-operator, which the test control plane does not have
                assert obj["kind"] == "ServiceMonitor", obj["kind"]
                not_served.add(obj["kind"])
                continue
            except ApiException as e:
                pytest.fail(f"{name}: the API server refused the {obj['kind']}: {e.status} {e.body}")
            checked.setdefault(name, set()).add(obj["kind"])

        # The Deployment's pod as the ReplicaSet controller would create it, judged by the API
        # server's admission (Pod Security "restricted", service accounts); its service account must exist.
        kinds = by_kind(objects)
        template = kinds["Deployment"]["spec"]["template"]
        if "ServiceAccount" in kinds:
            _create(api, restricted_namespace, kinds["ServiceAccount"], dry_run=False)
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {**template["metadata"], "generateName": "hubbot-"},
               "spec": template["spec"]}
        try:
            admitted = _create(api, restricted_namespace, pod)
        except ApiException as e:
            pytest.fail(f"{name}: the API server refused the Deployment's pod: {e.status} {e.body}")
        assert admitted.spec.automountServiceAccountToken is False
        assert not any(v.get("projected") for v in admitted.spec.volumes), "no service account token is mounted"
        checked[name].add("Pod")

    assert checked["defaults"] == {"Deployment", "ConfigMap", "Service", "Ingress", "PodDisruptionBudget",
                                   "ServiceAccount", "Pod"}
    assert "Secret" in checked["chart-made secrets"]
    assert "PodDisruptionBudget" in checked["min available, spread required"]
    assert not_served <= {"ServiceMonitor"}


@pytest.mark.kube
def test_the_api_server_refuses_what_a_broken_chart_would_render(kube_control_plane: ControlPlane,
                                                                 restricted_namespace: str,
                                                                 render: Callable[..., list[dict[str, Any]]]) -> None:
    """The check above has teeth: a root pod, a misspelt field and an impossible budget are refused."""
    from kubernetes.client.exceptions import ApiException

    api = kube_control_plane.api_client()
    objects = render({"serviceAccount": {"create": False}})
    kinds = by_kind(objects)
    template = kinds["Deployment"]["spec"]["template"]
    root = json.loads(json.dumps(template))
    root["spec"]["securityContext"] = {"runAsUser": 0}
    del root["spec"]["containers"][0]["securityContext"]
    misspelt = json.loads(json.dumps(kinds["Deployment"]))
    misspelt["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/readyz"}}
    budget = json.loads(json.dumps(kinds["PodDisruptionBudget"]))
    budget["spec"]["minAvailable"] = 1  # together with maxUnavailable

    for obj, words in (({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "root-"},
                         "spec": root["spec"]}, "violates PodSecurity"),
                       (misspelt, "unknown field"), (budget, "minAvailable")):
        with pytest.raises(ApiException) as refused:
            _create(api, restricted_namespace, obj)
        assert refused.value.status in (400, 403, 422) and words in str(refused.value.body), refused.value.body


@pytest.mark.kube
def test_install_notes_name_the_secrets_but_never_print_them(kube_control_plane: ControlPlane,
                                                             run_helm: Render, kube_namespace: str) -> None:
    done = run_helm("install", "hubbot", str(CHART), "--dry-run=server", "--namespace", kube_namespace,
                    values=CHART_MADE_SECRETS, kubeconfig=kube_control_plane.kubeconfig)
    assert done.returncode == 0, done.stderr
    notes = done.stdout.split("NOTES:", 1)[1]
    assert 'Slack credentials come from Secret "hubbot-secrets" (made by this chart)' in notes
    assert "/slack/events" in notes and "2 replica(s)" in notes
    for value in (BOT_TOKEN, SIGNING_SECRET, DATABASE_URL, "s3cr3t"):
        assert value not in notes
