"""Rollout judgement, and the Kubernetes adapter against local stand-ins: moto for EKS, a small
route for the GKE REST API, and a Kubernetes API stand-in reached through each kind of target."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from hubbot.adapters.kube import KubeClusters
from hubbot.deploys import rollout
from hubbot.domain import KubeTarget, PodCount, Workload
from hubbot.errors import NotFound, UpstreamError, UserError
from hubbot.fleet import Fleet, parse_fleet
from tests.support.aws import fake_credentials, moto_cost_explorer
from tests.support.kube_standin import KubeStandIn
from tests.support.server import serve

REGION = "us-west-2"
EKS_NAME = "hub-eks"
GKE_NAME = "projects/hub-project/locations/us-central1/clusters/hub-gke"
GKE_TOKEN = "gke-token-abc"
KC_TOKEN = "kubeconfig-token-xyz"
CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()

# -- rollout judgement ---------------------------------------------------------------------------


def obj(generation: int = 1, spec: dict[str, Any] | None = None, **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "x", "generation": generation}, "spec": spec or {}, "status": status}


def progressing(reason: str, status: str = "True") -> list[dict[str, str]]:
    return [{"type": "Progressing", "status": status, "reason": reason, "message": "ReplicaSet \"x-1\" timed out"}]


DEP = {"replicas": 3}
ROLL = {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}}
PART = {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}}
ON_DELETE = {"updateStrategy": {"type": "OnDelete"}}
DONE3 = {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}

CASES: list[tuple[str, str, dict[str, Any], tuple[int, int, bool, bool]]] = [  # (ready, desired, done, failed)
    ("deployment done", "Deployment", obj(1, DEP, **DONE3), (3, 3, True, False)),
    ("deployment new rollout not observed", "Deployment", obj(2, DEP, **DONE3), (3, 3, False, False)),
    ("deployment partially updated", "Deployment",
     obj(1, DEP, observedGeneration=1, replicas=4, updatedReplicas=1, availableReplicas=3), (1, 3, False, False)),
    ("deployment old replicas left", "Deployment",
     obj(1, DEP, observedGeneration=1, replicas=4, updatedReplicas=3, availableReplicas=3), (3, 3, False, False)),
    ("deployment unavailable", "Deployment",
     obj(1, DEP, observedGeneration=1, replicas=3, updatedReplicas=3, availableReplicas=2), (2, 3, False, False)),
    ("deployment deadline exceeded", "Deployment",
     obj(1, DEP, observedGeneration=1, replicas=3, updatedReplicas=3, conditions=progressing(
         "ProgressDeadlineExceeded", "False")), (0, 3, False, True)),
    ("deployment old deadline, new spec", "Deployment",
     obj(2, DEP, observedGeneration=1, conditions=progressing("ProgressDeadlineExceeded", "False")),
     (0, 3, False, False)),
    ("deployment progressing", "Deployment",
     obj(1, DEP, **DONE3, conditions=progressing("NewReplicaSetAvailable")), (3, 3, True, False)),
    ("deployment missing status, default replicas", "Deployment", obj(1), (0, 1, False, False)),
    ("deployment scaled to zero", "Deployment", obj(1, {"replicas": 0}, observedGeneration=1), (0, 0, True, False)),
    ("daemonset done", "DaemonSet",
     obj(1, None, observedGeneration=1, desiredNumberScheduled=3, updatedNumberScheduled=3, numberAvailable=3),
     (3, 3, True, False)),
    ("daemonset partially updated", "DaemonSet",
     obj(1, None, observedGeneration=1, desiredNumberScheduled=3, updatedNumberScheduled=2, numberAvailable=3),
     (2, 3, False, False)),
    ("daemonset unavailable", "DaemonSet",
     obj(1, None, observedGeneration=1, desiredNumberScheduled=3, updatedNumberScheduled=3, numberAvailable=1),
     (1, 3, False, False)),
    ("daemonset not observed", "DaemonSet", obj(2, None, observedGeneration=1), (0, 0, False, False)),
    ("daemonset OnDelete observed", "DaemonSet",
     obj(2, ON_DELETE, observedGeneration=2, desiredNumberScheduled=3, numberAvailable=3), (3, 3, True, False)),
    ("daemonset OnDelete not observed", "DaemonSet", obj(2, ON_DELETE, observedGeneration=1), (0, 0, False, False)),
    ("daemonset missing status", "DaemonSet", obj(1), (0, 0, False, False)),
    ("statefulset done", "StatefulSet",
     obj(1, {"replicas": 3, **ROLL}, observedGeneration=1, readyReplicas=3, updatedReplicas=3,
         currentRevision="x-2", updateRevision="x-2"), (3, 3, True, False)),
    ("statefulset revision pending", "StatefulSet",
     obj(1, {"replicas": 3, **ROLL}, observedGeneration=1, readyReplicas=3, updatedReplicas=3,
         currentRevision="x-1", updateRevision="x-2"), (3, 3, False, False)),
    ("statefulset not all updated", "StatefulSet",
     obj(1, {"replicas": 3, **ROLL}, observedGeneration=1, readyReplicas=3, updatedReplicas=2,
         currentRevision="x-2", updateRevision="x-2"), (3, 3, False, False)),
    ("statefulset not ready", "StatefulSet",
     obj(1, {"replicas": 3}, observedGeneration=1, readyReplicas=2, updatedReplicas=3), (2, 3, False, False)),
    ("statefulset partition reached", "StatefulSet",
     obj(1, {"replicas": 3, **PART}, observedGeneration=1, readyReplicas=3, updatedReplicas=1,
         currentRevision="x-1", updateRevision="x-2"), (3, 3, True, False)),
    ("statefulset partition not reached", "StatefulSet",
     obj(1, {"replicas": 3, **PART}, observedGeneration=1, readyReplicas=3, updatedReplicas=0,
         currentRevision="x-1", updateRevision="x-2"), (3, 3, False, False)),
    ("statefulset OnDelete ready", "StatefulSet",
     obj(1, {"replicas": 2, **ON_DELETE}, observedGeneration=1, readyReplicas=2, updateRevision="x-2"),
     (2, 2, True, False)),
    ("statefulset not observed", "StatefulSet", obj(2, {"replicas": 1}, observedGeneration=1, readyReplicas=1),
     (1, 1, False, False)),
    ("statefulset missing status", "StatefulSet", obj(0), (0, 1, False, False)),
]


@pytest.mark.parametrize(("kind", "item", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rollout_judgement(kind: str, item: dict[str, Any], expected: tuple[int, int, bool, bool]) -> None:
    judged = rollout.workload(kind, item)
    assert (judged.kind, judged.name) == (kind, "x")
    assert (judged.ready, judged.desired, judged.done, judged.failed is not None) == expected
    if judged.failed:
        assert judged.failed == 'exceeded its progress deadline (ProgressDeadlineExceeded): ReplicaSet "x-1" timed out'


def test_rollout_refuses_other_kinds() -> None:
    with pytest.raises(ValueError, match="ReplicaSet"):
        rollout.workload("ReplicaSet", obj())


def test_pod_ready_and_summary() -> None:
    assert rollout.pod_ready({"status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    assert not rollout.pod_ready({"status": {"conditions": [{"type": "Ready", "status": "False"}]}})
    assert not rollout.pod_ready({"status": {"phase": "Pending"}})
    hub = Workload("Deployment", "hub", 0, 1, done=False)
    done = [Workload("Deployment", n, 1, 1, done=True) for n in ("proxy", "a", "b")]
    assert rollout.summary([hub, *done]) == "3/4 workloads ready (hub: 0/1)"
    assert rollout.summary(done) == "3/3 workloads ready"
    failed = dataclasses.replace(hub, failed="exceeded its progress deadline")
    assert rollout.summary([failed]) == "0/1 workloads ready (hub: 0/1 failed, exceeded its progress deadline)"
    assert rollout.summary([]) == "no workloads"
    stuck = dataclasses.replace(hub, stuck="pod hub-1: ImagePullBackOff")
    assert rollout.summary([stuck]) == "0/1 workloads ready (hub: 0/1, pod hub-1: ImagePullBackOff)"


def _pod(name: str, labels: dict[str, str], **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}, "status": status}


WAITING = {"containerStatuses": [{"name": "hub", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}


@pytest.mark.parametrize("selector,pods,expected", [
    ({"matchLabels": {"app": "hub"}}, [_pod("hub-1", {"app": "hub", "x": "y"}, **WAITING)],
     "pod hub-1: ImagePullBackOff"),
    ({"matchLabels": {"app": "hub"}}, [_pod("proxy-1", {"app": "proxy"}, **WAITING)], None),  # not its pod
    ({"matchLabels": {"app": "hub"}}, [_pod("hub-1", {"app": "hub"}, containerStatuses=[
        {"state": {"waiting": {"reason": "ContainerCreating"}}}])], None),  # on its way: nothing to say
    ({"matchLabels": {"app": "hub"}}, [_pod("hub-1", {"app": "hub"}, containerStatuses=[
        {"state": {"waiting": {"reason": "CrashLoopBackOff"}}, "restartCount": 4}])], "pod hub-1: CrashLoopBackOff"),
    ({"matchLabels": {"app": "hub"}}, [_pod("hub-1", {"app": "hub"}, conditions=[
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}])], "pod hub-1: Unschedulable"),
    ({}, [_pod("hub-1", {"app": "hub"}, **WAITING)], None),  # no selector: no guess
    ({"matchLabels": "app=hub"}, [_pod("hub-1", {"app": "hub"}, **WAITING)], None),  # malformed: ignored
    ({"matchLabels": {"app": "hub"}}, [{"metadata": None}, "junk", _pod("hub-2", {"app": "hub"}, **WAITING)],
     "pod hub-2: ImagePullBackOff"),
])
def test_a_stuck_pod_is_found_by_its_workloads_selector(selector: Any, pods: Any, expected: str | None) -> None:
    assert rollout.stuck_pod(selector, pods) == expected


# -- stand-ins -----------------------------------------------------------------------------------


class GkeApi:
    """The GKE REST API's clusters.get and an OAuth token endpoint, recording Authorization headers."""

    def __init__(self) -> None:
        self.clusters: dict[str, dict[str, Any]] = {}
        self.seen: list[tuple[str, str | None]] = []
        self.app = FastAPI()
        self.app.add_api_route("/v1/projects/{project}/locations/{location}/clusters/{name}", self.get)
        self.app.add_api_route("/token", self.token, methods=["POST"])

    async def get(self, request: Request, project: str, location: str, name: str) -> Response:
        self.seen.append((request.url.path, request.headers.get("authorization")))
        found = self.clusters.get(f"projects/{project}/locations/{location}/clusters/{name}")
        if found is None:
            error = {"code": 404, "message": f"Not found: {request.url.path}.", "status": "NOT_FOUND"}
            return JSONResponse({"error": error}, status_code=404)
        return JSONResponse(found)

    async def token(self) -> Response:
        return JSONResponse({"access_token": "refreshed-token", "expires_in": 3600, "token_type": "Bearer"})


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[KubeStandIn, str, GkeApi, str, str]]:
    kube, gke = KubeStandIn(), GkeApi()
    with serve(kube.app) as kube_served, serve(gke.app) as gke_served, moto_cost_explorer() as moto:
        yield kube, kube_served.url, gke, gke_served.url, moto.url


