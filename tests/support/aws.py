"""An in-process Cost Explorer stand-in (moto's server) and builders for its answers."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

ACCOUNT = "123456789012"
TAG_KEY = "2i2c:hub-name"


def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials boto3 accepts, and nothing that would make it look further (files, instance metadata)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing-token")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")


@dataclass
class MotoCostExplorer:
    """moto's server on loopback. Each :meth:`queue` entry answers the next distinct request."""

    url: str

    def _post(self, path: str, body: dict[str, Any] | None = None) -> int:
        data = json.dumps(body or {}).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method="POST", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)

    def queue(self, *results: dict[str, Any]) -> None:
        assert self._post("/moto-api/static/ce/cost-and-usage-results", {"results": list(results)}) == 201

    def reset(self) -> None:
        # moto keeps its state per process and remembers which request got which result.
        self._post("/moto-api/reset")


@contextmanager
def moto_cost_explorer() -> Iterator[MotoCostExplorer]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield MotoCostExplorer(f"http://{host}:{port}")
    finally:
        server.stop()


@dataclass
class Day:
    """One day of a GetCostAndUsage answer: ``groups`` maps (hub tag value, service) to amount."""

    start: str
    end: str
    groups: dict[tuple[str, str], str] = field(default_factory=dict)
    estimated: bool = False


def cost_response(
    *days: Day, metric: str = "AmortizedCost", tag_key: str = TAG_KEY, next_page: str | None = None
) -> dict[str, Any]:
    """A complete GetCostAndUsage response, grouped by tag then service as the adapter asks."""
    response: dict[str, Any] = {
        "GroupDefinitions": [{"Type": "TAG", "Key": tag_key}, {"Type": "DIMENSION", "Key": "SERVICE"}],
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": day.start, "End": day.end},
                "Total": {},
                "Groups": [
                    {"Keys": [f"{tag_key}${hub}", service], "Metrics": {metric: {"Amount": amount, "Unit": "USD"}}}
                    for (hub, service), amount in day.groups.items()
                ],
                "Estimated": day.estimated,
            }
            for day in days
        ],
        "DimensionValueAttributes": [],
    }
    if next_page is not None:
        response["NextPageToken"] = next_page
    return response
