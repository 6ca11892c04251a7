"""Reading a fleet from its repository against reading the same fleet from one YAML file, side by
side in the same run; and the git work around it.

A synthetic repository in the field's layout: ``--clusters`` cluster folders (AWS, GCP and
kubeconfig in turn), each ``cluster.yaml`` listing ``--hubs`` hubs with three values files (one a
sops-looking ``enc-`` file), checked against the sample's real schema. hubbot reads it with
:func:`hubbot.fleet.compose.fleet_at` (every cluster.yaml parsed and validated against the schema,
every named file checked, providers and hubs composed, then hubbot's own checks). The baseline
parses and validates the same clusters and hubs written as one plain fleet.yaml
(:func:`hubbot.fleet.load_fleet`). Then the git side: a fetch with nothing new (what each
scheduled fetch costs) against ``git ls-remote`` of the same remote, and unpacking one commit's
tree.

    python benchmarks/fleet_repository.py [--clusters 60] [--hubs 5] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SCHEMA = "src/deployer/commands/validate/cluster.schema.yaml"
SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "infrastructure-sample"
SOPS = {"sops": {"gcp_kms": [{"resource_id": "projects/p/locations/global/keyRings/r/cryptoKeys/k",
                              "created_at": "2026-01-01T00:00:00Z", "enc": "x"}], "version": "3.8.1",
                 "lastmodified": "2026-01-01T00:00:00Z", "mac": "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]"}}


def cluster_yaml(index: int, hubs: int) -> dict[str, object]:
    name = f"c{index:03d}"
    kind = ("aws", "gcp", "kubeconfig")[index % 3]
    data: dict[str, object] = {"name": name, "provider": kind, "metadata": {"2i2c": {"hubspot_deal_id": index}}}
    if kind == "aws":
        data["aws"] = {"account": 100000000000 + index, "key": "enc-deployer-credentials.secret.json",
                       "clusterType": "eks", "clusterName": name, "region": "us-west-2",
                       "billing": {"paid_by_us": False}}
    elif kind == "gcp":
        data["gcp"] = {"key": "enc-deployer-credentials.secret.json", "project": f"p-{name}", "cluster": name,
                       "zone": "us-central1", "billing": {"paid_by_us": True, "bigquery": {
                           "project": f"p-{name}", "dataset": "cloud_costs", "billing_id": "01A164-923D17-3199D9"}}}
    else:
        data["kubeconfig"] = {"file": "enc-deployer-credentials.secret.json"}
    data["hubs"] = [{"name": f"hub{h}", "display_name": f"Hub {h}", "domain": f"hub{h}.{name}.example.org",
                     "helm_chart": "basehub", "helm_chart_values_files": [
                         "common.values.yaml", f"hub{h}.values.yaml", f"enc-hub{h}.secret.values.yaml"]}
                    for h in range(hubs)]
    return data


def build(root: Path, clusters: int, hubs: int) -> Path:
    repo = root / "infrastructure"
    (repo / SCHEMA).parent.mkdir(parents=True)
    shutil.copy(SAMPLE / SCHEMA, repo / SCHEMA)
    (repo / "helm-charts/basehub").mkdir(parents=True)
    plain: dict[str, object] = {"providers": {}, "clusters": [], "communities": [{"name": "all"}]}
    for index in range(clusters):
        data = cluster_yaml(index, hubs)
        folder = repo / "config/clusters" / str(data["name"])
        folder.mkdir(parents=True)
        (folder / "cluster.yaml").write_text(yaml.safe_dump(data))
        (folder / "enc-deployer-credentials.secret.json").write_text('{"sops": {"version": "3.8.1"}}')
        (folder / "common.values.yaml").write_text("jupyterhub:\n  singleuser:\n    memory: {limit: 2G}\n")
        for h in range(hubs):
            (folder / f"hub{h}.values.yaml").write_text(f"jupyterhub:\n  custom: {{site: hub{h}}}\n")
            (folder / f"enc-hub{h}.secret.values.yaml").write_text(yaml.safe_dump({"hub": "ENC[x]", **SOPS}))
        providers = plain["providers"]
        assert isinstance(providers, dict)
        providers[str(data["name"])] = {"kind": "aws", "account_id": f"{100000000000 + index}"}
        clusters_list = plain["clusters"]
        assert isinstance(clusters_list, list)
        clusters_list.append({"name": data["name"], "provider": data["name"], "hubs": [
            {"name": f"hub{h}", "community": "all", "domain": f"hub{h}.{data['name']}.example.org",
             "values": [f"{folder}/common.values.yaml", f"{folder}/hub{h}.values.yaml"],
             "secret_values": [f"{folder}/enc-hub{h}.secret.values.yaml"]} for h in range(hubs)]})
    (root / "plain.yaml").write_text(yaml.safe_dump(plain))
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@x"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "fleet"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(root / "remote.git")], check=True)
    return repo


def timed(work: object, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clusters", type=int, default=60)
    parser.add_argument("--hubs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from hubbot.adapters.git import GitMirror
    from hubbot.fleet import FleetConfig, load_fleet
    from hubbot.fleet.compose import fleet_at

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        repo = build(root, args.clusters, args.hubs)
        own = FleetConfig.model_validate({"repository": {"url": "remote.git"}, "communities": [
            {"name": "all", "hubs": [f"c{c:03d}/hub{h}" for c in range(args.clusters) for h in range(args.hubs)]}]})
        fleet = fleet_at(own, repo, commit="0" * 40, source="fleet.yaml")
        assert not fleet.problems and len(fleet.hubs) == args.clusters * args.hubs, fleet.problems[:3]
        # each round reads a commit's tree it has not read before (as a new commit is), so nothing is cached
        copies = [shutil.copytree(repo, root / f"copy{n}", ignore=shutil.ignore_patterns(".git"))
                  for n in range(args.rounds)]
        fresh = iter(copies)
        ours = timed(lambda: fleet_at(own, next(fresh), commit="0" * 40, source="fleet.yaml"), args.rounds)
        again = timed(lambda: fleet_at(own, repo, commit="0" * 40, source="fleet.yaml"), args.rounds)
        base = timed(lambda: load_fleet(root / "plain.yaml"), args.rounds)
        hubs = args.clusters * args.hubs
        print(f"fleet of {args.clusters} clusters, {hubs} hubs: from a new commit of the repository "
              f"{ours * 1000:.0f} ms (read again {again * 1000:.0f} ms), from one YAML file {base * 1000:.0f} ms "
              f"— ratio {ours / base:.2f}")

        mirror = GitMirror(str(root / "remote.git"), cache=root / "cache")
        asyncio.run(mirror.fetch())  # the clone
        fetch = timed(lambda: asyncio.run(mirror.fetch()), args.rounds)
        remote = timed(lambda: subprocess.run(["git", "ls-remote", "-q", str(root / "remote.git")],
                                              capture_output=True, check=True), args.rounds)
        print(f"a fetch with nothing new {fetch * 1000:.0f} ms, git ls-remote {remote * 1000:.0f} ms — ratio "
              f"{fetch / remote:.2f}")
        sha = asyncio.run(mirror.fetch())
        started = time.perf_counter()
        asyncio.run(mirror.tree(sha))
        unpack = time.perf_counter() - started
        files = sum(1 for _ in (root / "cache" / "trees" / sha).rglob("*") if _.is_file())
        print(f"one commit's tree ({files} files) unpacked in {unpack * 1000:.0f} ms")


if __name__ == "__main__":
    main()
