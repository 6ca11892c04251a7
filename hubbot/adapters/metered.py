"""Counting the calls hubbot sends to cloud APIs (``hubbot_cloud_api_calls_total``), hooked into
the SDKs themselves: a boto3 session whose clients report each call through botocore's events,
and :func:`count` for the one function every OpenStack request goes through
(:func:`hubbot.adapters.keystone.send`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubbot.metrics import CLOUD_CALLS

if TYPE_CHECKING:
    from boto3.session import Session

_THROTTLED = frozenset({"Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
                        "RequestLimitExceeded", "RequestThrottled", "SlowDown"})


def count(provider: str, service: str, status: int | None) -> None:
    """One call answered with HTTP ``status`` (None: no answer came back)."""
    outcome = "error" if status is None or status >= 400 else "ok"
    CLOUD_CALLS.record(provider, service, "throttled" if status == 429 else outcome)


def _service(event_name: str) -> str:
    # "after-call.ce.GetCostAndUsage" -> "ce"
    parts = event_name.split(".")
    return parts[1] if len(parts) > 2 else "other"


def _after_call(*, http_response: Any, parsed: Any, event_name: str, **_: Any) -> None:
    error = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
    status = getattr(http_response, "status_code", None)
    failed = bool(error) or (status or 0) >= 400
    outcome = "throttled" if error in _THROTTLED or status == 429 else "error" if failed else "ok"
    CLOUD_CALLS.record("aws", _service(event_name), outcome)


def _after_call_error(*, event_name: str, **_: Any) -> None:
    CLOUD_CALLS.record("aws", _service(event_name), "error")


def aws_session() -> Session:
    """A boto3 session of its own (boto3's shared default one is not safe to set up from threads)
    whose clients count every call they send."""
    import boto3

    session = boto3.session.Session()
    session.events.register("after-call", _after_call)
    session.events.register("after-call-error", _after_call_error)
    return session
