"""Forms of the shell. They parse and type the input; the rules live in the services, whose
`ValidationFailed` is mapped back onto the form's fields by `apply_errors`.

Filter forms take their choices from the acting user's selectors, so a practice user is never offered
(or able to pick) anything outside their scope: an out-of-scope value is an invalid choice and is dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile

from openipa.contracts import selectors as contract_selectors
from openipa.contracts.models import Contract, ContractTerm, DofrEntry, LineOfBusiness, Payer, Product
from openipa.core import selectors as core_selectors
from openipa.core.models import AuditEvent
from openipa.core.roles import Actor
from openipa.network import selectors as network_selectors
from openipa.network.models import Location, ParticipationAgreement, Practice, Provider, Region
from openipa.ui.forms import (
    DateInput,
    SearchInput,
    choice_field,
    scope_payer_and_practice,
    valid_data,
    with_blank,
)

RATE_TABLE_MAX_BYTES = 5 * 1024 * 1024


# ----------------------------------------------------------------------------------------- filters


class PracticeFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=100, widget=SearchInput)
    region = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False, choices=with_blank("Any status", Practice.Status.choices))

    def __init__(self, data: Any, *, actor: Actor) -> None:
        super().__init__(data)
        regions = network_selectors.region_list(actor)
        choice_field(self, "region").choices = with_blank("Any region", ((r.code, r.name) for r in regions))


class ProviderFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=100, widget=SearchInput)
    kind = forms.ChoiceField(required=False, choices=with_blank("Any kind", Provider.Kind.choices))
    specialty = forms.ChoiceField(required=False)
    accepting = forms.ChoiceField(
        required=False,
        label="New patients",
        choices=[("", "Accepting or not"), ("yes", "Accepting"), ("no", "Not accepting")],
    )
    practice = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)

    def __init__(self, data: Any, *, actor: Actor) -> None:
        super().__init__(data)
        specialties = network_selectors.specialties(actor)
        choice_field(self, "specialty").choices = with_blank("Any specialty", ((s, s) for s in specialties))
        practices = network_selectors.practice_list(actor)
        choice_field(self, "practice").choices = with_blank(
            "Any practice", ((p.pk, p.legal_name) for p in practices)
        )

    def accepting_value(self) -> bool | None:
        return {"yes": True, "no": False}.get(valid_data(self).get("accepting") or "")


class MemberFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        max_length=100,
        widget=SearchInput,
        help_text="Last or first name (start), payer member ID or MBI.",
    )
    payer = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    practice = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    eligible_on = forms.DateField(required=False, label="Eligible on", widget=DateInput)

    def __init__(self, data: Any, *, actor: Actor) -> None:
        super().__init__(data)
        scope_payer_and_practice(self, actor)

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for the member selectors, from the valid fields only."""
        data = valid_data(self)
        return {
            "q": data.get("q") or "",
            "payer_id": data.get("payer"),
            "practice_id": data.get("practice"),
            "eligible_on": data.get("eligible_on"),
        }


class PayerFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=100, widget=SearchInput)

    def __init__(self, data: Any, *, actor: Actor) -> None:
        super().__init__(data)


class ContractFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=100, widget=SearchInput)
    payer = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(required=False, choices=with_blank("Any status", Contract.Status.choices))
    legal_basis = forms.ChoiceField(
        required=False, choices=with_blank("Any legal basis", Contract.LegalBasis.choices)
    )

    def __init__(self, data: Any, *, actor: Actor) -> None:
        super().__init__(data)
        payers = contract_selectors.payer_list(actor)
        choice_field(self, "payer").choices = with_blank("Any payer", ((p.pk, p.name) for p in payers))


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, label="User name", max_length=150)
    member = forms.IntegerField(required=False, label="Member id", min_value=1)
    object_type = forms.ChoiceField(required=False, label="Object type")
    object_id = forms.CharField(required=False, label="Object id", max_length=64)
    kind = forms.ChoiceField(required=False, choices=with_blank("Any kind", AuditEvent.Kind.choices))
    date_from = forms.DateField(required=False, label="From", widget=DateInput)
    date_to = forms.DateField(required=False, label="To", widget=DateInput)

    def __init__(self, data: Any, *, actor: Actor) -> None:
        super().__init__(data)
        types = core_selectors.audit_object_types(actor)
        choice_field(self, "object_type").choices = with_blank("Any object", ((t, t) for t in types))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def filters(self) -> dict[str, Any]:
        data = valid_data(self)
        return {
            "actor_username": data.get("actor") or "",
            "member_id": data.get("member"),
            "object_type": data.get("object_type") or "",
            "object_id": data.get("object_id") or "",
            "kind": data.get("kind") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }


# ------------------------------------------------------------------------------------ create / edit


class PracticeForm(forms.Form):
    code = forms.CharField(max_length=16, help_text="Short code used on statements and files.")
    legal_name = forms.CharField(max_length=200)
    dba_name = forms.CharField(label="Doing business as", max_length=200, required=False)
    tin = forms.CharField(label="TIN", max_length=10, help_text="Nine digits, e.g. 12-3456789.")
    address_line1 = forms.CharField(label="Address", max_length=200)
    address_line2 = forms.CharField(label="Address (line 2)", max_length=200, required=False)
    city = forms.CharField(max_length=100)
    state = forms.CharField(max_length=2, help_text="Two letters, e.g. CA.")
    zip_code = forms.CharField(label="ZIP code", max_length=10)
    phone = forms.CharField(max_length=20, required=False)
    region: forms.ModelChoiceField[Region] = forms.ModelChoiceField(
        queryset=Region.objects.none(), empty_label="Choose a region"
    )
    status = forms.ChoiceField(choices=Practice.Status.choices, initial=Practice.Status.ACTIVE)

    def __init__(self, data: Any = None, *, actor: Actor, initial: dict[str, Any] | None = None) -> None:
        super().__init__(data, initial=initial)
        cast("forms.ModelChoiceField[Any]", self.fields["region"]).queryset = network_selectors.region_list(
            actor
        )


class BankDetailsForm(forms.Form):
    """A practice's EFT bank details, changed on their own by finance (never with the practice's record)."""

    bank_name = forms.CharField(max_length=100, required=False)
    bank_routing_number = forms.CharField(
        label="Routing number", max_length=9, required=False, help_text="Nine digits (ABA)."
    )
    bank_account_number = forms.CharField(
        label="Account number", max_length=17, required=False, help_text="4 to 17 digits."
    )


class ProviderForm(forms.Form):
    npi = forms.CharField(label="NPI", max_length=10, help_text="Ten digits; the last is a check digit.")
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, help_text="Or the organization name for a facility.")
    degree = forms.CharField(max_length=20, required=False, help_text="MD, DO, NP, PA, PhD, LCSW ...")
    taxonomy_code = forms.CharField(label="NUCC taxonomy", max_length=10, help_text="e.g. 207Q00000X")
    specialty = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=Provider.Kind.choices)
    accepting_new_patients = forms.BooleanField(required=False, initial=True)
    panel_limit = forms.IntegerField(required=False, min_value=0)
    date_of_birth = forms.DateField(required=False, widget=DateInput, help_text="Private.")
    personal_phone = forms.CharField(max_length=20, required=False, help_text="Private.")


class PayerForm(forms.Form):
    name = forms.CharField(max_length=200)
    code = forms.CharField(max_length=16, help_text="Short code used on the command line.")
    x12_payer_id = forms.CharField(label="X12 payer id", max_length=80, required=False)


if TYPE_CHECKING:
    _ProductChoiceBase = forms.ModelMultipleChoiceField[Product]
else:  # Django's form fields are not subscriptable at run time
    _ProductChoiceBase = forms.ModelMultipleChoiceField


class ProductChoiceField(_ProductChoiceBase):
    def label_from_instance(self, obj: Product) -> str:
        return f"{obj.payer.code} · {obj.name} ({LineOfBusiness(obj.line_of_business).label})"


