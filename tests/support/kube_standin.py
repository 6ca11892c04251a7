"""A local stand-in for the parts of the Kubernetes API hubbot and helm read, recording every request.

It serves objects in the shapes the real API server does (list kinds, ``apiVersion``,
``metadata.resourceVersion``, ``items`` without per-item kind; ``Status`` objects for errors):

* ``GET /apis/apps/v1/namespaces/{ns}/deployments|daemonsets|statefulsets`` and
  ``GET /api/v1/namespaces/{ns}/pods``, whose state tests drive like controllers would
  (:meth:`KubeStandIn.roll`, :meth:`KubeStandIn.make_ready`, :meth:`KubeStandIn.fail_deadline`);
* ``GET /api/v1/namespaces/{ns}/secrets?labelSelector=...``: Helm's release storage (Secrets of
  type ``helm.sh/release.v1``), filled by :meth:`KubeStandIn.add_release`;
* ``/version``, ``/api`` and ``/apis`` discovery, which clients ask before anything else.

A namespace nothing was added to is answered 404 (the adapter must cope with it; the real API
answers list calls there with an empty list). With ``token`` set, requests without that bearer
token get 401.
"""

from __future__ import annotations

import base64
import gzip
import itertools
import json
import threading
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

_PLURAL = {"deployments": "Deployment", "daemonsets": "DaemonSet", "statefulsets": "StatefulSet"}
_CREATED = "2026-01-15T12:00:00Z"


@dataclass(frozen=True)
class Seen:
    path: str
    authorization: str | None


