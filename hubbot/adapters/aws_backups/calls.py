"""How hubbot calls the AWS APIs behind backups: one client per service and region (made on first
use, in a worker thread), every call counted by the IAM action it needs, pages followed, and what
a failed call means for hubbot's caller, as :mod:`hubbot.errors`.

Clients make one attempt per call: ``CreateSnapshot`` takes no idempotency token, so a retry after
a lost answer could make a second snapshot, and a throttled read is better reported ("try again
later") than retried blindly by every hub's alert at once.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hubbot.adapters.aws import throttle_wait
from hubbot.errors import HubbotError, NotFound, UpstreamError, UserError

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

ClientFactory = Callable[[str, str], Any]
Payload = dict[str, Any]

# IAM names each service's actions with a prefix of its own (EFS's is elasticfilesystem).
_IAM_PREFIX = {"ec2": "ec2", "efs": "elasticfilesystem", "backup": "backup", "dlm": "dlm"}
_SERVICE = {"ec2": "EC2", "efs": "EFS", "backup": "AWS Backup", "dlm": "Data Lifecycle Manager"}

_DENIED = frozenset({"UnauthorizedOperation", "AccessDenied", "AccessDeniedException"})
_CREDENTIALS = frozenset({
    "AuthFailure", "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException",
    "SignatureDoesNotMatch", "InvalidSignatureException", "RequestExpired",
})
_THROTTLED = frozenset({
    "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "RequestThrottled",
})
_NOT_FOUND = frozenset({
    "InvalidVolume.NotFound", "InvalidVolumeID.Malformed", "InvalidSnapshot.NotFound", "InvalidSnapshotID.Malformed",
    "FileSystemNotFound", "ResourceNotFoundException",
})
# Quotas a request ran into: the user can act (wait for running snapshots, delete old ones).
_LIMITS = frozenset({
    "SnapshotLimitExceeded", "ConcurrentSnapshotLimitExceeded", "SnapshotCreationPerVolumeRateExceeded",
    "LimitExceededException",
})
# The request named something AWS would not take as it is: a volume in the wrong state, a vault
# or role that cannot be used. AWS's message says which.
_REFUSED = frozenset({
    "IncorrectState", "IncorrectFileSystemLifeCycleState", "InvalidParameterValue", "InvalidParameterCombination",
    "InvalidParameterValueException", "MissingParameterValueException", "InvalidRequestException",
    "ValidationException", "BadRequest",
})
_PERFORM = re.compile(r"not authorized to perform:? ([a-z0-9-]+:[A-Za-z0-9*]+)")
_MAX_PAGES = 1000


class AwsCalls:
    """Clients for one AWS account, and :meth:`call` / :meth:`pages` that count and translate.
    ``counted`` holds how many requests were sent, by IAM action (``ec2:DescribeSnapshots``)."""

    def __init__(self, *, account: str, factory: ClientFactory | None = None) -> None:
        self.account = account
        self.counted: Counter[str] = Counter()
        self._factory = factory or self._default_client
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._session: Any = None

    def _default_client(self, service: str, region: str) -> Any:
        from botocore.config import Config

        from hubbot.adapters.metered import aws_session

        if self._session is None:  # under self._lock: a boto3 session is not safe to share while building
            self._session = aws_session()
        config = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=10, read_timeout=60)
        return self._session.client(service, region_name=region, config=config)

    def client(self, service: str, region: str) -> Any:
        with self._lock:
            client = self._clients.get((service, region))
            if client is None:
                client = self._clients[(service, region)] = self._factory(service, region)
            return client

    @staticmethod
    def action(service: str, operation: str) -> str:
        return f"{_IAM_PREFIX[service]}:{operation}"

    def call(self, service: str, region: str, operation: str, *, missing: str = "", also: tuple[str, ...] = (),
             **params: Any) -> Payload:
        """One request (``operation`` as AWS names it, e.g. ``DescribeVolumes``). ``missing`` is the
        :class:`NotFound` message when AWS says the thing asked for does not exist; ``also`` names
        further IAM actions the request needs (``ec2:CreateTags`` to tag a new snapshot)."""
        from botocore import xform_name
        from botocore.exceptions import BotoCoreError, ClientError

        action = self.action(service, operation)
        with self._lock:
            self.counted[action] += 1
        try:
            client = self.client(service, region)
            answer: Payload = getattr(client, xform_name(operation))(**params)
        except ClientError as exc:
            raise self._client_error(exc, service, region, action, missing, also) from exc
        except BotoCoreError as exc:
            raise self._transport_error(exc, service, region, action) from exc
        return answer

    def pages(self, service: str, region: str, operation: str, *, page_in: str = "NextToken",
              page_out: str = "NextToken", missing: str = "", **params: Any) -> Iterator[Payload]:
        """Every page of a list: the request again with each continuation token (answered in
        ``page_out``, sent back as ``page_in``) until none comes."""
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            page = self.call(service, region, operation, missing=missing, **params)
            yield page
            token = page.get(page_out)
            if not token:
                return
            if token in seen:
                break
            seen.add(token)
            params[page_in] = token
        raise UpstreamError(f"AWS {_SERVICE[service]} in {region} kept answering {operation} with more pages; "
                            "try again later.")

    def _client_error(self, exc: ClientError, service: str, region: str, action: str, missing: str,
                      also: tuple[str, ...]) -> HubbotError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "unknown")
        said = _clean(error.get("Message"))
        name = _SERVICE[service]
        where = f"in {region} (account {self.account})"
        if code in _DENIED:
            named = _PERFORM.search(said)
            needed = [action, *also]
            if named and named.group(1) not in needed:
                needed.append(named.group(1))
            return UpstreamError(f"AWS denied hubbot {action} {where} ({code}): hubbot's AWS credentials need "
                                 f"{_and(needed)}.")
        if code in _CREDENTIALS:
            return UpstreamError(f"AWS did not accept hubbot's credentials for account {self.account} ({code}): "
                                 "renew them, or check the access key or role hubbot runs as.")
        if code in _THROTTLED:
            return UpstreamError(f"AWS {name} {where} is throttling hubbot's requests ({action}); try again later.",
                                 retry_after=throttle_wait(exc))
        if code in _NOT_FOUND:
            return NotFound(missing or f"AWS {name} {where} found nothing for {action} ({code}).")
        if code in _LIMITS:
            return UserError(f"AWS {name} {where} would not do {action}: {said or code}")
        if code in _REFUSED:
            return UserError(f"AWS {name} {where} refused {action} ({code}): {said or 'no reason given'}. "
                             "Check the hub's backup settings in the fleet config.")
        if code == "OptInRequired":
            return UpstreamError(f"region {region} is not enabled for account {self.account}: enable it, or "
                                 "correct the hub's backup region in the fleet config.")
        return UpstreamError(f"AWS {name} {where} failed {action} ({code}); try again later.")

    def _transport_error(self, exc: Exception, service: str, region: str, action: str) -> HubbotError:
        from botocore.exceptions import NoCredentialsError, ParamValidationError, PartialCredentialsError

        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            return UpstreamError(f"hubbot has no usable AWS credentials for account {self.account}: configure "
                                 f"credentials (environment, profile or instance role) that allow {action}.")
        if isinstance(exc, ParamValidationError):
            return UserError(f"AWS {_SERVICE[service]} would not take hubbot's request for {action}: "
                             f"{_clean(str(exc))}")
        return UpstreamError(f"Could not get an answer from AWS {_SERVICE[service]} in {region} "
                             f"({type(exc).__name__}); try again later.")


def when(value: object, *, what: str) -> datetime:
    """A timestamp botocore parsed, in UTC; a missing one means AWS sent a malformed ``what``."""
    if not isinstance(value, datetime):
        raise UpstreamError(f"AWS sent {what} without its time; try again later.")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _clean(message: object) -> str:
    """AWS's own words, on one line and short; an encoded authorization message is dropped."""
    text = " ".join(str(message or "").split())
    text = text.split(" Encoded authorization failure message:")[0]
    return text if len(text) <= 300 else text[:299] + "…"