@pytest.fixture
def kube(servers: tuple[KubeStandIn, str, GkeApi, str, str]) -> KubeStandIn:
    servers[0].reset()
    return servers[0]


@pytest.fixture
def fleet(servers: tuple[KubeStandIn, str, GkeApi, str, str], tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Fleet:
    _, kube_url, gke, gke_url, moto_url = servers
    fake_credentials(monkeypatch)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    gke.seen.clear()
    gke.clusters = {GKE_NAME: {"name": "hub-gke", "status": "RUNNING", "endpoint": kube_url,
                               "masterAuth": {"clusterCaCertificate": CA}},
                    GKE_NAME + "-bare": {"name": "hub-gke-bare", "endpoint": "34.1.2.3",
                                         "masterAuth": {"clusterCaCertificate": "not base64!"}}}
    eks: Any = _boto_session().client("eks", endpoint_url=moto_url)
    if EKS_NAME not in eks.list_clusters()["clusters"]:
        eks.create_cluster(name=EKS_NAME, roleArn="arn:aws:iam::123456789012:role/eks", resourcesVpcConfig={})
    write_kubeconfig(tmp_path / "secrets" / "kubeconfig.yaml", kube_url, KC_TOKEN)
    eks_access = {"kind": "eks", "cluster_name": EKS_NAME, "region": REGION, "endpoint_url": moto_url}
    gke_access = {"kind": "gke", "project": "hub-project", "location": "us-central1", "cluster_name": "hub-gke",
                  "endpoint": gke_url}
    clusters = [
        ("eks", eks_access), ("eks-sts", {**eks_access, "sts_endpoint_url": moto_url}),
        ("eks-missing", {**eks_access, "cluster_name": "nope"}),
        ("gke", gke_access), ("gke-bare", {**gke_access, "cluster_name": "hub-gke-bare"}),
        ("gke-missing", {**gke_access, "cluster_name": "nope"}),
        ("js2", {"kind": "kubeconfig", "path": "secrets/kubeconfig.yaml", "context": "js2"}),
        ("js2-missing", {"kind": "kubeconfig", "path": "secrets/absent.yaml"}),
        ("js2-badcontext", {"kind": "kubeconfig", "path": "secrets/kubeconfig.yaml", "context": "nope"}),
    ]
    data = {
        "providers": {"aws": {"kind": "aws", "account_id": "123456789012"}, "csv": {"kind": "csv", "path": "c.csv"}},
        "clusters": [{"name": name, "provider": "csv", "kubernetes": access} for name, access in clusters]
        + [{"name": "bare", "provider": "aws"}],
    }
    return parse_fleet(data, source=str(tmp_path / "fleet.yaml"))


def _boto_session() -> Any:
    import boto3

    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing-secret",
                                 region_name=REGION)