class ContractForm(forms.Form):
    payer: forms.ModelChoiceField[Payer] = forms.ModelChoiceField(
        queryset=Payer.objects.none(), empty_label="Choose a payer"
    )
    number = forms.CharField(max_length=50)
    name = forms.CharField(max_length=200)
    legal_basis = forms.ChoiceField(choices=Contract.LegalBasis.choices)
    status = forms.ChoiceField(choices=Contract.Status.choices, initial=Contract.Status.ACTIVE)
    valid_from = forms.DateField(widget=DateInput)
    valid_to = forms.DateField(required=False, widget=DateInput, help_text="Empty: open-ended.")
    products: forms.ModelMultipleChoiceField[Product] = ProductChoiceField(
        queryset=Product.objects.none(),
        required=False,
        help_text="Products of the chosen payer this contract covers.",
    )

    def __init__(self, data: Any = None, *, actor: Actor, initial: dict[str, Any] | None = None) -> None:
        super().__init__(data, initial=initial)
        cast("forms.ModelChoiceField[Any]", self.fields["payer"]).queryset = contract_selectors.payer_list(
            actor
        )
        products = cast("forms.ModelMultipleChoiceField[Any]", self.fields["products"])
        products.queryset = contract_selectors.product_list(actor)


class TermForm(forms.Form):
    valid_from = forms.DateField(widget=DateInput)
    valid_to = forms.DateField(required=False, widget=DateInput, help_text="Empty: open-ended.")
    capitation_basis = forms.ChoiceField(choices=ContractTerm.CapitationBasis.choices)
    percent_of_premium = forms.DecimalField(required=False, max_digits=6, decimal_places=3)
    risk_base_rate = forms.DecimalField(
        label="Risk-adjusted base PMPM", required=False, max_digits=10, decimal_places=2
    )
    admin_fee_percent = forms.DecimalField(max_digits=6, decimal_places=3, initial=0)
    admin_fee_pmpm = forms.DecimalField(label="Admin fee PMPM", max_digits=10, decimal_places=2, initial=0)
    reinsurance_pmpm = forms.DecimalField(
        label="Reinsurance PMPM", max_digits=10, decimal_places=2, initial=0
    )
    withhold_percent = forms.DecimalField(max_digits=6, decimal_places=3, initial=0)
    retro_window_months = forms.IntegerField(min_value=0, max_value=36, initial=6)
    proration_rule = forms.ChoiceField(
        choices=ContractTerm.Proration.choices, initial=ContractTerm.Proration.CUTOFF
    )
    cutoff_day = forms.IntegerField(min_value=1, max_value=31, initial=15)
    age_reference_month = forms.IntegerField(min_value=1, max_value=12, initial=1)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RateTableUploadForm(forms.Form):
    file = forms.FileField(
        label="Rate table CSV",
        help_text="Columns: product_code, age_min, age_max, sex (F, M or U), pmpm. Replaces the table.",
    )

    def clean_file(self) -> str:
        """The upload's text (UTF-8, with or without a byte-order mark)."""
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > RATE_TABLE_MAX_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB; a rate table is much smaller.")
        try:
            return str(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(
                f"The file is not UTF-8 text (byte {exc.start} cannot be read); save it as CSV UTF-8."
            ) from None

    @property
    def filename(self) -> str:
        upload = self.files.get("file")
        return getattr(upload, "name", "") or "rate table"


# ------------------------------------------------------------------------------ network: sites and spans


class LocationForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="How staff call the site, e.g. Main office.")
    address_line1 = forms.CharField(label="Address", max_length=200)
    city = forms.CharField(max_length=100)
    state = forms.CharField(max_length=2, help_text="Two letters, e.g. CA.")
    zip_code = forms.CharField(label="ZIP code", max_length=10)
    phone = forms.CharField(max_length=20, required=False)
    is_primary = forms.BooleanField(
        label="Primary location",
        required=False,
        help_text="The practice's other locations stop being primary.",
    )


class AgreementForm(forms.Form):
    """A participation agreement. Its admin-fee terms are shown only to users who may read contracts; once
    made, its start date is fixed (`editing`)."""

    valid_from = forms.DateField(label="From", widget=DateInput)
    valid_to = forms.DateField(label="To", required=False, widget=DateInput, help_text="Empty: open-ended.")
    status = forms.ChoiceField(
        choices=ParticipationAgreement.Status.choices, initial=ParticipationAgreement.Status.ACTIVE
    )
    admin_fee_percent = forms.DecimalField(
        label="Admin fee %", max_digits=6, decimal_places=3, min_value=0, max_value=100, initial=0
    )
    admin_fee_pmpm = forms.DecimalField(
        label="Admin fee PMPM", max_digits=10, decimal_places=2, min_value=0, initial=0
    )
    signed_on = forms.DateField(required=False, widget=DateInput)
    non_exclusive = forms.BooleanField(
        required=False, initial=True, label="Non-exclusive",
        help_text="The practice may also contract with payers directly.",
    )  # fmt: skip
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(
        self,
        data: Any = None,
        *,
        actor: Actor,
        initial: dict[str, Any] | None = None,
        editing: bool = False,
    ) -> None:
        super().__init__(data, initial=initial)
        if editing:
            del self.fields["valid_from"]
        if not network_selectors.agreement_fees_visible(actor):
            del self.fields["admin_fee_percent"]
            del self.fields["admin_fee_pmpm"]


