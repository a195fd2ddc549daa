"""Every error code the token service returns, and the exceptions its
services raise for failed logins (translated to HTTP by the views)."""

from __future__ import annotations

# Codes in the ``errors[].code`` field, beyond berth.common.errors' defaults.
SCOPE_INVALID = "SCOPE_INVALID"
SERVICE_REQUIRED = "SERVICE_REQUIRED"
ACCOUNT_MISMATCH = "ACCOUNT_MISMATCH"
UNSUPPORTED_GRANT_TYPE = "UNSUPPORTED_GRANT_TYPE"
INVALID_GRANT = "INVALID_GRANT"
BOOTSTRAP_DISABLED = "BOOTSTRAP_DISABLED"
ALREADY_BOOTSTRAPPED = "ALREADY_BOOTSTRAPPED"
SIGNUP_DISABLED = "SIGNUP_DISABLED"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
LAST_ADMIN = "LAST_ADMIN"
SELF_CHANGE = "SELF_CHANGE"
PRIVILEGED_FIELD = "PRIVILEGED_FIELD"
TAKEN = "TAKEN"
CATALOG_UNAVAILABLE = "CATALOG_UNAVAILABLE"
DIRECTORY_UNAVAILABLE = "DIRECTORY_UNAVAILABLE"

#: The one message every refused login gets, whatever the reason, so a client
#: cannot tell an unknown user from a wrong password, a disabled or a locked one.
LOGIN_REFUSED = "invalid credentials"


class AuthFailed(Exception):
    """Credentials were refused; ``reason`` is for logs and events only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Throttled(Exception):
    """Too many failures from this account or address; retry later."""

    def __init__(self, retry_after: int, scope: str) -> None:
        super().__init__(f"throttled ({scope})")
        self.retry_after = max(1, retry_after)
        self.scope = scope


class DirectoryUnavailable(Exception):
    """The LDAP server could not be reached or answered with an error."""
