"""The chart of accounts the application posts to, by code.

Callers name accounts by these constants (``accounts.CASH``), never by literal codes, so a search for a
constant finds every place that posts to the account. `CHART` is the chart as seeded; the data
migrations `0002_chart_of_accounts` and `0003_claims_accounts` hold frozen copies of what each added (a
migration must not change when this module does), and a test keeps their union equal to `CHART`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    EXPENSE = "expense"

    @property
    def label(self) -> str:
        """One account's kind: "Asset"."""
        return KIND_LABELS[self]

    @property
    def plural(self) -> str:
        """A group of accounts: "Assets"."""
        return KIND_PLURALS[self]

    @property
    def debit_normal(self) -> bool:
        """True when a debit increases the account (assets and expenses); credits increase the rest."""
        return self in (Kind.ASSET, Kind.EXPENSE)


KIND_LABELS: dict[Kind, str] = {
    Kind.ASSET: "Asset",
    Kind.LIABILITY: "Liability",
    Kind.EQUITY: "Equity",
    Kind.REVENUE: "Revenue",
    Kind.EXPENSE: "Expense",
}
KIND_PLURALS: dict[Kind, str] = {
    Kind.ASSET: "Assets",
    Kind.LIABILITY: "Liabilities",
    Kind.EQUITY: "Equity",
    Kind.REVENUE: "Revenue",
    Kind.EXPENSE: "Expenses",
}

CASH = "1000"
CAPITATION_RECEIVABLE = "1100"
CAPITATION_UNDISTRIBUTED = "2000"
PROVIDER_CAPITATION_PAYABLE = "2100"
REINSURANCE_PREMIUM_PAYABLE = "2200"
WITHHOLD_LIABILITY = "2300"
RISK_POOL_LIABILITY = "2400"
SPECIALIST_POOL_PAYABLE = "2500"
QUALITY_POOL_LIABILITY = "2600"
PAYER_RECOUPMENTS_PAYABLE = "2700"
CLAIMS_PAYABLE = "2800"
RETAINED_SURPLUS = "3000"
CAPITATION_REVENUE = "4000"
ADMIN_FEE_REVENUE = "4100"
MEDICAL_CLAIMS_EXPENSE = "5000"
CLAIMS_INTEREST_EXPENSE = "5100"
# value-based settlements and running the association (issue 9)
SHARED_SAVINGS_RECEIVABLE = "1200"
PRACTICE_RECEIVABLE = "1300"
INCENTIVES_PAYABLE = "2650"
SHARED_LOSS_PAYABLE = "2900"
SHARED_SAVINGS_REVENUE = "4200"
MEMBERSHIP_FEE_REVENUE = "4300"
SHARED_LOSS_EXPENSE = "5200"
SHARED_SAVINGS_DISTRIBUTED = "5300"


@dataclass(frozen=True, slots=True)
class ChartAccount:
    code: str
    name: str
    kind: Kind
    description: str