class ContractJoinForm(forms.Form):
    contract: forms.ModelChoiceField[Contract] = forms.ModelChoiceField(
        queryset=Contract.objects.none(), empty_label="Choose a contract"
    )
    valid_from = forms.DateField(label="From", widget=DateInput)
    valid_to = forms.DateField(
        label="To",
        required=False,
        widget=DateInput,
        help_text="Empty: until the agreement or the contract ends, whichever is first.",
    )

    def __init__(self, data: Any = None, *, actor: Actor, initial: dict[str, Any] | None = None) -> None:
        super().__init__(data, initial=initial)
        contracts = cast("forms.ModelChoiceField[Any]", self.fields["contract"])
        contracts.queryset = contract_selectors.contract_list(actor)


class EndDateForm(forms.Form):
    """The last day of a span: an affiliation, or a practice's participation in a contract."""

    valid_to = forms.DateField(label="Last day", widget=DateInput)


if TYPE_CHECKING:
    _LocationChoiceBase = forms.ModelChoiceField[Location]
else:  # Django's form fields are not subscriptable at run time
    _LocationChoiceBase = forms.ModelChoiceField


class LocationChoiceField(_LocationChoiceBase):
    def label_from_instance(self, obj: Location) -> str:
        return f"{obj.practice.code} · {obj.name} ({obj.city})"


class AffiliationForm(forms.Form):
    practice: forms.ModelChoiceField[Practice] = forms.ModelChoiceField(
        queryset=Practice.objects.none(), empty_label="Choose a practice"
    )
    location: forms.ModelChoiceField[Location] = LocationChoiceField(
        queryset=Location.objects.none(),
        required=False,
        empty_label="No particular location",
        help_text="Optional; a location of the chosen practice.",
    )
    valid_from = forms.DateField(label="From", widget=DateInput)
    valid_to = forms.DateField(label="To", required=False, widget=DateInput, help_text="Empty: open-ended.")

    def __init__(self, data: Any = None, *, actor: Actor) -> None:
        super().__init__(data)
        practices = cast("forms.ModelChoiceField[Any]", self.fields["practice"])
        practices.queryset = network_selectors.practice_list(actor)
        locations = cast("forms.ModelChoiceField[Any]", self.fields["location"])
        locations.queryset = network_selectors.location_list(actor)


# ---------------------------------------------------------------------------------------------- DOFR


class DofrRowForm(forms.Form):
    """One line of a DOFR table. A line left entirely empty is skipped; tick `remove` to drop a line."""

    service_category = forms.CharField(
        label="Service category",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"aria-label": "Service category"}),
    )
    responsible_party = forms.ChoiceField(
        label="Responsible",
        required=False,
        choices=with_blank("Choose who pays", DofrEntry.Party.choices),
        widget=forms.Select(attrs={"aria-label": "Responsible party"}),
    )
    notes = forms.CharField(
        max_length=200, required=False, widget=forms.TextInput(attrs={"aria-label": "Notes"})
    )
    remove = forms.BooleanField(required=False, widget=forms.CheckboxInput(attrs={"aria-label": "Remove"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("remove"):
            return data
        category, party = data.get("service_category"), data.get("responsible_party")
        if category and not party and "responsible_party" not in self.errors:
            self.add_error("responsible_party", "Choose who pays for this category.")
        if party and not category and "service_category" not in self.errors:
            self.add_error("service_category", "Name the service category.")
        return data

    @property
    def is_entry(self) -> bool:
        """True when this line is part of the table to save (filled in and not removed)."""
        data = getattr(self, "cleaned_data", {})
        return bool(data.get("service_category")) and not data.get("remove")


DOFR_EXTRA_ROWS = 3
DofrFormSet = forms.formset_factory(DofrRowForm, extra=DOFR_EXTRA_ROWS, max_num=500, validate_max=True)
