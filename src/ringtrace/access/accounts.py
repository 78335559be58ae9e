"""Agencies, users, passwords (argon2id), TOTP, API tokens and sessions, in the store."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from ringtrace.access.policy import ROLES, Principal
from ringtrace.errors import AuthError, Conflict, InvalidAccount, NotFound
from ringtrace.evidence.keys import KeyRing
from ringtrace.store import audit_log as audit
from ringtrace.store.tables import agencies, api_tokens, sessions, users

MIN_PASSWORD = 12
_AAD_TOTP = b"ringtrace:totp:"


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidAccount(f"a password needs at least {MIN_PASSWORD} characters")
    return str(_hasher().hash(password))


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ensure_agency(conn: Connection, code: str, name: str | None = None) -> int:
    row = conn.execute(select(agencies.c.id).where(agencies.c.code == code)).first()
    if row:
        return int(row[0])
    return int(
        conn.execute(
            insert(agencies)
            .values(code=code, name=name or code, created_at=datetime.now(UTC))
            .returning(agencies.c.id)
        ).scalar_one()
    )


def agency_codes(conn: Connection) -> set[str]:
    return {str(r[0]) for r in conn.execute(select(agencies.c.code))}


def add_user(
    conn: Connection,
    ring: KeyRing,
    username: str,
    password: str,
    agency: str,
    role: str,
    *,
    actor: str,
    totp: bool = False,
    email: str | None = None,
) -> str | None:
    """Create a user; returns the TOTP secret to enrol (shown once) when ``totp``."""
    if role not in ROLES:
        raise InvalidAccount(f"role must be one of {', '.join(ROLES)}")
    if not username or len(username) > 200 or not username.isprintable() or " " in username:
        raise InvalidAccount("a username is 1-200 printable characters without spaces")
    if user_exists(conn, username):
        raise Conflict(f"user {username} already exists")
    secret = None
    sealed = None
    if totp:
        import pyotp

        secret = pyotp.random_base32()
        sealed = ring.seal(secret.encode(), _AAD_TOTP + username.encode()).hex()
    conn.execute(insert(users).values(
        username=username, agency_id=ensure_agency(conn, agency), role=role,
        password_hash=hash_password(password), totp_secret=sealed, active=True, email=email,
        created_at=datetime.now(UTC),
    ))  # fmt: skip
    audit.append(conn, actor, "user.create", f"user:{username}",
                 {"agency": agency, "role": role, "totp": totp})  # fmt: skip
    return secret


def agency_of_user(conn: Connection, username: str) -> str | None:
    """The agency code of a user, or None if there is no such user."""
    row = conn.execute(
        select(agencies.c.code)
        .join(users, users.c.agency_id == agencies.c.id)
        .where(users.c.username == username)
    ).first()
    return str(row[0]) if row else None


def staffed_agencies(conn: Connection) -> set[str]:
    """Codes of the agencies with at least one active user (anyone may work triage)."""
    q = (
        select(agencies.c.code)
        .join(users, users.c.agency_id == agencies.c.id)
        .where(users.c.active.is_(True))
        .distinct()
    )
    return {str(r[0]) for r in conn.execute(q)}


def agency_users(conn: Connection, agency: str) -> list[str]:
    """The active users of one agency, by name (whom its supervisors may assign work to)."""
    q = (
        select(users.c.username)
        .join(agencies, agencies.c.id == users.c.agency_id)
        .where(agencies.c.code == agency, users.c.active.is_(True))
        .order_by(users.c.username)
    )
    return [str(r[0]) for r in conn.execute(q)]


def user_exists(conn: Connection, username: str) -> bool:
    return conn.execute(select(users.c.id).where(users.c.username == username)).first() is not None


def count_users(conn: Connection) -> int:
    return len(conn.execute(select(users.c.id)).all())


def _principal(row: Any, via: str, csrf: str | None = None) -> Principal:
    return Principal(int(row.id), str(row.username), str(row.role), str(row.code), via, csrf)


def _user_query() -> Any:
    return select(users.c.id, users.c.username, users.c.role, users.c.password_hash,
                  users.c.totp_secret, users.c.active, agencies.c.code).join(
        agencies, agencies.c.id == users.c.agency_id)  # fmt: skip


def verify_login(
    conn: Connection, ring: KeyRing, username: str, password: str, code: str | None
) -> Principal:
    """Check a password (and TOTP code when enrolled). The same error for every failure."""
    from argon2.exceptions import InvalidHashError, VerificationError

    row = conn.execute(_user_query().where(users.c.username == username)).first()
    failure = AuthError("wrong username, password or code")
    if row is None or not row.active:
        _hasher().hash("timing equaliser")  # do not reveal which usernames exist
        raise failure
    try:
        _hasher().verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise failure from None
    if row.totp_secret:
        import pyotp

        secret = ring.open(bytes.fromhex(row.totp_secret), _AAD_TOTP + username.encode(),
                           what=f"TOTP secret of {username}").decode()  # fmt: skip
        if not code or not pyotp.TOTP(secret).verify(code.strip(), valid_window=1):
            raise failure
    conn.execute(update(users).where(users.c.id == row.id).values(last_login_at=datetime.now(UTC)))
    return _principal(row, "session")


def create_session(conn: Connection, user_id: int, hours: float) -> tuple[str, str]:
    """A new session (a fresh id at every login: no fixation). Returns (cookie value, csrf)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = datetime.now(UTC)
    conn.execute(insert(sessions).values(
        id_hash=_sha(token), user_id=user_id, csrf_token=csrf, created_at=now,
        expires_at=now + timedelta(hours=hours),
    ))  # fmt: skip
    return token, csrf


def end_session(conn: Connection, token: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.id_hash == _sha(token)))


def session_principal(conn: Connection, token: str) -> Principal | None:
    row = conn.execute(
        _user_query()
        .add_columns(sessions.c.csrf_token, sessions.c.expires_at)
        .join(sessions, sessions.c.user_id == users.c.id)
        .where(sessions.c.id_hash == _sha(token))
    ).first()
    if row is None or not row.active:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires < datetime.now(UTC):
        return None
    return _principal(row, "session", str(row.csrf_token))


def create_token(conn: Connection, username: str, name: str, *, actor: str) -> str:
    row = conn.execute(select(users.c.id).where(users.c.username == username)).first()
    if row is None:
        raise NotFound(f"no user {username}")
    token = "rt_" + secrets.token_urlsafe(32)
    conn.execute(insert(api_tokens).values(
        user_id=row.id, name=name, token_hash=_sha(token), created_at=datetime.now(UTC),
    ))  # fmt: skip
    audit.append(conn, actor, "token.create", f"user:{username}", {"name": name})
    return token


def token_principal(conn: Connection, token: str) -> Principal | None:
    row = conn.execute(
        _user_query()
        .add_columns(api_tokens.c.id.label("token_id"), api_tokens.c.revoked_at)
        .join(api_tokens, api_tokens.c.user_id == users.c.id)
        .where(api_tokens.c.token_hash == _sha(token))
    ).first()
    if row is None or not row.active or row.revoked_at is not None:
        return None
    return _principal(row, "token")
