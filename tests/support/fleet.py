"""The fleet the tests use: two communities, three clusters on three providers; and fleets of one
provider built in code."""

from __future__ import annotations

from pathlib import Path

from hubbot.fleet import ClusterConfig, CommunityConfig, Fleet, FleetConfig, HubConfig, Provider

DOCS = Path(__file__).resolve().parents[1] / "data" / "faq" / "tree"
# A sample of a real fleet repository in the field's layout: three cluster folders and its cluster.yaml schema,
# copied unchanged with their licence (its README says where from and what it holds)
REPOSITORY_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "infrastructure-sample"

ENGINEER = "UENG00001"
ENGINEER_2 = "UENG00002"
LEADER_A = "ULEADA001"
LEADER_B = "ULEADB001"  # a leader of beta through the user group SLEADSB01
MEMBER_A = "UMEMA0001"
OUTSIDER = "UOUT00001"
CHANNEL_A = "CALPHA001"
CHANNEL_B = "CBETA0001"
CHANNEL_OPS = "COPS00001"
LEADERS_B_GROUP = "SLEADSB01"

FLEET_YAML = f"""
providers:
  aws-test: {{kind: aws, account_id: "111122223333", region: us-west-2}}
  gcp-test: {{kind: gcp, project: test-project}}
  js2-test: {{kind: openstack, auth_url: "https://keystone.test:5000/v3", project: TRA000001}}
clusters:
  - name: aws-cluster
    provider: aws-test
    kubernetes: {{kind: eks, cluster_name: test-cluster, region: us-west-2}}
    chart: {{repo: "https://charts.example.org", name: basehub, version: "1.0.0"}}
    hubs:
      - {{name: staging, community: alpha, domain: staging.alpha.test, tier: staging}}
      - {{name: prod, community: alpha, domain: alpha.test, tier: prod}}
  - name: gcp-cluster
    provider: gcp-test
    kubernetes: {{kind: gke, project: test-project, location: us-central1, cluster_name: test-cluster}}
    chart: {{repo: "https://charts.example.org", name: basehub, version: "1.0.0"}}
    hubs:
      - {{name: staging, community: beta, domain: staging.beta.test, tier: staging}}
      - {{name: beta-binder, community: beta, domain: binder.beta.test, tier: prod, binder: true}}
  - name: js2-cluster
    provider: js2-test
    hubs:
      - {{name: class, community: alpha, domain: class.alpha.test}}
communities:
  - name: alpha
    display_name: Alpha Community
    channel: {CHANNEL_A}
    leaders: [{LEADER_A}]
    members: [{MEMBER_A}]
    quota_ceilings: {{storage: 50GiB, cpu_hours: 1000/30d, namespace: {{cpu: 64, memory: 256GiB}}}}
  - name: beta
    display_name: Beta Lab
    channel: {CHANNEL_B}
    leaders: [{LEADERS_B_GROUP}]
    quota_ceilings: {{storage: 50GiB}}
roles:
  engineers: [{ENGINEER}, {ENGINEER_2}]
support:
  docs:
    - {{path: "{DOCS}", base_url: "https://docs.test.org"}}
  channel: CSUPPORT1
  answer_unprompted: [CHELP0001]
"""


def one_provider_fleet(name: str, provider: Provider, *hubs: str) -> Fleet:
    """A fleet of one provider and the hubs on it, each given as ``cluster/hub:community``
    (communities alpha and beta always exist)."""
    clusters: dict[str, list[HubConfig]] = {}
    for spec in hubs:
        qualified, community = spec.split(":")
        cluster, hub = qualified.split("/")
        clusters.setdefault(cluster, []).append(HubConfig(name=hub, community=community,
                                                          domain=f"{hub}.{cluster}.test"))
    communities = sorted({spec.split(":")[1] for spec in hubs} | {"alpha", "beta"})
    return Fleet(FleetConfig(
        providers={name: provider},
        clusters=[ClusterConfig(name=cluster, provider=name, hubs=refs) for cluster, refs in clusters.items()],
        communities=[CommunityConfig(name=community) for community in communities],
    ))
