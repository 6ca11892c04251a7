"""A namespace's ResourceQuotas (the :class:`hubbot.ports.usage.NamespaceQuotas` port) through the
Kubernetes API, read and written as raw JSON.

A change is a JSON merge patch (``application/merge-patch+json``, where a null removes a key) of
``spec.hard``; the client would otherwise send a dict as a strategic merge patch. A quota that does
not exist yet is created, labelled ``app.kubernetes.io/managed-by: hubbot``. Quantities are kept as
the API writes them: it rewrites some (``1.5`` becomes ``1500m``, ``2048Mi`` becomes ``2Gi``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any, TypedDict, cast

from hubbot.adapters.kube.calls import KUBE_TIMEOUT, api_failures, list_items, read_json, status_message
from hubbot.adapters.kube.clients import ApiClients
from hubbot.domain import KubeTarget, NamespaceQuota
from hubbot.errors import UpstreamError, UserError

MANAGED_BY = "app.kubernetes.io/managed-by"
_MERGE_PATCH = "application/merge-patch+json"
_DETAIL_CHARS = 200
# How the API server says it could not read a value (a quantity it cannot parse): on create, and
# on a patch (whose message quotes the whole patched object first).
_UNREADABLE = (re.compile(r"cannot be handled as a \w+: (?P<reason>.*)\Z", re.S),
               re.compile(r'patch: Invalid value: ".*": (?P<reason>.*)\Z', re.S))
_INVALID = re.compile(r" is invalid: \[?(?P<errors>.*?)\]?\Z", re.S)
_NEXT_FIELD = re.compile(r", (?=(?:metadata|spec)[.\w\[\]/-]*: )")


class _Meta(TypedDict, total=False):
    name: str
    labels: dict[str, str]


class _Spec(TypedDict, total=False):
    hard: dict[str, str]


class _Status(TypedDict, total=False):
    hard: dict[str, str]  # what the quota controller last saw in spec.hard
    used: dict[str, str]


class ResourceQuotaObject(TypedDict, total=False):
    """A ResourceQuota as the API serves it (only the fields read here)."""

    metadata: _Meta
    spec: _Spec
    status: _Status


class KubeQuotas:
    """The :class:`hubbot.ports.usage.NamespaceQuotas` port, through the API clients of
    :class:`hubbot.adapters.kube.KubeClusters` (which hands its calls on to this)."""

    def __init__(self, clients: ApiClients) -> None:
        self._clients = clients

    async def resource_quotas(self, target: KubeTarget, namespace: str) -> list[NamespaceQuota]:
        return await asyncio.to_thread(self._list_sync, target, namespace)

    async def set_resource_quota(self, target: KubeTarget, namespace: str, *, name: str,
                                 hard: Mapping[str, str | None]) -> NamespaceQuota:
        return await asyncio.to_thread(self._set_sync, target, namespace, name, dict(sorted(hard.items())))

    def _list_sync(self, target: KubeTarget, namespace: str) -> list[NamespaceQuota]:
        from kubernetes import client

        with self._clients.use(target) as api:
            items = list_items(target, namespace, "resourcequotas",
                               client.CoreV1Api(api).list_namespaced_resource_quota, ResourceQuotaObject)
        return sorted((_quota(item) for item in items or []), key=lambda quota: quota.name)

    def _set_sync(self, target: KubeTarget, namespace: str, name: str,
                  changes: dict[str, str | None]) -> NamespaceQuota:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        cluster, where = target.cluster, f"ResourceQuota {name} in namespace {namespace}"
        values = {key: value for key, value in changes.items() if value is not None}

        def send(call: Any, *args: Any, **kwargs: Any) -> NamespaceQuota:
            try:
                response = call(*args, _preload_content=False, _request_timeout=KUBE_TIMEOUT, **kwargs)
            except ApiException as exc:
                refused = _refusal(exc, cluster=cluster, where=where, values=values)
                if refused is not None:
                    raise refused from exc
                raise
            found = read_json(target, response, "a ResourceQuota")
            if not isinstance(found, dict):
                raise UpstreamError(f"cluster {cluster} answered a change of {where} with something else")
            return _quota(cast(ResourceQuotaObject, found))

        needs = f"get/list/create/patch resourcequotas in namespace {namespace}"
        with self._clients.use(target) as api, api_failures(target, doing=f"changing {where}", needs=needs):
            core = client.CoreV1Api(api)

            def patch() -> NamespaceQuota:
                return send(core.patch_namespaced_resource_quota, name, namespace, {"spec": {"hard": changes}},
                            _content_type=_MERGE_PATCH)

            try:
                return patch()
            except ApiException as exc:
                if exc.status != 404:
                    raise
            if not values:
                raise UserError(f"{where} on cluster {cluster} does not exist, so it has no limits to remove")
            body = {"apiVersion": "v1", "kind": "ResourceQuota",
                    "metadata": {"name": name, "labels": {MANAGED_BY: "hubbot"}}, "spec": {"hard": values}}
            try:
                return send(core.create_namespaced_resource_quota, namespace, body)
            except ApiException as exc:
                if exc.status == 404:
                    raise UserError(
                        f"namespace {namespace} does not exist on cluster {cluster}; deploy the hub first") from exc
                if exc.status != 409:
                    raise
            return patch()  # made by someone else since the first patch found none


def _refusal(exc: Any, *, cluster: str, where: str, values: Mapping[str, str]) -> UserError | None:
    """The :class:`UserError` for a change the API server refused as asked (an invalid value, or a
    rule of the namespace), or None for what :func:`api_failures` says (credentials, outages)."""
    message = status_message(exc)
    if exc.status == 403 and message and 'is forbidden: User "' not in message:
        detail = message  # e.g. the namespace is being deleted; an RBAC refusal names the user
    elif exc.status in (400, 422):
        detail = message or f"HTTP {exc.status}"
        for pattern in _UNREADABLE:
            if unreadable := pattern.search(message):
                sent = ", ".join(f"{key}={value}" for key, value in values.items())
                detail = f"{unreadable['reason']} (sent: {sent})"
                break
        else:
            if invalid := _INVALID.search(message):
                # The server lists the fields in no fixed order (it walks a map): by field, each
                # field's errors as they came.
                errors = _NEXT_FIELD.split(invalid["errors"])
                detail = ", ".join(sorted(errors, key=lambda error: error.partition(": ")[0]))
    else:
        return None
    if len(detail) > _DETAIL_CHARS:
        detail = detail[: _DETAIL_CHARS - 1] + "…"
    return UserError(f"cluster {cluster} refused {where}: {detail}")


def _strings(found: object) -> dict[str, str]:
    if not isinstance(found, dict):
        return {}
    return {key: value for key, value in found.items() if isinstance(key, str) and isinstance(value, str)}


def _quota(item: ResourceQuotaObject) -> NamespaceQuota:
    meta, spec, status = item.get("metadata") or {}, item.get("spec") or {}, item.get("status") or {}
    return NamespaceQuota(name=str(meta.get("name", "")), hard=_strings(spec.get("hard")),
                          used=_strings(status.get("used")),
                          managed=_strings(meta.get("labels")).get(MANAGED_BY) == "hubbot")
