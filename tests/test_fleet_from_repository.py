"""A fleet read from a repository in the field's layout: the real sample composed with hubbot's own
file (providers, cluster access, hubs, owners), references checked with their place, a broken
cluster left out while the rest works, and `hubbot config check` / `/hub hubs` through the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hubbot.fleet import (
    AwsProvider,
    EksAccess,
    FleetConfig,
    FleetError,
    GcpProvider,
    GkeAccess,
    KubeconfigAccess,
    OpenStackProvider,
    UnbilledProvider,
)
from hubbot.fleet.compose import fleet_at
from tests.support.fleet_repo import make_repository, sample

SHA = "a" * 40
OWN = {
    "repository": {"url": "infrastructure",
                   "hubs": {"openscapeshub/workshop": {"tier": "staging", "api_token": "workshop"}}},
    "providers": {"jetstream2": {"kind": "openstack", "auth_url": "https://js2.example.org:5000/v3",
                                 "project": "SEE240014"}},
    "communities": [
        {"name": "leap", "channel": "C0LEAP0001", "hubs": ["leap/staging", "leap/prod"]},
        {"name": "openscapes", "channel": "C0OPEN0001",
         "hubs": ["openscapeshub/staging", "openscapeshub/prod", "openscapeshub/workshop"]},
    ],
    "roles": {"engineers": ["U0ENGINEER1"]},
}


def config(**changes: object) -> FleetConfig:
    return FleetConfig.model_validate({**OWN, **changes})


def test_the_sample_becomes_providers_clusters_and_hubs() -> None:
    root = sample()
    fleet = fleet_at(config(), root, commit=SHA, source="fleet.yaml")
    assert fleet.problems == () and fleet.commit == SHA
    assert sorted(h.qualified for h in fleet.hubs) == [
        "leap/prod", "leap/public", "leap/staging", "openscapeshub/prod", "openscapeshub/staging",
        "openscapeshub/workshop", "projectpythia-binder/binderhub"]
    providers = fleet.config.providers
    assert providers["openscapeshub"] == AwsProvider(kind="aws", account_id="783616723547", region="us-west-2")
    assert providers["leap"] == GcpProvider(
        kind="gcp", project="leap-pangeo", billing_account="01A164-923D17-3199D9",
        billing_export_table="leap-pangeo.cloud_costs.gcp_billing_export_v1_01A164_923D17_3199D9")
    assert isinstance(providers["projectpythia-binder"], UnbilledProvider)
    assert isinstance(providers["jetstream2"], OpenStackProvider)  # hubbot's own stay
    clusters = fleet.clusters
    assert clusters["openscapeshub"].kubernetes == EksAccess(kind="eks", cluster_name="openscapeshub",
                                                             region="us-west-2")
    assert clusters["leap"].kubernetes == GkeAccess(kind="gke", project="leap-pangeo", location="us-central1",
                                                    cluster_name="leap-cluster")
    kubeconfig = clusters["projectpythia-binder"].kubernetes
    assert isinstance(kubeconfig, KubeconfigAccess)
    assert kubeconfig.path == str(root / "config/clusters/projectpythia-binder/enc-deployer-credentials.secret.yaml")
    prod = fleet.hub("leap/prod")
    assert (prod.hub.community, prod.hub.tier, prod.hub.domain, prod.hub.display_name) == (
        "leap", "prod", "leap.2i2c.cloud", "LEAP Prod")
    assert prod.chart is not None and prod.chart.path == str(root / "helm-charts/daskhub")
    assert prod.hub.values == [str(root / "config/clusters/leap" / v) for v in (
        "daskhub-common.values.yaml", "prod.values.yaml", "enc-prod.secret.values.yaml")]
    assert fleet.hub("leap/staging").hub.tier == "staging"
    workshop = fleet.hub("openscapeshub/workshop").hub
    assert (workshop.tier, workshop.api_token) == ("staging", "workshop")  # hubbot's file says what the repo can't
    assert fleet.hub("leap/public").hub.community is None  # in no community: the engineers' alone
    binder = fleet.hub("projectpythia-binder/binderhub").hub
    assert binder.binder and binder.health == "https://hub.projectpythia.org/hub/health"
    assert not prod.hub.binder
    assert fleet.providers_of("openscapes") == ["openscapeshub"]


def test_a_cluster_can_bill_through_a_provider_of_hubbots_file() -> None:
    own = config(repository={"url": "x", "clusters": {"projectpythia-binder": {"provider": "jetstream2"}}})
    fleet = fleet_at(own, sample(), commit=SHA, source="fleet.yaml")
    assert fleet.hub("projectpythia-binder/binderhub").provider == "jetstream2"
    assert "projectpythia-binder" not in fleet.config.providers


def test_references_into_the_repository_are_checked_with_their_place() -> None:
    own = config(communities=[{"name": "leap", "hubs": ["leap/prd", "leap/staging"]},
                              {"name": "other", "hubs": ["leap/staging"]}],
                 repository={"url": "x", "clusters": {"lep": {}, "openscapeshub": {"provider": "aws-main"}},
                             "hubs": {"leap/pubic": {"tier": "prod"}}})
    problems = fleet_at(own, sample(), commit=SHA, source="fleet.yaml").problems
    assert "communities[0].hubs[0]: no hub leap/prd in the repository — did you mean 'leap/prod'?" in problems
    assert "communities[1].hubs[0]: leap/staging already belongs to community leap" in problems
    assert "repository.clusters.lep: no cluster lep in the repository — did you mean 'leap'?" in problems
    assert "repository.hubs.leap/pubic: no hub leap/pubic in the repository — did you mean 'leap/public'?" in problems
    assert any(p.startswith("repository.clusters.openscapeshub.provider: unknown provider 'aws-main'")
               for p in problems)


def test_a_broken_cluster_is_left_out_and_reported_while_the_rest_works(tmp_path: Path) -> None:
    repo = make_repository(tmp_path)
    leap = repo.work / "config/clusters/leap/cluster.yaml"
    leap.write_text(leap.read_text().replace("zone: us-central1", "zone: [us-central1]"))
    fleet = fleet_at(config(), repo.work, commit=SHA, source="fleet.yaml")
    assert not any(h.cluster == "leap" for h in fleet.hubs)
    assert len(fleet.hubs) == 4
    assert any(p.startswith("config/clusters/leap/cluster.yaml: gcp.zone: ['us-central1'] is not of type 'string'")
               for p in fleet.problems), fleet.problems
    # a reference into the cluster that is gone is reported too, and nothing else breaks
    assert any(p.startswith("communities[0].hubs[0]: no hub leap/staging") for p in fleet.problems)


def test_hubbots_own_file_problems_still_stop_the_fleet() -> None:
    own = config(communities=[{"name": "leap"}, {"name": "leap"}])
    with pytest.raises(FleetError, match="duplicate community 'leap'"):
        fleet_at(own, sample(), commit=SHA, source="fleet.yaml")


def test_a_hub_every_schema_item_checks(tmp_path: Path) -> None:
    """The schema's items: [..] checks the first hub only; the others are checked as strictly."""
    repo = make_repository(tmp_path)
    path = repo.work / "config/clusters/leap/cluster.yaml"
    data = yaml.safe_load(path.read_text())
    del data["hubs"][2]["domain"]
    data["hubs"][1]["chart_override"] = "custom-chart"
    data["hubs"][0]["chart_override"] = "helm-charts/basehub"
    # the rest of the schema: a shared cluster, an uptime check behind basic auth, a domain override
    data["tenancy"] = "shared"
    data["hubs"][1]["uptime_check"] = {"expected_status": "401"}
    data["hubs"][0]["domain_override_file"] = "staging.domain-override.yaml"
    (path.parent / "staging.domain-override.yaml").write_text("domain: hidden-staging.leap.2i2c.cloud\n")
    path.write_text(yaml.safe_dump(data))
    (path.parent / "custom-chart").mkdir()
    fleet = fleet_at(config(), repo.work, commit=SHA, source="fleet.yaml")
    assert fleet.problems == ("config/clusters/leap/cluster.yaml: hubs[2]: a hub needs domain",)
    staging, prod = fleet.hub("leap/staging"), fleet.hub("leap/prod")
    assert staging.chart is not None and staging.chart.path == str(repo.work / "helm-charts/basehub")
    assert prod.chart is not None and prod.chart.path == str(repo.work / "config/clusters/leap/custom-chart")
    assert staging.hub.domain == "hidden-staging.leap.2i2c.cloud" and staging.hub.health_status is None
    assert prod.hub.health_status == 401


