"""Kubernetes API clients for targets, kept between calls, and the CA files written for them."""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from hubbot.domain import KubeTarget
from hubbot.errors import UpstreamError, UserError


class ApiClients:
    """ApiClients kept between calls, one per target (a kubeconfig file as it is now, or a server with
    its token and CA): a rollout is polled every few seconds, and a new client would parse the
    kubeconfig and open a new connection each time. A client whose call failed is not kept."""

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._kept: OrderedDict[tuple[Any, ...], tuple[Any, str | None]] = OrderedDict()
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            while self._kept:
                _close(self._kept.popitem()[1])

    @contextmanager
    def use(self, target: KubeTarget) -> Iterator[Any]:
        key = _key(target)
        with self._lock:
            found = self._kept.pop(key, None) if key is not None else None
        if found is None:
            found = _new_client(target)
        try:
            yield found[0]
        except BaseException:
            _close(found)
            raise
        with self._lock:
            if key is None or key in self._kept:
                _close(found)
                return
            self._kept[key] = found
            while len(self._kept) > self._size:
                _close(self._kept.popitem(last=False)[1])


def _key(target: KubeTarget) -> tuple[Any, ...] | None:
    if target.kubeconfig is not None:
        try:
            changed = os.stat(target.kubeconfig).st_mtime_ns
        except OSError:
            return None  # _new_client says what is wrong with it
        return ("kubeconfig", target.kubeconfig, target.context, changed)
    return ("server", target.server, target.token, target.ca_data)


def _close(found: tuple[Any, str | None]) -> None:
    api, ca_file = found
    api.close()
    if ca_file is not None:
        with suppress(FileNotFoundError):
            os.unlink(ca_file)


def _new_client(target: KubeTarget) -> tuple[Any, str | None]:
    """An ApiClient for ``target``, and the CA file written for it (removed when it is closed)."""
    from kubernetes import client, config

    if target.kubeconfig is not None:
        try:
            # persist_config off: never write refreshed credentials back into a (mounted) kubeconfig.
            api = config.new_client_from_config(  # type: ignore[no-untyped-call]  # not annotated
                config_file=target.kubeconfig, context=target.context, persist_config=False
            )
        except (config.ConfigException, OSError, ValueError) as exc:
            raise UserError(f"the kubeconfig {target.kubeconfig} for cluster '{target.cluster}' is unusable "
                            f"({type(exc).__name__}: {str(exc)[:200]})") from exc
        return api, None
    if not target.server or not target.token:
        raise UserError(f"no server and token for cluster '{target.cluster}'; resolve its target first")
    ca_file = _write_ca(target) if target.ca_data else None
    # One retry for a dropped connection: rollouts are polled, so the next poll retries anyway.
    configuration = client.Configuration(host=target.server, api_key={"authorization": f"Bearer {target.token}"},
                                         ssl_ca_cert=ca_file, retries=1)
    return client.ApiClient(configuration), ca_file


def _write_ca(target: KubeTarget) -> str:
    try:
        pem = base64.b64decode(target.ca_data or "", validate=True)
    except (binascii.Error, ValueError):
        raise UpstreamError(f"the CA certificate of cluster '{target.cluster}' is not valid base64") from None
    # mkstemp makes the file readable by this user only.
    fd, path = tempfile.mkstemp(prefix="hubbot-ca-", suffix=".pem")
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
    return path