CHART: tuple[ChartAccount, ...] = (
    ChartAccount(CASH, "Cash - operating", Kind.ASSET, "The IPA's operating bank account."),
    ChartAccount(
        CAPITATION_RECEIVABLE,
        "Capitation receivable",
        Kind.ASSET,
        "Capitation a payer owes the IPA and has not yet paid.",
    ),
    ChartAccount(
        CAPITATION_UNDISTRIBUTED,
        "Capitation received, undistributed",
        Kind.LIABILITY,
        "Capitation received from payers and not yet allocated by a distribution run.",
    ),
    ChartAccount(
        PROVIDER_CAPITATION_PAYABLE,
        "Provider capitation payable",
        Kind.LIABILITY,
        "Capitation owed to practices by approved distribution runs and not yet paid.",
    ),
    ChartAccount(
        REINSURANCE_PREMIUM_PAYABLE,
        "Reinsurance premium payable",
        Kind.LIABILITY,
        "Stop-loss premiums set aside from capitation and owed to the reinsurer.",
    ),
    ChartAccount(
        WITHHOLD_LIABILITY,
        "Withhold liability",
        Kind.LIABILITY,
        "Capitation withheld from practices, returned or kept at settlement.",
    ),
    ChartAccount(
        RISK_POOL_LIABILITY,
        "Risk pool liability",
        Kind.LIABILITY,
        "Capitation funded into risk pools, settled against their targets.",
    ),
    ChartAccount(
        SPECIALIST_POOL_PAYABLE,
        "Specialist pool payable",
        Kind.LIABILITY,
        "Capitation set aside for specialist sub-capitation and fee-for-service.",
    ),
    ChartAccount(
        QUALITY_POOL_LIABILITY,
        "Quality incentive pool liability",
        Kind.LIABILITY,
        "Capitation funded into the quality incentive pool, paid out by scores.",
    ),
    ChartAccount(
        PAYER_RECOUPMENTS_PAYABLE,
        "Payer recoupments payable",
        Kind.LIABILITY,
        "Amounts a payer has taken back (retro terminations, overpayments) not yet recovered from practices.",
    ),
    ChartAccount(
        RETAINED_SURPLUS,
        "Retained surplus (deficit)",
        Kind.EQUITY,
        "The IPA's accumulated surplus, or deficit when negative.",
    ),
    ChartAccount(
        CAPITATION_REVENUE,
        "Capitation revenue",
        Kind.REVENUE,
        "Capitation the IPA earns and keeps for itself.",
    ),
    ChartAccount(
        ADMIN_FEE_REVENUE,
        "Administrative fee revenue",
        Kind.REVENUE,
        "The administrative fee taken from capitation under the contract's terms.",
    ),
    ChartAccount(
        CLAIMS_PAYABLE,
        "Claims payable",
        Kind.LIABILITY,
        "Claims (and their late-payment interest) the IPA has approved for payment and not yet paid.",
    ),
    ChartAccount(
        MEDICAL_CLAIMS_EXPENSE,
        "Medical claims expense",
        Kind.EXPENSE,
        "Fee-for-service claims the IPA pays for services it is responsible for under the DOFR.",
    ),
    ChartAccount(
        CLAIMS_INTEREST_EXPENSE,
        "Claims interest expense",
        Kind.EXPENSE,
        "Interest paid on clean claims paid late (prompt-payment rules).",
    ),
    ChartAccount(
        SHARED_SAVINGS_RECEIVABLE,
        "Shared savings receivable",
        Kind.ASSET,
        "Shared savings a payer (or CMS) owes the IPA under a settled value-based contract, not yet received.",
    ),
    ChartAccount(
        PRACTICE_RECEIVABLE,
        "Practice receivables",
        Kind.ASSET,
        "What member practices owe the IPA: invoiced membership fees and risk-pool deficit shares.",
    ),
    ChartAccount(
        INCENTIVES_PAYABLE,
        "Incentives payable",
        Kind.LIABILITY,
        "Withhold returns, quality incentives, risk-pool surplus and shared savings owed to practices, not yet paid.",
    ),
    ChartAccount(
        SHARED_LOSS_PAYABLE,
        "Shared losses payable",
        Kind.LIABILITY,
        "Shared losses the IPA owes a payer under a settled two-sided contract, not yet paid.",
    ),
    ChartAccount(
        SHARED_SAVINGS_REVENUE,
        "Shared savings revenue",
        Kind.REVENUE,
        "The IPA's share of savings earned under value-based contracts.",
    ),
    ChartAccount(
        MEMBERSHIP_FEE_REVENUE,
        "Membership fee revenue",
        Kind.REVENUE,
        "Fees invoiced to member practices under their participation agreements.",
    ),
    ChartAccount(
        SHARED_LOSS_EXPENSE,
        "Shared loss expense",
        Kind.EXPENSE,
        "Losses the IPA bears under two-sided value-based contracts.",
    ),
    ChartAccount(
        SHARED_SAVINGS_DISTRIBUTED,
        "Shared savings distributed to practices",
        Kind.EXPENSE,
        "The practices' part of shared savings, by the distribution formula.",
    ),
)
