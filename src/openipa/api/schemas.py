"""Request and response shapes of the API.

Inputs repeat the models' length limits so an over-long value gets a 422 naming the field, not a database
error; the business rules (NPI check digit, TIN format, duplicates) stay in the services, which report them
per field. PATCH bodies use `omittable()`: a field may be left out, but not sent as null unless the model
allows null.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import P, PathEx, Schema
from pydantic import AfterValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

MAX_ID = 2**63 - 1  # the largest value of a 64-bit primary key

# An object id in a path: positive and within a 64-bit key, so an absurd id is a 422, never a database error.
ObjectId = PathEx[int, P(ge=1, le=MAX_ID)]


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text; refuse it here so both databases answer the same 422.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
ProductCode = Annotated[str, AfterValidator(_no_nul), Field(min_length=1, max_length=32)]

PracticeStatus = Literal["applicant", "active", "suspended", "terminated"]
ProviderKind = Literal["pcp", "specialist", "behavioral", "social", "facility"]
LegalBasis = Literal["capitated_risk", "clinically_integrated", "messenger_ffs"]
ContractStatus = Literal["draft", "active", "terminated"]
AgreementStatus = Literal["draft", "active", "terminated"]
DofrParty = Literal["ipa", "plan", "hospital", "shared"]
BANK_FIELDS = ("bank_name", "bank_routing_number", "bank_account_number")


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omittable(**constraints: Any) -> Any:
    """A PATCH field: optional, without a default in the published schema, and not nullable unless its
    annotation says so. Endpoints read `model_dump(exclude_unset=True)`, so only fields sent are changed."""
    return Field(default=None, json_schema_extra=_drop_default, **constraints)


class With:
    """A model instance seen with a few extra attributes, for a detail response.

    Endpoints read the extras through selectors (bank details, eligibility spans, term versions) and hand
    `With(instance, extra=...)` to ninja, which validates the response schema from it once; everything else
    is read from the instance.
    """

    def __init__(self, instance: Any, **extra: Any) -> None:
        self._instance = instance
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._instance, name)


class InputSchema(Schema):
    """A request body: unknown fields are refused, so a misspelt field is an error rather than ignored."""

    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------------------------------- errors


class ErrorDetail(Schema):
    status: int
    code: str = Field(description="Stable machine-readable code, e.g. validation_error, not_found.")
    message: str
    fields: dict[str, list[str]] | None = Field(
        default=None, description='Per-field messages (validation errors only); "" is the input as a whole.'
    )


class ErrorOut(Schema):
    error: ErrorDetail


ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --------------------------------------------------------------------------------------- pagination


class PageParams(Schema):
    page: int = Field(1, ge=1, le=1_000_000, description="Page number, from 1. Past the end: the last page.")
    per_page: int = Field(25, ge=1, le=200, description="Items per page, 1 to 200.")


class PageOut(Schema):
    page: int
    per_page: int
    total: int
    pages: int


# ------------------------------------------------------------------------------------------ network


class RegionOut(Schema):
    id: int
    code: str
    name: str


class RegionPage(PageOut):
    items: list[RegionOut]


class PracticeFilters(Schema):
    q: Text = Field("", max_length=200, description="Name, code, city or TIN.")
    region: Text = Field("", max_length=16, description="Region code.")
    status: PracticeStatus | None = None


class PracticeOut(Schema):
    id: int
    code: str
    legal_name: str
    dba_name: str
    tin: str
    address_line1: str
    address_line2: str
    city: str
    state: str
    zip_code: str
    phone: str
    region: str = Field(description="Region code.")
    status: str

    @staticmethod
    def resolve_region(obj: Any) -> str:
        return str(obj.region.code)


class PracticePage(PageOut):
    items: list[PracticeOut]


class BankDetails(Schema):
    bank_name: str
    routing_number: str
    account_number: str
    masked: bool = Field(description="True when the numbers are masked (only finance sees them in clear).")


class LocationOut(Schema):
    id: int
    practice_id: int
    name: str
    address_line1: str
    city: str
    state: str
    zip_code: str
    phone: str
    is_primary: bool


class LocationIn(InputSchema):
    name: Text = Field(min_length=1, max_length=100)
    address_line1: Text = Field(min_length=1, max_length=200)
    city: Text = Field(min_length=1, max_length=100)
    state: Text = Field(min_length=1, max_length=20, description="Two-letter state code.")
    zip_code: Text = Field(min_length=1, max_length=10)
    phone: Text = Field("", max_length=20)
    is_primary: bool = Field(False, description="The practice's other locations stop being primary.")


class ParticipationOut(Schema):
    id: int
    contract_id: int
    contract_number: str
    valid_from: dt.date
    valid_to: dt.date | None

    @staticmethod
    def resolve_contract_number(obj: Any) -> str:
        return str(obj.contract.number)


class AgreementOut(Schema):
    id: int
    practice_id: int
    valid_from: dt.date
    valid_to: dt.date | None
    status: str
    signed_on: dt.date | None
    non_exclusive: bool = Field(description="The practice may also contract with payers directly.")
    admin_fee_percent: Decimal | None = Field(description="Null unless the caller may read contracts.")
    admin_fee_pmpm: Decimal | None = Field(description="Null unless the caller may read contracts.")
    notes: str | None = Field(description="Null unless the caller may read contracts.")
    contracts: list[ParticipationOut] | None = Field(
        description="The payer contracts joined under this agreement; null unless the caller may read "
        "contracts."
    )


class PracticeDetail(PracticeOut):
    bank: BankDetails
    locations: list[LocationOut]
    agreements: list[AgreementOut] = Field(description="Participation agreements, newest first.")
    created_at: dt.datetime
    updated_at: dt.datetime


class _PracticeBody(InputSchema):
    """A practice body: bank details are not part of it, and a client that sends them is told where they go."""

    @model_validator(mode="before")
    @classmethod
    def _no_bank_fields(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(k in data for k in BANK_FIELDS):
            raise PydanticCustomError(
                "bank_details",
                "Bank details are not part of a practice: finance sets them with "
                "PUT /api/v1/practices/{id}/bank.",
            )
        return data


class PracticeIn(_PracticeBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "CEDAR",
                    "legal_name": "Cedar Internal Medicine",
                    "tin": "95-1234567",
                    "address_line1": "200 Lake Ave",
                    "city": "Pasadena",
                    "state": "CA",
                    "zip_code": "91101",
                    "region": "SGV",
                }
            ]
        }
    )

    code: Text = Field(min_length=1, max_length=16)
    legal_name: Text = Field(min_length=1, max_length=200)
    dba_name: Text = Field("", max_length=200)
    tin: Text = Field(min_length=1, max_length=20, description="Nine digits; a dash after two is allowed.")
    address_line1: Text = Field(min_length=1, max_length=200)
    address_line2: Text = Field("", max_length=200)
    city: Text = Field(min_length=1, max_length=100)
    state: Text = Field(min_length=1, max_length=20, description="Two-letter state code.")
    zip_code: Text = Field(min_length=1, max_length=10)
    phone: Text = Field("", max_length=20)
    region: Text = Field(min_length=1, max_length=16, description="Region code.")
    status: PracticeStatus = "active"


class PracticePatch(_PracticeBody):
    code: Text = omittable(min_length=1, max_length=16)
    legal_name: Text = omittable(min_length=1, max_length=200)
    dba_name: Text = omittable(max_length=200)
    tin: Text = omittable(min_length=1, max_length=20)
    address_line1: Text = omittable(min_length=1, max_length=200)
    address_line2: Text = omittable(max_length=200)
    city: Text = omittable(min_length=1, max_length=100)
    state: Text = omittable(min_length=1, max_length=20)
    zip_code: Text = omittable(min_length=1, max_length=10)
    phone: Text = omittable(max_length=20)
    region: Text = omittable(min_length=1, max_length=16)
    status: PracticeStatus = omittable()


class BankDetailsIn(InputSchema):
    """A practice's EFT bank details, all three: they replace the ones on file ("" clears one)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "bank_name": "First Bank",
                    "bank_routing_number": "121000358",
                    "bank_account_number": "12345678",
                }
            ]
        }
    )

    bank_name: Text = Field(max_length=100)
    bank_routing_number: Text = Field(
        max_length=20, description="Nine digits with a valid ABA check digit, or empty."
    )
    bank_account_number: Text = Field(max_length=30, description="4 to 17 digits, or empty.")