def write_kubeconfig(path: Path, server: str, token: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "other",
        "clusters": [{"name": "js2", "cluster": {"server": server}}],
        "users": [{"name": "hubbot", "user": {"token": token}}, {"name": "other", "user": {"token": "other-token"}}],
        "contexts": [{"name": "js2", "context": {"cluster": "js2", "user": "hubbot"}},
                     {"name": "other", "context": {"cluster": "js2", "user": "other"}}],
    }))
    path.chmod(0o600)
    return path


def static_google(token: str = GKE_TOKEN) -> Callable[[], Any]:
    from google.oauth2.credentials import Credentials

    return lambda: Credentials(token=token)


def decode_token(token: str) -> str:
    body = token.removeprefix("k8s-aws-v1.")
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


def sigv4_signature(url: str, headers: dict[str, str], secret: str) -> str:
    """The SigV4 query signature of a presigned GET, computed independently of botocore."""
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "X-Amz-Signature"]
    canonical_query = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
                               for k, v in sorted(query))
    signed = dict(query)["X-Amz-SignedHeaders"].split(";")
    all_headers = {"host": parts.netloc, **headers}
    canonical_headers = "".join(f"{name}:{all_headers[name]}\n" for name in signed)
    request = "\n".join(["GET", parts.path or "/", canonical_query, canonical_headers, ";".join(signed),
                         hashlib.sha256(b"").hexdigest()])
    amz_date, scope = dict(query)["X-Amz-Date"], dict(query)["X-Amz-Credential"].split("/", 1)[1]
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(request.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


# -- targets -------------------------------------------------------------------------------------


async def test_eks_target_is_built_like_aws_eks_get_token(fleet: Fleet, servers: Any) -> None:
    described = _boto_session().client("eks", endpoint_url=servers[4]).describe_cluster(name=EKS_NAME)["cluster"]
    target = await KubeClusters(fleet).target("eks")
    assert target.server == described["endpoint"].rstrip("/") and target.server.startswith("https://")
    assert target.ca_data == described["certificateAuthority"]["data"]
    token = target.token or ""
    assert token.startswith("k8s-aws-v1.") and not token.endswith("=") and token not in repr(target)
    url = decode_token(token)
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    assert (parts.scheme, parts.netloc, parts.path or "/") == ("https", f"sts.{REGION}.amazonaws.com", "/")
    assert query["Action"] == "GetCallerIdentity" and query["Version"] == "2011-06-15"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and query["X-Amz-Expires"] == "60"
    assert query["X-Amz-Credential"].startswith("testing/") and query["X-Amz-Credential"].endswith(
        f"/{REGION}/sts/aws4_request")
    assert len(query["X-Amz-Date"]) == 16 and query["X-Amz-Security-Token"] == "testing-token"
    assert query["X-Amz-SignedHeaders"].split(";") == ["host", "x-k8s-aws-id"]
    # The cluster's name is part of what was signed: the signature checks out only with it.
    assert query["X-Amz-Signature"] == sigv4_signature(url, {"x-k8s-aws-id": EKS_NAME}, "testing-secret")
    assert query["X-Amz-Signature"] != sigv4_signature(url, {"x-k8s-aws-id": "other"}, "testing-secret")


async def test_eks_token_signs_for_the_sts_endpoint_override(fleet: Fleet, servers: Any) -> None:
    target = await KubeClusters(fleet).target("eks-sts")
    url = decode_token(target.token or "")
    assert url.startswith(servers[4] + "/?Action=GetCallerIdentity&Version=2011-06-15&")
    signature = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))["X-Amz-Signature"]
    assert signature == sigv4_signature(url, {"x-k8s-aws-id": EKS_NAME}, "testing-secret")


