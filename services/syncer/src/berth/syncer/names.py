"""distribution's reference grammar: what a repository, tag or digest may be.

Used for what the syncer is told (notifications, internal calls) so that a
name no registry could hold never reaches the bus, the catalog or the audit
log, even from a caller holding a valid secret.
"""

from __future__ import annotations

import re

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")
TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)


def valid_repository(name: str) -> bool:
    """True for a repository name the registry could hold."""
    return len(name) <= 255 and REPOSITORY.fullmatch(name) is not None


def valid_digest(digest: str) -> bool:
    """True for ``algorithm:encoded``."""
    return len(digest) <= 100 and DIGEST.fullmatch(digest) is not None


def valid_tag(tag: str) -> bool:
    """True for a tag name."""
    return TAG.fullmatch(tag) is not None