class ProviderFilters(Schema):
    q: Text = Field("", max_length=200, description="Name, NPI or specialty; every word must match.")
    kind: ProviderKind | None = None
    specialty: Text = Field("", max_length=100)
    practice_id: int | None = Field(None, ge=1, le=MAX_ID, description="Affiliated with this practice.")
    accepting: bool | None = Field(None, description="Accepting new patients.")


class ProviderOut(Schema):
    id: int
    npi: str
    first_name: str
    last_name: str
    degree: str
    display_name: str
    taxonomy_code: str
    specialty: str
    kind: str
    accepting_new_patients: bool
    panel_limit: int | None


class ProviderPage(PageOut):
    items: list[ProviderOut]


class AffiliationOut(Schema):
    id: int
    provider_id: int
    practice_id: int
    practice_code: str
    practice_name: str
    location: str | None
    valid_from: dt.date
    valid_to: dt.date | None

    @staticmethod
    def resolve_practice_code(obj: Any) -> str:
        return str(obj.practice.code)

    @staticmethod
    def resolve_practice_name(obj: Any) -> str:
        return str(obj.practice.legal_name)

    @staticmethod
    def resolve_location(obj: Any) -> str | None:
        return obj.location.name if obj.location is not None else None


class ProviderPrivate(Schema):
    date_of_birth: dt.date | None
    personal_phone: str


