"""The quality measures engine (pure: Polars, no Django, no I/O beyond the shipped data files).

Public API::

    from openipa.quality.engine import (
        MeasureInputs, evaluate, load_measures, starter_value_sets, load_value_sets, load_ncqa_vsd,
    )
    measures = load_measures(2025)                 # definitions for the measurement year (data/measures/2025.json)
    value_sets = starter_value_sets(2025)          # or load_ncqa_vsd(Path("vsd.csv")) for a licensed directory
    results = evaluate(MeasureInputs(members, enrollment, claims, pharmacy, clinical, encounters),
                       measures, value_sets)
    results.members   # one row per (measure, rate, eligible member; per episode in FUM/FUH): exclusion,
                      # numerator and the evidence ids behind each
    results.rates     # per measure and rate: eligible, excluded, denominator, numerator, rate_value

Measures shipped (MY 2025, 2026): BCS-E, COL-E, CBP, GSD (<8, >9), EED, KED, W30 (15 and 30 months), WCV,
CIS-E Combo 10, FUM and FUH (7 and 30 days), SPC (Received, Adherence: PDC >= 80% from pharmacy fills). Input frames and their columns: ``inputs``; definitions and conditions: ``definitions``; value-set files:
``valuesets``; output columns: ``evaluate``. Errors: ``MeasureInputError`` (frames), ``DefinitionError``
(definition files), ``ValueSetError`` (value-set files), each naming where the problem is.
"""

from .definitions import DefinitionError, Measure, MeasureSet, load_measures, parse_measures, read_measures
from .evaluate import RATE_SCHEMA, RESULT_SCHEMA, MeasureResults, evaluate, missing_value_sets, rates_of
from .inputs import EVENT_SCHEMA, MeasureInputError, MeasureInputs, coded_events, validate
from .valuesets import (
    VALUE_SET_SCHEMA,
    ValueSetError,
    load_ncqa_vsd,
    load_value_sets,
    starter_value_sets,
)

__all__ = [
    "EVENT_SCHEMA",
    "RATE_SCHEMA",
    "RESULT_SCHEMA",
    "VALUE_SET_SCHEMA",
    "DefinitionError",
    "Measure",
    "MeasureInputError",
    "MeasureInputs",
    "MeasureResults",
    "MeasureSet",
    "ValueSetError",
    "coded_events",
    "evaluate",
    "load_measures",
    "load_ncqa_vsd",
    "load_value_sets",
    "missing_value_sets",
    "parse_measures",
    "rates_of",
    "read_measures",
    "starter_value_sets",
    "validate",
]
