"""Cinder snapshots of JetStream2 home volumes, against a Keystone and Cinder v3 stand-in on
loopback: the shared backups contract, and what is Cinder's own (the metadata filter, paging,
token renewal, its faults, one list call per region)."""

from __future__ import annotations

import ast
import socket
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hubbot.adapters.cinder import HUB_NAME, SCHEDULE, CinderBackups, home_volume_metadata
from hubbot.adapters.memory import FrozenClock
from hubbot.domain import TAG_HUB, TAG_REASON, TAG_REQUESTED_BY, BackupKind, BackupTarget, SnapshotState, Volume
from hubbot.errors import NotFound, UpstreamError, UserError
from hubbot.fleet import OpenStackProvider
from tests.support.backup_contract import *  # noqa: F403  (the shared cases)
from tests.support.backup_contract import Backend, hubbot_tags
from tests.support.openstack_standin import CREDENTIAL_ID, CREDENTIAL_SECRET, REGION, OpenStackStandIn
from tests.support.server import serve

WRONG_SECRET = "not-the-Right-secret-9876"


@pytest.fixture
def standin() -> Iterator[OpenStackStandIn]:
    s = OpenStackStandIn()
    with serve(s.app) as served:
        s.base_url = served.url
        yield s


def provider(standin: OpenStackStandIn, **overrides: Any) -> OpenStackProvider:
    fields = {"kind": "openstack", "auth_url": f"{standin.base_url}/v3", "project": "BIO250001", "region": REGION,
              **overrides}
    return OpenStackProvider.model_validate(fields)


def cinder(standin: OpenStackStandIn, *, secret: str = CREDENTIAL_SECRET, **overrides: Any) -> CinderBackups:
    return CinderBackups(provider(standin, **overrides), application_credential_id=CREDENTIAL_ID,
                         application_credential_secret=SecretStr(secret), clock=FrozenClock())


def hub(name: str, *, region: str | None = None, **kw: Any) -> BackupTarget:
    kw.setdefault("tags", home_volume_metadata(name))
    return BackupTarget(hub=f"js2/{name}", provider="js2", kind=BackupKind.CINDER, region=region, **kw)


def home(standin: OpenStackStandIn, name: str, *, region: str = REGION, size: int = 100) -> str:
    """A hub's home volume as 2i2c's terraform makes it on JetStream2."""
    row = standin.add_volume(metadata={HUB_NAME: name}, size=size, name=f"hub-nfs-homedirs-{name}", region=region)
    return str(row["id"])


def requests(standin: OpenStackStandIn) -> Counter[tuple[str, str, str]]:
    return Counter(standin.cinder_requests)


# -- the shared contract --------------------------------------------------------------------------

class _Scene:
    def __init__(self, standin: OpenStackStandIn) -> None:
        self.standin = standin

    def add_volume(self, *, tags: Mapping[str, str], size_gib: int = 100) -> Volume:
        row = self.standin.add_volume(metadata=tags, size=size_gib, name="hub-nfs-homedirs")
        return Volume(id=row["id"], name=row["name"], size_gib=size_gib, where="nova", tags=dict(tags))

    def finish(self, snapshot_id: str, state: SnapshotState) -> None:
        self.standin.finish_snapshot(snapshot_id, "available" if state is SnapshotState.COMPLETED else "error")

    def add_schedule(self, volume: Volume) -> str:
        self.standin.volumes[REGION][volume.id]["metadata"][SCHEDULE] = "daily at 03:00 UTC by cron, kept 7 days"
        return "daily at 03:00 UTC"


@pytest.fixture
def backend(standin: OpenStackStandIn) -> Backend:
    return Backend(source=cinder(standin), scene=_Scene(standin), target=hub("prod"), other=hub("staging"),
                   extra={"unknown_id": "0b7c1a52-8e7d-4d6f-9a51-3c2e4f5a6b7c"})


# -- finding the volumes --------------------------------------------------------------------------

async def test_the_metadata_filter_is_sent_as_cinder_reads_it(standin: OpenStackStandIn) -> None:
    mine = home(standin, "prod")
    home(standin, "staging")
    target = hub("prod", tags={HUB_NAME: "prod", "2i2c:cluster": "js2 é"})
    standin.volumes[REGION][mine]["metadata"]["2i2c:cluster"] = "js2 é"

    assert [v.id for v in await cinder(standin).volumes(target)] == [mine]

    assert requests(standin) == {("GET", REGION, "volumes/detail"): 1}
    [query] = standin.cinder_queries
    assert query["limit"] == "1000"
    assert ast.literal_eval(query["metadata"]) == {HUB_NAME: "prod", "2i2c:cluster": "js2 é"}  # as Cinder parses it


