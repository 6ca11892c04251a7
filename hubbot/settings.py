"""Typed settings, read from ``HUBBOT_*`` environment variables once, in the composition root."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SlackSettings(BaseSettings):
    """How to reach Slack. Secrets stay :class:`SecretStr` so they never print."""

    model_config = SettingsConfigDict(env_prefix="HUBBOT_SLACK_", extra="ignore")

    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = None
    api_url: str = "https://slack.com/api/"
    # Seconds of clock skew accepted on signed requests (Slack recommends 5 minutes, the most allowed).
    max_request_age: int = 300
    # Replies go only to a response_url under this prefix (Slack's hooks host; tests point it at a stand-in).
    response_url_prefix: str = "https://hooks.slack.com/"
    # Seconds a client has to send a request's whole body to /slack/events before it is answered 408.
    read_deadline: float = 10.0

    @field_validator("response_url_prefix")
    @classmethod
    def _ends_with_slash(cls, value: str) -> str:
        # with the slash, "https://hooks.slack.com.evil.example/" or "...@evil.example" never match
        return value if value.endswith("/") else value + "/"


class DatabaseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUBBOT_DATABASE_", extra="ignore")

    url: str = "sqlite:///hubbot.sqlite3"


class OpenStackCredential(BaseModel):
    """An application credential (Keystone v3) for one openstack provider."""

    id: str
    secret: SecretStr


class Settings(BaseSettings):
    """All settings; built once by :mod:`hubbot.main` and passed down."""

    model_config = SettingsConfigDict(env_prefix="HUBBOT_", extra="ignore")

    config: Path | None = None
    files_dir: Path = Path("hubbot-files")
    log_level: str = "INFO"
    slack: SlackSettings = Field(default_factory=SlackSettings)
    # HUBBOT_OPENSTACK='{"jetstream2": {"id": "...", "secret": "..."}}', keyed by provider name
    openstack: dict[str, OpenStackCredential] = Field(default_factory=dict)
    # JupyterHub service tokens by the name a hub's `api_token` gives (HUBBOT_HUB_TOKENS, JSON)
    hub_tokens: dict[str, SecretStr] = Field(default_factory=dict)
    # HUBBOT_PROMETHEUS_CREDENTIALS: JSON of name -> "user:password" (basic auth) or a bearer token
    prometheus_credentials: dict[str, SecretStr] = Field(default_factory=dict)
    freshdesk_api_key: SecretStr | None = None
    # The helm v3 executable deploys run (HUBBOT_HELM); `make helm` puts one in .venv/bin
    helm: str = "helm"
    # Where the fleet repository's clone and its commits' trees are kept (HUBBOT_REPOSITORY_CACHE;
    # default: ~/.cache/hubbot/repository)
    repository_cache: Path | None = None
    # Where clones of docs kept in git repositories (support.docs[].repo) are kept (HUBBOT_DOCS_CACHE;
    # default: ~/.cache/hubbot/docs)
    docs_cache: Path | None = None
    # A GitHub token that may open pull requests on the fleet repository (repository.changes: pull-request)
    github_token: SecretStr | None = None
    # When set (HUBBOT_METRICS_TOKEN), GET /metrics asks for "Authorization: Bearer <token>". The metrics
    # hold no secrets and are meant for scraping from inside the cluster; the token is for when the
    # HTTP port is reachable from further away.
    metrics_token: SecretStr | None = None
    # The sops executable that decrypts sops-encrypted values files for helm (HUBBOT_SOPS); by default
    # `sops` on PATH, and without one such a file is refused. `make sops` builds one.
    sops: str | None = None
    # GCP budget notifications pushed by Pub/Sub to POST /gcp/budget/<provider>: the push
    # subscription's audience, and (optionally) the service accounts allowed to push
    gcp_push_audience: str | None = None
    gcp_push_service_accounts: list[str] = Field(default_factory=list)
    gcp_certs_url: str = "https://www.googleapis.com/oauth2/v1/certs"
    # Scheduler: run the alert cycle inside `serve`/`socket` (off when a CronJob runs `alerts run`)
    scheduler: bool = True
    # seconds between a replica's bids for scheduler leadership (a dead leader is replaced within this)
    election_seconds: float = Field(5.0, gt=0, le=60)
    # how long a replica sending an outbox message holds it before another may try (a sender that
    # died delays what it held by up to this); longer than a send can take with Slack's retries
    # (three waits of at most 60 s), or a slow send and its successor could both post
    outbox_lease_seconds: int = Field(300, ge=10, le=3600)
    # seconds between the leader's deliveries of what the outbox still holds (and deploy-job sweeps)
    delivery_seconds: int = Field(60, ge=1, le=3600)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