async def test_eks_token_is_reused_for_ten_minutes(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [datetime(2026, 1, 15, 12, 0, tzinfo=UTC)]
    clusters = KubeClusters(fleet, clock=lambda: now[0])
    first = await clusters.target("eks")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "rotated")
    now[0] += timedelta(minutes=9, seconds=59)
    assert (await clusters.target("eks")).token == first.token
    now[0] += timedelta(seconds=1)
    fresh = await clusters.target("eks")
    assert dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(decode_token(fresh.token or "")).query))[
        "X-Amz-Credential"].startswith("rotated/")


async def test_eks_failures_are_upstream_errors(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UpstreamError, match="EKS has no cluster for 'eks-missing'"):
        await KubeClusters(fleet).target("eks-missing")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    with pytest.raises(UpstreamError, match="no usable AWS credentials for cluster 'eks'"):
        await KubeClusters(fleet).target("eks")


async def test_gke_target_from_the_gke_api(fleet: Fleet, servers: Any) -> None:
    kube_url, gke = servers[1], servers[2]
    target = await KubeClusters(fleet, gke_credentials=static_google()).target("gke")
    assert (target.server, target.token, target.ca_data) == (kube_url, GKE_TOKEN, CA)
    assert gke.seen == [(f"/v1/{GKE_NAME}", f"Bearer {GKE_TOKEN}")]
    bare = await KubeClusters(fleet, gke_credentials=static_google()).target("gke-bare")
    assert bare.server == "https://34.1.2.3"


