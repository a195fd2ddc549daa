"""Error codes of the scanning API."""

from __future__ import annotations

from berth.common.errors import NotFound


class TagUnknown(NotFound):
    """No such tag, or one the caller may not see (404, the same body)."""

    code = "TAG_UNKNOWN"


class SbomUnknown(NotFound):
    """The tag's image has not been inventoried yet (404)."""

    code = "SBOM_UNKNOWN"
