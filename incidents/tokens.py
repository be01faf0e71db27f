"""Bearer tokens: 256 random bits shown once; only a SHA-256 hash is kept."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from eventsourcing.persistence import IntegrityError

from incidents.errors import InvalidEventError, NotFoundError
from incidents.roles import ROLES, Actor, Role
from incidents.store import TOKEN_TABLE, FieldlogRecorder


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    name: str
    role: Role
    crew_id: str | None
    token: str
    expires_at: datetime | None


class TokenBook:
    """Issues, revokes and checks tokens in the store's token table."""

    def __init__(self, store: FieldlogRecorder) -> None:
        self.store = store

    def create(
        self,
        role: str,
        *,
        crew_id: str | None = None,
        name: str | None = None,
        expires_in: timedelta | None = None,
    ) -> IssuedToken:
        checked_role = self._check_role(role, crew_id)
        name = name or f"{role}-{secrets.token_hex(4)}"
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        expires_at = now + expires_in if expires_in else None
        try:
            self.store.execute(
                f"INSERT INTO {TOKEN_TABLE} (name, role, crew_id, token_hash, created_at, "
                "expires_at, revoked_at) VALUES (%s, %s, %s, %s, %s, %s, NULL)",
                (
                    name,
                    role,
                    crew_id,
                    token_hash(token),
                    now.isoformat(),
                    expires_at.isoformat() if expires_at else None,
                ),
            )
        except IntegrityError:
            raise InvalidEventError(f"a token named {name!r} already exists") from None
        return IssuedToken(name, checked_role, crew_id, token, expires_at)

    @staticmethod
    def _check_role(role: str, crew_id: str | None) -> Role:
        for known in ROLES:
            if role == known:
                if known == "crew" and not crew_id:
                    raise InvalidEventError("a crew token needs --crew CREW_ID")
                if known != "crew" and crew_id:
                    raise InvalidEventError("only a crew token is bound to a crew")
                return known
        raise InvalidEventError(f"role must be one of {', '.join(ROLES)}")

    def revoke(self, name: str) -> None:
        changed = self.store.execute(
            f"UPDATE {TOKEN_TABLE} SET revoked_at = %s WHERE name = %s AND revoked_at IS NULL",
            (datetime.now(UTC).isoformat(), name),
        )
        if not changed and not self.store.query(
            f"SELECT name FROM {TOKEN_TABLE} WHERE name = %s", (name,)
        ):
            raise NotFoundError(f"no token named {name!r}")

    def revoke_prefix(self, prefix: str) -> int:
        return self.store.execute(
            f"UPDATE {TOKEN_TABLE} SET revoked_at = %s WHERE name LIKE %s AND revoked_at IS NULL",
            (datetime.now(UTC).isoformat(), prefix + "%"),
        )

    def authenticate(self, token: str) -> Actor | None:
        """The actor a live token stands for, or None (unknown, expired or revoked)."""
        digest = token_hash(token)
        rows = self.store.query(
            f"SELECT name, role, crew_id, token_hash, expires_at, revoked_at "
            f"FROM {TOKEN_TABLE} WHERE token_hash = %s",
            (digest,),
        )
        if not rows or not hmac.compare_digest(rows[0]["token_hash"], digest):
            return None
        row = rows[0]
        if row["revoked_at"] is not None:
            return None
        if row["expires_at"] and datetime.fromisoformat(row["expires_at"]) <= datetime.now(UTC):
            return None
        return Actor(row["role"], row["name"], row["crew_id"])