async def test_gke_refreshes_expired_credentials(fleet: Fleet, servers: Any) -> None:
    from google.oauth2.credentials import Credentials

    expired = Credentials(token=None, refresh_token="r", token_uri=servers[3] + "/token", client_id="c",
                          client_secret="s")
    target = await KubeClusters(fleet, gke_credentials=lambda: expired).target("gke")
    assert target.token == "refreshed-token"


async def test_gke_failures_are_upstream_errors(fleet: Fleet, servers: Any, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from google.auth.compute_engine import _metadata

    with pytest.raises(UpstreamError, match="GKE has no cluster for 'gke-missing'"):
        await KubeClusters(fleet, gke_credentials=static_google()).target("gke-missing")
    # Without credentials of its own, the endpoint override is asked anonymously, and the token
    # for the cluster then fails for want of application default credentials.
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setattr(_metadata, "_NO_GCE_CHECK", True)  # never probe the metadata server
    servers[2].seen.clear()
    with pytest.raises(UpstreamError, match="no Google credentials for cluster 'gke'"):
        await KubeClusters(fleet).target("gke")
    assert servers[2].seen == [(f"/v1/{GKE_NAME}", None)]


async def test_kubeconfig_target_and_config_errors(fleet: Fleet, tmp_path: Path) -> None:
    clusters = KubeClusters(fleet)
    target = await clusters.target("js2")
    assert (target.kubeconfig, target.context) == (str(tmp_path / "secrets" / "kubeconfig.yaml"), "js2")
    with pytest.raises(UserError, match=f"kubeconfig file {tmp_path / 'secrets' / 'absent.yaml'}"):
        await clusters.target("js2-missing")
    with pytest.raises(NotFound, match="unknown cluster 'eks2' — did you mean 'eks'"):
        await clusters.target("eks2")
    with pytest.raises(UserError, match=r"'bare' has no kubernetes: section.*kind: eks.*kind: gke.*kind: kubeconfig"):
        await clusters.target("bare")
    with pytest.raises(UserError, match=r"kubeconfig .* for cluster 'js2-badcontext' is unusable"):
        await clusters.workloads(await clusters.target("js2-badcontext"), "hubs")


# -- reading workloads through each kind of target ----------------------------------------------


@pytest.fixture(params=["eks", "gke", "kubeconfig"])
async def route(request: pytest.FixtureRequest, fleet: Fleet, kube: KubeStandIn, servers: Any, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> tuple[KubeClusters, KubeTarget, str]:
    # CA files go here, so a test can see that none is left behind.
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    clusters = KubeClusters(fleet, gke_credentials=static_google())
    if request.param == "eks":
        # moto's endpoint is made up, so the token EKS signed is taken to the stand-in instead.
        target = dataclasses.replace(await clusters.target("eks"), server=servers[1])
    else:
        target = await clusters.target("gke" if request.param == "gke" else "js2")
    token = {"eks": target.token, "gke": GKE_TOKEN, "kubeconfig": KC_TOKEN}[request.param] or ""
    kube.reset(token=token)
    return clusters, target, token


async def test_rollout_through_each_route(route: tuple[KubeClusters, KubeTarget, str], kube: KubeStandIn,
                                          tmp_path: Path) -> None:
    clusters, target, token = route
    kube.add_deployment("hubs", "hub")
    kube.add_deployment("hubs", "proxy", replicas=2)
    kube.add_daemonset("hubs", "image-puller", nodes=3)
    kube.add_statefulset("hubs", "db")
    before = await clusters.workloads(target, "hubs")
    assert [(w.kind, w.name, w.done) for w in before] == [
        ("Deployment", "hub", False), ("Deployment", "proxy", False), ("DaemonSet", "image-puller", False),
        ("StatefulSet", "db", False)]
    assert rollout.summary(before) == "0/4 workloads ready (hub: 0/1, proxy: 0/2, image-puller: 0/3, db: 0/1)"
    assert await clusters.pods(target, "hubs") == PodCount(ready=0, total=7)
    kube.make_ready("hubs")
    assert all(w.done for w in await clusters.workloads(target, "hubs"))
    assert await clusters.pods(target, "hubs") == PodCount(ready=7, total=7)
    kube.roll("hubs", "db")
    assert [w.name for w in await clusters.workloads(target, "hubs") if not w.done] == ["db"]
    kube.make_ready("hubs", "db")
    kube.fail_deadline("hubs", "proxy")
    after = await clusters.workloads(target, "hubs")
    assert [(w.name, w.done, bool(w.failed)) for w in after if not w.done] == [("proxy", False, True)]
    assert {seen.authorization for seen in kube.requests} == {f"Bearer {token}"}
    lists = {f"/apis/apps/v1/namespaces/hubs/{plural}" for plural in ("deployments", "daemonsets", "statefulsets")}
    assert set(kube.paths()) == {*lists, "/api/v1/namespaces/hubs/pods"}
    # one client (and CA file) is kept for the target between polls, and removed on close
    assert len(os.listdir(tmp_path / "tmp")) <= 1
    clusters.close()
    assert os.listdir(tmp_path / "tmp") == []


async def test_missing_namespace_is_empty(route: tuple[KubeClusters, KubeTarget, str], kube: KubeStandIn) -> None:
    clusters, target, _ = route
    assert await clusters.workloads(target, "nowhere") == []
    assert await clusters.pods(target, "nowhere") == PodCount(ready=0, total=0)


@pytest.mark.parametrize("plural", ["deployments", "daemonsets", "statefulsets", "pods"])
async def test_a_role_without_list_rights_is_named(route: tuple[KubeClusters, KubeTarget, str], kube: KubeStandIn,
                                                   plural: str) -> None:
    clusters, target, token = route
    kube.add_deployment("hubs", "hub")
    kube.forbidden.add(plural)
    call = clusters.pods if plural == "pods" else clusters.workloads
    with pytest.raises(UpstreamError, match=rf"refused hubbot's credentials \(403\); they need to list {plural} in "
                                            r"namespace hubs") as err:
        await call(target, "hubs")
    assert token not in str(err.value)


async def test_refused_credentials(route: tuple[KubeClusters, KubeTarget, str], kube: KubeStandIn) -> None:
    clusters, target, token = route
    kube.add_deployment("hubs", "hub")
    kube.token = "someone-elses-token"
    refused = rf"cluster {target.cluster} refused hubbot's credentials \(401\)"
    for call in (clusters.workloads, clusters.pods):
        with pytest.raises(UpstreamError, match=refused) as err:
            await call(target, "hubs")
        assert token not in str(err.value) and token not in repr(err.value)


async def test_unreachable_and_unreadable_clusters(fleet: Fleet) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    clusters = KubeClusters(fleet, gke_credentials=static_google())
    with pytest.raises(UpstreamError, match="could not reach cluster x"):
        await clusters.workloads(KubeTarget("x", server=closed, token="t"), "hubs")
    bad_ca = await clusters.target("gke-bare")
    with pytest.raises(UpstreamError, match="CA certificate of cluster 'gke-bare' is not valid base64"):
        await clusters.pods(bad_ca, "hubs")


# -- helm against the stand-in's release storage ---------------------------------------------------


def helm_binary() -> str:
    """HUBBOT_TEST_HELM, the virtualenv's helm or one on PATH; skipped when absent (failing under CI=true)."""
    candidates = [os.environ.get("HUBBOT_TEST_HELM"), str(Path(__file__).resolve().parents[1] / ".venv/bin/helm"),
                  shutil.which("helm")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    message = "no helm binary: set HUBBOT_TEST_HELM or install helm into .venv/bin"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def test_helm_reads_releases_from_the_standin(kube: KubeStandIn, servers: Any, tmp_path: Path) -> None:
    helm = helm_binary()
    manifest = "---\n# Source: basehub/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
    kube.add_release("hubs", "staging", 1, status="superseded", manifest="---\n# old\n")
    kube.add_release("hubs", "staging", 2, chart="basehub", version="1.2.3", app_version="4.1", manifest=manifest)
    # No token: client-go sends bearer tokens only over TLS, and the stand-in speaks plain HTTP.
    config = write_kubeconfig(tmp_path / "kubeconfig", servers[1], KC_TOKEN)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "HELM_CACHE_HOME": str(tmp_path / "c"),
           "HELM_CONFIG_HOME": str(tmp_path / "g"), "HELM_DATA_HOME": str(tmp_path / "d")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([helm, *args, "-n", "hubs", "--kubeconfig", str(config)], env=env, text=True,
                              capture_output=True, timeout=60, check=False)

    status = run("status", "staging", "-o", "json")
    assert status.returncode == 0, status.stderr
    release = json.loads(status.stdout)
    assert (release["name"], release["namespace"], release["version"]) == ("staging", "hubs", 2)
    assert release["info"]["status"] == "deployed"
    assert run("get", "manifest", "staging").stdout.strip() == manifest.strip()
    history = json.loads(run("history", "staging", "-o", "json").stdout)
    assert [(h["revision"], h["status"], h["chart"]) for h in history] == [
        (1, "superseded", "basehub-1.0.0"), (2, "deployed", "basehub-1.2.3")]
    missing = run("status", "absent")
    assert missing.returncode != 0 and "release: not found" in missing.stderr
    assert "/api/v1/namespaces/hubs/secrets" in kube.paths()
