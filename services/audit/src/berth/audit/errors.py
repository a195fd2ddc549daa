"""Every error code the audit service answers with (besides the common ones)."""

from __future__ import annotations

from berth.common.errors import Invalid, NotFound


class RecordNotFound(NotFound):
    """No such record, or not one the caller may see (the same answer)."""

    code = "RECORD_UNKNOWN"


class InvalidFilter(Invalid):
    """A list or export parameter that cannot be used."""

    code = "INVALID_FILTER"
