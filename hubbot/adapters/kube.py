"""The Kubernetes side of deploys: credentials for each cluster, and the rollout state and pods
of a namespace, through the official Kubernetes client.

Credentials come from the cluster's ``kubernetes:`` section in the fleet config: an EKS cluster's
endpoint and CA from the EKS API with a token signed like ``aws eks get-token``; a GKE cluster's
from the GKE API with a token from Google application credentials; or a kubeconfig file. Objects
are read as raw JSON and judged by :mod:`hubbot.deploys.rollout`. Blocking SDK calls run in worker
threads and the SDKs are imported on first use. Tokens never appear in errors.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from hubbot.deploys import rollout
from hubbot.domain import KubeTarget, PodCount, Workload
from hubbot.errors import NotFound, UpstreamError, UserError
from hubbot.fleet import EksAccess, Fleet, GkeAccess, KubeconfigAccess, did_you_mean

_T = TypeVar("_T")

EKS_TOKEN_PREFIX = "k8s-aws-v1."  # noqa: S105  # the token format's marker, not a secret
_EKS_ID_HEADER = "x-k8s-aws-id"
_EKS_URL_SECONDS = 60  # what aws eks get-token signs; EKS accepts the token for 15 minutes from signing
_EKS_TOKEN_REUSE = timedelta(minutes=10)  # well inside those 15, so a token never expires mid-deploy
_GOOGLE_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
_API_TIMEOUT = 30.0
_KUBE_TIMEOUT = (10.0, 30.0)  # connect, read
# kind, what the API calls a list of them, and the AppsV1Api method that lists them
_LISTS = (
    ("Deployment", "deployments", "list_namespaced_deployment"),
    ("DaemonSet", "daemonsets", "list_namespaced_daemon_set"),
    ("StatefulSet", "statefulsets", "list_namespaced_stateful_set"),
)


class KubeClusters:
    """The :class:`hubbot.ports.Clusters` port for the clusters of one fleet.

    ``gke_credentials`` returns the Google credentials for GKE (default: the application default
    credentials); ``clock`` tells the time for reusing EKS tokens (default: the system clock).
    """

    def __init__(self, fleet: Fleet, *, gke_credentials: Callable[[], Any] | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.fleet = fleet
        self._gke_credentials = gke_credentials
        self._clock = clock or (lambda: datetime.now(UTC))
        self._eks_tokens: dict[str, tuple[str, datetime]] = {}
        self._google: Any = None
        self._google_lock = threading.Lock()  # credentials refresh in worker threads, possibly at once
        self._clients = _Clients()

    def close(self) -> None:
        """Close the API clients kept between calls."""
        self._clients.close()

    async def target(self, cluster: str) -> KubeTarget:
        """How to reach ``cluster``'s API now. Raises :class:`NotFound` for an unknown cluster,
        :class:`UserError` when it has no usable ``kubernetes:`` section, and
        :class:`UpstreamError` when its provider or credentials fail."""
        config = self.fleet.clusters.get(cluster)
        if config is None:
            raise NotFound(f"unknown cluster '{cluster}'{did_you_mean(cluster, list(self.fleet.clusters))}")
        access = config.kubernetes
        if access is None:
            raise UserError(
                f"cluster '{cluster}' has no kubernetes: section in the fleet config, so hubbot cannot reach it; "
                "add one saying how: kind: eks (cluster_name, region), kind: gke (project, location, "
                "cluster_name) or kind: kubeconfig (path)"
            )
        if isinstance(access, EksAccess):
            return await self._eks(cluster, access)
        if isinstance(access, GkeAccess):
            return await asyncio.to_thread(_guard_google, cluster, lambda: self._gke_sync(cluster, access))
        return self._kubeconfig(cluster, access)

    async def workloads(self, target: KubeTarget, namespace: str) -> list[Workload]:
        """Every Deployment, DaemonSet and StatefulSet in ``namespace``, judged like
        ``kubectl rollout status``; empty when the namespace does not exist."""
        return await asyncio.to_thread(self._workloads_sync, target, namespace)

    async def pods(self, target: KubeTarget, namespace: str) -> PodCount:
        """How many of ``namespace``'s pods are Ready, of how many."""
        return await asyncio.to_thread(self._pods_sync, target, namespace)

    # -- EKS ---------------------------------------------------------------------------------

    async def _eks(self, cluster: str, access: EksAccess) -> KubeTarget:
        server, ca = await asyncio.to_thread(_guard_aws, cluster, lambda: _eks_endpoint(access))
        now = self._clock()
        cached = self._eks_tokens.get(cluster)
        if cached is None or now - cached[1] >= _EKS_TOKEN_REUSE or now < cached[1]:
            token = await asyncio.to_thread(_guard_aws, cluster, lambda: eks_token(access))
            cached = (token, now)
            self._eks_tokens[cluster] = cached
        return KubeTarget(cluster=cluster, server=server, token=cached[0], ca_data=ca)

    # -- GKE ---------------------------------------------------------------------------------

    def _gke_sync(self, cluster: str, access: GkeAccess) -> KubeTarget:
        from google.cloud import container_v1

        if access.endpoint and self._gke_credentials is None:
            # An endpoint override is a stand-in or proxy: it gets no credentials of ours.
            from google.auth.credentials import AnonymousCredentials

            api_credentials: Any = AnonymousCredentials()  # type: ignore[no-untyped-call]
        else:
            api_credentials = self._google_credentials()
        options = {"api_endpoint": access.endpoint} if access.endpoint else None
        name = f"projects/{access.project}/locations/{access.location}/clusters/{access.cluster_name}"
        with container_v1.ClusterManagerClient(credentials=api_credentials, transport="rest",
                                               client_options=options) as client:
            found = client.get_cluster(name=name, retry=None, timeout=_API_TIMEOUT)
        endpoint = found.endpoint
        if not endpoint:
            raise UpstreamError(f"GKE reports no endpoint for cluster '{cluster}' ({name}) yet; try again later.")
        server = endpoint if "://" in endpoint else f"https://{endpoint}"
        ca = found.master_auth.cluster_ca_certificate or None
        return KubeTarget(cluster=cluster, server=server, token=self._google_token(), ca_data=ca)

    def _google_credentials(self) -> Any:
        with self._google_lock:
            if self._google is None:
                if self._gke_credentials is not None:
                    self._google = self._gke_credentials()
                else:
                    import google.auth

                    self._google, _ = google.auth.default(scopes=_GOOGLE_SCOPES)
            return self._google

    def _google_token(self) -> str:
        credentials = self._google_credentials()
        with self._google_lock:
            if not credentials.valid:
                from google.auth.transport.requests import Request

                credentials.refresh(Request())
            return str(credentials.token)

    # -- kubeconfig ----------------------------------------------------------------------------

    def _kubeconfig(self, cluster: str, access: KubeconfigAccess) -> KubeTarget:
        path = Path(access.path).expanduser()
        if not path.is_absolute():
            path = self.fleet.base / path
        if not path.is_file():
            raise UserError(
                f"the kubeconfig file {path} for cluster '{cluster}' does not exist; fix kubernetes.path in the "
                "fleet config (relative paths start at the config file's folder) or mount the file there"
            )
        return KubeTarget(cluster=cluster, kubeconfig=str(path), context=access.context)

    # -- reading the cluster -------------------------------------------------------------------

    def _workloads_sync(self, target: KubeTarget, namespace: str) -> list[Workload]:
        from kubernetes import client

        found: list[Workload] = []
        with self._clients.use(target) as api:
            apps = client.AppsV1Api(api)
            for kind, plural, method in _LISTS:
                items = _list(target, namespace, plural, getattr(apps, method))
                if items is None:
                    return []
                found.extend(rollout.workload(kind, item) for item in items)
        return found

    def _pods_sync(self, target: KubeTarget, namespace: str) -> PodCount:
        from kubernetes import client

        with self._clients.use(target) as api:
            items = _list(target, namespace, "pods", client.CoreV1Api(api).list_namespaced_pod)
        if items is None:
            return PodCount(ready=0, total=0)
        return PodCount(ready=sum(1 for pod in items if rollout.pod_ready(pod)), total=len(items))


