"""The one typed settings object.

Built at the edge (the CLI, ``create_app``) and passed down; nothing here reads the
environment at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """ringtrace configuration, from ``RINGTRACE_*`` environment variables or arguments."""

    model_config = SettingsConfigDict(env_prefix="RINGTRACE_", extra="ignore")

    data_dir: Path = Field(
        default=Path("./ringtrace-data"),
        description="Folder holding the embedded SQLite database and the evidence vault.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database; overrides the embedded SQLite file.",
    )
    host: str = Field(default="127.0.0.1", description="Address `ringtrace serve` binds to.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `ringtrace serve` uses.")
    max_report_bytes: int = Field(
        default=25 * 1024 * 1024,
        gt=0,
        description="Largest accepted report document (JSON, attachments included), in bytes.",
    )

    max_attachment_bytes: int = Field(
        default=20 * 1024 * 1024,
        gt=0,
        description="Largest accepted evidence file, in bytes.",
    )
    vault_key: SecretStr | None = Field(
        default=None,
        description="Base64 AES-256 key sealing evidence and personal data; overrides the "
        "key file that `ringtrace init` creates in the data folder.",
    )
    home_agency: str = Field(
        default="local",
        description="Code of the agency running this instance: it owns reports whose source "
        "is not another agency's code (the public page's, local imports).",
    )
    public_routes: dict[str, str] = Field(
        default_factory=dict,
        description="Which agency receives a report from the public page, by the victim's "
        'country: a JSON object of ISO 3166-1 codes to agency codes, e.g. {"HK": "hk-police"} '
        "(docs/access.md). A country without a route, or whose agency has no active user, "
        "goes to the public intake agency.",
    )
    public_intake_agency: str | None = Field(
        default=None,
        description="Agency receiving public reports that no route places (default: the home "
        "agency). It must have people able to work its triage queue.",
    )
    secure_cookies: bool = Field(
        default=True,
        description="Mark session cookies Secure (HTTPS only); turn off only for plain-HTTP "
        "development on loopback.",
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server for alert emails (none: alerts show on the dashboard only).",
    )
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP server port.")
    smtp_from: str = Field(
        default="ringtrace@localhost", description="Sender address of alert emails."
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for background jobs (Huey): server processes enqueue, "
        "`ringtrace worker` processes run them. Unset: each server process runs them on a "
        "thread.",
    )
    rate_limit_url: str | None = Field(
        default=None,
        description="Where the rate limits (login throttle, public post limit) count: a "
        "`limits` storage URL such as redis://host:6379/1 or memory://. Unset: "
        "RINGTRACE_REDIS_URL when that is set (every server process shares the counts), "
        "otherwise each process's memory.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="Base URL used in links inside alert emails."
    )
    session_hours: float = Field(
        default=8.0, gt=0, description="How long a console login lasts, in hours."
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of reverse proxies in front of "
        "`ringtrace serve` whose X-Forwarded-For is believed (uvicorn's forwarded_allow_ips and "
        "the rate limits use the same list). Empty: the connecting peer is the client.",
    )
    actor: str | None = Field(
        default=None,
        description="Who the audit log names for this process's actions (default: the OS user).",
    )

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    @property
    def intake_agency(self) -> str:
        return self.public_intake_agency or self.home_agency

    @property
    def key_file(self) -> Path:
        return self.data_dir / "keys" / "vault-keys.json"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "ringtrace.sqlite3"

    @property
    def vault_dir(self) -> Path:
        return self.data_dir / "vault"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.sqlite_path.resolve()}"
