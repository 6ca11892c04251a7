"""Cloud Billing budget notifications, delivered by a Pub/Sub push subscription.

Pub/Sub signs each push request with a Google-issued OIDC token for the subscription's service
account (``Authorization: Bearer <JWT>``). :class:`PushVerifier` checks that token: signature
against Google's published certificates, expiry, audience, issuer and, optionally, which
service account it was issued to. :func:`parse_budget_notification` turns the pushed message
into a :class:`~hubbot.domain.CostReading`.

Google's certificates are fetched on first use and kept for as long as their Cache-Control
``max-age`` allows; a token signed with a key not among them causes one fresh fetch (keys rotate).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast

from hubbot.domain import CostReading
from hubbot.errors import NotAllowed, UpstreamError, UserError

if TYPE_CHECKING:
    from google.auth.transport import Request

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
_CLOCK_SKEW = 10  # seconds of leeway on the token's iat and exp
_CERTS_TIMEOUT = 10.0
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*(\d+)", re.IGNORECASE)
_CURRENCY = re.compile(r"^[A-Z]{3}$")

# What google-auth's verification errors start with, and what to tell the caller instead
# (its own messages can quote the token, so they are never passed on).
_WHY = (
    ("Token expired", "the token has expired"),
    ("Token used too early", "the token is not valid yet"),
    ("Token has wrong audience", "the token is for another audience"),
    ("Could not verify token signature", "the token's signature does not verify"),
    ("Certificate for key id", "the token is signed with a key Google does not publish"),
)


class PushRejected(NotAllowed):
    """A push request without a valid token from Google for this endpoint; answer 401/403."""


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """A certificate response kept for reuse; shaped like google.auth's transport response."""

    status: int
    headers: dict[str, str]
    data: bytes


@dataclass(frozen=True, slots=True)
class _Cached:
    response: _Snapshot
    key_ids: frozenset[str]
    expires: float  # time.monotonic()


class PushVerifier:
    """Checks the OIDC token on a Pub/Sub push request.

    ``audience`` is the audience set on the push subscription (by default, the push endpoint's
    URL). ``issuer_emails``, when given, are the service accounts allowed to sign pushes.
    ``certs_url`` must serve certificates in Google's v1 format (PEM by key id). :meth:`verify`
    blocks while it fetches certificates; call it from a worker thread in async code.
    """

    def __init__(
        self,
        audience: str,
        *,
        certs_url: str = GOOGLE_CERTS_URL,
        issuer_emails: tuple[str, ...] = (),
    ) -> None:
        if not audience:
            raise UserError("a push verifier needs the audience configured on the Pub/Sub push subscription")
        self.audience = audience
        self.certs_url = certs_url
        self.issuer_emails = frozenset(issuer_emails)
        self._lock = threading.Lock()
        self._cached: _Cached | None = None
        self._transport: Any = None

    def verify(self, authorization_header: str | None) -> None:
        """Return if the header carries a valid token; raise :class:`PushRejected` if not, and
        :class:`UpstreamError` when Google's certificates cannot be fetched."""
        from google.auth import exceptions as auth_errors
        from google.oauth2 import id_token

        token = _bearer(authorization_header)
        self._forget_certs_unless(_key_id(token))
        try:
            claims = id_token.verify_token(
                token,
                cast("Request", self._fetch),
                audience=self.audience,
                certs_url=self.certs_url,
                clock_skew_in_seconds=_CLOCK_SKEW,
            )
        except auth_errors.TransportError:
            raise UpstreamError("could not fetch Google's token-signing certificates; try again later") from None
        except json.JSONDecodeError:
            raise UpstreamError("Google's token-signing certificates were not readable; try again later") from None
        except (auth_errors.GoogleAuthError, ValueError, TypeError) as exc:
            raise PushRejected(f"push request rejected: {_why(exc)}") from None
        if claims.get("iss") not in GOOGLE_ISSUERS:
            raise PushRejected("push request rejected: the token was not issued by Google")
        if self.issuer_emails:
            email = claims.get("email")
            if email not in self.issuer_emails or claims.get("email_verified") is not True:
                raise PushRejected("push request rejected: the token is for a service account not allowed to push")

    # -- certificates -------------------------------------------------------------------

    def _forget_certs_unless(self, kid: str | None) -> None:
        """Drop the kept certificates when the token names a key they do not include."""
        with self._lock:
            if self._cached is not None and kid is not None and kid not in self._cached.key_ids:
                self._cached = None

    def _inner(self) -> Any:
        if self._transport is None:
            import google.auth.transport.requests

            self._transport = google.auth.transport.requests.Request()
        return self._transport

    def _fetch(self, url: str, method: str = "GET", body: bytes | None = None,
               headers: dict[str, str] | None = None, timeout: float | None = None, **kwargs: Any) -> Any:
        """google.auth's transport interface, keeping certificate responses while they are fresh."""
        if url != self.certs_url or method != "GET":
            return self._inner()(url, method=method, body=body, headers=headers, timeout=timeout, **kwargs)
        now = time.monotonic()
        with self._lock:
            if self._cached is not None and self._cached.expires > now:
                return self._cached.response
        response = self._inner()(url, method="GET", headers=headers, timeout=timeout or _CERTS_TIMEOUT)
        if response.status != 200:
            return response
        snapshot = _Snapshot(200, dict(response.headers), bytes(response.data))
        match = _MAX_AGE.search(str(response.headers.get("Cache-Control", "")))
        try:
            keys = json.loads(snapshot.data)
        except ValueError:
            return snapshot
        if match and isinstance(keys, dict):
            with self._lock:
                self._cached = _Cached(snapshot, frozenset(str(k) for k in keys), now + int(match.group(1)))
        return snapshot


