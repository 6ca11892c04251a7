"""GKE clusters: the endpoint and CA from the GKE API, and a token from Google credentials (the
application default credentials unless others are given), refreshed when it expires. Google client
and credential failures become messages safe to show users.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from hubbot.domain import KubeTarget
from hubbot.errors import UpstreamError
from hubbot.fleet import GkeAccess

_T = TypeVar("_T")

_GOOGLE_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
_API_TIMEOUT = 30.0


class GkeTargets:
    """How to reach GKE clusters. ``credentials`` returns the Google credentials to use (default:
    the application default credentials); they are made once and refreshed when they expire."""

    def __init__(self, credentials: Callable[[], Any] | None = None) -> None:
        self._given = credentials
        self._made: Any = None
        self._lock = threading.Lock()  # credentials refresh in worker threads, possibly at once

    async def target(self, cluster: str, access: GkeAccess) -> KubeTarget:
        return await asyncio.to_thread(_guard, cluster, lambda: self._target_sync(cluster, access))

    def _target_sync(self, cluster: str, access: GkeAccess) -> KubeTarget:
        from google.cloud import container_v1

        if access.endpoint and self._given is None:
            # An endpoint override is a stand-in or proxy: it gets no credentials of ours.
            from google.auth.credentials import AnonymousCredentials

            api_credentials: Any = AnonymousCredentials()  # type: ignore[no-untyped-call]
        else:
            api_credentials = self._credentials()
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
        return KubeTarget(cluster=cluster, server=server, token=self._token(), ca_data=ca)

    def _credentials(self) -> Any:
        with self._lock:
            if self._made is None:
                if self._given is not None:
                    self._made = self._given()
                else:
                    import google.auth

                    self._made, _ = google.auth.default(scopes=_GOOGLE_SCOPES)
            return self._made

    def _token(self) -> str:
        credentials = self._credentials()
        with self._lock:
            if not credentials.valid:
                from google.auth.transport.requests import Request

                credentials.refresh(Request())
            return str(credentials.token)


def _guard(cluster: str, call: Callable[[], _T]) -> _T:
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
