"""A namespace's ResourceQuotas: the in-memory twin and the real adapter on a real Kubernetes API
server (with its quota controller, from `make kube`) agree on what a quota holds after each change,
how the API writes quantities back, what it refuses and how that reads. The quota controller's
part (``used``) and refused credentials are checked on the real server only."""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from hubbot.adapters.kube import KubeClusters
from hubbot.adapters.memory import MemoryNamespaceQuotas
from hubbot.domain import KubeTarget, NamespaceQuota
from hubbot.errors import UpstreamError, UserError
from hubbot.fleet import parse_fleet
from hubbot.ports.usage import NamespaceQuotas
from tests.support.kube_control_plane import ControlPlane, wait_until

CLUSTER = "c1"
MANAGED_BY = "app.kubernetes.io/managed-by"
# What the API server writes back for what was sent (measured on kube-apiserver v1.37.2): the
# canonical form, unless the value was sent in a form it keeps; everything rounded up to millis.
CANONICAL = {
    "1.5": "1500m", "0.5": "500m", "1000m": "1", "1.0": "1", "2000": "2k", "1.5k": "1500", "12e6": "12e6",
    "1e3": "1e3", "1E3": "1E3", "3e-3": "3e-3", "1e21": "1e21", "1.5Gi": "1536Mi", "2048Ki": "2Mi",
    "1025Ki": "1025Ki", "0.5Ki": "512", "1.1Ki": "1126400m", "8Ei": "9223372036854775807", "+5": "+5",
    "05": "05", " 5 ": "5", "1.": "1.", "1.500": "1.500", "1.000001": "1001m", "7.5u": "1m", "0.1n": "1m",
    "1e-10": "1e-3", "-0": "0", "e3": "0", "+": "0", "1000E": "1", "1000000000000000000000": "1",
    "123456789012345678901234567890": "123456789012345678901234567890",
}
FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


@dataclass
class Quotas:
    api: NamespaceQuotas
    target: KubeTarget
    namespace: str  # exists, and holds no quota yet
    missing: str  # does not exist
    add_foreign: Callable[[str, dict[str, str]], None]  # a quota someone else made (as Helm would)

    async def list(self) -> list[NamespaceQuota]:
        return await self.api.resource_quotas(self.target, self.namespace)

    async def set(self, name: str = "hubbot", **hard: str | None) -> NamespaceQuota:
        return await self.api.set_resource_quota(self.target, self.namespace, name=name, hard=hard)

    def refused(self, detail: str, name: str = "hubbot") -> str:
        return f"cluster {CLUSTER} refused ResourceQuota {name} in namespace {self.namespace}: {detail}"


def _target(plane: ControlPlane, token: str) -> KubeTarget:
    return KubeTarget(CLUSTER, server=plane.server, token=token, ca_data=base64.b64encode(plane.ca_pem).decode())


@pytest.fixture(params=["memory", pytest.param("kube", marks=pytest.mark.kube)])
def quotas(request: pytest.FixtureRequest) -> Iterator[Quotas]:
    missing = f"absent-{secrets.token_hex(3)}"
    if request.param == "memory":
        twin = MemoryNamespaceQuotas([(CLUSTER, "hubs")])

        def add_to_twin(name: str, hard: dict[str, str]) -> None:
            twin.add_quota(CLUSTER, "hubs", NamespaceQuota(name, hard=hard))

        yield Quotas(twin, KubeTarget(CLUSTER), "hubs", missing, add_to_twin)
        return
    from kubernetes import client

    plane: ControlPlane = request.getfixturevalue("kube_control_plane")
    namespace: str = request.getfixturevalue("kube_namespace")
    core = client.CoreV1Api(plane.api_client())

    def add_to_cluster(name: str, hard: dict[str, str]) -> None:
        core.create_namespaced_resource_quota(namespace, {
            "metadata": {"name": name, "labels": {MANAGED_BY: "Helm"}}, "spec": {"hard": hard}})

    clusters = KubeClusters(parse_fleet({}))
    try:
        yield Quotas(clusters, _target(plane, plane.token), namespace, missing, add_to_cluster)
    finally:
        clusters.close()