class ProviderDetail(ProviderOut):
    affiliations: list[AffiliationOut]
    private: ProviderPrivate | None = Field(
        description="Date of birth and personal phone: IPA staff and the provider's own practices only; "
        "null for everyone else."
    )


class ProviderIn(InputSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "npi": "1987654328",
                    "first_name": "Dana",
                    "last_name": "Oak",
                    "degree": "MD",
                    "taxonomy_code": "207R00000X",
                    "specialty": "Internal Medicine",
                    "kind": "pcp",
                }
            ]
        }
    )

    npi: Text = Field(min_length=1, max_length=20, description="Ten digits with a valid check digit.")
    first_name: Text = Field("", max_length=100)
    last_name: Text = Field(min_length=1, max_length=100)
    degree: Text = Field("", max_length=20)
    taxonomy_code: Text = Field(min_length=1, max_length=20, description="NUCC code, e.g. 207Q00000X.")
    specialty: Text = Field(min_length=1, max_length=100)
    kind: ProviderKind
    accepting_new_patients: bool = True
    panel_limit: int | None = Field(None, ge=0, le=1_000_000)
    date_of_birth: dt.date | None = None
    personal_phone: Text = Field("", max_length=20)


class ProviderPatch(InputSchema):
    npi: Text = omittable(min_length=1, max_length=20)
    first_name: Text = omittable(max_length=100)
    last_name: Text = omittable(min_length=1, max_length=100)
    degree: Text = omittable(max_length=20)
    taxonomy_code: Text = omittable(min_length=1, max_length=20)
    specialty: Text = omittable(min_length=1, max_length=100)
    kind: ProviderKind = omittable()
    accepting_new_patients: bool = omittable()
    panel_limit: int | None = omittable(ge=0, le=1_000_000)
    date_of_birth: dt.date | None = omittable()
    personal_phone: Text = omittable(max_length=20)


class AffiliationIn(InputSchema):
    practice_id: int = Field(ge=1, le=MAX_ID)
    location_id: int | None = Field(None, ge=1, le=MAX_ID, description="A location of that practice.")
    valid_from: dt.date
    valid_to: dt.date | None = Field(None, description="Null: open-ended.")