def eks_token(access: EksAccess) -> str:
    """A bearer token for an EKS cluster, made as ``aws eks get-token`` makes it: a presigned STS
    GetCallerIdentity URL that also signs the cluster's name, base64url-encoded without padding."""
    import boto3

    sts: Any = boto3.session.Session().client(
        "sts", region_name=access.region, endpoint_url=access.sts_endpoint_url, config=_aws_config()
    )

    def sign_cluster_name(request: Any, **_: Any) -> None:
        # EKS's authenticator insists the signed headers name the cluster, so a token for one
        # cluster cannot be replayed against another.
        request.headers[_EKS_ID_HEADER] = access.cluster_name

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", sign_cluster_name)
    url = str(sts.generate_presigned_url(
        "get_caller_identity", Params={}, ExpiresIn=_EKS_URL_SECONDS, HttpMethod="GET"
    ))
    return EKS_TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def _eks_endpoint(access: EksAccess) -> tuple[str, str | None]:
    import boto3

    eks: Any = boto3.session.Session().client(
        "eks", region_name=access.region, endpoint_url=access.endpoint_url, config=_aws_config()
    )
    found = eks.describe_cluster(name=access.cluster_name).get("cluster", {})
    endpoint = str(found.get("endpoint") or "").rstrip("/")
    if not endpoint:
        status = found.get("status", "unknown")
        raise UpstreamError(
            f"EKS cluster {access.cluster_name} has no endpoint yet (status {status}); try again later."
        )
    return endpoint, (found.get("certificateAuthority") or {}).get("data") or None


