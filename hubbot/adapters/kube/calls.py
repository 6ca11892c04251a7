"""How hubbot calls the Kubernetes API: the timeout of each call, namespaced lists read as raw
JSON, and what a failed call means for hubbot's caller, as :mod:`hubbot.errors`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from hubbot.deploys.objects import ObjectList
from hubbot.domain import KubeTarget
from hubbot.errors import UpstreamError

KUBE_TIMEOUT = (10.0, 30.0)  # connect, read (seconds)

_Object = TypeVar("_Object", bound=Mapping[str, object])


@contextmanager
def api_failures(target: KubeTarget, *, doing: str, needs: str) -> Iterator[None]:
    """Turn the SDK's failures inside the block into :class:`UpstreamError`: refused credentials
    (saying what they ``needs`` to be allowed, on a 403), TLS and connection failures, and any
    other HTTP status (the call was ``doing`` something, e.g. ``listing pods in hubs``). Statuses
    a caller can act on (404, 409, 422 ...) are caught inside the block, before they get here."""
    import urllib3
    from kubernetes.client.exceptions import ApiException

    cluster = target.cluster
    try:
        yield
    except ApiException as exc:
        if exc.status in (401, 403):
            detail = "" if exc.status == 401 else f"; they need to {needs}"
            raise UpstreamError(f"cluster {cluster} refused hubbot's credentials ({exc.status}){detail}") from exc
        if not exc.status:
            raise UpstreamError(f"could not reach cluster {cluster} securely (TLS failed); check its CA") from exc
        raise UpstreamError(f"cluster {cluster} answered HTTP {exc.status} {doing}; try again later.") from exc
    except urllib3.exceptions.HTTPError as exc:
        if isinstance(getattr(exc, "reason", exc), urllib3.exceptions.SSLError):
            raise UpstreamError(
                f"cluster {cluster} presented a TLS certificate its CA did not sign, so hubbot did not talk to it; "
                "check the cluster's CA (certificate-authority-data, or the one its cloud API reports)"
            ) from exc
        raise UpstreamError(f"could not reach cluster {cluster} ({type(exc).__name__}); try again later.") from exc


def status_message(exc: Any) -> str:
    """The ``message`` of the Status object an :class:`ApiException` carries ("" when none)."""
    try:
        status = json.loads(exc.body or "")
    except (TypeError, ValueError):
        return ""
    message = status.get("message") if isinstance(status, dict) else None
    return message if isinstance(message, str) else ""


def read_json(target: KubeTarget, response: Any, what: str) -> Any:
    """The JSON body of a response asked for with ``_preload_content=False``; its connection is
    released. ``what`` names the contents for the error when they are not JSON."""
    try:
        return json.loads(response.data)
    except ValueError as exc:
        raise UpstreamError(f"cluster {target.cluster} sent {what} hubbot could not read") from exc
    finally:
        response.release_conn()


def list_items(target: KubeTarget, namespace: str, plural: str, call: Callable[..., Any],
               item: type[_Object]) -> list[_Object] | None:
    """The items of one namespaced list (``call``, an SDK list method), as JSON; None when the
    namespace does not exist. ``item`` names the shape the API serves them in (see
    :mod:`hubbot.deploys.objects`): only each item being an object is checked here."""
    from kubernetes.client.exceptions import ApiException

    with api_failures(target, doing=f"listing {plural} in {namespace}",
                      needs=f"list {plural} in namespace {namespace}"):
        try:
            response = call(namespace, _preload_content=False, _request_timeout=KUBE_TIMEOUT)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        payload: ObjectList[_Object] = read_json(target, response, plural)
    items = payload.get("items") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise UpstreamError(f"cluster {target.cluster} sent a list of {plural} without items")
    return [found for found in items if isinstance(found, dict)]