def fleet_file(tmp_path: Path, **repository: object) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({**OWN, "repository": {"url": "remote.git", **repository}}))
    return path


def cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HUBBOT_REPOSITORY_CACHE": str(tmp_path / "cache"),
           "HUBBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'hubbot.sqlite3'}"}
    return subprocess.run([sys.executable, "-m", "hubbot", *args], capture_output=True, text=True, check=False,
                          env=env, cwd=tmp_path)


def test_config_check_reads_the_repository_and_says_the_commit(tmp_path: Path) -> None:
    repo = make_repository(tmp_path)
    out = cli("config", "check", str(fleet_file(tmp_path)), tmp_path=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"2 communities, 3 clusters, 7 hubs (repository {tmp_path / 'remote.git'} at main {repo.head()[:12]})" \
        in out.stdout
    repo.commit("A typo", {"config/clusters/leap/cluster.yaml":
                           (repo.work / "config/clusters/leap/cluster.yaml").read_text().replace("gcp:", "gpc:")})
    out = cli("config", "check", str(fleet_file(tmp_path)), tmp_path=tmp_path)
    assert out.returncode == 1 and "config/clusters/leap/cluster.yaml" in out.stdout, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr


def test_config_check_says_when_the_repository_is_not_there(tmp_path: Path) -> None:
    out = cli("config", "check", str(fleet_file(tmp_path)), tmp_path=tmp_path)
    assert out.returncode == 1 and "there is no repository at" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    make_repository(tmp_path)
    out = cli("config", "check", str(fleet_file(tmp_path, branch="mian")), tmp_path=tmp_path)
    assert out.returncode == 1, out.stdout
    assert "no branch, tag or commit 'mian' in the fleet repository — did you mean 'main'?" in out.stderr


def test_hub_hubs_shows_the_commit_and_engineers_see_the_problems(tmp_path: Path) -> None:
    repo = make_repository(tmp_path)
    path = fleet_file(tmp_path)
    out = cli("run", "--config", str(path), "--as", "U0ENGINEER1", "hubs", tmp_path=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"at commit `{repo.head()[:12]}` of main" in out.stdout
    assert "leap/public (https://public.leap.2i2c.cloud/) · JupyterHub · prod · engineers only" in out.stdout
    assert "projectpythia-binder/binderhub" in out.stdout
    repo.commit("Break leap", {"config/clusters/leap/cluster.yaml": "name: leap\nprovider: gcp\n"})
    out = cli("run", "--config", str(path), "--as", "U0ENGINEER1", "hubs", tmp_path=tmp_path)
    assert "problem(s) in the repository" in out.stdout and "leap/prod (https" not in out.stdout, out.stdout


def test_a_hub_with_a_plain_secret_or_a_missing_file_is_never_deployable(tmp_path: Path) -> None:
    repo = make_repository(tmp_path)
    folder = repo.work / "config/clusters/openscapeshub"
    (folder / "enc-prod.secret.values.yaml").write_text("jupyterhub:\n  hub:\n    cookieSecret: leaked\n")
    (folder / "workshop.values.yaml").unlink()
    fleet = fleet_at(config(), repo.work, commit=SHA, source="fleet.yaml")
    assert [h.qualified for h in fleet.hubs if h.cluster == "openscapeshub"] == ["openscapeshub/staging"]
    assert ("config/clusters/openscapeshub/cluster.yaml: hubs[1].helm_chart_values_files[3]: enc-prod.secret.values"
            ".yaml looks like a secret but carries no sops metadata; encrypt it with sops before it is used (it may "
            "be a leaked plain secret)") in fleet.problems
    assert any("workshop.values.yaml does not exist" in p for p in fleet.problems)
    assert not any("leaked" in p for p in fleet.problems if "cookieSecret" in p)


def test_the_annotated_example_checks_clean_against_the_sample(tmp_path: Path) -> None:
    make_repository(tmp_path)
    example = yaml.safe_load((Path(__file__).resolve().parents[1] / "examples/fleet-repository.yaml").read_text())
    example["repository"]["url"] = "remote.git"
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(example))
    out = cli("config", "check", str(path), tmp_path=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 communities, 3 clusters, 7 hubs" in out.stdout


def test_a_fetch_that_finds_a_new_commit_swaps_the_fleet_without_a_restart(tmp_path: Path) -> None:
    from hubbot.scheduling import CycleScheduler
    from tests.support.harness import harness

    repo = make_repository(tmp_path)
    with harness(tmp_path, fleet_file(tmp_path)) as bot:
        runtime = bot.runtime
        first = runtime.fleet.commit
        assert first == repo.head() and runtime.dispatcher.fleet is runtime.fleet
        assert bot.served.call(runtime.refresh_fleet()) is False  # nothing new
        path = "config/clusters/leap/cluster.yaml"
        data = yaml.safe_load((repo.work / path).read_text())
        data["hubs"].append({"name": "workshop", "domain": "workshop.leap.2i2c.cloud", "helm_chart": "basehub",
                             "helm_chart_values_files": ["public.values.yaml"]})
        second = repo.commit("Add a workshop hub", {path: yaml.safe_dump(data)})

        async def refreshed() -> tuple[object, object]:
            await runtime.refresh_fleet()
            return runtime.services, runtime.fleet

        scheduler = CycleScheduler(services=runtime.services, fleet=runtime.fleet, database_url="sqlite://",
                                   hours=6, refresh=refreshed)  # type: ignore[arg-type]
        bot.served.call(scheduler.fetch_once())
        assert runtime.fleet.commit == second and runtime.dispatcher.fleet is runtime.fleet
        assert runtime.fleet.hub("leap/workshop").hub.tier == "prod"
        assert runtime.dispatcher.services is runtime.services
        answer = bot.slash("hubs", user="U0ENGINEER1", channel="C0ENGINEER1").json()["text"]
        assert "leap/workshop" in answer and second[:12] in answer, answer
        # a fetch made elsewhere (a deploy fetches the branch first) moves every later request on too
        third = repo.commit("Rename", {path: yaml.safe_dump({**data, "hubs": data["hubs"][:2]})})
        repository = runtime.services.repository
        assert repository is not None
        bot.served.call(repository.refresh())
        assert runtime.fleet.commit == third and runtime.dispatcher.fleet.commit == third
        assert "leap/workshop" not in [h.qualified for h in runtime.fleet.hubs]


def test_every_command_works_on_a_fleet_read_from_a_repository(tmp_path: Path) -> None:
    """Costs from a provider of hubbot's file billing a repository cluster's hubs, alerts on them,
    and the read commands — each answers from the repository's hubs (or says clearly what is not
    set up), never with a traceback."""
    make_repository(tmp_path)
    days = [f"2026-03-{d:02d}" for d in range(1, 11)]
    (tmp_path / "costs.csv").write_text("date,hub,amount,currency,service\n" + "".join(
        f"{d},binderhub,9.00,USD,Compute\n" for d in days))
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({
        "repository": {"url": "remote.git", "clusters": {"projectpythia-binder": {"provider": "manual"}}},
        "providers": {"manual": {"kind": "csv", "path": "costs.csv"}},
        "communities": [{"name": "pythia", "channel": "C0PYTHIA01", "leaders": ["U0LEADER01"],
                         "hubs": ["projectpythia-binder/binderhub"],
                         "budget": {"amount": 100, "currency": "USD", "thresholds": [50, 75]}}],
        "roles": {"engineers": ["U0ENGINEER1"]},
        "alerts": {"engineers_channel": "C0ENGINEER1"},
    }))
    out = cli("alerts", "run", "--config", str(path), "--at", "2026-03-10T12:00:00+00:00", "--json", tmp_path=tmp_path)
    # the budget's 75 % alert from the CSV provider; the repository's AWS and GCP clusters bill
    # through accounts this machine has no credentials for, and each says so by name
    assert '"threshold": 75' in out.stdout and '"spend": "90.00"' in out.stdout, out.stdout + out.stderr
    assert "cost refresh of openscapeshub failed: hubbot has no usable AWS credentials for account 783616723547" \
        in out.stderr
    assert "Traceback" not in out.stderr
    answers = {
        "cost pythia --month 2026-03": "90.00",
        "budget show pythia": "100",
        "hubs pythia": "projectpythia-binder/binderhub",
        "link projectpythia-binder/binderhub https://github.com/o/lessons": "hub.projectpythia.org",
        "alerts pythia": "75",
        "status projectpythia-binder/binderhub": "projectpythia-binder/binderhub",
        "quota show projectpythia-binder/binderhub": "projectpythia-binder/binderhub",
        "jobs": "No deploy jobs yet",
        "whoami": "engineer",
    }
    for command, expected in answers.items():
        out = cli("run", "--config", str(path), "--as", "U0ENGINEER1", command, tmp_path=tmp_path)
        assert expected in out.stdout, f"{command}: {out.stdout}{out.stderr}"
        assert "Traceback" not in out.stdout + out.stderr and "Something went wrong" not in out.stdout, command


async def test_a_repository_chart_gets_its_file_dependencies_before_helm_renders_it(tmp_path: Path) -> None:
    """daskhub depends on basehub (file://../basehub), as in the field's repository; neither has its
    charts/ folder: the real helm updates basehub's into daskhub, then renders basehub's objects."""
    from hubbot.adapters.helm import HelmCli
    from hubbot.domain import ReleasePlan
    from tests.support.deploy_env import real_helm

    repo = make_repository(tmp_path)
    daskhub = repo.work / "helm-charts/daskhub"
    (daskhub / "Chart.yaml").write_text("apiVersion: v2\nname: daskhub\nversion: 0.1.0\ndependencies:\n"
                                        "- name: basehub\n  version: 0.1.0\n  repository: file://../basehub\n")
    (daskhub / "templates/settings.yaml").unlink()
    values = tmp_path / "v.yaml"
    values.write_text("basehub:\n  greeting: from-daskhub-values\n")
    helm = HelmCli(real_helm(), base=tmp_path, home=tmp_path / "helm-home")
    plan = ReleasePlan(name="prod", namespace="prod", chart=str(daskhub), values=(str(values),))
    rendered = await helm.template(plan, time_limit=60)
    assert 'greeting: "from-daskhub-values"' in rendered and "name: prod-settings" in rendered, rendered
    assert list((daskhub / "charts").glob("basehub-0.1.0.tgz"))
    again = await helm.template(plan, time_limit=60)  # nothing missing now: no second update
    assert again == rendered


def test_a_hub_answering_its_expected_status_is_healthy() -> None:
    from hubbot.domain import Health

    locked = Health(ok=False, status=401, detail="")
    assert locked.expecting(401).ok and not locked.expecting(None).ok
    assert not Health(ok=True, status=200, detail="").expecting(401).ok


async def test_a_hub_of_no_community_is_the_engineers_alone(tmp_path: Path) -> None:
    from tests.support.memory import dispatcher, run

    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({
        "providers": {"p": {"kind": "none"}},
        "clusters": [{"name": "c", "provider": "p", "hubs": [
            {"name": "ops", "domain": "ops.example.org"},
            {"name": "class", "domain": "class.example.org", "community": "alpha"}]}],
        "communities": [{"name": "alpha", "leaders": ["U0LEADER01"]}],
        "roles": {"engineers": ["U0ENGINEER1"]}}))
    d, _ = dispatcher(path)
    denied = await run(d, "quota show c/ops", user="U0LEADER01")
    assert denied.kind == "denied" and "c/ops belongs to no community: only hub engineers can run" in denied.text
    listed = await run(d, "hubs", user="U0LEADER01")
    assert "c/class" in listed.text and "c/ops" not in listed.text
    mine = await run(d, "hubs", user="U0ENGINEER1")
    assert "c/ops  community=-" in mine.text