async def test_the_metadata_is_checked_again_where_the_cloud_drops_the_filter(standin: OpenStackStandIn) -> None:
    standin.metadata_filter = False  # a member's unknown filters are dropped without a word at the base microversion
    mine = home(standin, "prod")
    home(standin, "staging")
    standin.add_volume(metadata={}, name="scratch")
    assert [v.id for v in await cinder(standin).volumes(hub("prod"))] == [mine]


async def test_without_tags_a_hubs_home_volume_is_found_by_2i2cs_hub_name(standin: OpenStackStandIn) -> None:
    mine = home(standin, "prod", size=250)
    [volume] = await cinder(standin).volumes(hub("prod", tags={}))
    assert (volume.id, volume.name, volume.size_gib, volume.where) == (mine, "hub-nfs-homedirs-prod", 250, "nova")
    assert volume.tags == {HUB_NAME: "prod"}


async def test_volumes_named_by_id_are_read_one_by_one(standin: OpenStackStandIn) -> None:
    first, second = home(standin, "prod"), home(standin, "prod")
    found = await cinder(standin).volumes(hub("prod", volumes=(second, first)))
    assert [v.id for v in found] == sorted([first, second])
    assert requests(standin) == {("GET", REGION, f"volumes/{first}"): 1, ("GET", REGION, f"volumes/{second}"): 1}

    with pytest.raises(NotFound, match=r"no volume 5d1e.* in OpenStack project 'BIO250001' \(region IU\)"):
        await cinder(standin).volumes(hub("prod", volumes=("5d1e0000-0000-4000-8000-000000000000",)))


async def test_lists_are_paged_by_the_marker_of_cinders_next_link(standin: OpenStackStandIn) -> None:
    standin.max_limit = 2  # the cloud caps pages below what hubbot asks for
    mine = {home(standin, "prod") for _ in range(4)}
    home(standin, "staging")

    found = await cinder(standin).volumes(hub("prod"))

    assert {v.id for v in found} == mine
    # two full pages, each with a next link on Cinder's internal address (never asked: only its
    # marker is used, against the catalog's public endpoint), then an empty one
    assert requests(standin) == {("GET", REGION, "volumes/detail"): 3}
    newest_first = sorted(standin.volumes[REGION].values(), key=lambda r: r["created_at"], reverse=True)
    ids = [r["id"] for r in newest_first if r["id"] in mine]
    assert [q.get("marker") for q in standin.cinder_queries] == [None, ids[1], ids[3]]


async def test_snapshot_lists_are_paged_too(standin: OpenStackStandIn) -> None:
    standin.max_limit = 2
    volume = home(standin, "prod")
    made = [standin.add_snapshot(volume)["id"] for _ in range(5)]
    view = (await cinder(standin).overview([hub("prod")]))["js2/prod"]
    assert [s.id for s in view.snapshots] == made[::-1]
    assert requests(standin)[("GET", REGION, "snapshots/detail")] == 3


# -- making and reading snapshots -----------------------------------------------------------------

async def test_a_snapshot_is_forced_named_described_and_tagged(standin: OpenStackStandIn) -> None:
    volume = home(standin, "prod")  # attached to the NFS server: Cinder snapshots it only when forced
    source = cinder(standin)
    [found] = await source.volumes(hub("prod"))
    tags = {TAG_HUB: "js2/prod", TAG_REQUESTED_BY: "UENG00001", TAG_REASON: "before the upgrade " + "x" * 300}

    started = await source.start(hub("prod"), found, tags=tags, description="hubbot backup of js2/prod\nby UENG00001")

    stored = standin.snapshots[REGION][started.id]
    assert stored["name"] == "hubbot-js2-prod-20260115-120000"
    assert stored["description"] == "hubbot backup of js2/prod by UENG00001"
    assert stored["metadata"] == {**tags, TAG_REASON: tags[TAG_REASON][:255]}
    assert (started.state, started.volume, started.size_gib, started.made_by) == (
        SnapshotState.PENDING, volume, 100, "hubbot")
    assert started.progress is None  # Cinder's create answer has no progress attribute
    assert ("POST", REGION, "snapshots") in requests(standin)


@pytest.mark.parametrize(("status", "state", "progress"), [
    ("creating", SnapshotState.PENDING, "0%"),
    ("available", SnapshotState.COMPLETED, "100%"),
    ("backing-up", SnapshotState.COMPLETED, "100%"),
    ("error", SnapshotState.FAILED, "0%"),
    ("error_deleting", SnapshotState.FAILED, "0%"),
    ("deleting", SnapshotState.FAILED, "0%"),
])
async def test_cinders_statuses(standin: OpenStackStandIn, status: str, state: SnapshotState, progress: str) -> None:
    made = standin.add_snapshot(home(standin, "prod"), status="creating")
    standin.snapshots[REGION][made["id"]].update(status=status, progress="100%" if status in (
        "available", "backing-up") else "0%")

    snapshot = await cinder(standin).snapshot(hub("prod"), made["id"])

    assert (snapshot.state, snapshot.progress, snapshot.made_by) == (state, progress, "someone in the project")
    assert (snapshot.message is not None) == (state is SnapshotState.FAILED)
    assert snapshot.started.tzinfo is not None


