"""One exception hierarchy for the whole of ringtrace.

Each error carries a stable machine-readable ``code`` and the HTTP status an API answer should
use. The web layer maps them to JSON, the CLI to a one-line message and an exit code; neither
shows a stack trace to a user.
"""

from __future__ import annotations


class RingtraceError(Exception):
    """Base of every error ringtrace raises on purpose."""

    code = "error"
    http_status = 500
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message}


class ConfigurationError(RingtraceError):
    code = "configuration"
    http_status = 500
    exit_code = 3


class InvalidReport(RingtraceError):
    """A report document does not follow report-v1.

    ``field`` is a dotted path into the document (``payments.0.kind``) and ``line`` the
    1-based line of a JSONL file, when known.
    """

    code = "invalid_report"
    http_status = 422
    exit_code = 2

    def __init__(self, message: str, *, field: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.line = line

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field {self.field}")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "message": str(self)}
        if self.field:
            out["field"] = self.field
        if self.line is not None:
            out["line"] = self.line
        return out


class ImportFailed(RingtraceError):
    """An import file had invalid lines; nothing from it was stored."""

    code = "import_failed"
    http_status = 422
    exit_code = 2

    def __init__(self, errors: list[InvalidReport]) -> None:
        first = errors[0]
        more = f" (and {len(errors) - 1} more invalid lines)" if len(errors) > 1 else ""
        super().__init__(f"{first}{more}; nothing was imported")
        self.errors = errors


class InvalidMedia(RingtraceError):
    """An image, video or hash that cannot be hashed or matched (not decodable, too large,
    malformed hex)."""

    code = "invalid_media"
    http_status = 422
    exit_code = 2


class AuthError(RingtraceError):
    """No valid login or API token."""

    code = "unauthenticated"
    http_status = 401
    exit_code = 6


class Forbidden(RingtraceError):
    """Logged in, but the role or the sharing rules do not allow this."""

    code = "forbidden"
    http_status = 403
    exit_code = 6


class InvalidAccount(RingtraceError):
    """A user account that cannot be created as asked (role, name, password)."""

    code = "invalid_account"
    http_status = 422
    exit_code = 2


class NotFound(RingtraceError):
    code = "not_found"
    http_status = 404
    exit_code = 4


class Conflict(RingtraceError):
    """The same (source, external_id) already exists with a different content."""

    code = "conflict"
    http_status = 409
    exit_code = 5


class StoreUnavailable(RingtraceError):
    code = "store_unavailable"
    http_status = 503
    exit_code = 6


class UnsafeBind(RingtraceError):
    code = "unsafe_bind"
    http_status = 500
    exit_code = 2


class BadRequest(RingtraceError):
    """A request parameter or envelope that is not what the protocol says (not a report)."""

    code = "bad_request"
    http_status = 400
    exit_code = 2


class PayloadTooLarge(RingtraceError):
    """A request body past its limit: refused as soon as the limit is passed."""

    code = "payload_too_large"
    http_status = 413
    exit_code = 2
