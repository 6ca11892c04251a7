"""A real Prometheus for the tests (Debian's ``prometheus`` package), filled with backfilled samples.

:class:`MetricsText` writes OpenMetrics text the way ``promtool tsdb create-blocks-from openmetrics``
needs it; :func:`start` turns one or more such texts into TSDB blocks with promtool, then runs a private
``prometheus`` on a free loopback port over them, with no scrape targets, and returns once ``/-/ready``
answers. Tests query it with plain HTTP (``/api/v1/query`` with ``time=``, ``/api/v1/query_range`` with
``start``/``end``), as hubbot does.

What promtool does with its input, found by running it (2.42):

* It accepts a sample out of time order, or a second sample at the same timestamp, without a word and
  drops it (within its batches of 5,000 samples; across them it fails with "out of order sample"), so
  :class:`MetricsText` sorts each series' samples and refuses a timestamp twice.
* Timestamps are seconds (a fraction for milliseconds); one in milliseconds lands in the year 58,000.
* No blank line anywhere, nothing after ``# EOF``, no space after a comma between labels, no sample
  without a timestamp.
* It stores each sample under the name on its line and checks nothing against ``# TYPE``: a counter
  family ``x`` must write its samples as ``x_total``, which is also the name PromQL knows.
* It makes blocks of 2 h unless told otherwise, and reads the whole file once per block: 30 days of
  20 series took 24 s that way. ``--max-block-duration`` (a flag ``--help`` does not list) lets it
  make blocks of 2 h·3^k up to that size; with 4374 h the same data takes 0.3 s.

And what Prometheus does with the blocks:

* Time retention counts back from the newest block, not from now, and drops whole blocks, so it is set
  far beyond any test's span. Nothing is dropped for being in the past: the head block stays empty.
* A lookback of 5 min (the default) sees a sample up to and including 5 min after it; series sampled
  less often need ``lookback_delta`` raised for instant queries.
* Blocks from several texts may overlap in time and are merged at query time; a sample at the same
  timestamp in two of them is kept once, which one is not defined.
* Backfilled data has no metadata (``/api/v1/metadata`` is empty): HELP and TYPE lines are not kept.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Literal, NoReturn

import httpx

from tests.support.services import free_port, missing

START_TIMEOUT = 30.0
BACKFILL_TIMEOUT = 120.0
# The largest block promtool should make: 2 h·3^7, about half a year, so a test's data is read once or twice.
MAX_BLOCK_DURATION = "4374h"
# Time retention counts from the newest block back; nothing a test writes spans anything like this.
RETENTION = "10y"
CONFIG = "# No scrape targets: every sample was backfilled with promtool.\nscrape_configs: []\n"

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

Timestamp = datetime | int | float


def unavailable(reason: str) -> NoReturn:
    missing(f"Prometheus is needed for this test: {reason} (apt-get install prometheus)")


@dataclass(frozen=True)
class Binaries:
    prometheus: str
    promtool: str


def binaries() -> Binaries:
    """``prometheus`` and ``promtool`` from ``HUBBOT_TEST_PROMETHEUS``/``HUBBOT_TEST_PROMTOOL`` or PATH."""
    found: dict[str, str] = {}
    for name in ("prometheus", "promtool"):
        chosen = os.environ.get(f"HUBBOT_TEST_{name.upper()}") or shutil.which(name)
        if not chosen or not os.access(chosen, os.X_OK):
            unavailable(f"no executable {name} ({chosen or 'not on PATH'})")
        found[name] = chosen
    return Binaries(**found)



def _millis(at: Timestamp) -> int:
    """Prometheus keeps milliseconds."""
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise ValueError(f"timestamp {at} has no time zone")
        at = at.timestamp()
    millis = round(at * 1000)
    if millis < 0:
        raise ValueError(f"timestamp {at} is before 1970")
    return millis


def _seconds(millis: int) -> str:
    """OpenMetrics timestamps are seconds."""
    whole, rest = divmod(millis, 1000)
    return f"{whole}.{rest:03d}" if rest else str(whole)


def _value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _label_value(value: str) -> str:
    return value.replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")


def _help(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")


@dataclass
class _Family:
    kind: Literal["counter", "gauge"]
    help: str
    series: dict[tuple[tuple[str, str], ...], dict[int, float]] = field(default_factory=dict)


class MetricsText:
    """OpenMetrics text for promtool: one block of lines per family, each series in time order.

    Timestamps are aware datetimes or seconds since the epoch (kept to the millisecond). Give a
    counter's family name without ``_total``: its samples, and PromQL, have the suffix.
    """

    def __init__(self) -> None:
        self._families: dict[str, _Family] = {}

    def counter(self, name: str, labels: Mapping[str, str], points: Iterable[tuple[Timestamp, float]], *,
                help: str = "") -> MetricsText:
        if name.endswith("_total"):
            raise ValueError(f"counter {name}: name the family without _total (its samples get the suffix)")
        return self._add("counter", name, labels, points, help)

    def gauge(self, name: str, labels: Mapping[str, str], points: Iterable[tuple[Timestamp, float]], *,
              help: str = "") -> MetricsText:
        return self._add("gauge", name, labels, points, help)

    def _add(self, kind: Literal["counter", "gauge"], name: str, labels: Mapping[str, str],
             points: Iterable[tuple[Timestamp, float]], help: str) -> MetricsText:
        if not _METRIC_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a metric name")
        for label in labels:
            if not _LABEL_NAME.fullmatch(label) or label.startswith("__"):
                raise ValueError(f"{label!r} is not a label name (metric {name})")
        family = self._families.setdefault(name, _Family(kind, help))
        if family.kind != kind:
            raise ValueError(f"{name} is already a {family.kind}")
        family.help = family.help or help
        samples = family.series.setdefault(tuple(sorted(labels.items())), {})
        for at, value in points:
            millis = _millis(at)
            if millis in samples:
                raise ValueError(f"{name}{dict(labels)} has two samples at {_seconds(millis)}")
            samples[millis] = value
        return self

    def text(self) -> str:
        lines: list[str] = []
        for name, family in self._families.items():
            if family.help:
                lines.append(f"# HELP {name} {_help(family.help)}")
            lines.append(f"# TYPE {name} {family.kind}")
            sample_name = f"{name}_total" if family.kind == "counter" else name
            for labels, samples in family.series.items():
                rendered = ",".join(f'{key}="{_label_value(value)}"' for key, value in labels)
                prefix = f"{sample_name}{{{rendered}}}" if rendered else sample_name
                lines.extend(f"{prefix} {_value(samples[millis])} {_seconds(millis)}" for millis in sorted(samples))
        lines.append("# EOF")
        return "\n".join(lines) + "\n"


class BackfillError(RuntimeError):
    """promtool refused an OpenMetrics text; the message carries what it said."""


def backfill(promtool: str, text: str, data: Path, *, name: str = "input") -> float:
    """Write ``text`` next to ``data`` and turn it into blocks there; return the seconds promtool took."""
    data.mkdir(parents=True, exist_ok=True)
    source = data.parent / f"{name}.om"
    source.write_text(text)
    began = time.monotonic()
    try:
        done = subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics", f"--max-block-duration={MAX_BLOCK_DURATION}",
             "--quiet", str(source), str(data)],
            capture_output=True, text=True, check=False, timeout=BACKFILL_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise BackfillError(f"promtool did not finish {source} within {BACKFILL_TIMEOUT:g} s") from e
    if done.returncode != 0:
        said = done.stderr.strip() or done.stdout.strip() or "(nothing)"
        raise BackfillError(f"promtool exited with {done.returncode} on {source}: {said}")
    return time.monotonic() - began


@dataclass
class PrometheusServer:
    url: str
    folder: Path
    log: Path
    backfill_seconds: float = 0.0
    ready_seconds: float = 0.0
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _handle: IO[bytes] | None = field(default=None, repr=False)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) or "(empty log)"
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def start(folder: Path, *texts: str, bins: Binaries | None = None, lookback_delta: str = "5m",
          timeout: float = START_TIMEOUT, basic_auth: tuple[str, str] | None = None) -> PrometheusServer:
    """Backfill ``texts`` (OpenMetrics, see :class:`MetricsText`) into a TSDB in ``folder`` and serve it;
    with ``basic_auth`` (user, password), only to that user (Prometheus' web config, bcrypt hash).

    Raises :class:`BackfillError` with promtool's message if it refuses a text, and RuntimeError with
    the log's tail if Prometheus exits or is not ready within ``timeout`` seconds.
    """
    bins = bins or binaries()
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data"
    spent = sum(backfill(bins.promtool, text, data, name=f"input-{i}") for i, text in enumerate(texts))
    data.mkdir(exist_ok=True)
    config = folder / "prometheus.yml"
    config.write_text(CONFIG)
    web: list[str] = []
    if basic_auth is not None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt  # glibc's libxcrypt makes bcrypt hashes, as Prometheus' web config wants

        hashed = crypt.crypt(basic_auth[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10))
        (folder / "web.yml").write_text(f"basic_auth_users:\n  {basic_auth[0]}: '{hashed}'\n")
        web = [f"--web.config.file={folder / 'web.yml'}"]
    port = free_port()
    log = folder / "prometheus.log"
    handle = log.open("wb")
    began = time.monotonic()
    process = subprocess.Popen(
        [bins.prometheus, f"--config.file={config}", f"--storage.tsdb.path={data}",
         f"--web.listen-address=127.0.0.1:{port}", f"--storage.tsdb.retention.time={RETENTION}",
         f"--query.lookback-delta={lookback_delta}", *web],
        cwd=folder, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    server = PrometheusServer(url=f"http://127.0.0.1:{port}", folder=folder, log=log, backfill_seconds=spent,
                              _process=process, _handle=handle)
    deadline = began + timeout
    with httpx.Client(timeout=2) as client:
        while True:
            if process.poll() is not None:
                server.stop()
                raise RuntimeError(f"prometheus exited with {process.returncode}:\n{server.tail()}")
            try:
                if client.get(f"{server.url}/-/ready", auth=basic_auth).status_code == 200:
                    server.ready_seconds = time.monotonic() - began
                    return server
            except httpx.TransportError:
                pass
            if time.monotonic() >= deadline:
                server.stop()
                raise RuntimeError(f"prometheus was not ready within {timeout:g} s:\n{server.tail()}")
            time.sleep(0.02)