def _view(found: list[NamespaceQuota]) -> list[tuple[str, dict[str, str], bool]]:
    """What a change decides; ``used`` is the quota controller's, and it writes it when it likes."""
    return [(q.name, dict(q.hard), q.managed) for q in found]


async def test_a_namespace_without_quotas_or_without_existence_lists_none(quotas: Quotas) -> None:
    assert await quotas.list() == []
    assert await quotas.api.resource_quotas(quotas.target, quotas.missing) == []


async def test_a_new_quota_is_hubbots_and_reads_back(quotas: Quotas) -> None:
    made = await quotas.set(cpu="4", memory="16Gi", pods="20")
    # Nothing has counted anything yet when the API answers a create.
    assert made == NamespaceQuota("hubbot", hard={"cpu": "4", "memory": "16Gi", "pods": "20"}, used={}, managed=True)
    quotas.add_foreign("another", {"pods": "5"})
    assert _view(await quotas.list()) == [("another", {"pods": "5"}, False),
                                          ("hubbot", {"cpu": "4", "memory": "16Gi", "pods": "20"}, True)]


async def test_quantities_come_back_as_the_api_writes_them(quotas: Quotas) -> None:
    # requests.<domain>/<name> limits take any amount, so one quota carries every case.
    sent = {f"requests.example.com/q{i:02d}": value for i, value in enumerate(CANONICAL)}
    made = await quotas.set(**sent)
    assert made.hard == {key: CANONICAL[value] for key, value in sent.items()}


async def test_a_change_merges_into_the_limits_and_none_removes_one(quotas: Quotas) -> None:
    await quotas.set(cpu="4", memory="16Gi", pods="20")
    changed = await quotas.set(cpu="8")
    assert (changed.hard, changed.managed) == ({"cpu": "8", "memory": "16Gi", "pods": "20"}, True)
    removed = await quotas.set(memory=None, services=None)  # services was never set: nothing to remove
    assert removed.hard == {"cpu": "8", "pods": "20"}
    assert _view(await quotas.list()) == [("hubbot", {"cpu": "8", "pods": "20"}, True)]
    emptied = await quotas.set(cpu=None, pods=None)
    assert emptied.hard == {}
    assert _view(await quotas.list()) == [("hubbot", {}, True)]


async def test_a_quota_someone_else_made_is_changed_and_stays_theirs(quotas: Quotas) -> None:
    quotas.add_foreign("compute", {"cpu": "2", "pods": "10"})
    changed = await quotas.set("compute", cpu="3", memory="1.5Gi")
    assert (changed.name, changed.hard, changed.managed) == (
        "compute", {"cpu": "3", "memory": "1536Mi", "pods": "10"}, False)
    assert _view(await quotas.list()) == [("compute", {"cpu": "3", "memory": "1536Mi", "pods": "10"}, False)]


INVALID = [
    ({"cpu": "abc", "memory": "4Gi"}, f"{FORMAT_WRONG} (sent: cpu=abc, memory=4Gi)"),
    ({"cpu": "1Kk"}, "unable to parse quantity's suffix (sent: cpu=1Kk)"),
    # Sent as a strategic merge patch (what the client picks for a dict), this would replace the
    # limits with pods=4; as a JSON merge patch it is a limit named $patch.
    ({"$patch": "replace", "pods": "4"}, f"{FORMAT_WRONG} (sent: $patch=replace, pods=4)"),
    ({"cpu": "1.2.3"}, f"{FORMAT_WRONG} (sent: cpu=1.2.3)"),
    ({"cpu": ""}, f"{FORMAT_WRONG} (sent: cpu=)"),
    ({"cpu": "-1"}, 'spec.hard[cpu]: Invalid value: "-1": must be greater than or equal to 0'),
    ({"memory": "-1.5Gi"}, 'spec.hard[memory]: Invalid value: "-1536Mi": must be greater than or equal to 0'),
    ({"pods": "1.5"}, 'spec.hard[pods]: Invalid value: "1500m": must be an integer'),
    ({"example.com/gpu": "0.5"}, 'spec.hard[example.com/gpu]: Invalid value: "500m": must be an integer'),
    ({"count/pods": "2.5"}, 'spec.hard[count/pods]: Invalid value: "2500m": must be an integer'),
    ({"foo": "1"}, 'spec.hard[foo]: Invalid value: "foo": must be a standard resource type or fully qualified, '
                   'spec.hard[foo]: Invalid value: "foo": must be a standard resource for quota'),
    ({"storage": "1Gi"}, 'spec.hard[storage]: Invalid value: "storage": must be a standard resource for quota'),
    ({"a/b/c": "1"}, 'spec.hard[a/b/c]: Invalid value: "a/b/c": a valid label key must consist of alphanumeric '
                     "characters, '-', '_' or '.', and must start and end with an alphanumeric character "
                     "(e.g. 'MyName',  or 'my.nam…"),  # cut short at 200 characters
    ({"pods": "0.5", "memory": "2Gi", "cpu": "-1"},  # several at once: by key
     'spec.hard[cpu]: Invalid value: "-1": must be greater than or equal to 0, '
     'spec.hard[pods]: Invalid value: "500m": must be an integer'),
]