async def test_starting_on_a_volume_that_is_gone_is_not_found(standin: OpenStackStandIn) -> None:
    gone = Volume(id="5d1e0000-0000-4000-8000-000000000000")
    with pytest.raises(NotFound, match=r"no volume 5d1e0000-.* in OpenStack project 'BIO250001' .* to snapshot"):
        await cinder(standin).start(hub("prod"), gone, tags=hubbot_tags(hub("prod")), description="x")


# -- Cinder's faults ------------------------------------------------------------------------------

async def test_a_role_without_snapshot_rights_is_named(standin: OpenStackStandIn) -> None:
    volume = Volume(id=home(standin, "prod"))
    standin.fail("cinder", 403)
    with pytest.raises(UpstreamError) as caught:
        await cinder(standin).start(hub("prod"), volume, tags=hubbot_tags(hub("prod")), description="x")
    message = str(caught.value)
    assert "does not let hubbot snapshot volume" in message
    assert "Policy doesn't allow volume:create_snapshot to be performed." in message
    assert "role lacks the rights to read volumes and make snapshots" in message
    assert CREDENTIAL_SECRET not in message


async def test_a_used_up_snapshot_quota_is_cinders_word(standin: OpenStackStandIn) -> None:
    standin.snapshot_quota = 1
    volume = Volume(id=home(standin, "prod"))
    source = cinder(standin)
    await source.start(hub("prod"), volume, tags=hubbot_tags(hub("prod")), description="first")
    with pytest.raises(UserError, match=r"Maximum number of snapshots allowed \(1\) exceeded — the project's "
                                        "snapshot quota is used up"):
        await source.start(hub("prod"), volume, tags=hubbot_tags(hub("prod")), description="second")


async def test_a_bad_request_is_cinders_word(standin: OpenStackStandIn) -> None:
    volume = Volume(id=home(standin, "prod"))
    with pytest.raises(UserError, match=r"Cinder refused to snapshot volume .*: Invalid input for field/attribute "
                                        "metadata"):
        await cinder(standin).start(hub("prod"), volume, tags={"not a key!": "x"}, description="x")


async def test_a_revoked_token_is_renewed_once(standin: OpenStackStandIn) -> None:
    home(standin, "prod")
    source = cinder(standin)
    await source.volumes(hub("prod"))
    await source.volumes(hub("prod"))
    assert standin.auth_calls == 1  # the token is cached

    standin.expire_tokens()
    assert len(await source.volumes(hub("prod"))) == 1
    assert standin.auth_calls == 2
    assert requests(standin) == {("GET", REGION, "volumes/detail"): 4}  # the refused one, then the retry

    standin.fail("cinder", 401, times=5)
    with pytest.raises(UpstreamError, match="OpenStack Block Storage API \\(Cinder\\) refused a freshly issued token"):
        await source.volumes(hub("prod"))
    assert standin.auth_calls == 3


@pytest.mark.parametrize("status", [500, 503])
async def test_cinder_failing_inside_says_to_try_later(standin: OpenStackStandIn, status: int) -> None:
    standin.fail("cinder", status)
    with pytest.raises(UpstreamError, match=f"failed \\(HTTP {status}\\); try again later"):
        await cinder(standin).snapshot(hub("prod"), "0b7c1a52-8e7d-4d6f-9a51-3c2e4f5a6b7c")


async def test_a_wrong_secret_is_reported_without_it(standin: OpenStackStandIn) -> None:
    source = cinder(standin, secret=WRONG_SECRET)
    with pytest.raises(UpstreamError, match="OpenStack rejected the application credential") as caught:
        await source.volumes(hub("prod"))
    for text in (str(caught.value), repr(caught.value), repr(source)):
        assert WRONG_SECRET not in text
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert standin.cinder_requests == []


async def test_a_credential_of_another_project_is_refused(standin: OpenStackStandIn) -> None:
    with pytest.raises(UpstreamError, match="is for project 'BIO250001', not 'CHE990000'"):
        await cinder(standin, project="CHE990000").volumes(hub("prod"))
    assert standin.cinder_requests == []  # another project's volumes are never touched


