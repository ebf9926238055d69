"""Pure clinical-data engines (no Django): patient matching (`matching`)."""

from openipa.clinical.engine.matching import (
    COMPARISONS,
    MatchResult,
    MatchSettings,
    load_settings,
    match_patients,
    parse_settings,
    soundex,
)

__all__ = [
    "COMPARISONS",
    "MatchResult",
    "MatchSettings",
    "load_settings",
    "match_patients",
    "parse_settings",
    "soundex",
]
