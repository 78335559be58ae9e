"""The report-v1 interchange format (docs/spec/report-v1.md) as validated models.

The models accept every document the spec describes. Unknown fields are kept (the spec
allows optional additions), so a document is stored exactly as it was sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ringtrace.errors import InvalidReport

FORMAT_V1 = "ringtrace.report/1"
SCHEMA_ID = "https://ringtrace.invalid/schema/report-v1.json"

IdentifierType = Literal[
    "phone", "email", "url", "domain", "ip", "telegram", "whatsapp", "instagram", "facebook",
    "snapchat", "tiktok", "wechat", "line", "kakaotalk", "skype", "discord", "x",
    "dating_profile", "crypto_wallet", "bank_account", "iban", "upi", "paynow", "fps",
    "giftcard", "other",
]  # fmt: skip
PaymentMethod = Literal[
    "crypto", "bank_transfer", "giftcard", "paypal", "cashapp", "upi", "paynow", "fps",
    "money_transfer", "other",
]  # fmt: skip
Tlp = Literal["clear", "green", "amber", "amber+strict", "red"]
AgeBand = Literal["under-18", "18-24", "25-34", "35-49", "50+"]

_SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=False, frozen=True)


class Reporter(_Part):
    """Everything in here is personal data."""

    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")
    language: str | None = Field(default=None, max_length=35)
    age_band: AgeBand | None = None
    contact: str | None = Field(default=None, max_length=1000)
    consent_contact: bool | None = None
    consent_share: bool | None = None


class Message(_Part):
    sent_at: AwareDatetime | None = None
    from_: Literal["offender", "victim"] = Field(alias="from")
    channel: str | None = Field(default=None, max_length=200)
    text: str = Field(max_length=200_000)


class OffenderIdentifier(_Part):
    type: IdentifierType
    value: str = Field(min_length=1, max_length=2000)
    platform: str | None = Field(default=None, max_length=200)


class Payment(_Part):
    kind: Literal["demanded", "paid"]
    amount: float | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, max_length=10)
    method: PaymentMethod | None = None
    account: str | None = Field(default=None, max_length=500)
    reference: str | None = Field(default=None, max_length=500)
    at: AwareDatetime | None = None


class Attachment(_Part):
    filename: str = Field(min_length=1, max_length=500)
    media_type: str | None = Field(default=None, max_length=200)
    sha256: str | None = Field(default=None, pattern=_SHA256_PATTERN)
    content_base64: str | None = None
    path: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _one_content(self) -> Attachment:
        if self.content_base64 is not None and self.path is not None:
            raise ValueError("give either content_base64 or path, not both")
        return self

    def decoded(self) -> bytes | None:
        """The inline content, checked against ``sha256`` when both are given."""
        if self.content_base64 is None:
            return None
        try:
            data = base64.b64decode(self.content_base64, validate=True)
        except binascii.Error as e:
            raise ValueError(f"content_base64 of {self.filename!r} is not valid base64") from e
        if self.sha256 and hashlib.sha256(data).hexdigest() != self.sha256.lower():
            raise ValueError(f"sha256 of {self.filename!r} does not match its content")
        return data


class MediaHash(_Part):
    """A perceptual hash computed elsewhere (the reporter's browser, a helpline's offline
    tool): the image itself never travels. ``lure`` is material the offender used (profile
    photos, bait videos); ``own`` is the reporter's own intimate image, for the takedown list.
    An addition to report-v1 (optional, so every v1 document stays valid)."""

    algorithm: Literal["pdq"] = "pdq"
    hash: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    quality: int | None = Field(default=None, ge=0, le=100)
    role: Literal["lure", "own"]
    preprocessing: str | None = Field(default=None, max_length=100)
    frame_second: float | None = Field(default=None, ge=0)
    label: str | None = Field(default=None, max_length=200)


class ReportDocument(_Part):
    """One report, as sent."""

    model_config = ConfigDict(
        extra="allow",
        frozen=True,
        title="ringtrace report, version 1",
        json_schema_extra={"$id": SCHEMA_ID},
    )

    format: Literal["ringtrace.report/1"] | None = None
    external_id: str = Field(min_length=1, max_length=200)
    source: str = Field(default="local", min_length=1, max_length=200)
    received_at: AwareDatetime = Field(
        json_schema_extra={"pattern": r"^\d{4}-\d{2}-\d{2}T.*(?:[Zz]|[+-]\d{2}:\d{2})$"}
    )
    reporter: Reporter | None = None
    platform_first_contact: str | None = Field(default=None, max_length=500)
    narrative: str | None = Field(default=None, max_length=500_000)
    messages: list[Message] = Field(default_factory=list, max_length=10_000)
    offender_identifiers: list[OffenderIdentifier] = Field(default_factory=list, max_length=2000)
    payments: list[Payment] = Field(default_factory=list, max_length=2000)
    attachments: list[Attachment] = Field(default_factory=list, max_length=500)
    media_hashes: list[MediaHash] = Field(default_factory=list, max_length=5000)
    tlp: Tlp = "amber"

    @field_validator("external_id", "source")
    @classmethod
    def _printable(cls, v: str) -> str:
        if v != v.strip() or any(not c.isprintable() for c in v):
            raise ValueError("must not have surrounding spaces or control characters")
        return v

    @property
    def country(self) -> str | None:
        if self.reporter and self.reporter.country:
            return self.reporter.country.upper()
        return None

    @property
    def received_at_utc(self) -> datetime:
        return self.received_at


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts = ["from" if p == "from_" else str(p) for p in loc]
    return ".".join(parts) if parts else "(document)"


def parse_report(data: Any, *, line: int | None = None) -> ReportDocument:
    """Validate one decoded JSON value as a report, raising :class:`InvalidReport` with the
    field path of the first problem."""
    if not isinstance(data, dict):
        raise InvalidReport("a report must be a JSON object", line=line)
    try:
        doc = ReportDocument.model_validate(data)
        for i, att in enumerate(doc.attachments):
            try:
                att.decoded()
            except ValueError as e:
                raise InvalidReport(str(e), field=f"attachments.{i}", line=line) from e
    except ValidationError as e:
        err = e.errors()[0]
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "required field is missing"
        raise InvalidReport(msg, field=_field_path(err["loc"]), line=line) from e
    return doc


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that `ringtrace schema report` publishes."""
    schema = ReportDocument.model_json_schema(by_alias=True)
    out: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    out.update(schema)
    return out
