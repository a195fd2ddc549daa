"""Signs the two kinds of JWT: registry tokens (distribution's token spec) and
API tokens (audience ``berth-api``, see docs/internal-api.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from berth.common.auth import API_AUDIENCE, Principal
from berth.common.signing import Signer
from berth.token import metrics
from berth.token.services.scopes import Scope


def rfc3339(timestamp: int) -> str:
    """``2006-01-02T15:04:05Z`` form of a UNIX time."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TokenIssuer:
    """Builds claims and signs them with the newest key."""

    def __init__(self, signer: Signer, *, issuer: str, registry_lifetime: int,
                 api_lifetime: int) -> None:
        self.signer = signer
        self.issuer = issuer
        self.registry_lifetime = registry_lifetime
        self.api_lifetime = api_lifetime

    def registry_token(self, principal: Principal, service: str,
                       granted: Sequence[Scope]) -> dict[str, Any]:
        """``{token, access_token, expires_in, issued_at}`` for the registry."""
        subject = "" if principal.anonymous else principal.username
        token, claims = self.signer.sign(
            {"iss": self.issuer, "sub": subject, "aud": service,
             "access": [s.to_claim() for s in granted]},
            lifetime=self.registry_lifetime)
        metrics.TOKENS_ISSUED.labels("registry").inc()
        return {"token": token, "access_token": token,
                "expires_in": self.registry_lifetime,
                "issued_at": rfc3339(claims["iat"])}

    def api_token(self, principal: Principal) -> dict[str, Any]:
        """``{token, expires_in}``: the API JWT of a user."""
        token, _claims = self.signer.sign(
            {"iss": self.issuer, "aud": API_AUDIENCE, "sub": principal.username,
             "uid": principal.id, "adm": principal.admin,
             "bot": principal.kind == "bot"},
            lifetime=self.api_lifetime)
        metrics.TOKENS_ISSUED.labels("api").inc()
        return {"token": token, "expires_in": self.api_lifetime}