@pytest.mark.parametrize(("hard", "detail"), INVALID, ids=[str(i) for i in range(len(INVALID))])
async def test_what_the_api_refuses_is_a_user_error_and_changes_nothing(
        quotas: Quotas, hard: dict[str, str], detail: str) -> None:
    with pytest.raises(UserError) as new:
        await quotas.set(**hard)
    assert str(new.value) == quotas.refused(detail)
    assert await quotas.list() == []
    await quotas.set(cpu="4", pods="20")
    before = _view(await quotas.list())
    with pytest.raises(UserError) as changed:
        await quotas.set(**hard)
    assert str(changed.value) == quotas.refused(detail)
    assert _view(await quotas.list()) == before


async def test_a_quota_name_the_api_refuses(quotas: Quotas) -> None:
    with pytest.raises(UserError) as refused:
        await quotas.set("Hub_Quota", cpu="1")
    assert str(refused.value) == quotas.refused(
        'metadata.name: Invalid value: "Hub_Quota": a lowercase RFC 1123 subdomain must consist of lower case '
        "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. '…",
        name="Hub_Quota")
    assert await quotas.list() == []


async def test_a_missing_namespace_or_quota_says_what_is_missing(quotas: Quotas) -> None:
    with pytest.raises(UserError) as refused:
        await quotas.api.set_resource_quota(quotas.target, quotas.missing, name="hubbot", hard={"cpu": "1"})
    assert str(refused.value) == f"namespace {quotas.missing} does not exist on cluster {CLUSTER}; deploy the hub first"
    with pytest.raises(UserError) as nothing:
        await quotas.set(cpu=None)
    assert str(nothing.value) == (f"ResourceQuota hubbot in namespace {quotas.namespace} on cluster {CLUSTER} does "
                                  "not exist, so it has no limits to remove")
    assert await quotas.list() == []


async def test_the_twin_reports_the_use_recorded_as_the_controller_would() -> None:
    twin = MemoryNamespaceQuotas()
    twin.add_quota(CLUSTER, "hubs", NamespaceQuota("compute", hard={"requests.cpu": "1.5"}))
    twin.record_use(CLUSTER, "hubs", "compute", {"requests.cpu": "250m"})
    changed = await twin.set_resource_quota(KubeTarget(CLUSTER), "hubs", name="compute", hard={"pods": "4"})
    assert changed == NamespaceQuota("compute", hard={"requests.cpu": "1500m", "pods": "4"},
                                     used={"requests.cpu": "250m"}, managed=False)
    assert await twin.resource_quotas(KubeTarget(CLUSTER), "hubs") == [changed]


# -- the real server only -------------------------------------------------------------------------


def _pod(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [
        {"name": "main", "image": "busybox:1.36", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}}]}}


