"""TLS to a cluster: the Kubernetes client trusts the cluster's own CA, and only it.

The API stand-in is served over real TLS with a certificate signed by a throwaway cluster CA;
hubbot reaches it the two ways it reaches clusters: a server, token and CA (what EKS's
DescribeCluster and GKE's API give) and a kubeconfig with ``certificate-authority-data``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubbot.adapters.kube import KubeClusters
from hubbot.domain import KubeTarget
from hubbot.errors import UpstreamError
from hubbot.fleet import Fleet, load_fleet
from tests.support.fleet import FLEET_YAML
from tests.support.kube_standin import KubeStandIn
from tests.support.server import serve
from tests.support.tls import Authority, authority, server_files

TOKEN = "tls-test-token"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KubeStandIn, str, Authority]]:
    ca = authority("cluster-ca")
    kube = KubeStandIn(token=TOKEN)
    with serve(kube.app, tls=server_files(ca, tmp_path_factory.mktemp("tls"))) as served:
        yield kube, served.url, ca


@pytest.fixture
def clusters(tmp_path: Path) -> Iterator[KubeClusters]:
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(FLEET_YAML)
    fleet: Fleet = load_fleet(fleet_file)
    found = KubeClusters(fleet)
    yield found
    found.close()


def _kubeconfig(path: Path, server: str, ca_data: str | None) -> Path:
    cluster: dict[str, str] = {"server": server}
    if ca_data is not None:
        cluster["certificate-authority-data"] = ca_data
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": cluster}], "users": [{"name": "u", "user": {"token": TOKEN}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}))
    return path


async def test_the_clusters_ca_is_trusted(cluster: tuple[KubeStandIn, str, Authority], clusters: KubeClusters,
                                          tmp_path: Path) -> None:
    kube, url, ca = cluster
    assert url.startswith("https://")
    kube.reset(token=TOKEN)
    kube.add_deployment("hubs", "hub")
    direct = KubeTarget(cluster="eks", server=url, token=TOKEN, ca_data=ca.data)
    assert [w.name for w in await clusters.workloads(direct, "hubs")] == ["hub"]
    from_file = KubeTarget(cluster="js2", kubeconfig=str(_kubeconfig(tmp_path / "kc.json", url, ca.data)))
    assert [w.name for w in await clusters.workloads(from_file, "hubs")] == ["hub"]


@pytest.mark.parametrize("trust", ["another CA", "no CA (the system's)"])
async def test_a_server_the_clusters_ca_did_not_sign_is_refused(
        cluster: tuple[KubeStandIn, str, Authority], clusters: KubeClusters, tmp_path: Path, trust: str) -> None:
    kube, url, _ = cluster
    kube.reset(token=TOKEN)
    kube.add_deployment("hubs", "hub")
    ca_data = authority("impostor-ca").data if trust == "another CA" else None
    before = len(kube.requests)
    for target in (KubeTarget(cluster="eks", server=url, token=TOKEN, ca_data=ca_data),
                   KubeTarget(cluster="js2", kubeconfig=str(_kubeconfig(tmp_path / "kc.json", url, ca_data)))):
        with pytest.raises(UpstreamError, match=rf"cluster {target.cluster} presented a TLS certificate its CA did "
                                                "not sign") as refused:
            await clusters.workloads(target, "hubs")
        assert TOKEN not in str(refused.value)
    assert len(kube.requests) == before  # the token never reached a server hubbot could not verify
