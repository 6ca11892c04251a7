"""What every Google Cloud adapter shares: credentials for endpoint overrides, and the one place
Google client failures become :class:`~hubbot.errors.UpstreamError` messages safe to show users.

The Google client libraries' own retries are off: a throttled or failed call raises at once
(with ``retry_after`` when throttled) and the caller decides when to try again.

Credentials are the ambient Google credentials (``GOOGLE_APPLICATION_CREDENTIALS``, workload
identity or the metadata server). With an ``endpoint`` override on plain ``http://`` (a local
stand-in or proxy), requests are sent without credentials, so a token never crosses the wire
unencrypted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from hubbot.errors import UpstreamError

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

_T = TypeVar("_T")
ACCOUNT_PREFIX = "billingAccounts/"
API_TIMEOUT = 60.0  # seconds for one HTTP request
_DEFAULT_RETRY_AFTER = 60.0
_QUOTA_RETRY_AFTER = 3600.0
_PERMISSION = re.compile(r"\b((?:bigquery|billing|compute|resourcemanager|serviceusage)\.[A-Za-z]+\.[A-Za-z]+)\b")
_URL_PREFIX = re.compile(r"^[A-Z]+ \S+: ")
_TEXT_MAX = 200


@dataclass(frozen=True, slots=True)
class Api:
    """What a failing call was about, for messages: the service, the thing asked for, and the
    role that grants access to it."""

    service: str
    subject: str
    grant: str


def credentials(endpoint: str | None) -> Credentials | None:
    """None (the ambient credentials), or anonymous ones for a plain-HTTP endpoint override."""
    if endpoint and endpoint.startswith("http://"):
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()  # type: ignore[no-untyped-call]  # the class has no annotations
    return None


def client_options(endpoint: str | None) -> dict[str, str] | None:
    return {"api_endpoint": endpoint} if endpoint else None


def account_id(account: str) -> str:
    return account.removeprefix(ACCOUNT_PREFIX)


def guarded(api: Api, call: Callable[[], _T]) -> _T:
    """Run ``call``, turning every Google client failure into a message safe to show users."""
    from google.api_core import exceptions as api_errors
    from google.auth import exceptions as auth_errors
    from requests import RequestException

    try:
        return call()
    except api_errors.GoogleAPICallError as exc:
        raise _call_error(exc, api) from exc
    except auth_errors.DefaultCredentialsError as exc:
        raise UpstreamError(
            f"hubbot has no Google credentials for {api.subject}: set GOOGLE_APPLICATION_CREDENTIALS or run "
            f"with workload identity, as a service account that has {api.grant}."
        ) from exc
    except auth_errors.RefreshError as exc:
        raise UpstreamError(
            f"Google refused hubbot's credentials while calling {api.service} for {api.subject}; "
            "check that the service account and its key are still valid."
        ) from exc
    except (auth_errors.GoogleAuthError, RequestException, api_errors.GoogleAPIError) as exc:
        raise UpstreamError(
            f"Could not get an answer from {api.service} for {api.subject} ({type(exc).__name__}). "
            "Try again later."
        ) from exc
    except TimeoutError as exc:
        raise UpstreamError(f"{_cap(api.service)} did not finish in time for {api.subject}. Try again later.") from exc
    except (ValueError, KeyError, ArithmeticError) as exc:  # an answer the client library could not parse
        raise UpstreamError(
            f"{_cap(api.service)} sent an answer hubbot could not read for {api.subject} ({type(exc).__name__}); "
            "nothing was used. Try again later."
        ) from exc


def _call_error(exc: Any, api: Api) -> UpstreamError:
    from google.api_core import exceptions as api_errors

    service, subject = api.service, api.subject
    found = reasons(exc)
    if isinstance(exc, api_errors.TooManyRequests) or "rateLimitExceeded" in found:
        wait = _retry_after(exc) or _DEFAULT_RETRY_AFTER
        return UpstreamError(
            f"{_cap(service)} is throttling hubbot's requests for {subject}; try again in about {wait:.0f} seconds.",
            retry_after=wait,
        )
    if "quotaExceeded" in found:
        wait = _retry_after(exc) or _QUOTA_RETRY_AFTER
        return UpstreamError(
            f"{_cap(service)} quota is used up for {subject} ({message_text(exc)}); try again later.", retry_after=wait
        )
    if isinstance(exc, api_errors.Forbidden | api_errors.PermissionDenied):
        if "SERVICE_DISABLED" in found or "accessNotConfigured" in found:
            return UpstreamError(f"{_cap(service)} is not enabled for {subject}: {message_text(exc)}")
        permission = _permission(exc)
        missing = f" (missing permission {permission})" if permission else ""
        return UpstreamError(
            f"{_cap(service)} refused hubbot's request for {subject}{missing}: grant hubbot's service account "
            f"{api.grant}."
        )
    if isinstance(exc, api_errors.Unauthorized):
        return UpstreamError(
            f"{_cap(service)} did not accept hubbot's credentials for {subject}; check the service account."
        )
    if isinstance(exc, api_errors.NotFound):
        return UpstreamError(f"{_cap(service)} could not find {subject} ({message_text(exc)}). Check the fleet config.")
    if isinstance(exc, api_errors.Conflict | api_errors.Aborted):
        return UpstreamError(f"{subject} was changed by someone else at the same time in {service}; try again.")
    if isinstance(exc, api_errors.ServerError):
        return UpstreamError(
            f"{_cap(service)} failed for {subject} (HTTP {exc.code}); try again later.", retry_after=_retry_after(exc)
        )
    code = f"HTTP {exc.code}" if exc.code else type(exc).__name__
    return UpstreamError(f"{_cap(service)} rejected the request for {subject} ({code}: {message_text(exc)}).")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def message_text(exc: Any) -> str:
    """The upstream error message without the request line, shortened."""
    message = _URL_PREFIX.sub("", str(getattr(exc, "message", "") or "")).strip() or type(exc).__name__
    return message if len(message) <= _TEXT_MAX else message[: _TEXT_MAX - 1] + "…"


def _details(exc: Any) -> list[Any]:
    return list(getattr(exc, "details", None) or [])


def reasons(exc: Any) -> set[str]:
    """Error reasons from the ``errors`` list (BigQuery's, Compute's) and from google.rpc.ErrorInfo
    details."""
    found: set[str] = set()
    for error in getattr(exc, "errors", None) or []:
        if isinstance(error, dict) and isinstance(error.get("reason"), str):
            found.add(error["reason"])
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str):
        found.add(reason)
    for detail in _details(exc):
        if isinstance(detail, dict) and isinstance(detail.get("reason"), str):
            found.add(detail["reason"])
    return found


def _permission(exc: Any) -> str | None:
    metadata = getattr(exc, "metadata", None)
    if isinstance(metadata, dict) and isinstance(metadata.get("permission"), str):
        return str(metadata["permission"])
    for detail in _details(exc):
        meta = detail.get("metadata") if isinstance(detail, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("permission"), str):
            return str(meta["permission"])
    match = _PERMISSION.search(str(getattr(exc, "message", "")))
    return match.group(1) if match else None


def _retry_after(exc: Any) -> float | None:
    """Seconds to wait, from a Retry-After header or a google.rpc.RetryInfo detail."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is not None:
        value = str(headers.get("Retry-After", "") or "").strip()
        if value.isdigit():
            return float(value)
    for detail in _details(exc):
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and re.fullmatch(r"\d+(\.\d+)?s", delay):
            return float(delay[:-1])
    return None