def _bearer(authorization_header: str | None) -> str:
    if not authorization_header or not authorization_header.strip():
        raise PushRejected("push request rejected: no Authorization header (is the push subscription authenticated?)")
    scheme, _, token = authorization_header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise PushRejected("push request rejected: the Authorization header is not a bearer token")
    return token


def _key_id(token: str) -> str | None:
    """The ``kid`` in the (not yet verified) token header."""
    head = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, binascii.Error):
        raise PushRejected("push request rejected: the bearer token is not a well-formed JWT") from None
    if not isinstance(header, dict) or token.count(".") != 2:
        raise PushRejected("push request rejected: the bearer token is not a well-formed JWT")
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None


def _why(exc: Exception) -> str:
    text = str(exc)
    for prefix, reason in _WHY:
        if text.startswith(prefix):
            return reason
    return "the token is not valid"


# -- notifications --------------------------------------------------------------------------


def parse_budget_notification(body: bytes, *, now: datetime | None = None) -> CostReading | None:
    """The reading a budget notification push states: cost so far in the budget's period.

    ``start`` is the period's first day (from ``costIntervalStart``) and ``end`` the first day
    of the next month (exclusive: monthly budgets); ``as_of`` is when Pub/Sub published the
    message (else ``now``, else the current time); ``allocated`` is the budget amount and
    ``source`` the budget's display name. Returns None for a message that carries no budget
    notification (no data, or data without any budget fields). Raises :class:`UserError` for a
    body that is not a well-formed push envelope or notification.
    """
    envelope = _json_object(body, "the push request body")
    message = envelope.get("message")
    if not isinstance(message, dict):
        raise UserError("budget notification: the push request has no 'message' object")
    data = message.get("data")
    if data is None or data == "":
        return None
    if not isinstance(data, str):
        raise UserError("budget notification: message.data is not a base64 string")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise UserError("budget notification: message.data is not valid base64") from None
    payload = _json_object(raw, "message.data")
    if "costAmount" not in payload and "budgetDisplayName" not in payload:
        return None
    name = payload.get("budgetDisplayName")
    if not isinstance(name, str) or not name:
        raise UserError("budget notification: budgetDisplayName is missing")
    currency = payload.get("currencyCode")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise UserError(f"budget notification '{name}': currencyCode is missing or not an ISO 4217 code")
    start = _instant(payload.get("costIntervalStart"), f"budget notification '{name}': costIntervalStart").date()
    published = message.get("publishTime") or message.get("publish_time")
    if published is not None:
        as_of = _instant(published, f"budget notification '{name}': message.publishTime")
    else:
        as_of = now or datetime.now(UTC)
    return CostReading(
        start=start,
        end=_next_month(start),
        amount=_number(payload, "costAmount", name),
        currency=currency,
        as_of=as_of,
        allocated=_number(payload, "budgetAmount", name),
        source=name,
    )


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise UserError(f"budget notification: {what} is not JSON") from None
    if not isinstance(value, dict):
        raise UserError(f"budget notification: {what} is not a JSON object")
    return value


def _number(payload: dict[str, Any], key: str, name: str) -> Decimal:
    value = payload.get(key)
    problem = UserError(f"budget notification '{name}': {key} is missing or not a number")
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise problem
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise problem from None
    if not number.is_finite():
        raise problem
    return number


def _instant(value: Any, what: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise UserError(f"{what} is missing")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"{what} is not an RFC 3339 time: {value!r:.40}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


class GcpBudgetPush:
    """The :class:`hubbot.ports.BudgetPush` for Pub/Sub pushes: the token is checked in a worker
    thread (certificate fetches block), then the message is parsed."""

    def __init__(self, audience: str, *, certs_url: str = GOOGLE_CERTS_URL,
                 issuer_emails: tuple[str, ...] = ()) -> None:
        self._verifier = PushVerifier(audience, certs_url=certs_url, issuer_emails=issuer_emails)

    async def read(self, authorization: str | None, body: bytes, *, now: datetime) -> CostReading | None:
        await asyncio.to_thread(self._verifier.verify, authorization)
        return parse_budget_notification(body, now=now)
