"""Pure capitation computation (no Django, no I/O): expected capitation, distribution, adjustment deltas.

The capitation services load their inputs into Polars frames shaped like the *_SCHEMA dicts here, call
these functions and store what comes back. Money is integer cents, percents are integer thousandths of a
percent and factors integer thousandths; every rounding is half-up to a cent and every split goes through
`openipa.core.money.allocate`. Unusable input raises EngineInputError naming the frame, field and row.
"""

from __future__ import annotations

from openipa.capitation.engine.adjust import ADJUSTMENT_SCHEMA, REASONS, adjustment_lines
from openipa.capitation.engine.distribution import (
    AGREEMENT_SCHEMA,
    COMPONENTS,
    LINE_AMOUNTS,
    LINE_SCHEMA,
    PAYOUT_SCHEMA,
    PCP_METHODS,
    POOL_SHARE_SCHEMA,
    SPECIALIST_SCHEMA,
    SPECIALIST_SPLITS,
    Distribution,
    DistributionRules,
    distribute,
)
from openipa.capitation.engine.distribution import MEMBER_MONTH_SCHEMA as DISTRIBUTION_MEMBER_MONTH_SCHEMA
from openipa.capitation.engine.expected import (
    BASES,
    DEFAULT_RAF_MILLI,
    EXPECTED_SCHEMA,
    PREMIUM_SCHEMA,
    PRORATIONS,
    RAF_SCHEMA,
    RATE_CELL_SCHEMA,
    TERM_SCHEMA,
    expected_capitation,
)
from openipa.capitation.engine.expected import MEMBER_MONTH_SCHEMA as EXPECTED_MEMBER_MONTH_SCHEMA
from openipa.core.engine.frames import EngineInputError

__all__ = [
    "ADJUSTMENT_SCHEMA",
    "AGREEMENT_SCHEMA",
    "BASES",
    "COMPONENTS",
    "DEFAULT_RAF_MILLI",
    "DISTRIBUTION_MEMBER_MONTH_SCHEMA",
    "EXPECTED_MEMBER_MONTH_SCHEMA",
    "EXPECTED_SCHEMA",
    "LINE_AMOUNTS",
    "LINE_SCHEMA",
    "PAYOUT_SCHEMA",
    "PCP_METHODS",
    "POOL_SHARE_SCHEMA",
    "PREMIUM_SCHEMA",
    "PRORATIONS",
    "RAF_SCHEMA",
    "RATE_CELL_SCHEMA",
    "REASONS",
    "SPECIALIST_SCHEMA",
    "SPECIALIST_SPLITS",
    "TERM_SCHEMA",
    "Distribution",
    "DistributionRules",
    "EngineInputError",
    "adjustment_lines",
    "distribute",
    "expected_capitation",
]
