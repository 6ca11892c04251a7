"""An in-memory twin of a namespace's ResourceQuotas (:class:`hubbot.ports.usage.NamespaceQuotas`),
held to a real Kubernetes API server by ``tests/test_namespace_quota_contract.py``: it reads,
checks and writes quantities back as the API server does (:mod:`~hubbot.quotas.quantity`)
and refuses what it refuses, with the same messages as :class:`hubbot.adapters.kube.KubeClusters`.
No controller runs here: ``used`` is what :meth:`MemoryNamespaceQuotas.record_use` wrote."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from hubbot.domain import KubeTarget, NamespaceQuota
from hubbot.errors import UserError
from hubbot.quotas.quantity import Quantity, QuantityError, parse

_DETAIL_CHARS = 200
# The resource names a quota may limit without a domain prefix (and hugepages-<size>).
_QUOTA_RESOURCES = frozenset({
    "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.storage",
    "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods",
    "resourcequotas", "services", "replicationcontrollers", "secrets", "persistentvolumeclaims", "configmaps",
    "services.nodeports", "services.loadbalancers",
})
_RESOURCES = _QUOTA_RESOURCES | {"storage"}  # known to the API, not all of them to quotas
_COUNTS = frozenset({"pods", "resourcequotas", "services", "replicationcontrollers", "secrets", "configmaps",
                     "persistentvolumeclaims", "services.nodeports", "services.loadbalancers"})
_KEY_FORMAT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_KEY = re.compile(f"^{_KEY_FORMAT}$")
_KEY_MESSAGE = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                f"alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                f"'{_KEY_FORMAT}')")
_SUBDOMAIN_FORMAT = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_SUBDOMAIN = re.compile(f"^{_SUBDOMAIN_FORMAT}$")
_SUBDOMAIN_MESSAGE = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
                      "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
                      f"for validation is '{_SUBDOMAIN_FORMAT}')")


class MemoryNamespaceQuotas:
    """ResourceQuotas by (cluster, namespace). A namespace exists once given in ``namespaces``,
    added with :meth:`add_namespace`, or holding a quota added with :meth:`add_quota`."""

    def __init__(self, namespaces: Iterable[tuple[str, str]] = ()) -> None:
        self._namespaces = set(namespaces)
        self._quotas: dict[tuple[str, str], dict[str, NamespaceQuota]] = {}

    async def target(self, cluster: str) -> KubeTarget:
        return KubeTarget(cluster=cluster)

    def add_namespace(self, cluster: str, namespace: str) -> None:
        self._namespaces.add((cluster, namespace))

    def add_quota(self, cluster: str, namespace: str, quota: NamespaceQuota) -> None:
        """Put ``quota`` there as someone (hubbot, when ``managed``) made it, its values as the API
        would write them."""
        self.add_namespace(cluster, namespace)
        hard = {key: str(parse(value)) for key, value in quota.hard.items()}
        self._quotas.setdefault((cluster, namespace), {})[quota.name] = NamespaceQuota(
            quota.name, hard=hard, used=dict(quota.used), managed=quota.managed)

    def record_use(self, cluster: str, namespace: str, name: str, used: Mapping[str, str]) -> None:
        """Write ``used`` into quota ``name``, as the quota controller does."""
        quota = self._quotas[(cluster, namespace)][name]
        self._quotas[(cluster, namespace)][name] = NamespaceQuota(
            name, hard=quota.hard, used=dict(used), managed=quota.managed)

    async def resource_quotas(self, target: KubeTarget, namespace: str) -> list[NamespaceQuota]:
        found = self._quotas.get((target.cluster, namespace), {})
        return [found[name] for name in sorted(found)]

    async def set_resource_quota(self, target: KubeTarget, namespace: str, *, name: str,
                                 hard: Mapping[str, str | None]) -> NamespaceQuota:
        cluster, where = target.cluster, f"ResourceQuota {name} in namespace {namespace}"
        changes = dict(sorted(hard.items()))
        values = {key: value for key, value in changes.items() if value is not None}
        existing = self._quotas.get((cluster, namespace), {}).get(name)
        if existing is None and not values:
            raise UserError(f"{where} on cluster {cluster} does not exist, so it has no limits to remove")
        merged: dict[str, str | Quantity] = dict(existing.hard) if existing else {}
        for key, value in changes.items():
            if value is None:
                merged.pop(key, None)
                continue
            try:
                merged[key] = parse(value)
            except QuantityError as exc:
                sent = ", ".join(f"{k}={v}" for k, v in values.items())
                raise _refused(cluster, where, f"{exc} (sent: {sent})") from None
        problems = [] if existing else _name_problems(name)
        for key in merged:
            problems += _value_problems(key, merged[key])
        if problems:
            # As the adapter lists them: by field, each field's errors in the order they are found.
            problems.sort(key=lambda problem: problem.partition(": ")[0])
            raise _refused(cluster, where, ", ".join(problems))
        if existing is None and (cluster, namespace) not in self._namespaces:
            raise UserError(f"namespace {namespace} does not exist on cluster {cluster}; deploy the hub first")
        quota = NamespaceQuota(name, hard={key: str(value) for key, value in merged.items()},
                               used=dict(existing.used) if existing else {},
                               managed=existing.managed if existing else True)
        self._quotas.setdefault((cluster, namespace), {})[name] = quota
        return quota


def _refused(cluster: str, where: str, detail: str) -> UserError:
    if len(detail) > _DETAIL_CHARS:
        detail = detail[: _DETAIL_CHARS - 1] + "…"
    return UserError(f"cluster {cluster} refused {where}: {detail}")


def _invalid(field: str, value: object, message: str) -> str:
    return f'{field}: Invalid value: "{value}": {message}'


def _name_problems(name: str) -> list[str]:
    problems = []
    if len(name) > 253:
        problems.append(_invalid("metadata.name", name, "must be no more than 253 bytes"))
    if not _SUBDOMAIN.match(name):
        problems.append(_invalid("metadata.name", name, _SUBDOMAIN_MESSAGE))
    return problems


def _key_problems(key: str) -> list[str]:
    """What the API says of ``key`` as a qualified name (an optional DNS subdomain prefix and '/')."""
    parts = key.split("/")
    if len(parts) > 2:
        return [f"a valid label key {_KEY_MESSAGE} with an optional DNS subdomain prefix and '/' "
                "(e.g. 'example.com/MyName')"]
    problems = []
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            problems.append("prefix part must be non-empty")
        else:
            if len(prefix) > 253:
                problems.append("prefix part must be no more than 253 bytes")
            if not _SUBDOMAIN.match(prefix):
                problems.append(f"prefix part {_SUBDOMAIN_MESSAGE}")
    name = parts[-1]
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > 63:
        problems.append("name part must be no more than 63 bytes")
    if not _KEY.match(name):
        problems.append(f"name part {_KEY_MESSAGE}")
    return problems


def _value_problems(key: str, value: str | Quantity) -> list[str]:
    """The API server's ``ValidateResourceQuotaResourceName`` and ``ValidateResourceQuantityValue``."""
    field = f"spec.hard[{key}]"
    problems = [_invalid(field, key, problem) for problem in _key_problems(key)]
    if "/" not in key:
        huge_pages = key.startswith(("hugepages-", "requests.hugepages-"))
        if not problems and key not in _RESOURCES and not huge_pages:
            problems.append(_invalid(field, key, "must be a standard resource type or fully qualified"))
        if key not in _QUOTA_RESOURCES and not huge_pages:
            problems.append(_invalid(field, key, "must be a standard resource for quota"))
    if isinstance(value, Quantity):  # values already held were checked when they were set
        if value.amount < 0:
            problems.append(_invalid(field, value, "must be greater than or equal to 0"))
        if _counted(key) and value.amount != value.amount.to_integral_value():
            problems.append(_invalid(field, value, "must be an integer"))
    return problems


def _counted(key: str) -> bool:
    """Whether the API counts ``key`` in whole numbers: object counts, and extended resources
    (``example.com/gpu``, ``count/pods``) though not ``requests.<domain>/<name>``."""
    if key in _COUNTS:
        return True
    native = "/" not in key or "kubernetes.io/" in key
    return not native and not key.startswith("requests.") and not _key_problems(f"requests.{key}")