def status_object(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


def encode_release(release: dict[str, Any]) -> str:
    """A release as a Secret's ``data.release``: base64 (the Secret) of base64 (Helm) of gzipped JSON."""
    helm_encoded = base64.b64encode(gzip.compress(json.dumps(release).encode()))
    return base64.b64encode(helm_encoded).decode()


class KubeStandIn:
    def __init__(self, *, token: str | None = None) -> None:
        self.token = token
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._versions = itertools.count(1000)
        self._hashes = itertools.count(1)
        self.namespaces: set[str] = set()
        self.objects: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}  # (ns, kind) -> name -> object
        self.pods: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (ns, workload) -> its pods
        self.secrets: dict[str, dict[str, dict[str, Any]]] = {}  # ns -> name -> secret
        self.forbidden: set[str] = set()  # resources (plurals) RBAC does not let the token list
        self.app = FastAPI()
        self.app.add_api_route("/version", self._version, methods=["GET"])
        self.app.add_api_route("/api", self._api, methods=["GET"])
        self.app.add_api_route("/apis", self._apis, methods=["GET"])
        self.app.add_api_route("/apis/apps/v1/namespaces/{ns}/{plural}", self._workloads, methods=["GET"])
        self.app.add_api_route("/api/v1/namespaces/{ns}/pods", self._pods, methods=["GET"])
        self.app.add_api_route("/api/v1/namespaces/{ns}/secrets", self._secrets, methods=["GET"])
        self.app.add_api_route("/{rest:path}", self._unknown, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])

    # -- test controls ------------------------------------------------------------------

    def reset(self, *, token: str | None = None) -> None:
        with self._lock:
            self.token = token
            self.requests.clear()
            self.namespaces.clear()
            self.objects.clear()
            self.pods.clear()
            self.secrets.clear()
            self.forbidden.clear()

    def paths(self) -> list[str]:
        with self._lock:
            return [seen.path for seen in self.requests]

    def add_deployment(self, ns: str, name: str, replicas: int = 1, generation: int = 1) -> None:
        """A Deployment just created: its pods exist but none is available yet."""
        spec = {"replicas": replicas, "strategy": {"type": "RollingUpdate"}}
        obj = self._new(ns, name, "Deployment", generation, spec)
        obj["status"] = {
            "observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
            "unavailableReplicas": replicas,
            "conditions": [_condition("Available", "False", "MinimumReplicasUnavailable"),
                           _condition("Progressing", "True", "ReplicaSetUpdated")],
        }
        self._store(ns, "Deployment", obj, replicas)

    def add_daemonset(self, ns: str, name: str, nodes: int = 1, generation: int = 1) -> None:
        obj = self._new(ns, name, "DaemonSet", generation, {"updateStrategy": {"type": "RollingUpdate"}})
        obj["status"] = {
            "observedGeneration": generation, "desiredNumberScheduled": nodes, "currentNumberScheduled": nodes,
            "updatedNumberScheduled": nodes, "numberMisscheduled": 0, "numberReady": 0, "numberUnavailable": nodes,
        }
        self._store(ns, "DaemonSet", obj, nodes)

    def add_statefulset(self, ns: str, name: str, replicas: int = 1, generation: int = 1) -> None:
        spec = {"replicas": replicas, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}}
        obj = self._new(ns, name, "StatefulSet", generation, spec)
        revision = f"{name}-{self._hash()}"
        obj["status"] = {
            "observedGeneration": generation, "replicas": replicas, "currentReplicas": replicas,
            "updatedReplicas": replicas, "currentRevision": revision, "updateRevision": revision,
            "collisionCount": 0,
        }
        self._store(ns, "StatefulSet", obj, replicas)

    def roll(self, ns: str, name: str | None = None) -> None:
        """Start a new rollout (a changed pod template): the controllers have not seen it yet."""
        with self._lock:
            for kind, obj in self._matching(ns, name):
                obj["metadata"]["generation"] += 1
                self._touch(obj)
                pods = self.pods.get((ns, obj["metadata"]["name"]), [])
                self.pods[(ns, obj["metadata"]["name"])] = self._make_pods(ns, kind, obj, len(pods))

    def make_ready(self, ns: str, name: str | None = None) -> None:
        """Let the controllers finish: every replica updated and available, every pod Ready."""
        with self._lock:
            for kind, obj in self._matching(ns, name):
                generation, status = obj["metadata"]["generation"], obj["status"]
                count = len(self.pods.get((ns, obj["metadata"]["name"]), []))
                if kind == "Deployment":
                    status.clear()
                    status.update({
                        "observedGeneration": generation, "replicas": count, "updatedReplicas": count,
                        "readyReplicas": count, "availableReplicas": count,
                        "conditions": [_condition("Available", "True", "MinimumReplicasAvailable"),
                                       _condition("Progressing", "True", "NewReplicaSetAvailable")],
                    })
                elif kind == "DaemonSet":
                    status.update({
                        "observedGeneration": generation, "desiredNumberScheduled": count,
                        "currentNumberScheduled": count, "updatedNumberScheduled": count, "numberReady": count,
                        "numberAvailable": count,
                    })
                    status.pop("numberUnavailable", None)
                else:
                    revision = status["updateRevision"]
                    if status.get("observedGeneration") != generation:
                        revision = f"{obj['metadata']['name']}-{self._hash()}"
                    status.update({
                        "observedGeneration": generation, "replicas": count, "readyReplicas": count,
                        "currentReplicas": count, "updatedReplicas": count, "availableReplicas": count,
                        "currentRevision": revision, "updateRevision": revision,
                    })
                self._touch(obj)
                for pod in self.pods.get((ns, obj["metadata"]["name"]), []):
                    _set_pod_ready(pod, True)

    def fail_deadline(self, ns: str, name: str) -> None:
        """The Deployment controller gave up waiting for the rollout's new pods."""
        with self._lock:
            obj = self.objects[(ns, "Deployment")][name]
            obj["status"]["observedGeneration"] = obj["metadata"]["generation"]
            conditions = [c for c in obj["status"].get("conditions", []) if c["type"] != "Progressing"]
            conditions.append(_condition("Progressing", "False", "ProgressDeadlineExceeded",
                                         f'ReplicaSet "{name}-{self._hash()}" has timed out progressing.'))
            obj["status"]["conditions"] = conditions
            self._touch(obj)

    def add_release(self, ns: str, name: str, revision: int, *, status: str = "deployed", chart: str = "basehub",
                    version: str = "1.0.0", app_version: str = "", manifest: str = "") -> None:
        """Store one revision of a Helm release the way Helm's Secret driver does."""
        release = {
            "name": name, "namespace": ns, "version": revision,
            "info": {"first_deployed": _CREATED, "last_deployed": _CREATED, "deleted": "",
                     "description": "Upgrade complete" if revision > 1 else "Install complete", "status": status},
            "chart": {"metadata": {"name": chart, "version": version, "appVersion": app_version, "apiVersion": "v2"},
                      "lock": None, "templates": [], "values": {}, "schema": None, "files": []},
            "config": {}, "manifest": manifest, "hooks": [],
        }
        secret_name = f"sh.helm.release.v1.{name}.v{revision}"
        labels = {"owner": "helm", "name": name, "status": status, "version": str(revision), "modifiedAt": "1768478400"}
        with self._lock:
            self.namespaces.add(ns)
            self.secrets.setdefault(ns, {})[secret_name] = {
                "metadata": {"name": secret_name, "namespace": ns, "labels": labels, "uid": f"uid-{secret_name}",
                             "resourceVersion": str(next(self._versions)), "creationTimestamp": _CREATED},
                "type": "helm.sh/release.v1",
                "data": {"release": encode_release(release)},
            }

    # -- state ---------------------------------------------------------------------------

    def _hash(self) -> str:
        return f"{next(self._hashes):010x}"

    def _new(self, ns: str, name: str, kind: str, generation: int, spec: dict[str, Any]) -> dict[str, Any]:
        labels = {"app.kubernetes.io/name": name}
        spec = {**spec, "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": name, "image": "x"}]}}}
        return {"metadata": {"name": name, "namespace": ns, "uid": f"uid-{kind}-{ns}-{name}", "generation": generation,
                             "resourceVersion": "0", "creationTimestamp": _CREATED, "labels": labels},
                "spec": spec, "status": {}}

    def _store(self, ns: str, kind: str, obj: dict[str, Any], count: int) -> None:
        with self._lock:
            self.namespaces.add(ns)
            self._touch(obj)
            self.objects.setdefault((ns, kind), {})[obj["metadata"]["name"]] = obj
            self.pods[(ns, obj["metadata"]["name"])] = self._make_pods(ns, kind, obj, count)

    def _touch(self, obj: dict[str, Any]) -> None:
        obj["metadata"]["resourceVersion"] = str(next(self._versions))

    def _matching(self, ns: str, name: str | None) -> list[tuple[str, dict[str, Any]]]:
        found = [(kind, obj) for (space, kind), objs in self.objects.items() if space == ns
                 for obj in objs.values() if name is None or obj["metadata"]["name"] == name]
        if not found:
            raise KeyError(f"no workload {name or '(any)'} in namespace {ns}")
        return found

    def _make_pods(self, ns: str, kind: str, owner: dict[str, Any], count: int) -> list[dict[str, Any]]:
        template = self._hash()[-5:]
        pods = []
        for i in range(count):
            name = f"{owner['metadata']['name']}-{template}-{i}"
            pod = {
                "metadata": {"name": name, "namespace": ns, "uid": f"uid-pod-{ns}-{name}",
                             "resourceVersion": str(next(self._versions)), "creationTimestamp": _CREATED,
                             "labels": dict(owner["metadata"]["labels"]),
                             "ownerReferences": [{"apiVersion": "apps/v1", "kind": kind, "controller": True,
                                                  "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"]}]},
                "spec": {"containers": [{"name": owner["metadata"]["name"], "image": "x"}]},
                "status": {},
            }
            _set_pod_ready(pod, False)
            pods.append(pod)
        return pods

    # -- routes ---------------------------------------------------------------------------

    def _admit(self, request: Request, *, plural: str | None = None, group: str = "", ns: str = "") -> Response | None:
        authorization = request.headers.get("authorization")
        with self._lock:
            self.requests.append(Seen(request.url.path, authorization))
            token = self.token
            forbidden = plural in self.forbidden
        if token is not None and authorization != f"Bearer {token}":
            return JSONResponse(status_object(401, "Unauthorized", "Unauthorized"), status_code=401)
        if forbidden:  # what the API server's RBAC authorizer answers
            resource = f"{plural}.{group}" if group else str(plural)
            message = (f'{resource} is forbidden: User "system:serviceaccount:hubbot:hubbot" cannot list resource '
                       f'"{plural}" in API group "{group}" in the namespace "{ns}"')
            return JSONResponse(status_object(403, "Forbidden", message), status_code=403)
        return None

    def _list(self, kind: str, api_version: str, ns: str, items: list[dict[str, Any]]) -> Response:
        # Like the API server: listing in a namespace that does not exist is an empty list, not a 404.
        return JSONResponse({"kind": f"{kind}List", "apiVersion": api_version,
                             "metadata": {"resourceVersion": str(next(self._versions))}, "items": items})

    async def _workloads(self, request: Request, ns: str, plural: str) -> Response:
        denied = self._admit(request, plural=plural, group="apps", ns=ns)
        if denied is not None:
            return denied
        kind = _PLURAL.get(plural)
        if kind is None:
            return _not_found(request)
        with self._lock:
            items = json.loads(json.dumps(list(self.objects.get((ns, kind), {}).values())))
            return self._list(kind, "apps/v1", ns, items)

    async def _pods(self, request: Request, ns: str) -> Response:
        denied = self._admit(request, plural="pods", ns=ns)
        if denied is not None:
            return denied
        with self._lock:
            items = [pod for (space, _), pods in self.pods.items() if space == ns for pod in pods]
            return self._list("Pod", "v1", ns, json.loads(json.dumps(items)))

    async def _secrets(self, request: Request, ns: str) -> Response:
        denied = self._admit(request, plural="secrets", ns=ns)
        if denied is not None:
            return denied
        wanted: dict[str, str] = {}
        for term in filter(None, request.query_params.get("labelSelector", "").split(",")):
            key, sep, value = term.partition("=")
            if not sep or key.endswith("!"):
                message = f"unsupported label selector term {term!r}"
                return JSONResponse(status_object(400, "BadRequest", message), status_code=400)
            wanted[key.strip()] = value.removeprefix("=").strip()
        with self._lock:
            secrets = self.secrets.get(ns, {}).values()
            items = [s for s in secrets if all(s["metadata"]["labels"].get(k) == v for k, v in wanted.items())]
            return self._list("Secret", "v1", ns, json.loads(json.dumps(items)))

    async def _version(self, request: Request) -> Response:
        denied = self._admit(request)
        return denied or JSONResponse({
            "major": "1", "minor": "31", "gitVersion": "v1.31.0", "gitCommit": "standin", "gitTreeState": "clean",
            "buildDate": _CREATED, "goVersion": "go1.22.5", "compiler": "gc", "platform": "linux/amd64"})

    async def _api(self, request: Request) -> Response:
        denied = self._admit(request)
        return denied or JSONResponse({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:443"}]})

    async def _apis(self, request: Request) -> Response:
        denied = self._admit(request)
        group = {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                 "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}
        return denied or JSONResponse({"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]})

    async def _unknown(self, request: Request) -> Response:
        return self._admit(request) or _not_found(request)


def _not_found(request: Request) -> Response:
    message = f"the server could not find the requested resource ({request.method} {request.url.path})"
    return JSONResponse(status_object(404, "NotFound", message), status_code=404)


def _condition(kind: str, status: str, reason: str, message: str = "") -> dict[str, Any]:
    return {"type": kind, "status": status, "reason": reason, "message": message or reason,
            "lastUpdateTime": _CREATED, "lastTransitionTime": _CREATED}


def _set_pod_ready(pod: dict[str, Any], ready: bool) -> None:
    flag = "True" if ready else "False"
    pod["status"] = {
        "phase": "Running" if ready else "Pending",
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": _CREATED},
            {"type": "Initialized", "status": "True", "lastTransitionTime": _CREATED},
            {"type": "ContainersReady", "status": flag, "lastTransitionTime": _CREATED},
            {"type": "Ready", "status": flag, "lastTransitionTime": _CREATED},
        ],
        "containerStatuses": [{"name": pod["spec"]["containers"][0]["name"], "ready": ready, "restartCount": 0,
                               "image": "x", "imageID": "", "started": ready}],
    }
