"""Every error code the audit service answers with (besides the common ones)."""

from __future__ import annotations

from berth.common.errors import Invalid, NotFound, Unavailable


class RecordNotFound(NotFound):
    """No such record, or not one the caller may see (the same answer)."""

    code = "RECORD_UNKNOWN"


class InvalidFilter(Invalid):
    """A list or export parameter that cannot be used."""

    code = "INVALID_FILTER"


class CatalogUnavailable(Unavailable):
    """The catalog could not say what a user may see (503, never a narrower list)."""

    code = "CATALOG_UNAVAILABLE"