class AffiliationEnd(InputSchema):
    valid_to: dt.date = Field(
        description="The last day. Sets the end, or brings it forward; refused while members still have "
        "the provider as PCP at that practice after it."
    )


FeePercent = Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=3)]
FeePmpm = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)]


class AgreementIn(InputSchema):
    valid_from: dt.date
    valid_to: dt.date | None = Field(None, description="Null: open-ended.")
    status: AgreementStatus = "active"
    admin_fee_percent: FeePercent = Field(
        Decimal(0), description="Percent of capitation; non-zero fees need contract access."
    )
    admin_fee_pmpm: FeePmpm = Field(
        Decimal(0), description="Per member per month; non-zero fees need contract access."
    )
    signed_on: dt.date | None = None
    non_exclusive: bool = Field(True, description="The practice may also contract with payers directly.")
    notes: Text = Field("", max_length=2000)


class AgreementPatch(InputSchema):
    valid_to: dt.date | None = omittable(description="Refused if a joined contract continues after it.")
    status: AgreementStatus = omittable()
    admin_fee_percent: FeePercent = omittable(description="Needs contract access.")
    admin_fee_pmpm: FeePmpm = omittable(description="Needs contract access.")
    signed_on: dt.date | None = omittable()
    non_exclusive: bool = omittable()
    notes: Text = omittable(max_length=2000)


class ContractJoinIn(InputSchema):
    contract_id: int = Field(ge=1, le=MAX_ID)
    valid_from: dt.date
    valid_to: dt.date | None = Field(
        None, description="Null: until the agreement or the contract ends, whichever is first."
    )


class ContractLeaveIn(InputSchema):
    valid_to: dt.date = Field(
        description="The practice's last day in the contract (set, or brought forward)."
    )


# --------------------------------------------------------------------------------------- membership


class MemberFilters(Schema):
    q: Text = Field("", max_length=200, description="Name prefix, payer member id or MBI.")
    payer_id: int | None = Field(None, ge=1, le=MAX_ID)
    practice_id: int | None = Field(None, ge=1, le=MAX_ID, description="PCP assigned at this practice.")
    provider_id: int | None = Field(None, ge=1, le=MAX_ID, description="Assigned to this PCP.")
    eligible_on: dt.date | None = Field(None, description="Eligible (and, with a PCP filter, assigned) then.")


class MemberOut(Schema):
    id: int
    payer_code: str
    payer_member_id: str
    mbi: str
    first_name: str
    last_name: str
    date_of_birth: dt.date
    date_of_death: dt.date | None
    sex: str
    city: str
    state: str

    @staticmethod
    def resolve_payer_code(obj: Any) -> str:
        return str(obj.payer.code)


class MemberPage(PageOut):
    items: list[MemberOut]


class EligibilityOut(Schema):
    payer_code: str
    product_code: str
    product_name: str
    valid_from: dt.date
    valid_to: dt.date | None

    @staticmethod
    def resolve_payer_code(obj: Any) -> str:
        return str(obj.product.payer.code)

    @staticmethod
    def resolve_product_code(obj: Any) -> str:
        return str(obj.product.code)

    @staticmethod
    def resolve_product_name(obj: Any) -> str:
        return str(obj.product.name)


class PcpOut(Schema):
    provider_id: int
    provider_npi: str
    provider_name: str
    practice_id: int
    practice_code: str
    practice_name: str
    valid_from: dt.date
    valid_to: dt.date | None

    @staticmethod
    def resolve_provider_npi(obj: Any) -> str:
        return str(obj.provider.npi)

    @staticmethod
    def resolve_provider_name(obj: Any) -> str:
        return str(obj.provider)

    @staticmethod
    def resolve_practice_code(obj: Any) -> str:
        return str(obj.practice.code)

    @staticmethod
    def resolve_practice_name(obj: Any) -> str:
        return str(obj.practice.legal_name)


