"""Severity of an OSV advisory: a named level from the database, or the
CVSS v3 base score of its vector."""

from __future__ import annotations

import math
from typing import Any

LEVELS = ("Critical", "High", "Medium", "Low", "Negligible", "Unknown")
_NAMES = {
    "critical": "Critical", "high": "High", "important": "High",
    "medium": "Medium", "moderate": "Medium", "low": "Low",
    "negligible": "Negligible", "unimportant": "Negligible", "minor": "Low",
}
_WEIGHTS = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_PR = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}


def _roundup(value: float) -> float:
    # CVSS v3.1's Roundup: avoids 4.000000001 becoming 4.1.
    whole = round(value * 100000)
    if whole % 10000 == 0:
        return whole / 100000.0
    return (math.floor(whole / 10000) + 1) / 10.0


def cvss3_score(vector: str) -> float | None:
    """The base score of a ``CVSS:3.x/AV:..`` vector (None if unreadable)."""
    parts = dict(p.split(":", 1) for p in vector.split("/")[1:] if ":" in p)
    try:
        scope = parts["S"]
        iss = 1 - ((1 - _WEIGHTS["C"][parts["C"]]) * (1 - _WEIGHTS["I"][parts["I"]])
                   * (1 - _WEIGHTS["A"][parts["A"]]))
        exploitability = (8.22 * _WEIGHTS["AV"][parts["AV"]] * _WEIGHTS["AC"][parts["AC"]]
                          * _PR[scope][parts["PR"]] * _WEIGHTS["UI"][parts["UI"]])
    except KeyError:
        return None
    if scope == "U":
        impact = 6.42 * iss
    else:
        impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    if impact <= 0:
        return 0.0
    total = impact + exploitability if scope == "U" else 1.08 * (impact + exploitability)
    return _roundup(min(total, 10.0))


def level_of_score(score: float) -> str:
    """CVSS qualitative rating."""
    if score >= 9.0:
        return "Critical"
    if score >= 7.0:
        return "High"
    if score >= 4.0:
        return "Medium"
    if score > 0.0:
        return "Low"
    return "Negligible"


def severity_of(doc: dict[str, Any], affected: dict[str, Any]) -> str:
    """The most specific severity an advisory states for one affected package."""
    for source in (affected.get("ecosystem_specific"), affected.get("database_specific"),
                   doc.get("database_specific")):
        if isinstance(source, dict):
            named = _NAMES.get(str(source.get("severity", "")).strip().lower())
            if named:
                return named
    for entry in [*(affected.get("severity") or []), *(doc.get("severity") or [])]:
        if not isinstance(entry, dict):
            continue
        kind, score = str(entry.get("type", "")), str(entry.get("score", ""))
        if kind.startswith("CVSS_V3") or score.startswith("CVSS:3"):
            value = cvss3_score(score)
            if value is not None:
                return level_of_score(value)
    return "Unknown"