@pytest.mark.kube
def test_the_quota_controller_fills_in_what_is_used(kube_control_plane: ControlPlane, kube_namespace: str) -> None:
    """The pod is there before the quota, so admission never counted it: ``used`` comes from the
    controller's own count, and so does its drop when the pod goes."""
    from kubernetes import client

    core = client.CoreV1Api(kube_control_plane.api_client())
    core.create_namespaced_pod(kube_namespace, _pod("notebook"))
    clusters = KubeClusters(parse_fleet({}))
    target = _target(kube_control_plane, kube_control_plane.token)
    try:
        made = asyncio.run(clusters.set_resource_quota(
            target, kube_namespace, name="hubbot", hard={"requests.cpu": "2", "requests.memory": "4Gi", "pods": "10"}))
        assert made.used == {}

        def used() -> dict[str, str]:
            (quota,) = asyncio.run(clusters.resource_quotas(target, kube_namespace))
            return dict(quota.used)

        wait_until(lambda: used().get("requests.cpu") == "250m", 30, "the quota controller to count the pod")
        assert used() == {"requests.cpu": "250m", "requests.memory": "64Mi", "pods": "1"}
        core.delete_namespaced_pod("notebook", kube_namespace, grace_period_seconds=0)
        wait_until(lambda: used() == {"requests.cpu": "0", "requests.memory": "0", "pods": "0"}, 30,
                   "the quota controller to see the pod gone")
        # A change answers with the status the controller last wrote.
        changed = asyncio.run(clusters.set_resource_quota(target, kube_namespace, name="hubbot", hard={"pods": "5"}))
        assert changed.used == {"requests.cpu": "0", "requests.memory": "0", "pods": "0"}
    finally:
        clusters.close()


@pytest.mark.kube
async def test_refused_credentials_are_upstream_errors_that_say_what_they_need(
        kube_control_plane: ControlPlane, kube_namespace: str) -> None:
    from kubernetes import client

    clusters = KubeClusters(parse_fleet({}))
    try:
        wrong = "not-" + secrets.token_hex(16)
        for call in (clusters.resource_quotas(_target(kube_control_plane, wrong), kube_namespace),
                     clusters.set_resource_quota(_target(kube_control_plane, wrong), kube_namespace, name="hubbot",
                                                 hard={"cpu": "1"})):
            with pytest.raises(UpstreamError) as unknown:
                await call
            assert str(unknown.value) == f"cluster {CLUSTER} refused hubbot's credentials (401)"

        # A service account nobody granted anything: its token is good, its requests are forbidden.
        core = client.CoreV1Api(kube_control_plane.api_client())
        core.create_namespaced_service_account(kube_namespace, {"metadata": {"name": "nobody"}})
        token = core.create_namespaced_service_account_token(
            "nobody", kube_namespace, {"spec": {"expirationSeconds": 600}}).status.token
        nobody = _target(kube_control_plane, token)
        with pytest.raises(UpstreamError) as listing:
            await clusters.resource_quotas(nobody, kube_namespace)
        assert str(listing.value) == (f"cluster {CLUSTER} refused hubbot's credentials (403); they need to list "
                                      f"resourcequotas in namespace {kube_namespace}")
        with pytest.raises(UpstreamError) as changing:
            await clusters.set_resource_quota(nobody, kube_namespace, name="hubbot", hard={"cpu": "1"})
        assert str(changing.value) == (f"cluster {CLUSTER} refused hubbot's credentials (403); they need to "
                                       f"get/list/create/patch resourcequotas in namespace {kube_namespace}")
        assert token not in str(changing.value) and wrong not in str(unknown.value)
    finally:
        clusters.close()


@pytest.mark.kube
async def test_a_namespace_being_deleted_takes_no_new_quota(kube_control_plane: ControlPlane) -> None:
    from kubernetes import client

    core = client.CoreV1Api(kube_control_plane.api_client())
    name = f"leaving-{secrets.token_hex(3)}"
    core.create_namespace({"metadata": {"name": name}})
    # A finalizer keeps the namespace Terminating until the test lets it go.
    core.create_namespaced_config_map(name, {"metadata": {"name": "held", "finalizers": ["hubbot.test/hold"]}})
    core.delete_namespace(name)
    clusters = KubeClusters(parse_fleet({}))
    try:
        with pytest.raises(UserError) as refused:
            await clusters.set_resource_quota(_target(kube_control_plane, kube_control_plane.token), name,
                                              name="hubbot", hard={"cpu": "1"})
        assert str(refused.value) == (
            f"cluster {CLUSTER} refused ResourceQuota hubbot in namespace {name}: "
            f'resourcequotas "hubbot" is forbidden: unable to create new content in namespace {name} because it is '
            "being terminated")
    finally:
        clusters.close()
        core.patch_namespaced_config_map("held", name, {"metadata": {"finalizers": None}})