class MemberDetail(MemberOut):
    address_line1: str
    zip_code: str
    phone: str
    language: str
    eligibility: list[EligibilityOut]
    pcp_history: list[PcpOut]


# ---------------------------------------------------------------------------------------- contracts


class ProductOut(Schema):
    id: int
    code: str
    name: str
    line_of_business: str


class PayerFilters(Schema):
    q: Text = Field("", max_length=200, description="Name, code or X12 payer id.")


class PayerOut(Schema):
    id: int
    code: str
    name: str
    x12_payer_id: str
    product_count: int


class PayerPage(PageOut):
    items: list[PayerOut]


class PayerDetail(PayerOut):
    products: list[ProductOut]


class PayerIn(InputSchema):
    name: Text = Field(min_length=1, max_length=200)
    code: Text = Field(min_length=1, max_length=16)
    x12_payer_id: Text = Field("", max_length=80)


class PayerPatch(InputSchema):
    name: Text = omittable(min_length=1, max_length=200)
    code: Text = omittable(min_length=1, max_length=16)
    x12_payer_id: Text = omittable(max_length=80)


class ContractFilters(Schema):
    q: Text = Field("", max_length=200, description="Name, number or payer code.")
    payer_id: int | None = Field(None, ge=1, le=MAX_ID)
    status: ContractStatus | None = None
    legal_basis: LegalBasis | None = None


class ContractOut(Schema):
    id: int
    number: str
    name: str
    payer_id: int
    payer_code: str
    legal_basis: str
    status: str
    valid_from: dt.date
    valid_to: dt.date | None

    @staticmethod
    def resolve_payer_code(obj: Any) -> str:
        return str(obj.payer.code)


class ContractPage(PageOut):
    items: list[ContractOut]


class RateCellOut(Schema):
    product_code: str
    age_min: int
    age_max: int
    sex: str
    pmpm: Decimal

    @staticmethod
    def resolve_product_code(obj: Any) -> str:
        return str(obj.product.code)


class DofrOut(Schema):
    service_category: str
    responsible_party: str
    notes: str


class DofrEntryIn(InputSchema):
    service_category: Text = Field(min_length=1, max_length=100)
    responsible_party: DofrParty
    notes: Text = Field("", max_length=200)


class DofrIn(InputSchema):
    entries: list[DofrEntryIn] = Field(
        max_length=500, description="The whole table; replaces the term's DOFR. Each category once."
    )


class DofrTableOut(Schema):
    term_id: int
    entries: list[DofrOut]


class TermOut(Schema):
    id: int
    valid_from: dt.date
    valid_to: dt.date | None
    capitation_basis: str
    percent_of_premium: Decimal | None
    risk_base_rate: Decimal | None
    admin_fee_percent: Decimal
    admin_fee_pmpm: Decimal
    reinsurance_pmpm: Decimal
    withhold_percent: Decimal
    retro_window_months: int
    proration_rule: str
    cutoff_day: int
    age_reference_month: int
    notes: str
    rate_cells: list[RateCellOut]
    dofr: list[DofrOut]


class ContractDetail(ContractOut):
    products: list[ProductOut]
    terms: list[TermOut] = Field(description="Term versions, newest first, each with its rates and DOFR.")


class ContractIn(InputSchema):
    payer_id: int = Field(ge=1, le=MAX_ID)
    number: Text = Field(min_length=1, max_length=50)
    name: Text = Field(min_length=1, max_length=200)
    legal_basis: LegalBasis
    status: ContractStatus = "active"
    valid_from: dt.date
    valid_to: dt.date | None = None
    products: list[ProductCode] = Field(default_factory=list, max_length=100, description="Product codes.")


class ContractPatch(InputSchema):
    number: Text = omittable(min_length=1, max_length=50)
    name: Text = omittable(min_length=1, max_length=200)
    legal_basis: LegalBasis = omittable()
    status: ContractStatus = omittable()
    valid_from: dt.date = omittable()
    valid_to: dt.date | None = omittable()
    products: list[ProductCode] = omittable(max_length=100, description="Product codes; replaces the set.")
