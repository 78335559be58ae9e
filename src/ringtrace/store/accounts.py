"""Agencies, users, sessions and API tokens (repository over access/account_rows.py's SQL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ringtrace.access import accounts as account_rows
from ringtrace.errors import (
    AuthError,
)
from ringtrace.store import audit_log as audit

if TYPE_CHECKING:
    from ringtrace.access.policy import Principal
    from ringtrace.store.database import Store


class AccountRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    def ensure_agency(self, code: str, name: str | None = None) -> None:
        with self.db.write() as conn:
            account_rows.ensure_agency(conn, code, name)

    def agency_codes(self) -> set[str]:
        with self.db.read() as conn:
            return account_rows.agency_codes(conn)

    def agency_of_user(self, username: str) -> str | None:
        with self.db.read() as conn:
            return account_rows.agency_of_user(conn, username)

    def staffed_agencies(self) -> set[str]:
        with self.db.read() as conn:
            return account_rows.staffed_agencies(conn)

    def agency_users(self, agency: str) -> list[str]:
        with self.db.read() as conn:
            return account_rows.agency_users(conn, agency)

    def add_user(
        self,
        username: str,
        password: str,
        agency: str,
        role: str,
        *,
        totp: bool = False,
        actor: str | None = None,
        email: str | None = None,
    ) -> str | None:
        """Create a user (argon2id password); returns the TOTP secret when ``totp``."""
        with self.db.write() as conn:
            return account_rows.add_user(
                conn,
                self.db.keys(),
                username,
                password,
                agency,
                role,
                actor=actor or self.db.actor,
                totp=totp,
                email=email,
            )

    def count_users(self) -> int:
        with self.db.read() as conn:
            return account_rows.count_users(conn)

    def login(
        self, username: str, password: str, code: str | None, hours: float
    ) -> tuple[Principal, str]:
        """Verify a login and open a session: (principal, cookie value). Audited."""
        try:
            with self.db.write() as conn:
                who = account_rows.verify_login(conn, self.db.keys(), username, password, code)
                token, csrf = account_rows.create_session(conn, who.user_id, hours)
                audit.append(conn, who.actor, "login", f"user:{who.username}", {})
        except AuthError:
            # Recorded in a transaction of its own (the failed one is rolled back). What was
            # typed as a user name is named only if such a user exists: people sometimes type
            # their password there.
            with self.db.write() as conn:
                known = account_rows.user_exists(conn, username)
                subject = f"user:{username}" if known else "user:(unknown)"
                audit.append(conn, "login", "login.failed", subject, {})
            raise
        from dataclasses import replace

        return replace(who, csrf_token=csrf), token

    def logout(self, token: str) -> None:
        with self.db.write() as conn:
            account_rows.end_session(conn, token)

    def principal_for(
        self, *, session: str | None = None, token: str | None = None
    ) -> Principal | None:
        with self.db.read() as conn:
            if token:
                return account_rows.token_principal(conn, token)
            if session:
                return account_rows.session_principal(conn, session)
        return None

    def create_token(self, username: str, name: str, actor: str | None = None) -> str:
        with self.db.write() as conn:
            return account_rows.create_token(conn, username, name, actor=actor or self.db.actor)