def _aws_config() -> Any:
    from botocore.config import Config

    return Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=10, read_timeout=30)


def _guard_aws(cluster: str, call: Callable[[], _T]) -> _T:
    """Run ``call``, turning botocore failures into messages safe to show users."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError

    try:
        return call()
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "unknown"))
        if code == "ResourceNotFoundException":
            raise UpstreamError(f"EKS has no cluster for '{cluster}' ({code}); check kubernetes.cluster_name and "
                                "region in the fleet config.") from exc
        if code in {"AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException"}:
            raise UpstreamError(f"AWS refused hubbot's credentials for cluster '{cluster}' ({code}); they need "
                                "eks:DescribeCluster and an access entry on the cluster.") from exc
        raise UpstreamError(f"EKS failed to describe cluster '{cluster}' ({code}); try again later.") from exc
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise UpstreamError(
            f"hubbot has no usable AWS credentials for cluster '{cluster}': configure credentials (environment, "
            "profile or instance role) allowed to describe the EKS cluster."
        ) from exc
    except BotoCoreError as exc:
        raise UpstreamError(
            f"Could not get an answer from AWS for cluster '{cluster}' ({type(exc).__name__}); try again later."
        ) from exc


def _guard_google(cluster: str, call: Callable[[], _T]) -> _T:
    """Run ``call``, turning Google client and credential failures into messages safe to show users."""
    from google.api_core import exceptions as api_errors
    from google.auth import exceptions as auth_errors
    from requests import RequestException

    try:
        return call()
    except api_errors.NotFound as exc:
        raise UpstreamError(f"GKE has no cluster for '{cluster}'; check kubernetes.project, location and "
                            "cluster_name in the fleet config.") from exc
    except (api_errors.Forbidden, api_errors.PermissionDenied, api_errors.Unauthorized) as exc:
        raise UpstreamError(f"GKE refused hubbot's request for cluster '{cluster}' (HTTP {exc.code}): grant "
                            "hubbot's service account roles/container.developer on the project.") from exc
    except api_errors.GoogleAPICallError as exc:
        raise UpstreamError(f"GKE failed for cluster '{cluster}' (HTTP {exc.code}); try again later.") from exc
    except auth_errors.DefaultCredentialsError as exc:
        raise UpstreamError(
            f"hubbot has no Google credentials for cluster '{cluster}': set GOOGLE_APPLICATION_CREDENTIALS or "
            "run with workload identity, as a service account allowed to use the cluster."
        ) from exc
    except auth_errors.RefreshError as exc:
        raise UpstreamError(f"Google refused to refresh hubbot's credentials for cluster '{cluster}'; check that "
                            "the service account and its key are still valid.") from exc
    except (auth_errors.GoogleAuthError, api_errors.GoogleAPIError, RequestException) as exc:
        raise UpstreamError(
            f"Could not get an answer from GKE for cluster '{cluster}' ({type(exc).__name__}); try again later."
        ) from exc


class _Clients:
    """ApiClients kept between calls, one per target (a kubeconfig file as it is now, or a server with
    its token and CA): a rollout is polled every few seconds, and a new client would parse the
    kubeconfig and open a new connection each time. A client whose call failed is not kept."""

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._kept: OrderedDict[tuple[Any, ...], tuple[Any, str | None]] = OrderedDict()
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            while self._kept:
                _close(self._kept.popitem()[1])

    @contextmanager
    def use(self, target: KubeTarget) -> Iterator[Any]:
        key = _key(target)
        with self._lock:
            found = self._kept.pop(key, None) if key is not None else None
        if found is None:
            found = _new_client(target)
        try:
            yield found[0]
        except BaseException:
            _close(found)
            raise
        with self._lock:
            if key is None or key in self._kept:
                _close(found)
                return
            self._kept[key] = found
            while len(self._kept) > self._size:
                _close(self._kept.popitem(last=False)[1])


def _key(target: KubeTarget) -> tuple[Any, ...] | None:
    if target.kubeconfig is not None:
        try:
            changed = os.stat(target.kubeconfig).st_mtime_ns
        except OSError:
            return None  # _new_client says what is wrong with it
        return ("kubeconfig", target.kubeconfig, target.context, changed)
    return ("server", target.server, target.token, target.ca_data)


def _close(found: tuple[Any, str | None]) -> None:
    api, ca_file = found
    api.close()
    if ca_file is not None:
        with suppress(FileNotFoundError):
            os.unlink(ca_file)


def _new_client(target: KubeTarget) -> tuple[Any, str | None]:
    """An ApiClient for ``target``, and the CA file written for it (removed when it is closed)."""
    from kubernetes import client, config

    if target.kubeconfig is not None:
        try:
            # persist_config off: never write refreshed credentials back into a (mounted) kubeconfig.
            api = config.new_client_from_config(  # type: ignore[no-untyped-call]  # not annotated
                config_file=target.kubeconfig, context=target.context, persist_config=False
            )
        except (config.ConfigException, OSError, ValueError) as exc:
            raise UserError(f"the kubeconfig {target.kubeconfig} for cluster '{target.cluster}' is unusable "
                            f"({type(exc).__name__}: {str(exc)[:200]})") from exc
        return api, None
    if not target.server or not target.token:
        raise UserError(f"no server and token for cluster '{target.cluster}'; resolve its target first")
    ca_file = _write_ca(target) if target.ca_data else None
    # One retry for a dropped connection: rollouts are polled, so the next poll retries anyway.
    configuration = client.Configuration(host=target.server, api_key={"authorization": f"Bearer {target.token}"},
                                         ssl_ca_cert=ca_file, retries=1)
    return client.ApiClient(configuration), ca_file


def _write_ca(target: KubeTarget) -> str:
    try:
        pem = base64.b64decode(target.ca_data or "", validate=True)
    except (binascii.Error, ValueError):
        raise UpstreamError(f"the CA certificate of cluster '{target.cluster}' is not valid base64") from None
    # mkstemp makes the file readable by this user only.
    fd, path = tempfile.mkstemp(prefix="hubbot-ca-", suffix=".pem")
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
    return path


def _list(target: KubeTarget, namespace: str, plural: str, call: Callable[..., Any]) -> list[dict[str, Any]] | None:
    """The items of one namespaced list, as JSON; None when the namespace does not exist."""
    import urllib3
    from kubernetes.client.exceptions import ApiException

    cluster = target.cluster
    try:
        response = call(namespace, _preload_content=False, _request_timeout=_KUBE_TIMEOUT)
        try:
            payload = json.loads(response.data)
        finally:
            response.release_conn()
    except ApiException as exc:
        if exc.status == 404:
            return None
        if exc.status in (401, 403):
            detail = "" if exc.status == 401 else f"; they need to list {plural} in namespace {namespace}"
            raise UpstreamError(f"cluster {cluster} refused hubbot's credentials ({exc.status}){detail}") from exc
        if not exc.status:
            raise UpstreamError(f"could not reach cluster {cluster} securely (TLS failed); check its CA") from exc
        raise UpstreamError(
            f"cluster {cluster} answered HTTP {exc.status} listing {plural} in {namespace}; try again later."
        ) from exc
    except urllib3.exceptions.HTTPError as exc:
        if isinstance(getattr(exc, "reason", exc), urllib3.exceptions.SSLError):
            raise UpstreamError(
                f"cluster {cluster} presented a TLS certificate its CA did not sign, so hubbot did not talk to it; "
                "check the cluster's CA (certificate-authority-data, or the one its cloud API reports)"
            ) from exc
        raise UpstreamError(f"could not reach cluster {cluster} ({type(exc).__name__}); try again later.") from exc
    except ValueError as exc:
        raise UpstreamError(f"cluster {cluster} sent {plural} hubbot could not read") from exc
    items = payload.get("items") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise UpstreamError(f"cluster {cluster} sent a list of {plural} without items")
    return [item for item in items if isinstance(item, dict)]