async def test_an_unreachable_cloud_is_an_upstream_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = CinderBackups(OpenStackProvider(kind="openstack", auth_url=f"http://127.0.0.1:{port}/v3",
                                             project="BIO250001"),
                           application_credential_id=CREDENTIAL_ID,
                           application_credential_secret=SecretStr(CREDENTIAL_SECRET))
    with pytest.raises(UpstreamError, match="could not reach OpenStack identity service") as caught:
        await source.volumes(hub("prod"))
    assert CREDENTIAL_SECRET not in str(caught.value)


async def test_a_given_client_is_used_and_left_open(standin: OpenStackStandIn) -> None:
    home(standin, "prod")
    async with httpx.AsyncClient() as client:
        source = CinderBackups(provider(standin), application_credential_id=CREDENTIAL_ID,
                               application_credential_secret=SecretStr(CREDENTIAL_SECRET), http=client)
        assert len(await source.volumes(hub("prod"))) == 1
        assert not client.is_closed


# -- the catalog ----------------------------------------------------------------------------------

@pytest.mark.parametrize("types", [("volumev3",), ("block-storage",)])
async def test_cinder_is_found_under_either_service_type(standin: OpenStackStandIn, types: tuple[str, ...]) -> None:
    standin.catalog_types = types
    home(standin, "prod")
    assert len(await cinder(standin).volumes(hub("prod"))) == 1


async def test_a_catalog_without_block_storage_says_so(standin: OpenStackStandIn) -> None:
    standin.catalog_types = ()
    with pytest.raises(UpstreamError, match="the service catalog has no public block storage endpoint "
                                            r"\(type block-storage or volumev3\)"):
        await cinder(standin).volumes(hub("prod"))


async def test_a_region_the_catalog_lacks_names_the_ones_it_has(standin: OpenStackStandIn) -> None:
    standin.regions = ["IU", "TACC"]
    with pytest.raises(UserError, match=r"region Purdue.*block storage only in IU, TACC"):
        await cinder(standin).volumes(hub("prod", region="Purdue"))
    with pytest.raises(UserError, match="has block storage in IU, TACC — set the provider's or the hub's backup "
                                        "region"):
        await cinder(standin, region=None).volumes(hub("prod"))


# -- the overview ---------------------------------------------------------------------------------

async def test_thirty_hubs_in_two_regions_take_one_volume_and_one_snapshot_list_per_region(
        standin: OpenStackStandIn) -> None:
    standin.regions = ["IU", "TACC"]
    targets = [hub(f"hub{n:02d}", region=None if n < 20 else "TACC") for n in range(30)]
    for n in range(30):
        region = "IU" if n < 20 else "TACC"
        volume = home(standin, f"hub{n:02d}", region=region)
        standin.add_snapshot(volume, region=region, metadata=hubbot_tags(targets[n]))
        standin.add_snapshot(volume, region=region, status="creating")
    source = cinder(standin)

    views = await source.overview(targets)

    assert set(views) == {t.hub for t in targets}
    assert all(len(v.snapshots) == 2 and v.problem is None and v.schedule is None for v in views.values())
    newest, oldest = views["js2/hub25"].snapshots
    assert (newest.state, newest.made_by) == (SnapshotState.PENDING, "someone in the project")
    assert (oldest.state, oldest.made_by, oldest.requested_by) == (SnapshotState.COMPLETED, "hubbot", "UENG00001")
    assert requests(standin) == {("GET", "IU", "volumes/detail"): 1, ("GET", "IU", "snapshots/detail"): 1,
                                 ("GET", "TACC", "volumes/detail"): 1, ("GET", "TACC", "snapshots/detail"): 1}
    assert standin.auth_calls == 1


async def test_a_hub_the_overview_cannot_answer_for_gets_a_problem(standin: OpenStackStandIn) -> None:
    home(standin, "prod")
    views = await cinder(standin).overview([hub("prod"), hub("ghost"), hub("far", region="Purdue"),
                                            hub("named", tags={}, volumes=("5d1e0000-0000-4000-8000-000000000000",))])
    assert views["js2/prod"].problem is None
    assert views["js2/ghost"].problem == (
        "no volume in OpenStack project 'BIO250001' (region IU) has metadata 2i2c:hub-name=ghost")
    assert views["js2/far"].problem is not None and "block storage only in IU" in views["js2/far"].problem
    assert views["js2/named"].problem == (
        "volume 5d1e0000-0000-4000-8000-000000000000 is not in OpenStack project 'BIO250001' (region IU)")


async def test_the_overview_fails_whole_when_every_region_does(standin: OpenStackStandIn) -> None:
    standin.fail("cinder", 403)
    with pytest.raises(UpstreamError, match="does not let hubbot list volumes"):
        await cinder(standin).overview([hub("prod")])
    assert await cinder(standin).overview([]) == {}
