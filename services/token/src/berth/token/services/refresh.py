"""Refresh tokens (OAuth2): stored hashed, bound to one user and one service,
revoked when the password changes or the user is disabled or deleted."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from berth.token.errors import AuthFailed
from berth.token.models import RefreshToken, User, utcnow
from berth.token.services.passwords import new_token, token_digest
from sqlalchemy import select
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from berth.token.services.credentials import Account


class RefreshTokenService:
    """Issue, redeem and revoke refresh tokens."""

    def __init__(self, lifetime: int) -> None:
        self.lifetime = lifetime

    def issue(self, session: Session, user: Account, service: str,
              client_id: str | None) -> str:
        """A new refresh token for ``user`` at ``service``; returns the plain value."""
        plain = new_token()
        now = utcnow()
        session.add(RefreshToken(user_id=user.id, token_hash=token_digest(plain),
                                 service=service[:255],
                                 client_id=(client_id or None) and client_id[:255],
                                 created_at=now,
                                 expires_at=now + timedelta(seconds=self.lifetime)))
        session.flush()
        return plain

    def redeem(self, session: Session, plain: str, service: str) -> tuple[RefreshToken, User]:
        """The live token and its enabled user; AuthFailed otherwise."""
        token = session.scalar(select(RefreshToken).where(
            RefreshToken.token_hash == token_digest(plain)))
        if token is None or token.revoked_at is not None:
            raise AuthFailed("refresh_token_invalid")
        if token.expires_at <= utcnow():
            raise AuthFailed("refresh_token_expired")
        if token.service != service:
            raise AuthFailed("refresh_token_wrong_service")
        user = session.get(User, token.user_id)
        if user is None or not user.enabled:
            raise AuthFailed("disabled")
        return token, user

    def revoke(self, token: RefreshToken) -> None:
        """Revoke one token (rotation)."""
        token.revoked_at = utcnow()
