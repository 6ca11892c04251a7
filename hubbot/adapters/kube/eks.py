"""EKS clusters: the endpoint and CA from the EKS API, and a bearer token signed like
``aws eks get-token``, reused for ten minutes. botocore failures become messages safe to show users.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from hubbot.domain import KubeTarget
from hubbot.errors import UpstreamError
from hubbot.fleet import EksAccess

_T = TypeVar("_T")

EKS_TOKEN_PREFIX = "k8s-aws-v1."  # noqa: S105  # the token format's marker, not a secret
_EKS_ID_HEADER = "x-k8s-aws-id"
_EKS_URL_SECONDS = 60  # what aws eks get-token signs; EKS accepts the token for 15 minutes from signing
_EKS_TOKEN_REUSE = timedelta(minutes=10)  # well inside those 15, so a token never expires mid-deploy


class EksTargets:
    """How to reach EKS clusters; each cluster's token is kept for :data:`_EKS_TOKEN_REUSE` as ``clock`` tells it."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._tokens: dict[str, tuple[str, datetime]] = {}

    async def target(self, cluster: str, access: EksAccess) -> KubeTarget:
        server, ca = await asyncio.to_thread(_guard, cluster, lambda: _endpoint(access))
        now = self._clock()
        cached = self._tokens.get(cluster)
        if cached is None or now - cached[1] >= _EKS_TOKEN_REUSE or now < cached[1]:
            token = await asyncio.to_thread(_guard, cluster, lambda: eks_token(access))
            cached = (token, now)
            self._tokens[cluster] = cached
        return KubeTarget(cluster=cluster, server=server, token=cached[0], ca_data=ca)


def eks_token(access: EksAccess) -> str:
    """A bearer token for an EKS cluster, made as ``aws eks get-token`` makes it: a presigned STS
    GetCallerIdentity URL that also signs the cluster's name, base64url-encoded without padding."""
    from hubbot.adapters.metered import aws_session

    sts: Any = aws_session().client(
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


def _endpoint(access: EksAccess) -> tuple[str, str | None]:
    from hubbot.adapters.metered import aws_session

    eks: Any = aws_session().client(
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


def _guard(cluster: str, call: Callable[[], _T]) -> _T:
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

